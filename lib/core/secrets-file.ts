import { randomBytes, randomInt } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { makeDirs } from "./make-dirs";
import { SecretKind, SecretSpec } from "./secret-spec";

/** Terraform's name for the input variable that carries a secret. */
export function secretVariableName(name: string): string {
  return `secret_${name}`;
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

function pick(alphabet: string, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** A fresh value from the operating system's CSPRNG. */
export function generateSecret(kind: SecretKind): string {
  switch (kind) {
    case "password":
      return pick(ALPHANUMERIC, 32);
    case "fernet":
      return randomBytes(32).toString("base64url") + "=";
    case "cookie":
      return pick(UPPER, 20);
    case "hex":
      return randomBytes(20).toString("hex");
    case "cephx":
      return cephxKey();
  }
}

/**
 * Ceph's encoding of a secret key (CryptoKey::encode): type (1 = AES, le16), creation time
 * (le32 seconds, le32 nanoseconds), length (16, le16), then the 16 key bytes; base64 of the 28.
 */
function cephxKey(): string {
  const header = Buffer.alloc(12);
  header.writeUInt16LE(1, 0);
  header.writeUInt32LE(Math.floor(Date.now() / 1000), 2);
  header.writeUInt32LE(0, 6);
  header.writeUInt16LE(16, 10);
  return Buffer.concat([header, randomBytes(16)]).toString("base64");
}

/**
 * What `completeSecretsFile` (and `initSecretsFile`) did to a secrets file, each secret named as
 * the catalog names it.
 */
export interface SecretsInitResult {
  /** The secrets file's path, as given. */
  readonly file: string;
  /** The secrets whose values were generated in this run. */
  readonly added: readonly string[];
  /** The secrets whose values the file already had, kept as they were. */
  readonly kept: readonly string[];
  /** `secret_*` entries the catalog no longer has; Terraform would warn about each. */
  readonly removed: readonly string[];
}

/** A secrets file that cannot be read or written as one: the message names the file, never a value. */
export class SecretsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretsFileError";
  }
}

/**
 * Creates or completes a secrets file (Terraform variables JSON, mode 0600) for `catalog`:
 * existing values are kept, missing ones are generated, and `secret_*` entries the catalog no
 * longer has are dropped (other keys are left alone). The file is written to a temporary name
 * and renamed, so an interrupted run never leaves half a file. `initSecretsFile` (lib/cluster)
 * gives it every component's secrets.
 */
export function completeSecretsFile(file: string, catalog: readonly SecretSpec[]): SecretsInitResult {
  const values = fs.existsSync(file) ? readSecretsFile(file, catalog) : {};
  const added: string[] = [];
  const kept: string[] = [];
  const known = new Set(catalog.map((spec) => secretVariableName(spec.name)));
  const removed = Object.keys(values).filter((key) => key.startsWith("secret_") && !known.has(key));
  for (const key of removed) delete values[key];
  for (const spec of catalog) {
    const key = secretVariableName(spec.name);
    if (values[key] !== undefined) {
      kept.push(spec.name);
    } else {
      values[key] = generateSecret(spec.kind);
      added.push(spec.name);
    }
  }
  try {
    makeDirs(path.dirname(path.resolve(file)), 0o700);
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, `${JSON.stringify(values, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, file);
    fs.chmodSync(file, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SecretsFileError(`${file}: cannot write the secrets file${code ? ` (${code})` : ""}`);
  }
  return { file, added, kept, removed: removed.map((key) => key.slice("secret_".length)) };
}

/**
 * What a secret of each kind may hold, kept or generated. A password lands unescaped in SQL
 * (`IDENTIFIED BY '…'`), in root's admin-openrc (sourced by the shell), in INI files and in URLs
 * (`mysql+pymysql://nova:…@`, `rabbit://…`), so it takes only characters inert in all four:
 * RFC 3986's unreserved ones, which a URL carries as they are (nothing to encode). The other
 * kinds are what their consumer parses.
 */
const SECRET_RULES: Record<
  SecretKind,
  { readonly ok: (value: string) => boolean; readonly expected: string }
> = {
  password: {
    ok: (v) => /^[A-Za-z0-9._~-]{16,128}$/.test(v),
    expected:
      "16 to 128 letters, digits, '.', '_', '~' or '-' (a password lands unescaped in SQL, the shell, config files and URLs)",
  },
  fernet: {
    ok: (v) => /^[A-Za-z0-9_-]{43}=$/.test(v),
    expected: "a Fernet key: 32 bytes in URL-safe base64, 44 characters ending in '='",
  },
  cookie: {
    ok: (v) => /^[A-Za-z0-9]{16,255}$/.test(v),
    expected: "an Erlang cookie of 16 to 255 letters and digits",
  },
  hex: { ok: (v) => /^[0-9a-f]{32,128}$/.test(v), expected: "32 to 128 lowercase hexadecimal digits" },
  cephx: {
    ok: isCephxKey,
    expected: "a Ceph key as ceph-authtool --gen-print-key makes it (base64 of an AES key's 28 bytes)",
  },
};

/** Why a value cannot be a secret of this kind (never quoting it), or undefined. */
export function secretValueProblem(kind: SecretKind, value: string): string | undefined {
  const rule = SECRET_RULES[kind];
  if (rule.ok(value)) return undefined;
  return `got a value (${value.length} characters) outside the rule: expected ${rule.expected}`;
}

/** CryptoKey's encoding (see cephxKey): AES (type 1), 16 key bytes, 28 bytes in all. */
function isCephxKey(value: string): boolean {
  if (!/^[A-Za-z0-9+/]{36}[A-Za-z0-9+/=]{4}$/.test(value)) return false;
  const bytes = Buffer.from(value, "base64");
  return bytes.length === 28 && bytes.readUInt16LE(0) === 1 && bytes.readUInt16LE(10) === 16;
}

/**
 * A secrets file's values, checked: a JSON object of non-empty strings, and each of `catalog`'s
 * secrets that it holds valid for its kind. Errors name the file and the key, never a value.
 */
export function readSecretsFile(file: string, catalog: readonly SecretSpec[]): Record<string, string> {
  let existing: unknown;
  try {
    existing = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw new SecretsFileError(`${file}: cannot read the secrets file (${code})`);
    // Only the position: the parser's message quotes the text around it, which can be a secret.
    const at = /at position \d+/.exec((err as Error).message)?.[0];
    throw new SecretsFileError(`${file}: not valid JSON${at ? ` (${at})` : ""}: expected a secrets file`);
  }
  if (existing === null || typeof existing !== "object" || Array.isArray(existing)) {
    // The type only, never the content.
    const got = existing === null ? "null" : Array.isArray(existing) ? "an array" : typeof existing;
    throw new SecretsFileError(`${file}: got ${got}: expected a JSON object of secrets`);
  }
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(existing)) {
    if (typeof value !== "string" || value.length === 0) {
      throw new SecretsFileError(`${file}: ${key}: got ${typeof value}: expected a non-empty string`);
    }
    values[key] = value;
  }
  for (const spec of catalog) {
    const value = values[secretVariableName(spec.name)];
    const problem = value === undefined ? undefined : secretValueProblem(spec.kind, value);
    if (problem) throw new SecretsFileError(`${file}: ${secretVariableName(spec.name)}: ${problem}`);
  }
  return values;
}

/** Where the CLI keeps a cluster's secrets: outside git (`secrets/` is ignored). */
export function defaultSecretsFile(cluster: string, baseDir = process.cwd()): string {
  return path.join(baseDir, "secrets", `${cluster}.tfvars.json`);
}
