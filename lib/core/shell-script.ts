import { createHash } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { join as quote } from "shlex";
import { quote as quoteValue } from "./field-rules";

const PRELUDE = fs.readFileSync(path.join(__dirname, "prelude.sh"), "utf8");

/** Where steps keep their state on a host (prelude.sh's OSC_STATE_DIR). */
export const HOST_STATE_DIR = "/var/lib/openstack-cdktf";
/** Where a host keeps its secrets, one root-only file each (prelude.sh's OSC_SECRETS_DIR). */
export const HOST_SECRETS_DIR = "/etc/openstack-cdktf/secrets";
/**
 * A secret's root-only file on the host, as one double-quoted shell word for raw code that reads
 * it (`"$OSC_SECRETS_DIR/NAME"`): for a command that takes a file or stdin, never the value.
 */
export function hostSecretFile(name: string): string {
  if (!/^[a-z0-9_]+$/.test(name)) {
    throw new Error(`secret name: got ${quoteValue(name)}: expected lowercase letters, digits and '_'`);
  }
  return `"$OSC_SECRETS_DIR/${name}"`;
}

/** The lock that lets one step run at a time on a host (prelude.sh's OSC_LOCK). */
export const STEP_LOCK = "/run/lock/openstack-cdktf.lock";

/** Where a file written by a step belongs, and who may read it. */
export interface FileOptions {
  /** @default "root" */
  readonly owner?: string;
  /** @default the owner */
  readonly group?: string;
  /** Octal mode as a string. @default "0644" */
  readonly mode?: string;
  /**
   * Name of the change marker to set when the file is written, for `restartIfChanged`.
   * @default "config"
   */
  readonly changeTag?: string;
  /**
   * Fill `{{secret:NAME}}` placeholders on the host from the root-only secrets directory.
   * @default false
   */
  readonly secrets?: boolean;
}

/** A file a script writes whole (`writeFile`), as the security checks (lib/security/) read it. */
export interface WrittenFile {
  readonly path: string;
  readonly owner: string;
  readonly group: string;
  /** Octal, as given (`0640`). */
  readonly mode: string;
  /** Whether the host fills `{{secret:NAME}}` placeholders before it installs the file. */
  readonly fillsSecrets: boolean;
  readonly content: string;
}

/** One key a script sets in an INI file a package shipped (`setIniKey`). */
export interface IniKeyEdit {
  readonly path: string;
  readonly section: string;
  readonly key: string;
  readonly value: string;
}

/**
 * Lines a script puts in place of the matching lines of a file a package shipped
 * (`replaceLines`): the rest of the file is the package's, these lines are known.
 */
export interface LineEdit {
  readonly path: string;
  /** The lines replaced: the Perl regex the script's `perl` matches them with. */
  readonly replaces: string;
  /** What stands in their place, once, where the first of them was. */
  readonly lines: readonly string[];
}

/**
 * Where a daemon that a script starts listens (`listen`): what its configuration binds, declared
 * beside it from the same values, for the wildcard-bind rule (OSC-NET1) to hold the files to.
 */
export interface Listener {
  /** What holds the socket: the unit or daemon (`glance-api`, `openstack-cdktf-vip-glance-api.socket`). */
  readonly daemon: string;
  /** An IP address; a wildcard (`0.0.0.0`, `::`, `*`, empty) is declared only to be refused by OSC-NET1. */
  readonly address: string;
  readonly port: number;
  readonly protocol: "tcp" | "udp";
}

/** How `replaceLines` finds the lines: one pattern, as `grep -E` and as Perl write it. */
export interface LineMatch {
  /** An extended regular expression (POSIX classes), for the check that the file has such a line. */
  readonly ere: string;
  /** The same as a Perl regex, without `/`, for the rewrite. */
  readonly perl: string;
}

export interface ShellScriptProps {
  /** The step's id, printed when a command fails. */
  readonly step: string;
  /** The host's name, printed when a command fails. */
  readonly host: string;
}

