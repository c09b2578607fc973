/** `verify`: runs every check against the running lab and prints PASS/FAIL per host. */
import { Inventory } from "../lib/cluster/inventory";
import { allChecks } from "./checks";
import { CheckContext, CheckResult } from "./checks/types";
import { planHosts } from "./plan";
import { ssh } from "./ssh";

/** Returns the failed results (empty when everything passed). */
export async function verify(inv: Inventory): Promise<CheckResult[]> {
  const ctx: CheckContext = { inventory: inv, hosts: planHosts(inv), ssh };
  const failed: CheckResult[] = [];
  let passed = 0;
  for (const check of allChecks) {
    for (const r of await check.run(ctx)) {
      console.log(`${r.ok ? "PASS" : "FAIL"} ${r.check} host=${r.host} ${r.detail}`);
      if (r.ok) passed++;
      else failed.push(r);
    }
  }
  console.log(`verify: ${passed} passed, ${failed.length} failed`);
  return failed;
}
