/**
 * Pure translation of an inventory into lab hosts: names of namespaces and veths, addresses,
 * interfaces. Refuses inventories that would put addresses outside the lab's own ranges.
 */
import * as ipaddr from "ipaddr.js";
import { Inventory } from "../lib/cluster/inventory";
import { LabNetwork, MANAGEMENT, NETNS_PREFIX, PROVIDER, PROXY_URL, TUNNEL } from "./config";

export interface LinkPlan {
  readonly network: LabNetwork;
  /** Host-side end of the veth pair, enslaved to the network's bridge. */
  readonly veth: string;
  /** Interface name inside the container, as the inventory names it. */
  readonly ifname: string;
  /** Address with prefix, or none (the provider network carries no host address). */
  readonly address?: string;
  /**
   * Fixed MAC of the host's interface: a server keeps its NIC's MAC across a power cycle, so
   * peers' ARP caches stay right when the lab powers a host off and on again.
   */
  readonly mac: string;
}

export interface HostPlan {
  readonly name: string;
  readonly index: number;
  readonly address: string;
  readonly netns: string;
  readonly links: readonly LinkPlan[];
  readonly gateway: string;
  readonly keyFile: string;
  readonly compute: boolean;
  readonly roles: readonly string[];
}

export class LabInventoryError extends Error {}

/**
 * Locally administered unicast MACs: 02:6f:<network tag>:<side>:<host index>. Side 00 is the
 * host's interface, 01 the lab machine's end of the veth, ff the bridge itself.
 */
export function labMac(net: LabNetwork, side: "host" | "machine" | "bridge", index = 0): string {
  const sideByte = { host: 0x00, machine: 0x01, bridge: 0xff }[side];
  const bytes = [0x02, 0x6f, net.vethTag.charCodeAt(0), sideByte, (index >> 8) & 0xff, index & 0xff];
  if (side === "bridge") bytes.splice(4, 2, 0xff, 0xff);
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

function cidrOf(net: LabNetwork): [ipaddr.IPv4, number] {
  return ipaddr.IPv4.parseCIDR(net.cidr);
}

function sameNetwork(cidr: string, net: LabNetwork): boolean {
  const [a, bitsA] = ipaddr.parseCIDR(cidr);
  const [b, bitsB] = cidrOf(net);
  return bitsA === bitsB && a.kind() === "ipv4" && a.match(b, bitsB);
}

function ipv4Number(address: string): number {
  return ipaddr.IPv4.parse(address)
    .toByteArray()
    .reduce((n, byte) => n * 256 + byte, 0);
}

/** A usable host address in the lab network: not the network, broadcast or the host side (.1). */
function checkAddress(what: string, address: string, net: LabNetwork): void {
  const [base, bits] = cidrOf(net);
  const ip = ipaddr.parse(address);
  const last = ip.toByteArray()[3];
  const reserved = net.hostAddress ? net.hostAddress.split("/")[0] : undefined;
  if (ip.kind() !== "ipv4" || !ip.match(base, bits) || last === 0 || last === 255 || address === reserved) {
    throw new LabInventoryError(
      `${what}: got ${address}: expected an address in ${net.cidr} other than .0, .255` +
        (reserved ? ` and ${reserved} (the lab machine's side)` : ""),
    );
  }
}

/** Checks that the inventory stays inside the lab's ranges and uses what the lab offers. */
export function checkLabInventory(inv: Inventory): void {
  if (!sameNetwork(inv.management.cidr, MANAGEMENT)) {
    throw new LabInventoryError(
      `networks.management.cidr: got ${inv.management.cidr}: expected ${MANAGEMENT.cidr}`,
    );
  }
  if (inv.tunnel && !sameNetwork(inv.tunnel.cidr, TUNNEL)) {
    throw new LabInventoryError(`networks.tunnel.cidr: got ${inv.tunnel.cidr}: expected ${TUNNEL.cidr}`);
  }
  if (inv.management.vip) checkAddress("networks.management.vip", inv.management.vip, MANAGEMENT);
  const external = inv.dayOne?.external;
  if (external && !sameNetwork(external.cidr, PROVIDER)) {
    throw new LabInventoryError(
      `dayOne.external.cidr: got ${external.cidr}: expected ${PROVIDER.cidr} (the lab's provider bridge)`,
    );
  }
  if (external) {
    // Neutron would hand the lab machine's own address to a router's gateway or a floating IP.
    const machine = PROVIDER.hostAddress!.split("/")[0];
    const { start, end } = external.allocationPool;
    if (ipv4Number(machine) >= ipv4Number(start) && ipv4Number(machine) <= ipv4Number(end)) {
      throw new LabInventoryError(
        `dayOne.external.allocationPool: got ${start}-${end}: expected a range without ${machine} (the lab machine's side)`,
      );
    }
  }
  const proxy = inv.aptProxy?.replace(/\/+$/, "");
  if (proxy !== PROXY_URL) {
    throw new LabInventoryError(
      `aptProxy: got ${JSON.stringify(inv.aptProxy)}: expected "${PROXY_URL}" (lab hosts reach packages only through the lab's proxy)`,
    );
  }
  inv.hosts.forEach((h, i) => {
    checkAddress(`hosts[${i}].address`, h.address, MANAGEMENT);
    if (h.tunnelAddress) checkAddress(`hosts[${i}].tunnelAddress`, h.tunnelAddress, TUNNEL);
    if (h.ssh.user !== "root" || h.ssh.port !== 22 || h.ssh.bastion || h.ssh.agent || !h.ssh.privateKeyFile) {
      throw new LabInventoryError(
        `hosts[${i}].ssh: got user ${h.ssh.user}, port ${h.ssh.port}${h.ssh.bastion ? ", a bastion" : ""}` +
          `${h.ssh.agent ? ", agent" : ""}: expected user root, port 22, a privateKeyFile, no bastion (lab hosts)`,
      );
    }
    if (h.ssh.privateKeyFile.startsWith("~")) {
      throw new LabInventoryError(
        `hosts[${i}].ssh.privateKeyFile: got ${h.ssh.privateKeyFile}: expected a path the lab can create, not ~`,
      );
    }
    if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(h.name)) {
      throw new LabInventoryError(
        `hosts[${i}].name: got ${h.name}: expected a short lowercase host name for the lab`,
      );
    }
  });
}

