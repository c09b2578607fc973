/** Checks every deploy must pass: SSH works, hosts are named right and know each other by name. */
import { Check, CheckContext, perHost } from "./types";
import { HostPlan } from "../plan";

async function output(ctx: CheckContext, host: HostPlan, command: string): Promise<string> {
  const r = await ctx.ssh(host, command);
  if (r.code !== 0) throw new Error(`\`${command}\` failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

export const sshReachable: Check = perHost("ssh", async (host, ctx) => {
  const r = await ctx.ssh(host, "true", 20_000);
  return {
    ok: r.code === 0,
    detail: r.code === 0 ? `root@${host.address}` : r.stderr.trim() || `exit ${r.code}`,
  };
});

export const hostname: Check = perHost("hostname", async (host, ctx) => {
  const got = (await output(ctx, host, "hostname")).trim();
  return { ok: got === host.name, detail: `hostname is ${JSON.stringify(got)}, expected ${host.name}` };
});

/** Parses /etc/hosts into address -> names. */
export function parseHosts(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const raw of text.split("\n")) {
    const [address, ...names] = raw.replace(/#.*/, "").trim().split(/\s+/);
    if (!address || names.length === 0) continue;
    map.set(address, [...(map.get(address) ?? []), ...names]);
  }
  return map;
}

function wantedEntries(ctx: CheckContext): { address: string; name: string }[] {
  const wanted = ctx.hosts.map((h) => ({ address: h.address, name: h.name }));
  const { vip, vipName } = ctx.inventory.management;
  if (vip) wanted.push({ address: vip, name: vipName });
  return wanted;
}

/** Every cluster member and the VIP must resolve through /etc/hosts (the lab has no DNS). */
export const etcHosts: Check = perHost("etc-hosts", async (host, ctx) => {
  const table = parseHosts(await output(ctx, host, "cat /etc/hosts"));
  const wanted = wantedEntries(ctx);
  const missing = wanted.filter((w) => !(table.get(w.address) ?? []).includes(w.name));
  return {
    ok: missing.length === 0,
    detail: missing.length
      ? missing.map((w) => `no line "${w.address} ${w.name}"`).join("; ")
      : `${wanted.length} entries (members${ctx.inventory.management.vip ? " and VIP" : ""})`,
  };
});

/**
 * No member name may also point elsewhere: the installer's "127.0.1.1 <hostname>" line makes a
 * host resolve its own name to loopback (the OpenStack install guide says to remove it).
 */
export const etcHostsUnique: Check = perHost("etc-hosts-unique", async (host, ctx) => {
  const table = parseHosts(await output(ctx, host, "cat /etc/hosts"));
  const clashes = wantedEntries(ctx).flatMap((w) =>
    [...table.entries()]
      .filter(([addr, names]) => addr !== w.address && names.includes(w.name))
      .map(([addr]) => `${w.name} -> ${addr}`),
  );
  return {
    ok: clashes.length === 0,
    detail: clashes.length ? `also listed as: ${clashes.join(", ")}` : "each name has one address",
  };
});

export const baseChecks: readonly Check[] = [sshReachable, hostname, etcHosts, etcHostsUnique];
