/** The shape of a lab check: later issues add files next to base.ts and list them in index.ts. */
import { Inventory } from "../../lib/cluster/inventory";
import { RunResult } from "../exec";
import { HostPlan } from "../plan";

export interface CheckContext {
  readonly inventory: Inventory;
  readonly hosts: readonly HostPlan[];
  /** Runs a fixed command line on a host as root over the lab's SSH; secrets go in `input` (stdin). */
  ssh(host: HostPlan, command: string, timeoutMs?: number, input?: string): Promise<RunResult>;
}

export interface CheckResult {
  readonly check: string;
  readonly host: string;
  readonly ok: boolean;
  readonly detail: string;
  /**
   * Not applicable to this inventory (e.g. no VIP with `ha: single`). Counted apart: neither
   * a pass nor a failure. A check skips only on what the inventory says, never because a
   * service it expects is missing (that is a failure).
   */
  readonly skipped?: boolean;
}

/** A SKIP result (ok, so it never fails a run, but never counted as a pass either). */
export function skip(check: string, host: string, why: string): CheckResult {
  return { check, host, ok: true, skipped: true, detail: why };
}

export interface Check {
  readonly name: string;
  run(ctx: CheckContext): Promise<CheckResult[]>;
}

/** Builds a check that runs once per host (or per host that `applies` selects), in parallel. */
export function perHost(
  name: string,
  test: (host: HostPlan, ctx: CheckContext) => Promise<{ ok: boolean; detail: string }>,
  applies: (host: HostPlan, ctx: CheckContext) => boolean = () => true,
): Check {
  return {
    name,
    run: (ctx) =>
      Promise.all(
        ctx.hosts
          .filter((h) => applies(h, ctx))
          .map(async (host) => {
            try {
              return { check: name, host: host.name, ...(await test(host, ctx)) };
            } catch (err) {
              return { check: name, host: host.name, ok: false, detail: (err as Error).message };
            }
          }),
      ),
  };
}