const SAFE_TAG = /^[a-z0-9_]+$/;
const MODE = /^0?[0-7]{3,4}$/;
/** A MariaDB database name the library creates and syncs (it appears unquoted in SQL text). */
export const DATABASE_NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** A file's owner, group, mode and change tag with their defaults, checked; `method` names the caller in errors. */
function checkedFileOptions(
  method: string,
  filePath: string,
  options: FileOptions,
): { owner: string; group: string; mode: string; tag: string } {
  const owner = options.owner ?? "root";
  const group = options.group ?? owner;
  const mode = options.mode ?? "0644";
  const tag = options.changeTag ?? "config";
  if (!path.isAbsolute(filePath)) {
    throw new Error(`${method}: got path ${JSON.stringify(filePath)}: expected an absolute path`);
  }
  if (!MODE.test(mode))
    throw new Error(`${method}: got mode ${JSON.stringify(mode)}: expected octal like 0640`);
  checkTag(tag);
  return { owner, group, mode, tag };
}

/**
 * Builds one bash script for one step: strict mode, an error trap that names the step, host
 * and failing command, the idempotent helpers of `prelude.sh`, then the commands added here.
 * Every argument given to a helper is quoted; `raw` is the one way to add trusted shell code.
 * Get one from `Host.script` and hand it to `Host.addStep`, which makes it a `Step`.
 *
 * A run cut short: a step's script may be cut at any line, by Terraform being killed or losing
 * its connection (the script may then go on running on the host, orphaned, until it next
 * writes output) or by the host losing power, and the next apply runs it again. So:
 * - one step runs at a time on a host (a lock in /run/lock): a re-run waits for an orphaned
 *   run instead of racing it (two schema syncs, two package installs);
 * - a change is recorded on disk (/var/lib/openstack-cdktf/changes/STEP/TAG) *before* it is
 *   made and forgotten only when the step ends well, so a re-run still restarts a service (or
 *   loads SQL) for a change that a cut run made but did not act on;
 * - an interrupted dpkg is finished (`dpkg --configure -a`) before the next install, a stale
 *   policy-rc.d of ours is replaced, and package lists count as fresh only after an update
 *   that completed.
 */
export class ShellScript {
  private readonly lines: string[] = [];
  private installsCrudini = false;
  private readonly secretFiles: string[] = [];
  private readonly writtenFiles: WrittenFile[] = [];
  private readonly iniKeyEdits: IniKeyEdit[] = [];
  private readonly replacedLines: LineEdit[] = [];
  private readonly units = new Set<string>();
  private readonly declaredListeners: Listener[] = [];

  constructor(private readonly props: ShellScriptProps) {}

  /** A comment in the rendered script, to make `terraform apply` output readable. */
  comment(text: string): this {
    for (const line of text.split("\n")) this.lines.push(`# ${line}`);
    return this;
  }

  /** A command given as words; each word is quoted. */
  run(...argv: string[]): this {
    if (argv.length === 0) throw new Error("ShellScript.run: expected at least one word, got none");
    this.lines.push(quote(argv));
    return this;
  }

  /** Trusted shell code, added as it is. Never pass values from outside through here. */
  raw(code: string): this {
    this.lines.push(code);
    return this;
  }

  /** A debconf answer (a `debconf-set-selections` line) for packages installed after it. */
  debconfSet(selection: string): this {
    if (/[\n\r]/.test(selection)) {
      throw new Error(`debconfSet: got ${quoteValue(selection)}: expected one debconf-set-selections line`);
    }
    this.lines.push(`debconf-set-selections <<<${quote([selection])}`);
    return this;
  }

  /** Installs the packages that are missing; services stay stopped unless `start` is true. */
  aptInstall(packages: readonly string[], options: { start?: boolean } = {}): this {
    if (packages.length === 0) return this;
    for (const pkg of packages) {
      if (!/^[a-z0-9][a-z0-9+.:-]*$/.test(pkg)) {
        throw new Error(
          `aptInstall: got package name ${JSON.stringify(pkg)}: expected a Debian package name`,
        );
      }
    }
    const words = options.start
      ? ["osc_apt_install", "--start", ...packages]
      : ["osc_apt_install", ...packages];
    this.lines.push(quote(words));
    return this;
  }