export function planHosts(inv: Inventory): HostPlan[] {
  checkLabInventory(inv);
  const mgmtBits = cidrOf(MANAGEMENT)[1];
  const tunnelBits = cidrOf(TUNNEL)[1];
  return inv.hosts.map((h, index) => {
    const links: LinkPlan[] = [
      {
        network: MANAGEMENT,
        veth: `osl${MANAGEMENT.vethTag}${index}`,
        ifname: h.interfaces.management,
        address: `${h.address}/${mgmtBits}`,
        mac: labMac(MANAGEMENT, "host", index),
      },
    ];
    const carriesProvider = h.roles.includes("network") || h.roles.includes("compute");
    if (h.interfaces.provider && carriesProvider) {
      links.push({
        network: PROVIDER,
        veth: `osl${PROVIDER.vethTag}${index}`,
        ifname: h.interfaces.provider,
        mac: labMac(PROVIDER, "host", index),
      });
    }
    if (h.tunnelAddress) {
      links.push({
        network: TUNNEL,
        veth: `osl${TUNNEL.vethTag}${index}`,
        ifname: h.interfaces.tunnel ?? "eth2",
        address: `${h.tunnelAddress}/${tunnelBits}`,
        mac: labMac(TUNNEL, "host", index),
      });
    }
    const names = links.map((l) => l.ifname);
    if (new Set(names).size !== names.length) {
      throw new LabInventoryError(
        `hosts[${index}].interfaces: got ${names.join(", ")}: expected distinct interface names`,
      );
    }
    return {
      name: h.name,
      index,
      address: h.address,
      netns: `${NETNS_PREFIX}${h.name}`,
      links,
      gateway: MANAGEMENT.hostAddress!.split("/")[0],
      keyFile: h.ssh.privateKeyFile as string,
      compute: h.roles.includes("compute"),
      roles: h.roles,
    };
  });
}
