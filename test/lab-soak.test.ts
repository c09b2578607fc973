/** The soak's bookkeeping: Terraform's durations, the last deploy's step timings, the table. */
import * as fs from "fs";
import * as path from "path";
import { failureKey, RunReport, soakTable, stepDurations, terraformDuration } from "../lab/soak";
import { tempDir } from "./support";

describe("soak", () => {
  test("reads Terraform's durations", () => {
    expect(terraformDuration("0s")).toBe(0);
    expect(terraformDuration("34s")).toBe(34);
    expect(terraformDuration("1m5s")).toBe(65);
    expect(terraformDuration("2m")).toBe(120);
    expect(terraformDuration("1h0m1s")).toBe(3601);
    expect(terraformDuration("soon")).toBeNaN();
  });

  test("takes each step's timing from the newest deploy log that completed and ran it", () => {
    const dir = tempDir("soak-logs");
    const line = (id: string, took: string) =>
      `terraform_data.${id}: Creation complete after ${took} [id=0f0f]\n`;
    fs.writeFileSync(
      path.join(dir, "labsmall-deploy-2026-01-01.log"),
      line("controller1_base", "20s") +
        line("controller1_mysql", "1m2s") +
        "Apply complete! Resources: 2 added\n",
    );
    fs.writeFileSync(path.join(dir, "labsmall-deploy-2026-01-02.log"), line("controller1_base", "99s"));
    fs.writeFileSync(
      path.join(dir, "labsmall-deploy-2026-01-03.log"),
      line("controller1_mysql", "7s") + "Apply complete! Resources: 1 added\n",
    );
    fs.writeFileSync(
      path.join(dir, "other-deploy-2026-01-03.log"),
      line("x_base", "1s") + "Apply complete!\n",
    );
    expect([...stepDurations("labsmall", dir)].sort()).toEqual([
      ["controller1_base", 20],
      ["controller1_mysql", 7],
    ]);
    expect(stepDurations("nothing", dir).size).toBe(0);
  });

  test("counts a failure under its step, its verify check, or its phase", () => {
    expect(failureKey("FAILED step=controller1_horizon host=controller1 line=179 exit=1 command: x")).toBe(
      "controller1_horizon",
    );
    expect(failureKey("verify token host=compute1: HTTP 500")).toBe("verify:token");
    expect(failureKey("second-apply: plan wants changes")).toBe("second-apply");
  });

  test("tables runs, the spread of each phase, the cuts and the failures per step", () => {
    const run = (n: number, deploy: number, failures: string[], interruption?: string): RunReport => ({
      run: n,
      ok: failures.length === 0,
      phases: [
        { phase: "up", seconds: 5, ok: true },
        { phase: "deploy", seconds: deploy, ok: failures.length === 0 },
      ],
      failures,
      interruption,
    });
    const failed = "FAILED step=controller1_horizon host=controller1 line=179 exit=1 command: compress";
    const table = soakTable(
      [
        run(1, 300, []),
        run(2, 340, [failed, failed], "kill 3.0 s into controller1_horizon"),
        run(3, 310, []),
      ],
      "soak of lab-small.yaml",
    ).split("\n");
    expect(table).toContain("passed 2/3");
    expect(table).toContain("  deploy        300.0 / 310.0 / 340.0");
    expect(table).toContain("  controller1_horizon: 1");
    expect(table).toContain("  run 2: kill 3.0 s into controller1_horizon");
    expect(table.find((l) => l.trimStart().startsWith("2 "))).toMatch(/FAIL\s+5\.0\s+340\.0!$/);
  });

  test("says none when nothing failed", () => {
    const table = soakTable([{ run: 1, ok: true, phases: [], failures: [] }], "h").split("\n");
    expect(table).toContain("  none");
    expect(table).toContain("passed 1/1");
  });
});