  /** Writes a file whole, only when its content, owner or mode differ. */
  writeFile(filePath: string, content: string, options: FileOptions = {}): this {
    const { owner, group, mode, tag } = checkedFileOptions("writeFile", filePath, options);
    const body = content.endsWith("\n") ? content : `${content}\n`;
    if (options.secrets) this.secretFiles.push(body);
    this.writtenFiles.push({
      path: filePath,
      owner,
      group,
      mode,
      fillsSecrets: !!options.secrets,
      content: body,
    });
    const delimiter = heredocDelimiter(body);
    // With secrets, the install fills the placeholders before it compares, and writes nothing
    // when a secret is missing (a pipe from the filter would install half a file).
    const args = [tag, filePath, owner, group, mode, ...(options.secrets ? ["--fill-secrets"] : [])];
    this.lines.push(
      `osc_install_file ${quote(args)} <<'${delimiter}'`,
      ...body.slice(0, -1).split("\n"),
      delimiter,
    );
    return this;
  }

  /** The secrets that the files written with `secrets` refer to, sorted: what the host must have. */
  secretsUsed(): string[] {
    const names = this.secretFiles.flatMap((body) =>
      [...body.matchAll(/\{\{secret:([a-z0-9_]+)\}\}/g)].map((m) => m[1]),
    );
    return [...new Set(names)].sort();
  }

  /** The files written whole, in order: what the security checks read (paths, modes, content). */
  get files(): readonly WrittenFile[] {
    return [...this.writtenFiles];
  }

  /** The keys set in files a package shipped, in order. */
  get iniEdits(): readonly IniKeyEdit[] {
    return [...this.iniKeyEdits];
  }

  /** The lines replaced in files a package shipped, in order. */
  get lineEdits(): readonly LineEdit[] {
    return [...this.replacedLines];
  }

  /** The units this script enables and (re)starts: the daemons it runs. */
  get restartedUnits(): readonly string[] {
    return [...this.units];
  }

  /** Where the daemons this script starts listen (`listen`), in order. */
  get listeners(): readonly Listener[] {
    return [...this.declaredListeners];
  }

