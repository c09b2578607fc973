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

export interface SecretsInitResult {
  readonly file: string;
  readonly added: readonly string[];
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
  let existing: Record<string, unknown> = {};
  if (fs.existsSync(file)) {
    try {
      existing = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
      // Only the position: the parser's message quotes the text around it, which can be a secret.
      const at = /at position \d+/.exec((err as Error).message)?.[0];
      throw new SecretsFileError(`${file}: not valid JSON${at ? ` (${at})` : ""}: expected a secrets file`);
    }
    if (existing === null || typeof existing !== "object" || Array.isArray(existing)) {
      // The type only, never the content.
      const got = existing === null ? "null" : Array.isArray(existing) ? "an array" : typeof existing;
      throw new SecretsFileError(`${file}: got ${got}: expected a JSON object of secrets`);
    }
  }
  const values: Record<string, string> = {};
  const added: string[] = [];
  const kept: string[] = [];
  for (const [key, value] of Object.entries(existing)) {
    if (typeof value !== "string" || value.length === 0) {
      throw new SecretsFileError(`${file}: ${key}: got ${typeof value}: expected a non-empty string`);
    }
    values[key] = value;
  }
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

/** Where the CLI keeps a cluster's secrets: outside git (`secrets/` is ignored). */
export function defaultSecretsFile(cluster: string, baseDir = process.cwd()): string {
  return path.join(baseDir, "secrets", `${cluster}.tfvars.json`);
}
