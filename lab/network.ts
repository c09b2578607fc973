/**
 * Bridges, namespaces and veth pairs. Every host lives in its own network namespace; its
 * interfaces are veth ends on the lab's bridges. Nothing is routed or NATed to the outside:
 * the lab machine only holds an address on the management and provider bridges.
 */
import * as fs from "fs";
import { LabNetwork, NETNS_PREFIX, NETWORKS, VETH_PATTERN } from "./config";
import { run, tryRun } from "./exec";
import { HostPlan, labMac } from "./plan";
import { LabState, saveState } from "./state";

function linkExists(name: string): boolean {
  return tryRun("ip", ["link", "show", "dev", name]).code === 0;
}

function setIpv6(path: string, disabled: boolean): void {
  try {
    fs.writeFileSync(path, disabled ? "1" : "0");
  } catch {
    // IPv6 may be off in the kernel altogether; nothing to disable then.
  }
}

export function ensureBridge(net: LabNetwork, state: LabState): void {
  if (!state.bridges.includes(net.bridge)) {
    state.bridges.push(net.bridge);
    saveState(state);
  }
  if (!linkExists(net.bridge)) run("ip", ["link", "add", "name", net.bridge, "type", "bridge"]);
  // A fixed MAC: otherwise the bridge takes the lowest of its ports' and changes when a host is
  // powered off or on, and every host's ARP entry for the gateway (and the proxy) goes stale.
  run("ip", ["link", "set", "dev", net.bridge, "address", labMac(net, "bridge")]);
  // IPv4 only: keeps the lab machine from talking IPv6 link-local on the lab bridges.
  setIpv6(`/proc/sys/net/ipv6/conf/${net.bridge}/disable_ipv6`, true);
  run("ip", ["link", "set", "dev", net.bridge, "up"]);
  // The machine's own packets leave the bridge with complete checksums, as they would cross a
  // wire: with offload on, a veth hands the NIC's unfinished TCP checksum on, and Open vSwitch's
  // userspace datapath (which reads the hosts' interfaces with packet sockets) forwards it as it
  // is, so the routers drop the machine's TCP to a floating IP.
  if (net.hostAddress) run("ethtool", ["-K", net.bridge, "tx", "off"]);
  if (net.hostAddress) run("ip", ["addr", "replace", net.hostAddress, "dev", net.bridge]);
}

export function ensureBridges(state: LabState): void {
  for (const net of NETWORKS) ensureBridge(net, state);
}

/**
 * A fresh namespace for the host (an old one is deleted first: a namespace outlives its
 * container and would keep answering ARP for its addresses, a VIP included). Also what
 * "power on" does: a booting server starts with its NICs' default kernel state.
 */
export function createHostNetwork(host: HostPlan): void {
  deleteHostNetwork(host);
  run("ip", ["netns", "add", host.netns]);
  const ns = ["-n", host.netns];
  run("ip", [...ns, "link", "set", "dev", "lo", "up"]);
  for (const link of host.links) {
    run("ip", [
      "link",
      "add",
      "name",
      link.veth,
      "address",
      labMac(link.network, "machine", host.index),
      "type",
      "veth",
      "peer",
      "name",
      link.ifname,
      "address",
      link.mac,
      "netns",
      host.netns,
    ]);
    setIpv6(`/proc/sys/net/ipv6/conf/${link.veth}/disable_ipv6`, true);
    run("ip", ["link", "set", "dev", link.veth, "master", link.network.bridge, "up"]);
    if (link.address) run("ip", [...ns, "addr", "add", link.address, "dev", link.ifname]);
    run("ip", [...ns, "link", "set", "dev", link.ifname, "up"]);
  }
  const mgmt = host.links[0];
  run("ip", [...ns, "route", "replace", "default", "via", host.gateway, "dev", mgmt.ifname]);
  // The machine's own other addresses would answer through the default route: refuse them,
  // so that lab hosts only reach lab addresses.
  for (const address of machineAddresses())
    run("ip", [...ns, "route", "replace", "prohibit", `${address}/32`]);
}

/**
 * The host's namespace and veths go: what a powered-off server leaves on the wire, which is
 * nothing (no ARP answers for its addresses or a VIP it held, no carrier on its bridge port).
 * Only call once no process of the host's container is left in the namespace.
 */
export function deleteHostNetwork(host: Pick<HostPlan, "netns" | "links">): void {
  deleteNetns(host.netns);
  for (const link of host.links) deleteLink(link.veth);
}

/** IPv4 addresses (with prefix) on an interface inside a host's namespace; none if it is gone. */
export function namespaceAddresses(netns: string, ifname: string): string[] {
  if (!fs.existsSync(`/run/netns/${netns}`)) return [];
  return tryRun("ip", ["-n", netns, "-o", "-4", "addr", "show", "dev", ifname])
    .stdout.split("\n")
    .map((l) => /\sinet\s(\S+)/.exec(l)?.[1])
    .filter((a): a is string => !!a);
}

/** The lab machine's global IPv4 addresses outside the lab's bridges. */
function machineAddresses(): string[] {
  const bridges: string[] = NETWORKS.map((n) => n.bridge);
  return tryRun("ip", ["-o", "-4", "addr", "show", "scope", "global"])
    .stdout.split("\n")
    .map((l) => l.split(/\s+/))
    .filter((f) => f.length > 3 && !bridges.includes(f[1]))
    .map((f) => f[3].split("/")[0]);
}

/** Deletes a link; one that vanished meanwhile (its peer's namespace went) is fine too. */
function deleteLink(name: string): void {
  const r = tryRun("ip", ["link", "del", "dev", name]);
  if (r.code !== 0 && linkExists(name)) throw new Error(`ip link del dev ${name}: ${r.stderr.trim()}`);
}

export function deleteNetns(name: string): void {
  if (fs.existsSync(`/run/netns/${name}`)) run("ip", ["netns", "del", name]);
}

/** Names of every lab namespace and link present, whether or not the state file knows them. */
export function presentLabNetwork(): { netns: string[]; veths: string[]; bridges: string[] } {
  const netns = tryRun("ip", ["netns", "list"])
    .stdout.split("\n")
    .map((l) => l.split(" ")[0])
    .filter((n) => n.startsWith(NETNS_PREFIX));
  const links = tryRun("ip", ["-o", "link", "show"])
    .stdout.split("\n")
    .map((l) => l.split(": ")[1]?.split("@")[0])
    .filter((n): n is string => !!n);
  const bridgeNames: string[] = NETWORKS.map((n) => n.bridge);
  return {
    netns,
    veths: links.filter((n) => VETH_PATTERN.test(n)),
    bridges: links.filter((n) => bridgeNames.includes(n)),
  };
}

/** Removes namespaces, veths and bridges: those recorded, plus any with the lab's names. */
export function removeLabNetwork(state: LabState): void {
  const present = presentLabNetwork();
  const recordedNetns = Object.values(state.hosts).map((h) => h.netns);
  for (const ns of new Set([...recordedNetns, ...present.netns])) deleteNetns(ns);
  const veths = new Set([...Object.values(state.hosts).flatMap((h) => h.veths ?? []), ...present.veths]);
  for (const v of veths) deleteLink(v);
  for (const b of new Set([...state.bridges, ...present.bridges])) deleteLink(b);
}