  /**
   * Declares that `daemon` listens on each of `addresses` at `port`; the script's text is
   * unchanged. Declare from the values the daemon's configuration is written from: OSC-NET1
   * finds a bind in the step's files on an address no declaration names, and a wildcard here.
   */
  listen(
    daemon: string,
    addresses: string | readonly string[],
    port: number,
    protocol: "tcp" | "udp" = "tcp",
  ): this {
    if (!/^[A-Za-z0-9][A-Za-z0-9@._-]*$/.test(daemon)) {
      throw new Error(`listen daemon: got ${quoteValue(daemon)}: expected a unit or daemon name`);
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`listen ${daemon} port: got ${port}: expected a port from 1 to 65535`);
    }
    const list = typeof addresses === "string" ? [addresses] : addresses;
    if (list.length === 0) throw new Error(`listen ${daemon} addresses: got none: expected at least one`);
    for (const address of list) {
      // Wildcards pass here: OSC-NET1 refuses them, and a suppression may accept one.
      if (net.isIP(address) === 0 && address !== "" && address !== "*") {
        throw new Error(`listen ${daemon} address: got ${quoteValue(address)}: expected an IP address`);
      }
      this.declaredListeners.push({ daemon, address, port, protocol });
    }
    return this;
  }

  /**
   * Sets one key in an INI file that a package shipped. The edit is crudini's, and the script
   * installs crudini itself before its first edit, so a service used on its own (without
   * BaseSystem, which installs it too) works on a bare host.
   */
  setIniKey(filePath: string, section: string, key: string, value: string, changeTag = "config"): this {
    checkTag(changeTag);
    if (!this.installsCrudini) {
      this.lines.push("command -v crudini >/dev/null || osc_apt_install crudini");
      this.installsCrudini = true;
    }
    this.lines.push(quote(["osc_ini_set", changeTag, filePath, section, key, value]));
    this.iniKeyEdits.push({ path: filePath, section, key, value });
    return this;
  }

  /**
   * Replaces the lines of a file a package shipped that match `match` by `lines`, once, where
   * the first of them was; the rest of the file stays as the package has it. The file is
   * installed (owner, group, mode: `options`) only when that changes it. Fails, printing
   * `missing`, when no line matches: the package's file is not what the caller expects.
   */
  replaceLines(
    filePath: string,
    match: LineMatch,
    lines: readonly string[],
    options: FileOptions & { readonly missing: string },
  ): this {
    const { owner, group, mode, tag } = checkedFileOptions("replaceLines", filePath, options);
    if (/(^|[^\\])\//.test(match.perl)) {
      throw new Error(
        `replaceLines: got Perl pattern ${JSON.stringify(match.perl)}: expected no unescaped '/'`,
      );
    }
    for (const line of lines) {
      if (/[\n\r]/.test(line)) {
        throw new Error(`replaceLines: got line ${JSON.stringify(line)}: expected one line`);
      }
    }
    // A Perl double-quoted string: its own escapes, variables and arrays taken literally.
    const text = lines.map((l) => `${l.replace(/[\\"$@]/g, "\\$&")}\\n`).join("");
    const program = `if (/${match.perl}/) { print "${text}" unless $seen++; next } print`;
    // Through a file, not a pipe: osc_install_file in a pipe runs in a subshell, and the change
    // it marks (OSC_CHANGED) would be lost to the rest of the script.
    this.lines.push(
      `grep -Eq ${quote([match.ere])} ${quote([filePath])} || { echo ${quote([options.missing])} >&2; exit 1; }`,
      "osc_lines=$(mktemp)",
      `perl -ne ${quote([program])} ${quote([filePath])} >"$osc_lines"`,
      `osc_install_file ${quote([tag, filePath, owner, group, mode])} <"$osc_lines"`,
      'rm -f "$osc_lines"',
    );
    this.replacedLines.push({ path: filePath, replaces: match.perl, lines: [...lines] });
    return this;
  }

  /** Enables the units and restarts them if anything under `changeTag` changed or they are down. */
  restartIfChanged(units: readonly string[], changeTag = "config"): this {
    checkTag(changeTag);
    this.lines.push(quote(["osc_restart_if_changed", changeTag, ...units]));
    for (const unit of units) this.units.add(unit);
    return this;
  }

  /**
   * Writes a systemd unit of ours to /etc/systemd/system/NAME.service and has systemd reload
   * it when anything under `changeTag` changed; `restartIfChanged` with the same tag starts it.
   */
  writeUnit(name: string, content: string, changeTag: string): this {
    return this.writeFile(`/etc/systemd/system/${name}.service`, content, { changeTag }).ifChanged(
      changeTag,
      "systemctl daemon-reload",
    );
  }

  /**
   * Writes a drop-in of ours for a unit (`/etc/systemd/system/UNIT.d/NAME.conf`; UNIT with its
   * suffix, `tgt.service`) and has systemd reload it when anything under `changeTag` changed.
   */
  writeDropIn(unit: string, content: string, changeTag: string, name = "openstack-cdktf"): this {
    return this.writeFile(`/etc/systemd/system/${unit}.d/${name}.conf`, content, { changeTag }).ifChanged(
      changeTag,
      "systemctl daemon-reload",
    );
  }

  /** Stops and masks units unless they are masked already (a package's daemons another unit replaces). */
  maskUnits(units: readonly string[]): this {
    if (units.length > 0) this.lines.push(quote(["osc_mask_units", ...units]));
    return this;
  }

  /** Runs trusted shell code only when something under `changeTag` changed in this run. */
  ifChanged(changeTag: string, code: string): this {
    checkTag(changeTag);
    this.lines.push(`if osc_changed ${changeTag}; then`, `  ${code}`, "fi");
    return this;
  }

  /** Waits until HOST:PORT accepts TCP connections, failing after `timeoutSeconds`. */
  waitForPort(host: string, port: number, timeoutSeconds = 60): this {
    this.lines.push(quote(["osc_wait_port", host, String(port), String(timeoutSeconds)]));
    return this;
  }

  /** Runs a command, given as words, as another user. */
  runAs(user: string, ...argv: string[]): this {
    this.lines.push(quote(["osc_as", user, ...argv]));
    return this;
  }

  /**
   * Runs a schema sync (a command, as words, as `user`) of databases on this host's MariaDB, safe
   * to cut halfway: until a sync of a database has ended well once, the next sync first drops
   * what a cut one left (prelude.sh, osc_schema_sync_begin). Needs MariaDB's root socket here.
   */
  schemaSync(databases: readonly string[], user: string, ...argv: string[]): this {
    if (databases.length === 0 || argv.length === 0) {
      throw new Error("schemaSync: expected at least one database and a command, got none");
    }
    for (const db of databases) {
      if (!DATABASE_NAME.test(db)) {
        throw new Error(`schemaSync: got database ${JSON.stringify(db)}: expected a lowercase identifier`);
      }
    }
    this.lines.push(
      quote(["osc_schema_sync_begin", ...databases]),
      quote(["osc_as", user, ...argv]),
      quote(["osc_schema_sync_end", ...databases]),
    );
    return this;
  }

  /** The lines before the prelude: strict mode, the re-run through sudo, the step's names. */
  renderHead(): string {
    return [
      "#!/usr/bin/env bash",
      "set -Eeuo pipefail",
      "# Re-run as root through sudo when the SSH user is not root.",
      'if [ "$(id -u)" -ne 0 ]; then exec sudo -n -- bash "$0" "$@"; fi',
      "umask 022",
      `OSC_STEP=${quote([this.props.step])}`,
      `OSC_HOST=${quote([this.props.host])}`,
    ].join("\n");
  }

  /** The step's own commands, after the prelude, ending with `osc_step_done`. */
  renderBody(): string {
    return [...this.lines, "osc_step_done", ""].join("\n");
  }

  /** The whole script: head, prelude, body. */
  render(): string {
    return scriptText(this.renderHead(), this.renderBody());
  }
}

