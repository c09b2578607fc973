import { IConstruct } from "constructs";
import { TerraformResource } from "cdktf";
import { SecurityRule } from "../rule";
import {
  isFalse,
  isTrue,
  lastWord,
  PLACEHOLDER,
  Setting,
  stepCommands,
  stepOf,
  stepSettings,
  where,
} from "../settings";

/** A key whose last word is one of these holds a secret (`password`, `memcache_secret_key`, `OS_PASSWORD`). */
const SECRET_WORDS = new Set([
  "password",
  "passwd",
  "pass",
  "pwd",
  "secret",
  "token",
  "key",
  "apikey",
  "credential",
]);

/** Whether a key (or a variable's name) holds a secret. */
export function isSecretKey(key: string): boolean {
  return SECRET_WORDS.has(lastWord(key));
}

/**
 * Whether a value refers to a secret rather than holding one: a placeholder, a shell expansion
 * (`$(cat "$OSC_SECRETS_DIR/x")`), a file's path, or a call (Python's `open(...)`).
 */
function isReference(value: string): boolean {
  const v = value.replace(/^["']|["']$/g, "");
  return PLACEHOLDER.test(v) || v.startsWith("$") || v.startsWith("/") || /^[A-Za-z_][\w.]*\(/.test(v);
}

/** The password of a URL (`mysql+pymysql://user:PASSWORD@host/db`); from `//`, which is rare in text (fast). */
const URL_PASSWORD = /\/\/[^\s:/@]*:([^\s@]*)@/g;
/** Passwords in SQL: IDENTIFIED BY '…', MASTER_PASSWORD='…', PASSWORD('…'). */
const SQL_PASSWORD = [
  /IDENTIFIED\s+BY\s+(?:PASSWORD\s+)?'([^']*)'/gi,
  /PASSWORD\s*=\s*'([^']*)'/gi,
  /PASSWORD\s*\(\s*'([^']*)'\s*\)/gi,
];
/** Passwords on a command line: --password X, --os-password=X, …_PASSWORD=X. */
const COMMAND_PASSWORD = [/--(?:[a-z]+-)*password(?:=|\s+)(\S+)/gi, /\b[A-Z_]*PASSWORD=(\S+)/g];

function literalIn(text: string, patterns: readonly RegExp[]): boolean {
  for (const pattern of patterns) {
    for (const m of text.matchAll(pattern)) if (!isReference(m[1])) return true;
  }
  return false;
}

function settingProblem(s: Setting): string | undefined {
  if (isSecretKey(s.key) && !isTrue(s.value) && !isFalse(s.value)) {
    if (s.value === "") return `${where(s)} is empty`;
    if (!isReference(s.value)) return `${where(s)}: the value is not a {{secret:NAME}} placeholder`;
  }
  return undefined;
}

/** Terraform's connection keys that hold a secret. */
const CONNECTION_SECRETS = ["password", "privateKey", "bastionPassword", "bastionPrivateKey"] as const;

function connectionProblems(resource: TerraformResource): string[] {
  const connection = resource.connection as Record<string, unknown> | undefined;
  if (!connection) return [];
  return CONNECTION_SECRETS.filter((key) => {
    const value = connection[key];
    if (typeof value !== "string" || value.includes("${")) return false;
    return key.endsWith("assword") || value.includes("PRIVATE KEY");
  }).map(
    (key) => `connection.${key}: a secret written into the Terraform JSON: expected a variable or file()`,
  );
}

/**
 * OSC-SEC1: a secret reaches a host only as a `{{secret:NAME}}` placeholder, filled in on the
 * host from its root-only secrets directory, or read from that directory by a command.
 */
export const SECRET_PLACEHOLDERS: SecurityRule = {
  id: "OSC-SEC1",
  name: "SecretNotPlaceholder",
  reason:
    "A secret written into a config file, a script or a connection is in the synthesized JSON and scripts, in Terraform's plan and state, and in every copy of them.",
  check(node: IConstruct): readonly string[] {
    if (node instanceof TerraformResource) return connectionProblems(node);
    const step = stepOf(node);
    if (!step) return [];
    const out = stepSettings(step).flatMap((s) => settingProblem(s) ?? []);
    for (const file of step.files) {
      // Whatever the format: an apt proxy's URL, a connection string.
      if (literalIn(file.content, [URL_PASSWORD]))
        out.push(`${file.path}: a URL's password is not a placeholder`);
      if (file.path.endsWith(".sql") && literalIn(file.content, SQL_PASSWORD)) {
        out.push(`${file.path}: a password in SQL is not a placeholder`);
      }
    }
    for (const edit of step.iniEdits) {
      if (literalIn(edit.value, [URL_PASSWORD])) {
        out.push(`${edit.path} [${edit.section}] ${edit.key}: a URL's password is not a placeholder`);
      }
    }
    const commands = stepCommands(step);
    // One scan for what every pattern needs before the patterns (most steps have none of it).
    if (
      /password|identified|\/\/[^\s@]*@/i.test(commands) &&
      literalIn(commands, [...COMMAND_PASSWORD, ...SQL_PASSWORD, URL_PASSWORD])
    ) {
      out.push("a command has a password that is neither a placeholder nor read from the secrets directory");
    }
    return out;
  },
};
