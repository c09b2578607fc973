/** `verify`: runs every check against the running lab and prints PASS/FAIL/SKIP per host. */
import { Inventory } from "../lib/cluster/inventory";
import { allChecks } from "./checks";
import { Check, CheckContext, CheckResult } from "./checks/types";
import { planHosts } from "./plan";
import { ssh } from "./ssh";

export function labContext(inv: Inventory): CheckContext {
  return { inventory: inv, hosts: planHosts(inv), ssh };
}

/** Runs checks in order; returns the failed results (empty when everything passed). */
export async function runChecks(
  ctx: CheckContext,
  checks: readonly Check[],
  label = "verify",
): Promise<CheckResult[]> {
  const failed: CheckResult[] = [];
  let passed = 0;
  let skipped = 0;
  const seconds: [string, number][] = [];
  for (const check of checks) {
    let results: CheckResult[];
    const began = Date.now();
    try {
      results = await check.run(ctx);
    } catch (err) {
      results = [{ check: check.name, host: "-", ok: false, detail: (err as Error).message }];
    }
    seconds.push([check.name, (Date.now() - began) / 1000]);
    // A check that returns nothing would pass vacuously: that is a failure of the check.
    if (results.length === 0)
      results = [{ check: check.name, host: "-", ok: false, detail: "the check produced no result" }];
    for (const r of results) {
      console.log(`${r.skipped ? "SKIP" : r.ok ? "PASS" : "FAIL"} ${r.check} host=${r.host} ${r.detail}`);
      if (r.skipped) skipped++;
      else if (r.ok) passed++;
      else failed.push(r);
    }
  }
  console.log(`${label}: ${passed} passed, ${failed.length} failed, ${skipped} skipped`);
  // Where the time went (CI's budget): the whole, and the checks that took most of it.
  const total = seconds.reduce((sum, [, s]) => sum + s, 0);
  const slowest = [...seconds].sort((a, b) => b[1] - a[1]).slice(0, 8);
  console.log(
    `${label}: ${total.toFixed(0)} s; slowest: ${slowest.map(([name, s]) => `${name} ${s.toFixed(1)} s`).join(", ")}`,
  );
  return failed;
}

/** Returns the failed results (empty when everything passed). */
export async function verify(inv: Inventory): Promise<CheckResult[]> {
  return runChecks(labContext(inv), allChecks);
}
