/**
 * shellcheck over every script the examples render, the prelude, and a script that uses every
 * helper with awkward values. A missing shellcheck fails the suite: it is never skipped.
 * The prelude is checked once, on its own: in the step scripts (which all carry it, byte for
 * byte) it is replaced by a line that uses what the head sets for it, so shellcheck reads each
 * step's own commands and not 100 copies of the prelude (furyu-8-node: 1.6 s of CPU instead of
 * 24.5 s, and the suite's slowest test no longer ran into its timeout on a loaded machine).
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Testing } from "cdktf";
import { parseInventory } from "../lib/cluster/inventory";
import { OpenStackStack } from "../lib/cluster/openstack-stack";
import { ShellScript } from "../lib/core/shell-script";
import { EXAMPLES, exampleInventory, readYaml, REPO, SEED_EXAMPLE, tempDir } from "./support";

function requireShellcheck(): void {
  const probe = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      "shellcheck is not installed (or does not run): install it with `apt-get install shellcheck`; " +
        "these tests are never skipped",
    );
  }
}

/** Runs shellcheck over the files; returns its report (empty when clean) and exit status. */
function shellcheck(
  files: readonly string[],
  extra: readonly string[] = [],
): { status: number | null; report: string } {
  const result = spawnSync("shellcheck", ["--format=gcc", "--severity=style", ...extra, ...files], {
    encoding: "utf8",
  });
  return { status: result.status, report: `${result.stdout}${result.stderr}` };
}

/**
 * shellcheck over many files, in one process per core: every step script carries the whole
 * prelude, and one process over all of an example's scripts took 150 s of the suite's time.
 * The reports are joined in the files' order.
 */
async function shellcheckParallel(
  files: readonly string[],
): Promise<{ status: number | null; report: string }> {
  if (files.length === 0) return { status: 0, report: "" };
  const count = Math.max(1, Math.min(os.cpus().length, files.length));
  const chunks = Array.from({ length: count }, (_, i) => files.filter((_f, j) => j % count === i));
  const results = await Promise.all(
    chunks.map(
      (chunk) =>
        new Promise<{ status: number | null; report: string }>((resolve, reject) => {
          const child = spawn("shellcheck", ["--format=gcc", "--severity=style", ...chunk]);
          let report = "";
          child.stdout.on("data", (d: Buffer) => (report += d.toString()));
          child.stderr.on("data", (d: Buffer) => (report += d.toString()));
          child.on("error", reject);
          child.on("close", (status) => resolve({ status, report }));
        }),
    ),
  );
  return {
    status: results.every((r) => r.status === 0) ? 0 : (results.find((r) => r.status !== 0)?.status ?? null),
    report: results.map((r) => r.report).join(""),
  };
}

const PRELUDE = `${fs.readFileSync(path.join(REPO, "lib", "core", "prelude.sh"), "utf8").trimEnd()}\n`;

/**
 * A step's script with its prelude (checked on its own, "passes the prelude") replaced by a line
 * that uses the two variables the head sets for it; throws unless the prelude is there once.
 */
function withoutPrelude(text: string): string {
  const at = text.indexOf(PRELUDE);
  if (at < 0 || text.indexOf(PRELUDE, at + 1) >= 0)
    throw new Error("the script does not carry the prelude once");
  return `${text.slice(0, at)}: "$OSC_STEP" "$OSC_HOST"\n${text.slice(at + PRELUDE.length)}`;
}

/**
 * Texts already given to shellcheck in this file: the same text gets the same report, and the
 * examples share many scripts (the same step on another example with the same values).
 */
const checkedTexts = new Set<string>();

/**
 * Writes every step's script of the inventory's stack to `dir`, one file per step; returns them
 * all (`scripts`) and those whose text no earlier call wrote (`unchecked`), for shellcheck.
 */
function writeStepScripts(
  file: string,
  dir: string,
  data?: Record<string, unknown>,
): { scripts: string[]; unchecked: string[] } {
  const inventory = data ? parseInventory(data, file, path.dirname(file)) : exampleInventory(file);
  const stack = new OpenStackStack(Testing.app({ outdir: tempDir("app") }), { inventory });
  const scripts: string[] = [];
  const unchecked: string[] = [];
  for (const step of stack.cluster.steps) {
    const out = path.join(dir, `${inventory.cluster}-${step.logicalId}.sh`);
    fs.writeFileSync(out, withoutPrelude(step.scriptText));
    scripts.push(out);
    if (!checkedTexts.has(step.scriptText)) unchecked.push(out);
    checkedTexts.add(step.scriptText);
  }
  return { scripts, unchecked };
}

