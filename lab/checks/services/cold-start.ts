/**
 * `api-cold-start`, on a controller that does not hold the VIP (so no client of the cloud
 * notices): restart every control-plane unit, as a reboot or a package upgrade does, then send
 * each API 8 authenticated requests at once with a fresh token (cold caches everywhere), on the
 * controller's own address. Every request must be answered. Before the eventlet-patched APIs ran
 * one thread per uwsgi process (lib/services/control-plane-context.ts, uwsgiApi), 3 of 4
 * concurrent first requests to neutron-api hung for good (`greenlet.error: cannot switch to a
 * different thread`); the CLI, one request at a time, never sees it; Tempest's 2 workers did.
 * The probe: lab/checks/py/api_cold_start.py. The failover runs the same probe on the controller
 * it powered back on (`probeColdApis`: a real boot, its APIs not yet asked), and its verify then
 * leaves this check out.
 */
import { HostPlan } from "../../plan";
import { bashCommand, controllers, holdersOf, remote, serviceAddress } from "../platform";
import { pythonCommand } from "../python";
import { Check, CheckContext, CheckResult, skip } from "../types";
import { API_SERVICES, controlPlaneUnits } from "./catalog";
import { ADMIN_PASSWORD_SECRET } from "./client";

const NAME = "api-cold-start";
const CONCURRENT = 8;

/** type, port, an authenticated GET path ({project} = the token's project id). */
export const COLD_START_REQUESTS: readonly [string, number, string][] = API_SERVICES.map((s) => [
  s.type,
  s.port,
  s.listPath,
]);

/** Judges the probe's lines (`type good total worst-seconds bad-answers`); exported for the unit test. */
export function judgeColdStart(output: string, expected: readonly string[]): { ok: boolean; detail: string } {
  const rows = output
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" "));
  const seen = new Map(rows.map((r) => [r[0], r] as const));
  const problems: string[] = [];
  for (const kind of expected) {
    const row = seen.get(kind);
    if (!row || row.length !== 5) problems.push(`${kind}: no answer from the probe`);
    else if (row[1] !== row[2] || Number(row[2]) === 0)
      problems.push(`${kind}: ${row[1]} of ${row[2]} concurrent requests answered 2xx (others: ${row[4]})`);
  }
  return {
    ok: problems.length === 0,
    detail: problems.length
      ? problems.join("; ")
      : `${expected.length} APIs each answered ${CONCURRENT} concurrent first requests: ${rows.map((r) => `${r[0]} ≤${r[3]} s`).join(", ")}`,
  };
}

/**
 * Sends each API on `host`'s own address its concurrent first requests (the probe) and judges
 * the answers: `host` must have just (re)started its control plane and be asked by no client.
 */
export async function probeColdApis(
  ctx: CheckContext,
  host: HostPlan,
): Promise<{ ok: boolean; detail: string }> {
  const r = await ctx.ssh(
    host,
    pythonCommand("api_cold_start.py", [
      host.address,
      JSON.stringify(COLD_START_REQUESTS),
      String(CONCURRENT),
      ADMIN_PASSWORD_SECRET,
    ]),
    420_000,
  );
  if (r.code !== 0)
    return { ok: false, detail: `probe exit ${r.code}: ${r.stderr.trim().split("\n").at(-1)}` };
  return judgeColdStart(
    r.stdout,
    COLD_START_REQUESTS.map(([kind]) => kind),
  );
}

async function coldStart(ctx: CheckContext, host: HostPlan): Promise<{ ok: boolean; detail: string }> {
  const units = controlPlaneUnits(ctx.inventory.release);
  await remote(ctx, host, bashCommand('systemctl restart "$@"', ...units), { timeoutMs: 180_000 });
  return probeColdApis(ctx, host);
}

export const apiColdStart: Check = {
  name: NAME,
  async run(ctx: CheckContext): Promise<CheckResult[]> {
    const all = controllers(ctx);
    if (all.length < 2)
      return [skip(NAME, "-", "one controller: restarting it would be seen by every client")];
    const address = serviceAddress(ctx);
    const holders = address ? holdersOf(ctx, address).map((h) => h.name) : [];
    const standby = all.find((h) => !holders.includes(h.name) && h.address !== address);
    if (!standby) return [{ check: NAME, host: "-", ok: false, detail: `every controller holds ${address}` }];
    try {
      const r = await coldStart(ctx, standby);
      return [
        {
          check: NAME,
          host: standby.name,
          ok: r.ok,
          detail: r.ok ? `after a restart, ${r.detail}` : r.detail,
        },
      ];
    } catch (err) {
      return [{ check: NAME, host: standby.name, ok: false, detail: (err as Error).message }];
    }
  },
};
