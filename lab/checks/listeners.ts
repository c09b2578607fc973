/**
 * `listeners`, on every host: each listening TCP socket and each unconnected UDP socket of the
 * host's own network namespace (`ss -Htlnp`, `ss -Hulnp`) is on the host's management address,
 * on loopback, or (on a controller, held or not: the services bind it before it arrives) on the
 * VIP. Anything else fails: a wildcard (`0.0.0.0`, `[::]`, `*`) above all, and a specific address
 * that is neither (a provider network's, libvirt's 192.168.122.1), unless `ALLOWED` lists it with
 * its reason. Neutron's routers and DHCP servers live in namespaces of their own, not seen here.
 */
import * as ipaddr from "ipaddr.js";
import { HostPlan } from "../plan";
import { bashCommand, CONTROLLER, remote } from "./platform";
import { Check, CheckContext, perHost } from "./types";

export type Protocol = "tcp" | "udp";

/** One socket as `ss` shows it. */
export interface Listener {
  readonly proto: Protocol;
  /** As `ss` prints it, brackets dropped: `0.0.0.0`, `::`, `*`, `10.211.0.11`. */
  readonly address: string;
  /** The interface the socket is bound to (SO_BINDTODEVICE), `ss`'s `%eth0`. */
  readonly device?: string;
  readonly port: number;
  /** The processes that hold it (`ss -p`, their 15-character names); none: a kernel socket. */
  readonly processes: readonly string[];
}

/** A listener that may stay where it is, and why. Rare: each needs a reason a reviewer accepts. */
export interface AllowedListener {
  /** A process that holds the socket, as `ss` names it. */
  readonly process: string;
  readonly proto: Protocol;
  /** @default any port */
  readonly port?: number;
  /** Only when the socket is bound to the host's management interface (`%eth0`). @default false */
  readonly managementInterface?: boolean;
  readonly reason: string;
}

export const ALLOWED: readonly AllowedListener[] = [
  {
    process: "sshd",
    proto: "tcp",
    port: 22,
    reason: "the lab and operators reach every host through it; the library leaves sshd as the server has it",
  },
  {
    process: "heartbeat",
    proto: "udp",
    managementInterface: true,
    reason:
      "Heartbeat's ucast medium has no address to bind (ha.cf names an interface): it receives on 0.0.0.0:694 and sends from an unbound socket, both tied to the management interface (SO_BINDTODEVICE)",
  },
];

const LOCAL = /^(\[[^\]]*\]|[^\s%[]*?)(?:%([^\s:]+))?:(\d+)$/;

/**
 * Parses `ss -Htlnp` / `ss -Hulnp` lines, each with its protocol in front (`tcp LISTEN 0 128
 * 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=1,fd=3))`); lines that are not sockets are skipped.
 */
