/**
 * What the security rules read from a step: the settings of the files it writes and of the keys
 * it sets, and its commands. Config files reach a step as text (an `IniFile` renders to it), so
 * each file is read back by its format, which the library's own renderers make regular.
 */
import * as path from "path";
import { IConstruct } from "constructs";
import { IniKeyEdit, LineEdit, WrittenFile } from "../core/shell-script";
// A type only: step.ts adds the checks to its stack, so this module must not load it.
import type { Step } from "../core/step";

/** One setting: a key and its value in a file. */
export interface Setting {
  /** The file's path on the host. */
  readonly file: string;
  /** The INI section, the parent keys of a JSON value (`a.b`), or "" where a file has none. */
  readonly section: string;
  readonly key: string;
  /** The key in one spelling (`normalKey`): what the rules compare. */
  readonly name: string;
  /** The value as written, without one pair of enclosing quotes. */
  readonly value: string;
}

/** A secret's placeholder, as `secretPlaceholder` writes it. */
export const PLACEHOLDER = /\{\{secret:[a-z0-9_]+\}\}/;

/** The node as a step (what a Step has that the rules read), or undefined. */
export function stepOf(node: IConstruct): Step | undefined {
  const n = node as Partial<Step>;
  return typeof n.scriptBody === "string" && Array.isArray(n.files) && Array.isArray(n.iniEdits)
    ? (node as Step)
    : undefined;
}

type Format = "ini" | "json" | "python" | "shell" | "directives" | "none";

/**
 * How a file's settings are written, from its path. Unknown files are read as INI (`key = value`
 * under `[section]`), which is what most of a cloud's files are.
 */
function formatOf(file: string): Format {
  const base = path.posix.basename(file);
  if (base.endsWith(".json")) return "json";
  if (base.endsWith(".py")) return "python";
  if (base.endsWith(".sql") || base.endsWith(".xml")) return "none";
  if (
    base.endsWith(".sh") ||
    base.endsWith("openrc") ||
    base === "rabbitmq-env.conf" ||
    file.startsWith("/etc/default/")
  ) {
    return "shell";
  }
  if (["memcached.conf", "chrony.conf", "ha.cf"].includes(base) || file.startsWith("/etc/apache2/")) {
    return "directives";
  }
  return "ini";
}

/**
 * A value of the last step asked for. The rules read one step after another, each rule the same
 * step's settings and commands, so one step's are kept: all of a large stack's would stay in
 * memory to no use. A WeakMap of one entry, so that the last step does not keep its stack alive
 * (a WeakRef would, until the synchronous run that made it ends: a whole synth).
 */
class LastStepValue<T> {
  private last = new WeakMap<Step, T>();

  get(step: Step, make: () => T): T {
    let value = this.last.get(step);
    if (value === undefined) {
      value = make();
      this.last = new WeakMap([[step, value]]);
    }
    return value;
  }
}

const lastSettings = new LastStepValue<readonly Setting[]>();
const lastCommands = new LastStepValue<string>();

/** The settings of a file a step writes whole. */
export function fileSettings(file: WrittenFile): readonly Setting[] {
  return parse(file.path, file.content);
}

/**
 * The settings of the lines a step puts in a package's file (`replaceLines`), read by the file's
 * format as a written file is; the package's other lines are not known here.
 */
export function lineEditSettings(edit: LineEdit): readonly Setting[] {
  return parse(edit.path, `${edit.lines.join("\n")}\n`);
}

/** The setting a `setIniKey` makes. */
export function editSetting(edit: IniKeyEdit): Setting {
  return setting(edit.path, edit.section, edit.key, edit.value);
}

/** Every setting a step makes: its files', then its key edits', then its replaced lines'. */
export function stepSettings(step: Step): readonly Setting[] {
  return lastSettings.get(step, () => [
    ...step.files.flatMap((f) => fileSettings(f)),
    ...step.iniEdits.map(editSetting),
    ...step.lineEdits.flatMap((e) => lineEditSettings(e)),
  ]);
}

