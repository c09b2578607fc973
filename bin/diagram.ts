/**
 * A picture of a cluster as Mermaid flowchart source (`openstack-cdktf diagram`; GitHub and most
 * Markdown viewers draw it): each host with its address, roles and what runs there, read from
 * the built stack (the constructs that own a step on the host), grouped by role; the networks
 * each host joins; the VIP and the Heartbeat pair that holds it.
 */
import { Construct } from "constructs";
import { OpenStackStack } from "../lib/cluster/openstack-stack";
import { Role } from "../lib/core/roles";

/** Construct ids of what a host runs, as the diagram names them, in the order they are listed. */
const PARTS: readonly (readonly [string, string])[] = [
  ["heartbeat", "Heartbeat"],
  ["database", "MariaDB"],
  ["messaging", "RabbitMQ"],
  ["cache", "Memcached"],
  ["keystone", "Keystone"],
  ["glance", "Glance"],
  ["placement", "Placement"],
  ["nova", "Nova"],
  ["neutron", "Neutron"],
  ["cinder", "Cinder"],
  ["horizon", "Horizon"],
  ["swift", "Swift"],
  ["ceph", "Ceph"],
  ["day_one", "day one"],
];

const ROLE_TITLES: Record<Role, string> = {
  controller: "controllers",
  compute: "compute",
  storage: "storage",
  network: "network",
};

/** Steps that say more than their owner's name (Swift's proxy or storage, Ceph's daemons). */
const STEP_LABELS: Record<string, string> = {
  swift: "Swift proxy",
  swift_storage: "Swift storage",
  ceph_mon: "Ceph mon",
  ceph_osd: "Ceph OSD",
  cinder_volume: "cinder-volume",
  nova_compute: "nova-compute",
  neutron_agents: "Neutron agents",
};

/** What each host runs, by the constructs that own one of its steps, in PARTS' order. */
function runsByHost(stack: OpenStackStack): Map<string, string[]> {
  const cluster = stack.cluster;
  const depth = (cluster as Construct).node.scopes.length;
  const stepsOf = new Map<string, Map<string, string[]>>(cluster.hosts.map((h) => [h.hostName, new Map()]));
  for (const step of cluster.steps) {
    // <cluster>/<owner>/<host>/<step>, or <cluster>/<host>/… for the host's own steps.
    const [owner, host] = step.node.scopes.slice(depth).map((s) => s.node.id);
    const owned = stepsOf.get(host ?? "");
    if (stepsOf.has(owner) || !owned) continue;
    owned.set(owner, [...(owned.get(owner) ?? []), step.node.id]);
  }
  return new Map(
    [...stepsOf].map(([host, owners]) => [
      host,
      PARTS.flatMap(([key, name]) => {
        const steps = owners.get(key);
        if (!steps) return [];
        const specific = steps.flatMap((s) => (STEP_LABELS[s] ? [STEP_LABELS[s]] : []));
        return specific.length ? specific : [name];
      }),
    ]),
  );
}

/** Mermaid's text in a label: its own markup characters as entities. */
function text(value: string): string {
  return value.replace(/["<>#]/g, (c) => `#${c.charCodeAt(0)};`);
}

/** A Mermaid node id from a name (letters, digits and `_`). */
function id(name: string): string {
  return `h_${name.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/** The cluster's diagram, Mermaid flowchart source ending in a newline. */
export function clusterDiagram(stack: OpenStackStack): string {
  const cluster = stack.cluster;
  const inv = cluster.inventory;
  const runsOn = runsByHost(stack);
  const lines = [`flowchart TB`];
  // Each host in the subgraph of its first role (a compute+storage host sits with compute).
  const byRole = new Map<Role, string[]>();
  for (const host of inv.hosts) {
    const role = host.roles[0];
    const runs = runsOn.get(host.name) ?? [];
    const label = [
      `<b>${text(host.name)}</b> ${text(host.address)}`,
      text(host.roles.join(" + ")),
      ...(runs.length ? [text(runs.join(", "))] : []),
    ].join("<br/>");
    byRole.set(role, [...(byRole.get(role) ?? []), `    ${id(host.name)}["${label}"]`]);
  }
  for (const [role, nodes] of byRole) {
    lines.push(`  subgraph ${role}["${ROLE_TITLES[role]}"]`, ...nodes, "  end");
  }
  const management = inv.management;
  lines.push(`  mgmt{{"management ${text(management.cidr)}"}}`);
  for (const host of inv.hosts) lines.push(`  mgmt --- ${id(host.name)}`);
  if (management.vip) {
    lines.push(`  vip(["VIP ${text(management.vipName)} ${text(management.vip)}"])`);
    for (const host of inv.hosts.filter((h) => h.roles.includes("controller"))) {
      lines.push(`  vip -. Heartbeat .- ${id(host.name)}`);
    }
  }
  if (inv.tunnel) {
    lines.push(`  tunnel{{"tunnel ${text(inv.tunnel.cidr)} (VXLAN)"}}`);
    for (const host of inv.hosts.filter((h) => h.roles.some((r) => r === "compute" || r === "network"))) {
      lines.push(`  tunnel --- ${id(host.name)}`);
    }
  }
  if (inv.provider) {
    lines.push(`  provider{{"provider network (physnet ${text(inv.provider.physnet)})"}}`);
    for (const host of inv.hosts.filter((h) => h.roles.some((r) => r === "compute" || r === "network"))) {
      lines.push(`  provider --- ${id(host.name)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
