/**
 * What Neutron's agents on compute and network hosts are made of: their config files, their
 * units, and the Open vSwitch bridges they need. `NeutronService.openvswitchAgent` and
 * `NeutronService.networkAgents` turn these into steps.
 */
import { join as quote } from "shlex";
import { IniFile, IniValue, secretPlaceholder } from "../core/ini-file";
import { Host } from "../hosts/host";

export const OVS_AGENT_INI = "/etc/neutron/plugins/ml2/openvswitch_agent.ini";
export const L3_AGENT_INI = "/etc/neutron/l3_agent.ini";
export const DHCP_AGENT_INI = "/etc/neutron/dhcp_agent.ini";
export const METADATA_AGENT_INI = "/etc/neutron/metadata_agent.ini";

/** The same unit names on Debian 12 and Ubuntu 24.04. */
export const OVS_SWITCH_UNIT = "openvswitch-switch";
export const OVS_AGENT_UNIT = "neutron-openvswitch-agent";
export const NETWORK_AGENT_UNITS = ["neutron-l3-agent", "neutron-dhcp-agent", "neutron-metadata-agent"];
/** How the servers' agent list names them (`Agent Type`). */
export const OVS_AGENT_TYPE = "Open vSwitch agent";
export const NETWORK_AGENT_TYPES = ["L3 agent", "DHCP agent", "Metadata agent"];

/** The bridge on the provider interface, mapped to the provider physnet. */
export const PROVIDER_BRIDGE = "br-provider";
/**
 * With the userspace datapath the tunnel endpoint must be an OVS bridge's own port: OVS routes
 * and ARPs for VXLAN itself and only sends through its bridges, so the tunnel address moves
 * from the tunnel interface onto this bridge (what OVS-DPDK hosts call br-phy).
 */
export const TUNNEL_BRIDGE = "br-tunnel";
export const TUNNEL_BRIDGE_SCRIPT = "/usr/local/sbin/openstack-cdktf-tunnel-bridge";
export const TUNNEL_BRIDGE_UNIT = "openstack-cdktf-tunnel-bridge";

/** An agent host's interfaces, as `agentInterfacesProblem` relates them. */
export interface AgentInterfaces {
  readonly management: string;
  readonly provider?: string;
  readonly tunnel?: string;
  readonly datapathType: "system" | "netdev";
}

/** One interface of an agent host that cannot be the one it names. */
export interface AgentInterfaceProblem {
  readonly field: "provider" | "tunnel";
  /** The interface it may not be. */
  readonly other: "management" | "provider";
  readonly value: string;
  readonly expected: string;
}

/**
 * Interfaces that must differ on a compute or network host: an interface made a port of an OVS
 * bridge (the provider interface always, the tunnel interface with the userspace datapath)
 * stops carrying its own address, so the management link (SSH, every API) or the tunnel
 * address on it would go mid-apply.
 */
export function agentInterfacesProblem(i: AgentInterfaces): AgentInterfaceProblem | undefined {
  if (i.provider !== undefined && i.provider === i.management) {
    return {
      field: "provider",
      other: "management",
      value: i.provider,
      expected: `an interface other than the management interface ${i.management}: the provider interface becomes a port of ${PROVIDER_BRIDGE} and its address stops working (the host would lose its management link)`,
    };
  }
  if (i.tunnel !== undefined && i.tunnel === i.provider) {
    return {
      field: "tunnel",
      other: "provider",
      value: i.tunnel,
      expected: `an interface other than the provider interface ${i.provider}: the provider interface becomes a port of ${PROVIDER_BRIDGE}, where the tunnel address stops working`,
    };
  }
  if (i.datapathType === "netdev" && i.tunnel !== undefined && i.tunnel === i.management) {
    return {
      field: "tunnel",
      other: "management",
      value: i.tunnel,
      expected: `an interface other than the management interface ${i.management}: the userspace datapath makes the tunnel interface a port of ${TUNNEL_BRIDGE} (the host would lose its management link)`,
    };
  }
  return undefined;
}

/** neutron-rootwrap through the sudoers rule Debian's and Ubuntu's packages install. */
const ROOT_HELPER = "sudo /usr/bin/neutron-rootwrap /etc/neutron/rootwrap.conf";
const LOCK_PATH = "/var/lib/neutron/tmp";

/** `[agent] root_helper`: privsep and rootwrap run through it (the agents' own default, bare sudo, is refused). */
export const AGENT_ROOT_HELPER = { root_helper: ROOT_HELPER };