describe("shellcheck", () => {
  it("is installed, and is a release that knows the checks these tests rely on", () => {
    requireShellcheck();
    const probe = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
    expect(probe.status).toBe(0);
    const version = /^version: (\d+)\.(\d+)\.\d+$/m.exec(probe.stdout);
    expect(version).not.toBeNull();
    // 0.7 or later: --severity=style, the gcc format and SC2086 as used below.
    const [major, minor] = [Number(version?.[1]), Number(version?.[2])];
    expect(major > 0 || minor >= 7).toBe(true);
  });

  it("finds problems (the check is live), also in the parallel run", async () => {
    requireShellcheck();
    const dir = tempDir("shellcheck-live");
    const bad = path.join(dir, "bad.sh");
    fs.writeFileSync(bad, "#!/usr/bin/env bash\nrm -rf $1/tmp\n");
    const { status, report } = shellcheck([bad]);
    expect(status).not.toBe(0);
    expect(report).toContain("SC2086");
    const good = path.join(dir, "good.sh");
    fs.writeFileSync(good, '#!/usr/bin/env bash\nrm -rf "$1/tmp"\n');
    const parallel = await shellcheckParallel([good, good, good, bad]);
    expect(parallel.status).not.toBe(0);
    expect(parallel.report).toContain("bad.sh");
    expect(parallel.report).not.toContain("good.sh");
  });

  it("checks a step's own commands: the prelude out, a problem in the step still found", () => {
    requireShellcheck();
    const script = new ShellScript({ step: "one", host: "host1" }).raw("rm -rf $1/tmp");
    const text = withoutPrelude(script.render());
    expect(text).not.toContain("osc_install_file()");
    expect(text).toContain('\n: "$OSC_STEP" "$OSC_HOST"\n');
    const file = path.join(tempDir("shellcheck-body"), "one.sh");
    fs.writeFileSync(file, text);
    expect(shellcheck([file]).report).toContain("SC2086");
    expect(() => withoutPrelude("#!/usr/bin/env bash\necho hi\n")).toThrow(
      "the script does not carry the prelude once",
    );
  });

  it("passes the prelude", () => {
    requireShellcheck();
    const { status, report } = shellcheck([path.join(REPO, "lib", "core", "prelude.sh")], ["--shell=bash"]);
    expect(report).toBe("");
    expect(status).toBe(0);
  });

  it.each(EXAMPLES.map((f) => [path.basename(f), f]))(
    "passes every step script of %s",
    async (_name, file) => {
      requireShellcheck();
      const { scripts, unchecked } = writeStepScripts(file, tempDir("shellcheck"));
      const hosts = (readYaml(file).hosts as unknown[]).length;
      // Every host has at least its secrets and base steps.
      expect(scripts.length).toBeGreaterThanOrEqual(2 * hosts);
      const { status, report } = await shellcheckParallel(unchecked);
      expect(report).toBe("");
      expect(status).toBe(0);
    },
  );

  it("passes every step script of the seed on each release, with null_resource and no proxy", async () => {
    requireShellcheck();
    const dir = tempDir("shellcheck-variants");
    const written = ["debian-12-zed", "ubuntu-2404-caracal"].map((release) => {
      const data = { ...readYaml(SEED_EXAMPLE), release, cluster: `seed-${release.split("-")[0]}` };
      return writeStepScripts(SEED_EXAMPLE, dir, { ...data, resource: "null_resource" });
    });
    expect(written.flatMap((w) => w.scripts).length).toBeGreaterThanOrEqual(32);
    const { status, report } = await shellcheckParallel(written.flatMap((w) => w.unchecked));
    expect(report).toBe("");
    expect(status).toBe(0);
  });

  // At severity "warning": the "info" notes (SC2016, SC1001) are about values that are quoted to
  // stay literal, which is the point. The host has no '-': `OSC_HOST=host-1` draws SC2100.
  it("passes a script that uses every helper with awkward values", () => {
    requireShellcheck();
    const awkward = 'it\'s $(touch x) `y` ${HOME} "q" \\ !b';
    const script = new ShellScript({ step: "all_helpers", host: "host1" })
      .comment(`comment with ${awkward}\nand a second line`)
      .run("echo", awkward, "", "*")
      .raw('echo "trusted $HOSTNAME"')
      .aptInstall(["mariadb-server", "python3-pymysql"])
      .aptInstall(["apache2"], { start: true })
      .writeFile("/etc/a b/it's.conf", `${awkward}\nOSC_EOF\n`, {
        owner: "nova",
        group: "nova",
        mode: "0640",
      })
      .writeFile("/etc/nova/nova.conf", "[database]\nconnection = {{secret:nova_db_password}}\n", {
        secrets: true,
        changeTag: "nova",
      })
      .setIniKey("/etc/nova/nova.conf", "DEFAULT", "my_ip", awkward, "nova")
      .restartIfChanged(["nova-api", "nova-scheduler"], "nova")
      .ifChanged("nova", "echo changed")
      .waitForPort("::1", 8774, 5)
      .runAs("nova", "nova-manage", "db", "sync", awkward);
    const file = path.join(tempDir("shellcheck-helpers"), "helpers.sh");
    fs.writeFileSync(file, script.render());
    const { status, report } = shellcheck([file], ["--severity=warning"]);
    expect(report).toBe("");
    expect(status).toBe(0);
  });
});