/**
 * A step's commands, one a line: its script's own lines without comments and without the
 * content of the files it writes (the heredocs after `osc_install_file`, which the settings
 * cover). One text, so that a rule runs each pattern once per step.
 */
export function stepCommands(step: Step): string {
  return lastCommands.get(step, () => commandsOf(step));
}

function commandsOf(step: Step): string {
  const out: string[] = [];
  let delimiter: string | undefined;
  for (const line of step.scriptBody.split("\n")) {
    if (delimiter !== undefined) {
      if (line === delimiter) delimiter = undefined;
      continue;
    }
    // Plain string tests first: this runs over every line of every step.
    const heredoc = line.endsWith("'") ? /<<'(\w+)'$/.exec(line) : null;
    if (heredoc) delimiter = heredoc[1];
    const start = line.trimStart();
    if (start !== "" && !start.startsWith("#")) out.push(line);
  }
  return out.join("\n");
}

/** `/etc/x.conf [section] key`, to name a setting in a finding. */
export function where(setting: Setting): string {
  return `${setting.file}${setting.section ? ` [${setting.section}]` : ""} ${setting.key}`;
}

/** The key in one spelling: lower case, `-` as `_` (`bind-address` is `bind_address`). */
export function normalKey(key: string): string {
  return key.toLowerCase().replace(/-/g, "_");
}

/** The key's last word: `memcache_secret_key` → `key`, `listeners.tcp.1` → `1`. */
export function lastWord(key: string): string {
  const words = normalKey(key).split(/[._\s]+/);
  return words[words.length - 1];
}

/** true, True, yes, on, 1. */
export function isTrue(value: string): boolean {
  return /^(true|yes|on|1)$/i.test(value.trim());
}

/** false, False, no, off, 0. */
export function isFalse(value: string): boolean {
  return /^(false|no|off|0)$/i.test(value.trim());
}

function setting(file: string, section: string, key: string, value: string): Setting {
  return { file, section, key, name: normalKey(key), value: unquote(value) };
}

function unquote(value: string): string {
  const v = value.trim();
  return /^(["']).*\1$/.test(v) && v.length >= 2 ? v.slice(1, -1) : v;
}

function parse(file: string, content: string): Setting[] {
  switch (formatOf(file)) {
    case "json":
      return parseJson(file, content);
    case "python":
      return parseLines(file, content, /^([A-Za-z_]\w*)\s*=\s*(.*)$/);
    case "shell":
      return parseLines(file, content, /^(?:export\s+)?([A-Za-z_]\w*)=(.*)$/);
    case "directives":
      return parseLines(file, content, /^\s*([^\s#<][^\s]*)\s+(.*)$/);
    case "ini":
      return parseIni(file, content);
    case "none":
      return [];
  }
}

/** One setting per line that matches `pattern` (key, value); comments are skipped. */
function parseLines(file: string, content: string, pattern: RegExp): Setting[] {
  const out: Setting[] = [];
  for (const line of content.split("\n")) {
    if (/^\s*#/.test(line)) continue;
    const m = pattern.exec(line);
    if (m) out.push(setting(file, "", m[1], m[2]));
  }
  return out;
}

function parseIni(file: string, content: string): Setting[] {
  const out: Setting[] = [];
  let section = "";
  for (const line of content.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#") || trimmed.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) {
      section = header[1].trim();
      continue;
    }
    const eq = trimmed.indexOf("=");
    if (eq > 0) {
      out.push(setting(file, section, trimmed.slice(0, eq).trim(), trimmed.slice(eq + 1)));
    }
  }
  return out;
}

function parseJson(file: string, content: string): Setting[] {
  let data: unknown;
  try {
    data = JSON.parse(content);
  } catch {
    return [];
  }
  const out: Setting[] = [];
  const walk = (value: unknown, section: string, key: string): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, section, key);
    } else if (value !== null && typeof value === "object") {
      const inner = key ? (section ? `${section}.${key}` : key) : section;
      for (const [k, v] of Object.entries(value)) walk(v, inner, k);
    } else if (key) {
      out.push(setting(file, section, key, String(value)));
    }
  };
  walk(data, "", "");
  return out;
}
