/**
 * Router failover (destructive, run by the failover, not by verify): with two or more network
 * hosts, routers are HA (VRRP by keepalived between the L3 agents). A VM with a floating IP
 * answers ping from the lab machine; the network host whose qrouter namespace holds the
 * router's gateway address (the active one) is powered off; the floating IP must answer again
 * (through the other host) within ROUTER_FAILOVER_TIMEOUT_MS, measured from the power cut.
 * Then the host is booted again and its agents must report alive.
 */
import { startHost, stopHost } from "../power";
import { networkHosts } from "./dataplane";
import { poll, s1 } from "./poll";
import { Verdict } from "./services/client";
import { CheckContext } from "./types";
import { ExtraPhase, Osc, pingUntil, Run, vmLifecycleWith } from "./vm-lifecycle";

const ROUTER_FAILOVER_TIMEOUT_MS = 120_000;
const AGENTS_BACK_TIMEOUT_MS = 300_000;

/** The network hosts whose `qrouter-<id>` namespace holds `address`. */
async function holdersOfGateway(ctx: CheckContext, routerId: string, address: string): Promise<string[]> {
  const holders: string[] = [];
  for (const h of networkHosts(ctx)) {
    const r = await ctx.ssh(h, `ip netns exec qrouter-${routerId} ip -o -4 addr show 2>/dev/null || true`);
    if (r.stdout.split(/\s+/).some((w) => w.split("/")[0] === address)) holders.push(h.name);
  }
  return holders;
}

interface AgentRow {
  Host: string;
  "Agent Type": string;
  Alive: boolean | string;
}

const routerFailoverPhase: ExtraPhase = {
  name: "router-failover",
  skipReason: (ctx) =>
    networkHosts(ctx).length < 2
      ? `${networkHosts(ctx).length} network host(s): routers are not HA, nothing to fail over`
      : undefined,
  async run(ctx: CheckContext, osc: Osc, run: Run): Promise<Verdict> {
    const routerId = run.routerIds[0];
    const fip = run.fip as string;
    const { value: active } = await poll(
      `one network host with ${fip} in qrouter-${routerId}`,
      60_000,
      async () => {
        const h = await holdersOfGateway(ctx, routerId, fip);
        return h.length === 1 ? h[0] : undefined;
      },
    );
    const t0 = Date.now();
    await stopHost(ctx.inventory, active);
    let back: Awaited<ReturnType<typeof pingUntil>>;
    try {
      back = await pingUntil(fip, true, 3, ROUTER_FAILOVER_TIMEOUT_MS, t0);
    } finally {
      await startHost(ctx.inventory, active);
    }
    const now = await holdersOfGateway(ctx, routerId, fip);
    const t1 = Date.now();
    await poll(`${active}'s agents alive again`, AGENTS_BACK_TIMEOUT_MS, async () => {
      const rows = await osc.json<AgentRow[]>(["network", "agent", "list", "--host", active]);
      return rows.length > 0 && rows.every((r) => r.Alive === true || r.Alive === ":-)") ? true : undefined;
    });
    const still = await pingUntil(fip, true, 3, 60_000);
    return {
      ok: now.length === 1 && now[0] !== active,
      detail:
        `${active} (active router) powered off: ${fip} answered again ${s1(back.firstMs)} after the power cut ` +
        `(3 in a row by ${s1(back.doneMs)}), gateway now on ${now.join(", ") || "no host"}; ` +
        `${active} booted, its agents alive ${s1(Date.now() - t1)} later, ${fip} still answers (${still.attempts} pings)`,
    };
  },
};

/** vm-lifecycle's VM, network and floating IP, with the router failover in the middle. */
export const routerFailover = vmLifecycleWith(routerFailoverPhase);
