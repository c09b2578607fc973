/**
 * Heartbeat on the controller pair: running on both, unicast to the peer, signed with sha1 from
 * a root-only authkeys, no automatic failback, the VIP as its resource; and the VIP held by
 * exactly one controller (seen in the hosts' namespaces) and reachable from another host.
 */
import { clientHost, holdersOf, remote, vipPair } from "./platform";
import { Check, CheckResult } from "./types";
import { HostPlan } from "../plan";
import { skip } from "./types";

export const heartbeat: Check = {
  name: "heartbeat",
  async run(ctx) {
    const pairInfo = vipPair(ctx);
    if (!pairInfo) return [skip("heartbeat", "-", `ha: ${ctx.inventory.ha}: no VIP pair in the inventory`)];
    const { pair, vip } = pairInfo;
    const results: CheckResult[] = await Promise.all(
      pair.map(async (host: HostPlan, i): Promise<CheckResult> => {
        const peer = pair[1 - i];
        try {
          const problems: string[] = [];
          const active = (await ctx.ssh(host, "systemctl is-active heartbeat")).stdout.trim();
          if (active !== "active") problems.push(`heartbeat is ${active || "not installed"}`);
          const haCf = (await remote(ctx, host, "cat /etc/ha.d/ha.cf")).split("\n").map((l) => l.trim());
          if (!haCf.includes(`ucast ${host.links[0].ifname} ${peer.address}`))
            problems.push(`ha.cf has no "ucast ${host.links[0].ifname} ${peer.address}"`);
          if (!haCf.includes("auto_failback off")) problems.push(`ha.cf lacks "auto_failback off"`);
          const keys = (
            await remote(
              ctx,
              host,
              "stat -c '%a %U' /etc/ha.d/authkeys; grep -Ec '^1 sha1 [^ ]{16,}$' /etc/ha.d/authkeys; grep -cx 'auth 1' /etc/ha.d/authkeys",
            )
          ).split("\n");
          if (keys[0] !== "600 root") problems.push(`authkeys is ${keys[0]}, expected 600 root`);
          if (keys[1] !== "1" || keys[2] !== "1") problems.push("authkeys is not `auth 1` with one sha1 key");
          const res = await remote(ctx, host, "cat /etc/ha.d/haresources");
          if (!res.includes(`IPaddr2::${vip}/`)) problems.push(`haresources does not hold IPaddr2::${vip}`);
          return {
            check: "heartbeat",
            host: host.name,
            ok: problems.length === 0,
            detail: problems.length
              ? problems.join("; ")
              : `active; ucast to ${peer.address}, sha1 authkeys 600 root, auto_failback off, resource ${vip}`,
          };
        } catch (err) {
          return { check: "heartbeat", host: host.name, ok: false, detail: (err as Error).message };
        }
      }),
    );
    const holders = holdersOf(ctx, vip);
    const client = clientHost(ctx);
    const ping = await ctx.ssh(client, `ping -c 1 -W 2 ${vip}`, 20_000);
    const ok = holders.length === 1 && ping.code === 0;
    results.push({
      check: "vip",
      host: holders.map((h) => h.name).join(",") || "-",
      ok,
      detail:
        holders.length !== 1
          ? `${vip} is held by ${holders.length} controllers${holders.length ? ` (${holders.map((h) => h.name).join(", ")})` : ""}, expected exactly 1`
          : `${vip} on ${holders[0].name} only; ${ping.code === 0 ? `answers ping from ${client.name}` : `NO ping answer from ${client.name}`}`,
    });
    return results;
  },
};
