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
  for (const check of checks) {
    let results: CheckResult[];
    try {
      results = await check.run(ctx);
    } catch (err) {
      results = [{ check: check.name, host: "-", ok: false, detail: (err as Error).message }];
    }
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
  return failed;
}

/** Returns the failed results (empty when everything passed). */
export async function verify(inv: Inventory): Promise<CheckResult[]> {
  return runChecks(labContext(inv), allChecks);
}
