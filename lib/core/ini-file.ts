import { quote } from "./field-rules";

/** A value of one key; an array renders as the same key repeated (oslo.config MultiStrOpt). */
export type IniValue = string | number | boolean | readonly (string | number | boolean)[];

const PLACEHOLDER = /\{\{secret:([a-z0-9_]+)\}\}/g;
const KEY = /^[A-Za-z0-9_.\-/]+$/;
const SECTION = /^[A-Za-z0-9_.\-: ]+$/;

/**
 * The text that stands for a secret in a rendered file; the host fills it in from its
 * root-only secrets directory, so that the value never appears in the plan.
 */
export function secretPlaceholder(name: string): string {
  if (!/^[a-z0-9_]+$/.test(name)) {
    throw new Error(`secret name: got ${quote(name)}: expected lowercase letters, digits and '_'`);
  }
  return `{{secret:${name}}}`;
}

/**
 * An oslo.config style INI file, rendered with `[DEFAULT]` first, then the other sections in
 * alphabetical order, and keys in alphabetical order within a section, so that the same
 * settings always render to the same text (and therefore the same step trigger).
 */
export class IniFile {
  private readonly sections = new Map<string, Map<string, IniValue>>();

  constructor(initial: Record<string, Record<string, IniValue | undefined>> = {}) {
    for (const [section, keys] of Object.entries(initial)) {
      for (const [key, value] of Object.entries(keys)) {
        if (value !== undefined) this.set(section, key, value);
      }
    }
  }

  /** Sets a key; a later call for the same key replaces the value. */
  set(section: string, key: string, value: IniValue): this {
    if (!SECTION.test(section))
      throw new Error(`INI section: got ${quote(section)}: expected a section name`);
    if (!KEY.test(key)) throw new Error(`INI key [${section}]: got ${quote(key)}: expected a key name`);
    for (const item of Array.isArray(value) ? value : [value]) {
      if (/[\r\n]/.test(String(item))) {
        throw new Error(`INI value [${section}] ${key}: got a value with a line break: expected one line`);
      }
    }
    let keys = this.sections.get(section);
    if (!keys) {
      keys = new Map();
      this.sections.set(section, keys);
    }
    keys.set(key, value);
    return this;
  }

  /** Sets a key to a secret, filled in on the host. */
  setSecret(section: string, key: string, secretName: string): this {
    return this.set(section, key, secretPlaceholder(secretName));
  }

  /** The names of the secrets this file refers to, sorted. */
  secretsUsed(): string[] {
    return [...new Set([...this.render().matchAll(PLACEHOLDER)].map((m) => m[1]))].sort();
  }

  render(): string {
    const names = [...this.sections.keys()].sort((a, b) =>
      a === "DEFAULT" ? -1 : b === "DEFAULT" ? 1 : a.localeCompare(b, "en"),
    );
    const out: string[] = [];
    for (const name of names) {
      const keys = this.sections.get(name) as Map<string, IniValue>;
      if (out.length > 0) out.push("");
      out.push(`[${name}]`);
      for (const key of [...keys.keys()].sort((a, b) => a.localeCompare(b, "en"))) {
        const value = keys.get(key) as IniValue;
        for (const item of Array.isArray(value) ? value : [value]) out.push(`${key} = ${String(item)}`);
      }
    }
    return `${out.join("\n")}\n`;
  }
}
