import { loadInventory } from "../lib/cluster/inventory";
import { LAB_SMALL_EXAMPLE, remoteExecScripts, runCli, synthToDir, tempDir } from "./support";

describe("npm run cli -- script <step-id> [inventory]", () => {
  const { stackDir } = synthToDir(loadInventory(LAB_SMALL_EXAMPLE), tempDir("cli-script"));
  const synthesized = remoteExecScripts(stackDir);

  it.each(["controller1_keystone", "compute1_base", "controller2_converged"])(
    "prints %s exactly as its file in the synthesized stack holds it",
    (id) => {
      const result = runCli(["script", id, LAB_SMALL_EXAMPLE]);
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/^#!\/usr\/bin\/env bash\nset -Eeuo pipefail\n/);
      expect(result.stdout).toContain(`\nOSC_STEP=${id}\n`);
      expect(result.stdout).toBe(synthesized.get(`${id}-0`));
    },
  );

  it("names an unknown step and the host's steps in one line, and exits 1", () => {
    const result = runCli(["script", "controller1_nope", LAB_SMALL_EXAMPLE]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^error: step "controller1_nope": not a step of cluster labsmall \(.*lab-small\.yaml\); expected one of controller1_converged, .*controller1_keystone,/,
    );
  });
});
