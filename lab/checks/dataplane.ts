/**
 * The data plane, as the API sees it (after the control-plane checks): `hypervisors`, every
 * host with role compute a hypervisor that is up; `network-agents`, an alive Open vSwitch agent
 * on every compute and network host, alive L3, DHCP and metadata agents on every network host,
 * and no agent anywhere else. The VM's life on the cloud: vm-lifecycle.ts.
 */
import { HostPlan } from "../plan";
import { controllers } from "./platform";
import { cliHost, command, jsonOf, runOsc, serviceHostName, Verdict } from "./services/client";
import { Check, CheckContext, CheckResult, skip } from "./types";

export const COMPUTE = "compute";
export const NETWORK = "network";

export function computeHosts(ctx: CheckContext): HostPlan[] {
  return ctx.hosts.filter((h) => h.roles.includes(COMPUTE));
}

export function networkHosts(ctx: CheckContext): HostPlan[] {
  return ctx.hosts.filter((h) => h.roles.includes(NETWORK));
}

export interface HypervisorRow {
  readonly "Hypervisor Hostname": string;
  readonly "Hypervisor Type"?: string;
  readonly "Host IP"?: string;
  readonly State: string;
}

/** Each compute host is a hypervisor (by name, or its FQDN's first label) that is up; extras reported. */
export function judgeHypervisors(rows: readonly HypervisorRow[], computes: readonly string[]): Verdict {
  const short = (n: string) => n.split(".")[0];
  const problems: string[] = [];
  const fine: string[] = [];
  for (const host of computes) {
    const row = rows.find((r) => short(r["Hypervisor Hostname"]) === host);
    if (!row) problems.push(`${host}: not listed`);
    else if (row.State !== "up") problems.push(`${host}: state ${row.State}`);
    else fine.push(`${host} (${row["Hypervisor Type"] ?? "?"}, ${row["Host IP"] ?? "?"}) up`);
  }
  const extra = rows
    .filter((r) => !computes.includes(short(r["Hypervisor Hostname"])))
    .map((r) => `${r["Hypervisor Hostname"]} ${r.State}`);
  if (extra.length) problems.push(`not a compute host of the inventory: ${extra.join(", ")}`);
  return { ok: problems.length === 0, detail: problems.length ? problems.join("; ") : fine.join(", ") };
}

export interface AgentRow {
  readonly "Agent Type": string;
  readonly Host: string;
  readonly Alive: boolean | string;
  readonly State: boolean | string;
  readonly Binary: string;
}

export const OVS_AGENT = "Open vSwitch agent";
/** What a network host runs besides the Open vSwitch agent. */
export const NETWORK_AGENTS = ["L3 agent", "DHCP agent", "Metadata agent"];

/** True for the CLI's JSON `true` and its table's `:-)` / `UP`. */
function yes(v: boolean | string): boolean {
  return v === true || v === ":-)" || v === "UP" || v === "True";
}

/**
 * The agents each host should run (by role), alive and admin-up, one of each type per host; an
 * agent on a host that should run none of its type is reported and fails the check.
 */
export function judgeAgents(
  rows: readonly AgentRow[],
  computes: readonly string[],
  networks: readonly string[],
): Verdict & { fine: string[] } {
  const want = new Map<string, string[]>();
  for (const h of [...computes, ...networks]) want.set(h, [OVS_AGENT]);
  for (const h of networks) want.get(h)?.push(...NETWORK_AGENTS);
  const problems: string[] = [];
  const fine: string[] = [];
  for (const [host, types] of want) {
    for (const type of types) {
      const found = rows.filter((r) => r.Host === host && r["Agent Type"] === type);
      if (found.length === 0) problems.push(`${type} on ${host}: not listed`);
      else if (found.length > 1) problems.push(`${type} on ${host}: ${found.length} agents`);
      else if (!yes(found[0].Alive)) problems.push(`${type} on ${host}: not alive`);
      else if (!yes(found[0].State)) problems.push(`${type} on ${host}: admin state down`);
      else fine.push(`${type}@${host}`);
    }
  }
  const extra = rows
    .filter((r) => !(want.get(r.Host) ?? []).includes(r["Agent Type"]))
    .map((r) => `${r["Agent Type"]}@${r.Host}${yes(r.Alive) ? "" : " (dead)"}`);
  if (extra.length) problems.push(`unexpected: ${extra.join(", ")}`);
  return {
    ok: problems.length === 0,
    fine,
    detail: problems.length ? problems.join("; ") : `${fine.length} agents alive and up: ${fine.join(", ")}`,
  };
}

/** One `openstack` list as admin on the CLI host, judged; one result on the VIP's name. */
function listCheck<T>(
  name: string,
  argv: readonly string[],
  applies: (ctx: CheckContext) => string | undefined,
  judge: (rows: T, ctx: CheckContext) => Verdict,
): Check {
  return {
    name,
    async run(ctx): Promise<CheckResult[]> {
      const why = controllers(ctx).length === 0 ? "no controller in the inventory" : applies(ctx);
      if (why) return [skip(name, "-", why)];
      const from = cliHost(ctx);
      const where = serviceHostName(ctx);
      try {
        const reply = await runOsc(ctx, from, { commands: [{ name, argv }] }, 60_000);
        const c = command(reply, name);
        const v = judge(jsonOf<T>(c, argv.slice(0, 2).join(" ")), ctx);
        return [
          { check: name, host: where, ok: v.ok, detail: `${v.detail} (${c.ms} ms, from ${from.name})` },
        ];
      } catch (err) {
        return [{ check: name, host: where, ok: false, detail: (err as Error).message }];
      }
    },
  };
}

export const hypervisors: Check = listCheck<HypervisorRow[]>(
  "hypervisors",
  ["hypervisor", "list", "-f", "json"],
  (ctx) => (computeHosts(ctx).length === 0 ? "no host with role compute" : undefined),
  (rows, ctx) =>
    judgeHypervisors(
      rows,
      computeHosts(ctx).map((h) => h.name),
    ),
);

export const networkAgents: Check = listCheck<AgentRow[]>(
  "network-agents",
  ["network", "agent", "list", "-f", "json"],
  (ctx) =>
    computeHosts(ctx).length + networkHosts(ctx).length === 0
      ? "no host with role compute or network"
      : undefined,
  (rows, ctx) =>
    judgeAgents(
      rows,
      computeHosts(ctx).map((h) => h.name),
      networkHosts(ctx).map((h) => h.name),
    ),
);
