import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LAB_SMALL_EXAMPLE, REPO, runCli, tempDir } from "./support";

/** The CLI with test/inject-finding.ts loaded first: one unsuppressed finding on controller1_keystone. */
function runCliWithFinding(args: readonly string[]): ReturnType<typeof runCli> {
  const tsNode = path.join(REPO, "node_modules", ".bin", "ts-node");
  const inject = path.join(REPO, "test", "inject-finding.ts");
  return spawnSync(tsNode, ["--transpile-only", "-r", inject, path.join(REPO, "bin", "cli.ts"), ...args], {
    cwd: REPO,
    encoding: "utf8",
    env: { ...process.env, TS_NODE_PROJECT: path.join(REPO, "tsconfig.json") },
  });
}

const FINDING = "OSC-LOG1 DebugMode at labsmall/cluster/keystone/controller1/keystone: a made-up finding";

describe("npm run cli -- check [inventory]", () => {
  it("finds nothing on the example, suppressed or not, and exits 0", () => {
    const result = runCli(["check", LAB_SMALL_EXAMPLE]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("labsmall: 9 rules, 0 unsuppressed findings, 0 suppressed\n");
  });

  it("lists an unsuppressed finding without a reason and exits 1", () => {
    const result = runCliWithFinding(["check", LAB_SMALL_EXAMPLE]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(1);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toEqual([FINDING, "labsmall: 9 rules, 1 unsuppressed finding, 0 suppressed"]);
  });

  it("makes synth and validate fail with one line per finding, writing nothing", () => {
    const out = path.join(tempDir("cli-check-out"), "cdktf.out");
    const synth = runCliWithFinding(["synth", LAB_SMALL_EXAMPLE, "-o", out]);
    expect(synth.stdout).toBe("");
    expect(synth.stderr).toBe(`error: security check ${FINDING}\n`);
    expect(synth.status).toBe(1);
    expect(fs.existsSync(out)).toBe(false);
    const validate = runCliWithFinding(["validate", LAB_SMALL_EXAMPLE]);
    expect(validate.stderr).toBe(`error: security check ${FINDING}\n`);
    expect(validate.status).toBe(1);
  });
});