/** neutron.conf for a host that runs agents but not the server: the message bus and the lock path. */
export function agentNeutronConf(transportUrl: string): IniFile {
  return new IniFile({
    DEFAULT: { transport_url: transportUrl },
    agent: AGENT_ROOT_HELPER,
    oslo_concurrency: { lock_path: LOCK_PATH },
  });
}

/** The Open vSwitch agent: VXLAN from the tunnel address with l2population, the provider mapping where the host has the interface. */
export function openvswitchAgentConfig(
  host: Host,
  physnet: string,
  securityGroups: Readonly<Record<string, IniValue>>,
): IniFile {
  return new IniFile({
    ovs: {
      local_ip: host.tunnelAddress,
      datapath_type: host.datapathType,
      ...(host.providerInterface ? { bridge_mappings: `${physnet}:${PROVIDER_BRIDGE}` } : {}),
    },
    agent: { tunnel_types: "vxlan", l2_population: true },
    securitygroup: securityGroups,
  });
}

/**
 * L3 agent: routers in namespaces on OVS internal ports. (With the userspace datapath these are
 * tap devices, whose packets carry complete checksums; veth pairs, `ovs_use_veth`, would hand
 * OVS packets whose checksum the kernel left to the NIC, and TCP would fail.)
 */
export function l3AgentConfig(): IniFile {
  return new IniFile({ DEFAULT: { interface_driver: "openvswitch" } });
}

/** DHCP agent: dnsmasq per network; the metadata route through it on networks without a router. */
export function dhcpAgentConfig(): IniFile {
  return new IniFile({
    DEFAULT: { interface_driver: "openvswitch", enable_isolated_metadata: true },
  });
}

/** Metadata agent: proxies instances' requests to Nova's metadata API, signed with the shared secret. */
export function metadataAgentConfig(novaHost: string, novaPort: number, secret: string): IniFile {
  return new IniFile({
    DEFAULT: {
      nova_metadata_host: novaHost,
      nova_metadata_port: novaPort,
      metadata_proxy_shared_secret: secretPlaceholder(secret),
      // One worker: a few instances' requests, not a public API.
      metadata_workers: 1,
    },
  });
}

/**
 * The userspace datapath's tunnel bridge, as a boot-time script: the bridge with the tunnel
 * interface as its port, and the tunnel address moved onto the bridge. Each line is idempotent,
 * and the unit runs it at every boot, after Open vSwitch and before the agent, because the
 * address a server's network configuration puts back on the interface must move again.
 */
export function tunnelBridgeScript(host: Host): string {
  const iface = host.tunnelInterface;
  if (!iface) {
    throw new Error(
      `Host ${host.hostName} tunnelInterface: got none: expected the tunnel interface (datapathType netdev moves the tunnel address onto an OVS bridge, never the management interface)`,
    );
  }
  const cidr = `${host.tunnelAddress}/${host.tunnelPrefixLength}`;
  return [
    "#!/bin/sh",
    "# Written by openstack-cdktf: the VXLAN endpoint on Open vSwitch's userspace datapath.",
    "set -eu",
    `ovs-vsctl --may-exist add-br ${TUNNEL_BRIDGE} -- set bridge ${TUNNEL_BRIDGE} datapath_type=netdev`,
    `ovs-vsctl --may-exist add-port ${TUNNEL_BRIDGE} ${quote([iface])}`,
    `ip link set dev ${quote([iface])} up`,
    `if ip -o addr show dev ${quote([iface])} | grep -qF ${quote([` ${cidr} `])}; then`,
    `  ip addr del ${quote([cidr])} dev ${quote([iface])}`,
    "fi",
    `ip addr replace ${quote([cidr])} dev ${TUNNEL_BRIDGE}`,
    `ip link set dev ${TUNNEL_BRIDGE} up`,
    "",
  ].join("\n");
}

export const TUNNEL_BRIDGE_UNIT_FILE = `# Written by openstack-cdktf: the VXLAN endpoint on Open vSwitch's userspace datapath.
[Unit]
Description=VXLAN tunnel address on the Open vSwitch bridge ${TUNNEL_BRIDGE}
After=network.target ${OVS_SWITCH_UNIT}.service
Requires=${OVS_SWITCH_UNIT}.service
Before=${OVS_AGENT_UNIT}.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${TUNNEL_BRIDGE_SCRIPT}

[Install]
WantedBy=multi-user.target
`;
