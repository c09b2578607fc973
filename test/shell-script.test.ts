/**
 * ShellScript renders bash that is run for real here, in temporary directories, with the
 * helpers that need no root-only tools (systemctl and crudini are replaced by small stubs that
 * record how they were called).
 */
import { execFile, spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { DEBIAN_12_ZED, DEBIAN_13_EPOXY } from "../lib/core/releases";
import { HOST_STATE_DIR, ShellScript, STEP_LOCK } from "../lib/core/shell-script";
import { releaseGuard } from "../lib/hosts/base-system";
import { sha256Hex } from "../lib/core/step";
import { SwiftRings } from "../lib/services/swift-rings";
import { tempDir } from "./support";

const execFileAsync = promisify(execFile);

const work = tempDir("shell");
const stubs = path.join(work, "bin");
const OWNER = os.userInfo().username;
const GROUP = spawnSync("id", ["-gn"], { encoding: "utf8" }).stdout.trim();
const IS_ROOT = process.getuid?.() === 0;

/** Words that a shell would expand, split or execute if they were not quoted. */
const AWKWARD = [
  "it's",
  `$(touch ${work}/pwned)`,
  `\`touch ${work}/pwned\``,
  `; touch ${work}/pwned`,
  "two  spaces",
  "line one\nline two",
  "",
  "*",
  "~",
  "$HOME",
  "${HOME}",
  "a\\b",
  '"double"',
  "!bang",
  "it's a !bang",
  "-n",
  "tab\there",
  "%{x}",
];

function writeStub(name: string, body: string): void {
  fs.writeFileSync(path.join(stubs, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
}

beforeAll(() => {
  fs.mkdirSync(stubs, { recursive: true });
  // systemctl: units are enabled and running unless STUB_UNITS_DOWN=1; every call is logged.
  writeStub(
    "systemctl",
    [
      'printf "%s\\n" "$*" >>"$STUB_LOG"',
      'case "$1" in is-enabled|is-active) [ "${STUB_UNITS_DOWN:-0}" != 1 ] ;; *) exit 0 ;; esac',
    ].join("\n"),
  );
  // crudini: a store of one file per FILE/SECTION/KEY under STUB_INI; --set logs its arguments.
  writeStub(
    "crudini",
    [
      'store="$STUB_INI/$(printf "%s" "$2" | md5sum | cut -c1-32)/$3/$4"',
      'if [ "$1" = --get ]; then [ -f "$store" ] && cat "$store"; exit; fi',
      'mkdir -p "$(dirname "$store")"; printf "%s" "$5" >"$store"',
      'printf "%s\\0" "$@" >>"$STUB_LOG"',
    ].join("\n"),
  );
  if (!IS_ROOT) {
    // The script re-runs itself through sudo when not root; pretend to be root for these tests.
    writeStub("id", 'if [ "$1" = -u ]; then echo 0; else exec /usr/bin/id "$@"; fi');
    writeStub("runuser", 'shift 2; [ "$1" = -- ] && shift; exec "$@"');
  }
});

let scriptCount = 0;
let stateCount = 0;

function scriptFile(script: ShellScript): string {
  const file = path.join(work, `script-${++scriptCount}.sh`);
  fs.writeFileSync(file, script.render());
  return file;
}

function scriptEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  delete base.OSC_SECRETS_DIR;
  return {
    ...base,
    PATH: `${stubs}:${process.env.PATH}`,
    STUB_LOG: path.join(work, "stub.log"),
    // The host's state (change records, copies of running steps, apt stamp) and step lock, in
    // the test's directory: a fresh state per run unless a test shares one (a host's history).
    OSC_STATE_DIR: path.join(work, `state-${++stateCount}`),
    OSC_LOCK: path.join(work, "step.lock"),
    ...env,
  };
}

function runScript(script: ShellScript, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  const result = spawnSync("bash", [scriptFile(script)], {
    encoding: "utf8",
    env: scriptEnv(env),
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return result;
}

function newScript(step = "test_step", host = "testhost"): ShellScript {
  return new ShellScript({ step, host });
}

function freshDir(name: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function modeOf(file: string): number {
  return fs.statSync(file).mode & 0o7777;
}

describe("render", () => {
  const text = newScript().run("true").render();
  const lines = text.split("\n");

  it("starts with the bash shebang and strict mode, with the error trap before any command", () => {
    expect(lines[0]).toBe("#!/usr/bin/env bash");
    expect(lines[1]).toBe("set -Eeuo pipefail");
    expect(lines).toContain("OSC_STEP=test_step");
    expect(lines).toContain("OSC_HOST=testhost");
    const trap = lines.findIndex((l) => l.startsWith("trap 'osc_on_error"));
    expect(trap).toBeGreaterThan(1);
    expect(trap).toBeLessThan(lines.indexOf("true"));
    expect(text.endsWith("\ntrue\nosc_step_done\n")).toBe(true);
  });

  it("is valid bash", () => {
    const result = spawnSync("bash", ["-n", scriptFile(newScript().run("true"))], { encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("quotes the step and host names it prints on failure", () => {
    const result = runScript(newScript("st'ep $(x)", "h o").run("false"));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/^FAILED step=st'ep \$\(x\) host=h o line=\d+ exit=1 command: false$/m);
  });
});

describe("quoting", () => {
  it("run passes every word literally", () => {
    const result = runScript(newScript().run("printf", "%s\\0", ...AWKWARD));
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout.split("\0").slice(0, -1)).toEqual(AWKWARD);
    expect(fs.existsSync(path.join(work, "pwned"))).toBe(false);
  });

  it("runAs passes the user and every word literally", () => {
    const result = runScript(newScript().runAs(OWNER, "printf", "%s\\0", ...AWKWARD));
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout.split("\0").slice(0, -1)).toEqual(AWKWARD);
    expect(fs.existsSync(path.join(work, "pwned"))).toBe(false);
  });

  it("comment never turns a line of its text into a command", () => {
    const marker = path.join(work, "from-comment");
    const result = runScript(newScript().comment(`first line\ntouch ${marker}\n$(touch ${marker})`));
    expect(result.status).toBe(0);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it("setIniKey passes file, section, key and value literally, and sets only when the value differs", () => {
    const ini = freshDir("ini-store");
    const log = path.join(work, "crudini.log");
    const file = path.join(work, "it's a dir", "nova.conf");
    const value = "mysql+pymysql://nova:$(touch pwned)@controller/nova?charset=utf8 'x'";
    const script = newScript()
      .setIniKey(file, "api_database", "connection", value, "nova")
      .ifChanged("nova", "echo CHANGED");
    const first = runScript(script, { STUB_INI: ini, STUB_LOG: log });
    expect(first.stderr).toBe("");
    expect(first.stdout).toBe("CHANGED\n");
    expect(fs.readFileSync(log, "utf8").split("\0").slice(0, -1)).toEqual([
      "--set",
      file,
      "api_database",
      "connection",
      value,
    ]);
    const second = runScript(script, { STUB_INI: ini, STUB_LOG: log });
    expect(second.status).toBe(0);
    expect(second.stdout).toBe("");
    // No second --set: the log holds the first call only.
    expect(fs.readFileSync(log, "utf8").split("\0")).toHaveLength(6);
  });

  it("aptInstall leaves installed packages alone and marks nothing", () => {
    const result = runScript(
      newScript().aptInstall(["bash", "coreutils"]).ifChanged("packages", "echo INSTALLED"),
    );
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("");
  });
});

describe("writeFile", () => {
  const content = [
    "literal $(touch pwned) and `touch pwned` and ${HOME} and $HOME",
    "quotes ' and \" and backslash \\ and tab\tand trailing space ",
    "",
    "%{ not a template } and \\n stays two characters",
  ].join("\n");

  it("writes the content byte for byte, with owner and mode, and changes nothing on a second run", () => {
    const dir = path.join(freshDir("write"), `it's a "dir" $(x)`);
    const file = path.join(dir, "settings file.conf");
    const script = newScript()
      .writeFile(file, content, { owner: OWNER, group: GROUP, mode: "0640" })
      .ifChanged("config", "echo CHANGED");

    const first = runScript(script);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(first.stdout).toBe("CHANGED\n");
    expect(fs.readFileSync(file, "utf8")).toBe(`${content}\n`);
    expect(modeOf(file)).toBe(0o640);
    expect(fs.statSync(file).uid).toBe(os.userInfo().uid);
    expect(fs.existsSync(path.join(dir, "pwned"))).toBe(false);

    const second = runScript(script);
    expect(second.status).toBe(0);
    expect(second.stdout).toBe("");
    // No temporary file is left behind.
    expect(fs.readdirSync(dir)).toEqual(["settings file.conf"]);
  });

  it("leaves the mode of an existing directory alone (a 0700 key repository stays 0700)", () => {
    const dir = path.join(freshDir("keep-dir-mode"), "keys");
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    const result = runScript(
      newScript().writeFile(path.join(dir, "0"), "key", { owner: OWNER, group: GROUP, mode: "0600" }),
    );
    expect(result.status).toBe(0);
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(path.join(dir, "0"))).toBe(0o600);
  });

  it("repairs a changed mode or a changed content, and only then reports a change", () => {
    const file = path.join(freshDir("repair"), "motd");
    const script = newScript()
      .writeFile(file, "hello", { owner: OWNER, group: GROUP, mode: "600", changeTag: "motd" })
      .ifChanged("motd", "echo CHANGED");
    expect(runScript(script).stdout).toBe("CHANGED\n");
    expect(runScript(script).stdout).toBe("");

    fs.chmodSync(file, 0o644);
    expect(runScript(script).stdout).toBe("CHANGED\n");
    expect(modeOf(file)).toBe(0o600);

    fs.writeFileSync(file, "hello\nedited by hand\n");
    expect(runScript(script).stdout).toBe("CHANGED\n");
    expect(fs.readFileSync(file, "utf8")).toBe("hello\n");
    expect(runScript(script).stdout).toBe("");
  });

  it("writeDropIn puts a unit's drop-in under UNIT.d and reloads systemd only when it changed", () => {
    const body = new ShellScript({ step: "s", host: "h" })
      .writeDropIn("tgt.service", "[Service]\nX=1\n", "tgt")
      .writeDropIn("neutron-server.service", "[Service]\nY=2\n", "neutron", "push")
      .renderBody();
    expect(body).toContain(
      "osc_install_file tgt /etc/systemd/system/tgt.service.d/openstack-cdktf.conf root root ",
    );
    expect(body).toContain(
      "osc_install_file neutron /etc/systemd/system/neutron-server.service.d/push.conf root root ",
    );
    expect(body).toMatch(/\nif osc_changed tgt; then\n {2}systemctl daemon-reload\nfi\n/);
    expect(body).toMatch(/\nif osc_changed neutron; then\n {2}systemctl daemon-reload\nfi\n/);
  });

  it("picks a heredoc delimiter that no line of the content equals", () => {
    const tricky = ["OSC_EOF", "OSC_EOF_1", " OSC_EOF", "OSC_EOF_2x", "after"].join("\n");
    const file = path.join(freshDir("heredoc"), "tricky");
    const script = newScript().writeFile(file, tricky, { owner: OWNER, group: GROUP });
    expect(script.render()).toContain("<<'OSC_EOF_2'\n");
    const result = runScript(script);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(fs.readFileSync(file, "utf8")).toBe(`${tricky}\n`);
  });

  it("fills {{secret:NAME}} placeholders on the host, and keeps the values out of the script", () => {
    const secrets = freshDir("secrets-ok");
    fs.writeFileSync(path.join(secrets, "db_password"), "s3cr'et $(x) \\ value\n");
    fs.writeFileSync(path.join(secrets, "other"), "second");
    const file = path.join(freshDir("filled"), "app.conf");
    const script = newScript()
      .writeFile(
        file,
        "password = {{secret:db_password}}\nboth = {{secret:other}}{{secret:db_password}}\nplain = {{secret:NOT-A-NAME}}",
        { owner: OWNER, group: GROUP, mode: "0600", secrets: true },
      )
      .ifChanged("config", "echo CHANGED");
    expect(script.render()).not.toContain("s3cr'et");

    const first = runScript(script, { OSC_SECRETS_DIR: secrets });
    expect(first.stderr).toBe("");
    expect(first.stdout).toBe("CHANGED\n");
    expect(fs.readFileSync(file, "utf8")).toBe(
      "password = s3cr'et $(x) \\ value\nboth = seconds3cr'et $(x) \\ value\nplain = {{secret:NOT-A-NAME}}\n",
    );
    expect(modeOf(file)).toBe(0o600);
    // Compared after filling: the same secrets mean no change.
    expect(runScript(script, { OSC_SECRETS_DIR: secrets }).stdout).toBe("");
    // A new value for a secret rewrites the file.
    fs.writeFileSync(path.join(secrets, "other"), "rotated");
    expect(runScript(script, { OSC_SECRETS_DIR: secrets }).stdout).toBe("CHANGED\n");
    expect(fs.readFileSync(file, "utf8")).toContain("both = rotateds3cr'et");
  });

  it("fails on a missing secret and leaves the existing file exactly as it was", () => {
    const secrets = freshDir("secrets-partial");
    fs.writeFileSync(path.join(secrets, "present"), "here");
    const dir = freshDir("missing-secret");
    const file = path.join(dir, "app.conf");
    fs.writeFileSync(file, "previous content\n", { mode: 0o644 });
    const script = newScript("app_config", "ctl1")
      .writeFile(file, "a = {{secret:present}}\nb = {{secret:absent}}\n", {
        owner: OWNER,
        group: GROUP,
        secrets: true,
      })
      .run("echo", "not reached");
    const result = runScript(script, { OSC_SECRETS_DIR: secrets });
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`missing secret absent (${secrets}/absent)`);
    expect(result.stderr).toMatch(
      /FAILED step=app_config host=ctl1 line=\d+ exit=1 command: osc_install_file config /,
    );
    expect(fs.readFileSync(file, "utf8")).toBe("previous content\n");
    expect(fs.readdirSync(dir)).toEqual(["app.conf"]);
  });

  it("reads secrets from /etc/openstack-cdktf/secrets unless OSC_SECRETS_DIR is set", () => {
    const script = newScript().raw('echo "$OSC_SECRETS_DIR"');
    expect(runScript(script).stdout).toBe("/etc/openstack-cdktf/secrets\n");
    expect(runScript(script, { OSC_SECRETS_DIR: "/elsewhere" }).stdout).toBe("/elsewhere\n");
  });
});

describe("setIniKey", () => {
  it("installs crudini, once, before the script's first INI edit", () => {
    const text = new ShellScript({ step: "s", host: "h" })
      .setIniKey("/etc/a.ini", "uwsgi", "processes", "2", "a")
      .setIniKey("/etc/a.ini", "uwsgi", "threads", "1", "a")
      .render();
    const line = "\ncommand -v crudini >/dev/null || osc_apt_install crudini\n";
    const install = text.indexOf(line);
    expect(install).toBeGreaterThan(0);
    expect(text.indexOf(line, install + 1)).toBe(-1);
    expect(install).toBeLessThan(text.indexOf("\nosc_ini_set a /etc/a.ini uwsgi processes 2\n"));
    expect(new ShellScript({ step: "s", host: "h" }).run("true").render()).not.toContain(line);
  });
});

describe("replaceLines", () => {
  const match = { ere: "^[[:space:]]*Listen[[:space:]]+5000[[:space:]]*$", perl: "^\\s*Listen\\s+5000\\s*$" };
  const lines = ["Listen 10.0.0.1:5000", 'Listen "$HOME" @ARGV \\n'];

  it("puts the lines where the first match was, drops the other matches, keeps the rest, once", () => {
    const file = path.join(freshDir("replace-lines"), "site.conf");
    fs.writeFileSync(file, "# site\nListen 5000\n<VirtualHost *:5000>\n  Listen 5000\n</VirtualHost>\n");
    const script = newScript()
      .replaceLines(file, match, lines, {
        owner: OWNER,
        group: GROUP,
        changeTag: "site",
        missing: "no Listen 5000",
      })
      .ifChanged("site", "echo CHANGED");
    const first = runScript(script);
    expect(first.stderr).toBe("");
    expect(first.stdout).toBe("CHANGED\n");
    // Perl's escapes, variables and arrays are taken literally.
    expect(fs.readFileSync(file, "utf8")).toBe(
      '# site\nListen 10.0.0.1:5000\nListen "$HOME" @ARGV \\n\n<VirtualHost *:5000>\n</VirtualHost>\n',
    );
    expect(modeOf(file)).toBe(0o644);
    // The file now has no line to replace: the step stops, naming the problem.
    const again = runScript(script);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("no Listen 5000");
  });

  it("records the edit for the security checks, and refuses a pattern with '/' or a line with a newline", () => {
    const script = newScript().replaceLines("/etc/site.conf", match, lines, { missing: "none" });
    expect(script.lineEdits).toEqual([{ path: "/etc/site.conf", replaces: match.perl, lines }]);
    expect(() =>
      newScript().replaceLines("/etc/a", { ere: "a/b", perl: "a/b" }, [], { missing: "none" }),
    ).toThrow("expected no unescaped '/'");
    expect(() => newScript().replaceLines("/etc/a", match, ["one\ntwo"], { missing: "none" })).toThrow(
      "expected one line",
    );
    expect(() => newScript().replaceLines("etc/a", match, [], { missing: "none" })).toThrow(
      "expected an absolute path",
    );
  });
});

describe("restartIfChanged", () => {
  it("restarts the units when their tag changed, and otherwise only units that are down", () => {
    const log = path.join(work, "systemctl.log");
    const file = path.join(freshDir("restart"), "svc.conf");
    const script = newScript()
      .writeFile(file, "x = 1", { owner: OWNER, group: GROUP, changeTag: "svc" })
      .restartIfChanged(["svc-a", "svc b"], "svc");
    const calls = (): string[] => fs.readFileSync(log, "utf8").split("\n").slice(0, -1);

    expect(runScript(script, { STUB_LOG: log }).status).toBe(0);
    expect(calls()).toEqual([
      "is-enabled --quiet svc-a",
      "restart svc-a",
      "is-enabled --quiet svc b",
      "restart svc b",
    ]);

    fs.rmSync(log);
    expect(runScript(script, { STUB_LOG: log }).status).toBe(0);
    expect(calls()).toEqual([
      "is-enabled --quiet svc-a",
      "is-active --quiet svc-a",
      "is-enabled --quiet svc b",
      "is-active --quiet svc b",
    ]);

    fs.rmSync(log);
    expect(runScript(script, { STUB_LOG: log, STUB_UNITS_DOWN: "1" }).status).toBe(0);
    expect(calls()).toEqual([
      "is-enabled --quiet svc-a",
      "enable --quiet svc-a",
      "is-active --quiet svc-a",
      "restart svc-a",
      "is-enabled --quiet svc b",
      "enable --quiet svc b",
      "is-active --quiet svc b",
      "restart svc b",
    ]);
  });
});

describe("errors", () => {
  it("a failing command stops the script with its exit code and a FAILED line naming it", () => {
    const script = newScript("controller1_mysql_install", "controller1")
      .run("echo", "before")
      .run("ls", "/nonexistent/it's here")
      .run("echo", "after");
    const result = runScript(script);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("before\n");
    const failed = result.stderr.split("\n").filter((l) => l.startsWith("FAILED"));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(
      /^FAILED step=controller1_mysql_install host=controller1 line=\d+ exit=2 command: ls '\/nonexistent\/it'"'"'s here'$/,
    );
    // The line number points at the failing command in the script.
    const line = Number(/line=(\d+)/.exec(failed[0])?.[1]);
    expect(script.render().split("\n")[line - 1]).toBe(`ls '/nonexistent/it'"'"'s here'`);
  });

  it("a failing command inside a helper is named, once", () => {
    const file = path.join(freshDir("bad-owner"), "x");
    const script = newScript().writeFile(file, "x", { owner: "nosuchuser-xyz" }).run("echo", "after");
    const result = runScript(script);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe("");
    const failed = result.stderr.split("\n").filter((l) => l.startsWith("FAILED"));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/ command: chown "\$owner:\$group" "\$tmp"$/);
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe("waitForPort", () => {
  async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it("times out on a closed port with a message naming host, port and timeout", async () => {
    const port = await closedPort();
    const started = Date.now();
    const result = runScript(
      newScript("db_wait", "ctl1").waitForPort("127.0.0.1", port, 2).run("echo", "after"),
    );
    const elapsed = Date.now() - started;
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`timed out after 2 s waiting for 127.0.0.1:${port}\n`);
    expect(result.stderr).toMatch(
      new RegExp(
        `^FAILED step=db_wait host=ctl1 line=\\d+ exit=1 command: osc_wait_port 127.0.0.1 ${port} 2$`,
        "m",
      ),
    );
    expect(elapsed).toBeGreaterThanOrEqual(2000);
    expect(elapsed).toBeLessThan(15_000);
  });

  it("returns as soon as the port accepts connections", async () => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const file = scriptFile(newScript().waitForPort("127.0.0.1", port, 30).run("echo", "after"));
      const started = Date.now();
      const { stdout } = await execFileAsync("bash", [file], { env: scriptEnv({}), encoding: "utf8" });
      expect(stdout).toBe("after\n");
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe("bad input is refused when the script is built", () => {
  const cases: [string, (s: ShellScript) => unknown, string][] = [
    [
      "relative path",
      (s) => s.writeFile("etc/hosts", "x"),
      'writeFile: got path "etc/hosts": expected an absolute path',
    ],
    [
      "mode with letters",
      (s) => s.writeFile("/etc/x", "x", { mode: "rw-r--r--" }),
      'writeFile: got mode "rw-r--r--"',
    ],
    ["mode with 8", (s) => s.writeFile("/etc/x", "x", { mode: "0648" }), 'writeFile: got mode "0648"'],
    ["mode 0o prefix", (s) => s.writeFile("/etc/x", "x", { mode: "0o644" }), 'writeFile: got mode "0o644"'],
    ["file tag", (s) => s.writeFile("/etc/x", "x", { changeTag: "My-Tag" }), 'change tag: got "My-Tag"'],
    ["ifChanged tag", (s) => s.ifChanged("a b", "true"), 'change tag: got "a b"'],
    ["restart tag", (s) => s.restartIfChanged(["x"], "x;y"), 'change tag: got "x;y"'],
    ["ini tag", (s) => s.setIniKey("/etc/x", "s", "k", "v", ""), 'change tag: got ""'],
    ["uppercase package", (s) => s.aptInstall(["Nova"]), 'aptInstall: got package name "Nova"'],
    ["package with ;", (s) => s.aptInstall(["nova;reboot"]), 'aptInstall: got package name "nova;reboot"'],
    ["package as option", (s) => s.aptInstall(["-y"]), 'aptInstall: got package name "-y"'],
    ["empty run", (s) => s.run(), "ShellScript.run: expected at least one word, got none"],
    [
      "listen port 0",
      (s) => s.listen("x", "10.0.0.1", 0),
      "listen x port: got 0: expected a port from 1 to 65535",
    ],
    [
      "listen hostname",
      (s) => s.listen("x", "controller1", 80),
      'listen x address: got "controller1": expected an IP address',
    ],
    [
      "listen no address",
      (s) => s.listen("x", [], 80),
      "listen x addresses: got none: expected at least one",
    ],
    [
      "listen daemon",
      (s) => s.listen("x y", "10.0.0.1", 80),
      'listen daemon: got "x y": expected a unit or daemon name',
    ],
  ];
  it.each(cases)("%s", (_name, build, message) => {
    expect(() => build(newScript())).toThrow(message);
  });

  it("accepts the forms the refusals are about", () => {
    expect(() =>
      newScript()
        .writeFile("/etc/x", "x", { mode: "644", changeTag: "my_tag_2" })
        .writeFile("/etc/y", "y", { mode: "1777" })
        .aptInstall(["python3-pymysql", "libapache2-mod-wsgi-py3", "g++", "lib.so:amd64"]),
    ).not.toThrow();
  });

  it("declares listeners without a line of script, wildcards too (OSC-NET1 refuses those)", () => {
    const script = newScript()
      .listen("ceph-mon@a", ["10.0.0.1", "fd00::1"], 3300)
      .listen("x", "0.0.0.0", 53, "udp");
    expect(script.listeners).toEqual([
      { daemon: "ceph-mon@a", address: "10.0.0.1", port: 3300, protocol: "tcp" },
      { daemon: "ceph-mon@a", address: "fd00::1", port: 3300, protocol: "tcp" },
      { daemon: "x", address: "0.0.0.0", port: 53, protocol: "udp" },
    ]);
    expect(script.renderBody()).toBe(newScript().renderBody());
  });
});

describe("a run cut short (Terraform killed, the host's power lost) and run again", () => {
  const host = { OSC_STATE_DIR: path.join(work, "host-cut-state") };
  it("acts on a change the cut run made but did not act on, and then forgets it", () => {
    const log = path.join(work, "systemctl-cut.log");
    const file = path.join(freshDir("cut"), "svc.conf");
    const cut = path.join(work, "cut-now");
    const script = newScript("cut_step")
      .writeFile(file, "x = 2", { owner: OWNER, group: GROUP, changeTag: "svc" })
      .raw(`if [ -e ${cut} ]; then kill -KILL $$; fi`)
      .restartIfChanged(["svc-a"], "svc");
    const calls = (): string[] =>
      fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").slice(0, -1) : [];

    fs.writeFileSync(cut, "");
    const killed = runScript(script, { ...host, STUB_LOG: log });
    expect(killed.signal).toBe("SIGKILL");
    expect(fs.readFileSync(file, "utf8")).toBe("x = 2\n");
    expect(calls()).toEqual([]);

    // The file is already right, yet the restart the cut run owed happens now.
    fs.rmSync(cut);
    expect(runScript(script, { ...host, STUB_LOG: log }).status).toBe(0);
    expect(calls()).toEqual(["is-enabled --quiet svc-a", "restart svc-a"]);

    fs.rmSync(log);
    expect(runScript(script, { ...host, STUB_LOG: log }).status).toBe(0);
    expect(calls()).toEqual(["is-enabled --quiet svc-a", "is-active --quiet svc-a"]);
  });

  it("keeps the change records of a step that failed, and only that step's", () => {
    const file = path.join(freshDir("cut-fail"), "a.conf");
    const failing = newScript("step_a")
      .writeFile(file, "a", { owner: OWNER, group: GROUP, changeTag: "a" })
      .run("false");
    expect(runScript(failing, host).status).toBe(1);
    const other = newScript("step_b").raw("if osc_changed a; then echo CHANGED; else echo SAME; fi");
    expect(runScript(other, host).stdout).toBe("SAME\n");
    const again = newScript("step_a").raw("if osc_changed a; then echo CHANGED; else echo SAME; fi");
    expect(runScript(again, host).stdout).toBe("CHANGED\n");
    expect(runScript(again, host).stdout).toBe("SAME\n");
  });

  it("runs one step at a time on a host: a second run waits for the first (an orphan) to end", async () => {
    const order = path.join(work, "lock-order.log");
    const first = scriptFile(
      newScript("slow").raw(`echo first-start >>${order}; sleep 2; echo first-end >>${order}`),
    );
    const second = scriptFile(newScript("next").raw(`echo second >>${order}`));
    const env = scriptEnv({});
    const a = execFileAsync("bash", [first], { env });
    // The second starts once the first holds the lock (its body has begun), not after a guess:
    // a fixed head start lost the race on a loaded machine.
    const started = () => fs.existsSync(order) && fs.readFileSync(order, "utf8").includes("first-start");
    while (!started()) await new Promise((resolve) => setTimeout(resolve, 20));
    const b = execFileAsync("bash", [second], { env });
    await Promise.all([a, b]);
    expect(fs.readFileSync(order, "utf8")).toBe("first-start\nfirst-end\nsecond\n");
  });
});

test("the prelude's defaults are the paths the lab's checks look at", () => {
  const text = newScript().run("true").render();
  expect(text).toContain(`OSC_STATE_DIR=\${OSC_STATE_DIR:-${HOST_STATE_DIR}}`);
  expect(text).toContain(`OSC_LOCK=\${OSC_LOCK:-${STEP_LOCK}}`);
});

describe("a step that Terraform may have recorded as done although its run was cut", () => {
  const host = { OSC_STATE_DIR: path.join(work, "host-finish-state") };
  const running = () => {
    const dir = path.join(host.OSC_STATE_DIR, "running");
    return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  };

  it("is finished by the next step on the host, before that step's own work", () => {
    const log = path.join(work, "finish-order.log");
    const cut = path.join(work, "cut-step-a");
    const a = newScript("cut_a").raw(
      `echo a-start >>${log}; if [ -e ${cut} ]; then kill -KILL $$; fi; echo a-end >>${log}`,
    );
    const b = newScript("next_b").raw(`echo b >>${log}`);
    fs.writeFileSync(cut, "");
    expect(runScript(a, host).signal).toBe("SIGKILL");
    expect(running()).toEqual(["cut_a.sh"]);
    fs.rmSync(cut);
    const result = runScript(b, host);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain("step cut_a did not end well in an earlier run: finishing it first");
    expect(fs.readFileSync(log, "utf8")).toBe("a-start\na-start\na-end\nb\n");
    expect(running()).toEqual([]);
  });

  it("includes a run that failed (maybe with no one to see it): finished later, without blocking other steps", () => {
    const log = path.join(work, "failed-order.log");
    const broken = path.join(work, "still-broken");
    const a = newScript("failing_a").raw(`echo a >>${log}`).raw(`if [ -e ${broken} ]; then false; fi`);
    fs.writeFileSync(broken, "");
    expect(runScript(a, host).status).toBe(1);
    expect(running()).toEqual(["failing_a.sh"]);

    // A later step that cannot finish it says so and does its own work.
    const next = runScript(newScript("next_c").raw(`echo c >>${log}`), host);
    expect(next.status).toBe(0);
    expect(next.stderr).toContain("WARNING: finishing step failing_a failed; it stays to be finished later");
    expect(fs.readFileSync(log, "utf8")).toBe("a\na\nc\n");
    expect(running()).toEqual(["failing_a.sh"]);

    // The host's last step fails while it is left, and passes once it could be finished.
    const converged = newScript("host_converged").raw("osc_no_cut_runs_left");
    const stuck = runScript(converged, host);
    expect(stuck.status).toBe(1);
    expect(stuck.stderr).toContain("step failing_a did not end well and could not be finished (see above)");
    expect(stuck.stderr).toMatch(
      /FAILED step=host_converged host=testhost line=\d+ exit=1 command: osc_no_cut_runs_left/,
    );
    fs.rmSync(broken);
    expect(runScript(converged, host).status).toBe(0);
    expect(running()).toEqual([]);
  });

  it("is not finished by its own next run, which replaces it", () => {
    const log = path.join(work, "own-rerun.log");
    const broken = path.join(work, "own-broken");
    const a = newScript("rerun_a").raw(`echo run >>${log}`).raw(`if [ -e ${broken} ]; then false; fi`);
    fs.writeFileSync(broken, "");
    expect(runScript(a, host).status).toBe(1);
    fs.rmSync(broken);
    expect(runScript(a, host).status).toBe(0);
    expect(fs.readFileSync(log, "utf8")).toBe("run\nrun\n");
    expect(running()).toEqual([]);
  });
});

test("writeFile removes a temporary file that a cut run left next to the file", () => {
  const dir = freshDir("cut-tmp");
  fs.writeFileSync(path.join(dir, ".osc.AbC123"), "half a fi");
  const file = path.join(dir, "app.conf");
  expect(runScript(newScript().writeFile(file, "whole", { owner: OWNER, group: GROUP })).status).toBe(0);
  expect(fs.readdirSync(dir)).toEqual(["app.conf"]);
});

describe("schemaSync: a first schema sync cut halfway is synced again from empty", () => {
  // A MariaDB stand-in: a database is a directory and a table a file in it. `mysql -NBe` lists
  // the tables as the prelude asks for them; `mysql -e SQL DB` drops them all and logs the SQL.
  // The sync stand-in creates t1..t3 one at a time and, like alembic over a half-done
  // migration, fails on a table that exists; with STUB_CUT present it is cut after t2.
  const dbs = path.join(work, "schema-dbs");
  beforeAll(() => {
    writeStub(
      "mysql",
      [
        'if [ "$1" = -NBe ]; then',
        `  db=$(printf '%s' "$2" | sed -n "s/.*table_schema = '\\([a-z0-9_]*\\)'.*/\\1/p")`,
        '  [ -d "$STUB_DB/$db" ] && ls "$STUB_DB/$db" | sed "s/.*/\\`&\\`/"',
        "  exit 0",
        "fi",
        'printf "mysql %s: %s\\n" "$3" "$2" >>"$STUB_LOG"',
        'rm -f "$STUB_DB/$3"/*',
      ].join("\n"),
    );
    writeStub(
      "fake-sync",
      [
        'mkdir -p "$STUB_DB/$1"',
        "for t in t1 t2 t3; do",
        '  if [ -e "$STUB_DB/$1/$t" ]; then echo "Table \'$t\' already exists" >&2; exit 1; fi',
        '  : >"$STUB_DB/$1/$t"',
        '  if [ "$t" = t2 ] && [ -e "$STUB_CUT" ]; then kill -KILL "$OSC_TEST_SCRIPT_PID" $$; fi',
        "done",
      ].join("\n"),
    );
  });

  let n = 0;
  function setUp(): { env: Record<string, string>; tables: () => string[]; log: () => string[] } {
    const id = ++n;
    const env = {
      OSC_STATE_DIR: path.join(work, `schema-state-${id}`),
      STUB_DB: path.join(dbs, String(id)),
      STUB_LOG: path.join(work, `schema-${id}.log`),
      STUB_CUT: path.join(work, `schema-cut-${id}`),
    };
    return {
      env,
      tables: () => {
        const dir = path.join(env.STUB_DB, "glance");
        return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
      },
      log: () =>
        fs.existsSync(env.STUB_LOG) ? fs.readFileSync(env.STUB_LOG, "utf8").split("\n").slice(0, -1) : [],
    };
  }
  const sync = newScript("glance")
    .raw("export OSC_TEST_SCRIPT_PID=$$")
    .schemaSync(["glance"], "root", "fake-sync", "glance");

  it("shows the failure it prevents: the sync alone cannot run again after a cut", () => {
    const { env, tables } = setUp();
    const bare = newScript("glance")
      .raw("export OSC_TEST_SCRIPT_PID=$$")
      .runAs("root", "fake-sync", "glance");
    fs.writeFileSync(env.STUB_CUT, "");
    expect(runScript(bare, env).signal).toBe("SIGKILL");
    fs.rmSync(env.STUB_CUT);
    const again = runScript(bare, env);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("Table 't1' already exists");
    expect(tables()).toEqual(["t1", "t2"]);
  });

  it("drops what the cut sync left and syncs again; the next run drops nothing", () => {
    const { env, tables, log } = setUp();
    fs.writeFileSync(env.STUB_CUT, "");
    expect(runScript(sync, env).signal).toBe("SIGKILL");
    expect(tables()).toEqual(["t1", "t2"]);
    fs.rmSync(env.STUB_CUT);
    const again = runScript(sync, env);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain("the first schema sync of database glance was cut");
    expect(log()).toEqual([
      "mysql glance: SET SESSION FOREIGN_KEY_CHECKS = 0; DROP TABLE IF EXISTS `t1`,`t2`;",
    ]);
    expect(tables()).toEqual(["t1", "t2", "t3"]);
    // Synced once: a later cut leaves the tables alone (the stand-in then fails, as alembic would
    // on a half-done later migration; the tables are the service's data now, never dropped).
    fs.writeFileSync(env.STUB_CUT, "");
    fs.rmSync(path.join(env.STUB_DB, "glance", "t3"));
    expect(runScript(sync, env).status).not.toBe(0);
    expect(log()).toHaveLength(1);
  });

  it("never drops the tables of a database that was synced before the marks were kept", () => {
    const { env, tables, log } = setUp();
    fs.mkdirSync(path.join(env.STUB_DB, "glance"), { recursive: true });
    for (const t of ["t1", "t2", "t3"]) fs.writeFileSync(path.join(env.STUB_DB, "glance", t), "");
    expect(runScript(sync, env).status).toBe(1); // the stand-in is not idempotent: fine here
    expect(log()).toEqual([]);
    expect(tables()).toEqual(["t1", "t2", "t3"]);
    expect(fs.readdirSync(path.join(env.OSC_STATE_DIR, "schema"))).toEqual(["glance.synced"]);
  });

  it("refuses a database name that is no identifier", () => {
    expect(() => newScript().schemaSync(["glance; drop"], "root", "true")).toThrow(
      'schemaSync: got database "glance; drop": expected a lowercase identifier',
    );
  });
});

describe("Swift's rings (SwiftRings.build), run with a recording swift-ring-builder", () => {
  const devices = [
    { zone: 1, address: "10.0.0.21", device: "swift" },
    { zone: 2, address: "10.0.0.22", device: "sdb1" },
  ];
  beforeAll(() => {
    // create/add log their arguments; rebalance writes the ring next to the builder.
    writeStub(
      "swift-ring-builder",
      [
        'printf "%s\\n" "$*" >>"$STUB_LOG.rings"',
        'case "$2" in create) : >"$1" ;; rebalance) printf "ring of %s\\n" "$(basename "$1")" >"${1%.builder}.ring.gz" ;; esac',
      ].join("\n"),
    );
  });

  function ringScript(dir: string, rings: SwiftRings): ShellScript {
    const script = newScript("rings_step");
    rings.build(script, "swift", dir);
    return script.raw('osc_changed swift && echo "rings changed"');
  }

  it("builds the three rings once from the spec, the same commands on every host, and refuses another spec", () => {
    const dir = freshDir("swift-rings");
    const state = path.join(work, "swift-rings-state");
    const log = path.join(work, "stub.log.rings");
    fs.rmSync(log, { force: true });
    const rings = new SwiftRings(devices, 10);
    const first = runScript(ringScript(dir, rings), { OSC_STATE_DIR: state });
    expect(first.stderr).toBe("");
    expect(first.stdout).toContain("rings changed");
    expect(fs.readdirSync(dir).sort()).toEqual([
      "account.builder",
      "account.ring.gz",
      "container.builder",
      "container.ring.gz",
      "object.builder",
      "object.ring.gz",
      "rings.sha256",
      "rings.spec",
    ]);
    expect(fs.readFileSync(path.join(dir, "rings.spec"), "utf8")).toBe(`${rings.spec}\n`);
    expect(rings.specHash).toBe(sha256Hex(fs.readFileSync(path.join(dir, "rings.spec"), "utf8")));
    // The rings' checksums, which the hosts that fetch them check theirs against.
    expect(fs.readFileSync(path.join(dir, "rings.sha256"), "utf8")).toBe(
      ["account", "container", "object"]
        .map((k) => `${sha256Hex(`ring of ${k}.builder\n`)}  ${k}.ring.gz\n`)
        .join(""),
    );
    const calls = fs
      .readFileSync(log, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.replace(/^\S+\//, ""));
    expect(calls.slice(0, 4)).toEqual([
      "account.builder create 10 2 1",
      "account.builder add --region 1 --zone 1 --ip 10.0.0.21 --port 6202 --device swift --weight 100",
      "account.builder add --region 1 --zone 2 --ip 10.0.0.22 --port 6202 --device sdb1 --weight 100",
      "account.builder rebalance --seed 1",
    ]);
    expect(calls).toHaveLength(12);

    // Again with the same spec: no builder call, no change.
    const again = runScript(ringScript(dir, rings), { OSC_STATE_DIR: state });
    expect(again.status).toBe(0);
    expect(again.stdout).not.toContain("rings changed");
    expect(fs.readFileSync(log, "utf8").split("\n").filter(Boolean)).toHaveLength(12);

    // A third storage host: refused, nothing rebuilt.
    const more = new SwiftRings([...devices, { zone: 3, address: "10.0.0.23", device: "swift" }], 10);
    const refused = runScript(ringScript(dir, more), { OSC_STATE_DIR: state });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(
      `Swift rings on testhost: built for '${rings.spec}'; the inventory now gives '${more.spec}': refusing to rebuild them`,
    );
    expect(fs.readFileSync(path.join(dir, "rings.spec"), "utf8")).toBe(`${rings.spec}\n`);
    expect(fs.readFileSync(log, "utf8").split("\n").filter(Boolean)).toHaveLength(12);
  });
});

describe("the release guard (a host's first step): the host's distribution and the release it was built with", () => {
  const guard = (release = DEBIAN_13_EPOXY) => releaseGuard(newScript("testhost_hosts_file"), release);
  /** A host whose /etc/os-release names `codename`, and whose record (if given) says `built`. */
  function hostFiles(name: string, codename: string, built?: string): Record<string, string> {
    const dir = freshDir(`release-${name}`);
    const osRelease = path.join(dir, "os-release");
    fs.writeFileSync(osRelease, `PRETTY_NAME="Debian GNU/Linux"\nVERSION_CODENAME=${codename}\nID=debian\n`);
    const record = path.join(dir, "etc", "openstack-cdktf", "release");
    if (built !== undefined) {
      fs.mkdirSync(path.dirname(record), { recursive: true });
      fs.writeFileSync(record, `${built}\n`);
    }
    return { OSC_OS_RELEASE: osRelease, OSC_RELEASE_RECORD: record };
  }

  it("records the release on a new host of the right distribution, and passes again with the record", () => {
    const env = hostFiles("new", "trixie");
    const first = runScript(guard(), env);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(fs.readFileSync(env.OSC_RELEASE_RECORD, "utf8")).toBe("debian-13-epoxy\n");
    const again = runScript(guard(), env);
    expect(again.status).toBe(0);
    expect(fs.readFileSync(env.OSC_RELEASE_RECORD, "utf8")).toBe("debian-13-epoxy\n");
  });

  it("refuses a host built with another release, and leaves its record", () => {
    const env = hostFiles("zed-built", "trixie", "debian-12-zed");
    const refused = runScript(guard(), env);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(
      "release: testhost was built with debian-12-zed, the inventory says debian-13-epoxy: no upgrade path between releases exists; set release: debian-12-zed\n",
    );
    expect(fs.readFileSync(env.OSC_RELEASE_RECORD, "utf8")).toBe("debian-12-zed\n");
  });

  it("refuses a host of another distribution release (a Zed cloud from before the record, given Epoxy)", () => {
    const env = hostFiles("bookworm", "bookworm");
    const refused = runScript(guard(), env);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(
      "release: testhost runs bookworm; release debian-13-epoxy needs trixie\n",
    );
    expect(fs.existsSync(env.OSC_RELEASE_RECORD)).toBe(false);
    // The same host with its own release: recorded.
    expect(runScript(guard(DEBIAN_12_ZED), env).status).toBe(0);
    expect(fs.readFileSync(env.OSC_RELEASE_RECORD, "utf8")).toBe("debian-12-zed\n");
  });

  it("refuses a host whose os-release names no codename", () => {
    const env = hostFiles("unknown", "");
    const refused = runScript(guard(), env);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(
      "release: testhost runs an unknown release; release debian-13-epoxy needs trixie\n",
    );
  });
});