export function parseSs(output: string): Listener[] {
  const out: Listener[] = [];
  for (const line of output.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6 || (fields[0] !== "tcp" && fields[0] !== "udp")) continue;
    const local = LOCAL.exec(fields[4]);
    if (!local) continue;
    const users = fields.slice(6).join(" ");
    const processes = [...new Set([...users.matchAll(/\("([^"]*)",pid=/g)].map((m) => m[1]))].sort();
    out.push({
      proto: fields[0],
      address: local[1].replace(/^\[(.*)\]$/, "$1"),
      ...(local[2] ? { device: local[2] } : {}),
      port: Number(local[3]),
      processes,
    });
  }
  return out;
}

/** `0.0.0.0`, `::` and `*` (a dual-stack `[::]` socket). */
export function isWildcard(address: string): boolean {
  return address === "*" || address === "0.0.0.0" || address === "::" || address === "::ffff:0.0.0.0";
}

/** The address in one form for comparing (IPv4-mapped IPv6 as IPv4); the text itself when it is no address. */
function canonical(address: string): string {
  try {
    const ip = ipaddr.process(address);
    return ip.kind() === "ipv6" ? (ip as ipaddr.IPv6).toNormalizedString() : ip.toString();
  } catch {
    return address;
  }
}

function isLoopback(address: string): boolean {
  try {
    return ipaddr.process(address).range() === "loopback";
  } catch {
    return false;
  }
}

/** `sshd tcp 0.0.0.0:22`, `heartbeat udp 0.0.0.0%eth0:694`, `- udp [::]:4789` (a kernel socket). */
export function describeListener(l: Listener): string {
  const address = l.address.includes(":") ? `[${l.address}]` : l.address;
  return `${l.processes.join(",") || "-"} ${l.proto} ${address}${l.device ? `%${l.device}` : ""}:${l.port}`;
}

/** What a host may listen on: its management address and interface, and the VIP on a controller. */
export interface HostAddresses {
  readonly address: string;
  readonly managementInterface: string;
  readonly vip?: string;
}

export interface ListenerVerdict {
  readonly ok: boolean;
  /** Wildcards, not allowed. */
  readonly wildcard: readonly Listener[];
  /** On an address that is neither the management address, the VIP nor loopback, not allowed. */
  readonly elsewhere: readonly Listener[];
  /** Allowed by `ALLOWED`, with the entry. */
  readonly allowed: readonly { listener: Listener; entry: AllowedListener }[];
  /** On the management address, the VIP or loopback. */
  readonly fine: readonly Listener[];
}

/** The allow-list entry that lets `l` stay, if any. */
function allowance(
  l: Listener,
  host: HostAddresses,
  allow: readonly AllowedListener[],
): AllowedListener | undefined {
  return allow.find(
    (a) =>
      a.proto === l.proto &&
      l.processes.includes(a.process) &&
      (a.port === undefined || a.port === l.port) &&
      (!a.managementInterface || l.device === host.managementInterface),
  );
}

/** Sorts a host's listeners into fine, allowed, wildcard and elsewhere. */
export function judgeListeners(
  listeners: readonly Listener[],
  host: HostAddresses,
  allow: readonly AllowedListener[] = ALLOWED,
): ListenerVerdict {
  const own = new Set([host.address, ...(host.vip ? [host.vip] : [])].map(canonical));
  const fine: Listener[] = [];
  const allowed: { listener: Listener; entry: AllowedListener }[] = [];
  const wildcard: Listener[] = [];
  const elsewhere: Listener[] = [];
  for (const l of listeners) {
    if (!isWildcard(l.address) && (own.has(canonical(l.address)) || isLoopback(l.address))) {
      fine.push(l);
      continue;
    }
    const entry = allowance(l, host, allow);
    if (entry) allowed.push({ listener: l, entry });
    else if (isWildcard(l.address)) wildcard.push(l);
    else elsewhere.push(l);
  }
  return { ok: wildcard.length + elsewhere.length === 0, wildcard, elsewhere, allowed, fine };
}

/** One line per host: the offending listeners, or what was seen. */
export function listenerDetail(verdict: ListenerVerdict, host: HostAddresses): string {
  const where = [host.address, ...(host.vip ? [`the VIP ${host.vip}`] : []), "loopback"].join(", ");
  const allowed = verdict.allowed.length
    ? `; allowed: ${verdict.allowed.map((a) => describeListener(a.listener)).join(", ")}`
    : "";
  if (verdict.ok) {
    if (verdict.fine.length + verdict.allowed.length === 0) return "no listener at all";
    return `${verdict.fine.length} listeners on ${where}${allowed}`;
  }
  return [
    ...(verdict.wildcard.length
      ? [`on every address: ${verdict.wildcard.map(describeListener).join(", ")}`]
      : []),
    ...(verdict.elsewhere.length
      ? [`not on ${where}: ${verdict.elsewhere.map(describeListener).join(", ")}`]
      : []),
  ].join("; ");
}

/** The host's addresses as the inventory gives them. */
export function hostAddresses(ctx: CheckContext, host: HostPlan): HostAddresses {
  const vip = ctx.inventory.management.vip;
  return {
    address: host.address,
    managementInterface: host.links[0].ifname,
    ...(vip && host.roles.includes(CONTROLLER) ? { vip } : {}),
  };
}

/** Both protocols in one command, each line with its protocol in front (the columns of `ss -Htulnp`). */
export const SS_PROBE = bashCommand(
  "set -eo pipefail; ss -Htlnp | sed 's/^/tcp /'; ss -Hulnp | sed 's/^/udp /'",
);

export const listenersCheck: Check = perHost("listeners", async (host, ctx) => {
  const listeners = parseSs(await remote(ctx, host, SS_PROBE));
  const addresses = hostAddresses(ctx, host);
  const verdict = judgeListeners(listeners, addresses);
  // sshd at least: a host without listeners is a probe that saw nothing, not a clean host.
  const ok = verdict.ok && listeners.length > 0;
  return { ok, detail: listenerDetail(verdict, addresses) };
});