/** The prelude as every step carries it, between its head and its body. */
const PRELUDE_TEXT = `${PRELUDE.trimEnd()}\n`;
/** The prelude with the line breaks around it, as bytes: hashed as they are by every step. */
const PRELUDE_BYTES = Buffer.from(`\n${PRELUDE_TEXT}\n`, "utf8");

/** A script's whole text from its head and body (`renderHead`, `renderBody`): head, prelude, body. */
export function scriptText(head: string, body: string): string {
  return [head, PRELUDE_TEXT, body].join("\n");
}

/**
 * The SHA-256 (hex) of `scriptText(head, body)`, without building that text: most of a script
 * is the prelude, the same in every step (kept whole, each step's text would be ~10 KB more).
 */
export function scriptSha256(head: string, body: string): string {
  return createHash("sha256").update(head).update(PRELUDE_BYTES).update(body).digest("hex");
}

function checkTag(tag: string): void {
  if (!SAFE_TAG.test(tag)) {
    throw new Error(`change tag: got ${quoteValue(tag)}: expected lowercase letters, digits and '_'`);
  }
}

/** A heredoc delimiter that does not occur as a line of the content. */
function heredocDelimiter(content: string): string {
  // A search of the text, not a set of its lines: a file can be large, and the default fits.
  const text = `\n${content}\n`;
  let delimiter = "OSC_EOF";
  for (let n = 1; text.includes(`\n${delimiter}\n`); n++) delimiter = `OSC_EOF_${n}`;
  return delimiter;
}
