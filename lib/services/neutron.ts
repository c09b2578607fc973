import { declareSecrets } from "../core/secret-catalog";
import { Construct } from "constructs";
import { ApiDeclaration, ComponentDeclaration } from "../core/component";
import { keystoneUser, SecretSpec, serviceSecrets, ServiceUser } from "../core/secret-spec";
import { ByRelease, forRelease, PackagesByRelease, packagesFor } from "../core/releases/packages";
import { ApiRelease, ApiService, ApiServiceProps } from "./api-service";
import { IniFile, IniValue } from "../core/ini-file";
import { ShellScript } from "../core/shell-script";
import { Step } from "../core/step";
import * as fs from "fs";
import * as path from "path";
import { join as quote } from "shlex";
import { ADMIN_OPENRC } from "./keystone";
import { Host } from "../hosts/host";
import { ReleaseProfile } from "../core/releases";
import {
  NETWORK_AGENT_TYPES,
  OVS_AGENT_TYPE,
  AGENT_ROOT_HELPER,
  agentInterfacesProblem,
  agentNeutronConf,
  DHCP_AGENT_INI,
  dhcpAgentConfig,
  L3_AGENT_INI,
  l3AgentConfig,
  METADATA_AGENT_INI,
  metadataAgentConfig,
  NETWORK_AGENT_UNITS,
  OVS_AGENT_INI,
  OVS_AGENT_UNIT,
  OVS_SWITCH_UNIT,
  openvswitchAgentConfig,
  PROVIDER_BRIDGE,
  TUNNEL_BRIDGE_SCRIPT,
  TUNNEL_BRIDGE_UNIT,
  TUNNEL_BRIDGE_UNIT_FILE,
  tunnelBridgeScript,
} from "./neutron-agents";
import { INovaForNetwork, NOVA_METADATA_PORT, NOVA_METADATA_SECRET, NOVA_USER } from "./nova";
import { PHYSNET, PHYSNET_EXPECTED, quote as quoteValue } from "../core/field-rules";

export interface NeutronServiceProps extends ApiServiceProps {
  /** The physical network name of the provider (external) network. @default "provider" */
  readonly providerPhysnet?: string;
  /**
   * How many network nodes run the L3 and DHCP agents. With two or more, routers are HA
   * (VRRP across the nodes) and every network gets a DHCP agent on two of them.
   * @default 1
   */
  readonly networkNodes?: number;
  /** VXLAN ids for self-service networks. @default "1:1000" */
  readonly vniRanges?: string;
  /**
   * Nova, as Neutron uses it (a `NovaService`): the user Neutron notifies of port changes as,
   * and the metadata API the metadata agents forward to.
   * @default Nova's own declarations (`NOVA_USER`, `NOVA_METADATA_SECRET`) on the client address
   */
  readonly nova?: INovaForNetwork;
}

/** Neutron's Keystone user, for Nova's `[neutron]` (Nova is built first, so it cannot take a `NeutronService`). */
export const NEUTRON_USER: ServiceUser = keystoneUser("neutron");

const NEUTRON_CONF = "/etc/neutron/neutron.conf";
/** Where Debian's init scripts (and Ubuntu's /etc/default/neutron-server) look for the ML2 settings. */
export const ML2_CONF = "/etc/neutron/plugins/ml2/ml2_conf.ini";
const LOCK_PATH = "/var/lib/neutron/tmp";

/**
 * DHCP agents per network with two or more network hosts. Zed's DHCP agent (Debian 12's
 * 21.0.0) breaks with two: both put the IPv6 metadata address fe80::a9fe:a9fe on their DHCP
 * port, the second one's duplicate address detection fails, and `AddressNotReady: Duplicate
 * address detected` aborts its set-up before the network enters its cache (upstream bug
 * 1953165). That agent then runs dnsmasq but ignores the network: new ports get "no address
 * available" from it, and the network's delete leaves its qdhcp namespace behind (seen in the
 * 8-host lab on every verify). With one agent per network, Neutron reschedules the network
 * onto the other network host's agent when its agent dies (`allow_automatic_dhcp_failover`).
 */
export function dhcpAgentsPerNetwork(release: ReleaseProfile): number {
  return forRelease("neutron", NEUTRON_RELEASES, release).dhcpAgentsPerNetwork ?? 2;
}

/** The unit of ours that runs upstream's eventlet neutron-server where the packages run something else. */
const NEUTRON_SERVER_UNIT = "neutron-server";
/** Where our `neutron-server` unit (`neutronServerUnit`) is written on releases whose packages run something else. */
export const NEUTRON_SERVER_UNIT_PATH = `/etc/systemd/system/${NEUTRON_SERVER_UNIT}.service`;

/**
 * Upstream's eventlet `neutron-server` (API and RPC workers in one service), as Ubuntu's package
 * runs it. Why not Debian's split (the API under uwsgi, `neutron-rpc-server` apart): the API
 * monkey-patches eventlet when it loads, and the ML2 plugin sends the agents' resource updates
 * (the Port with its security groups, the agents' cache) from a green thread that runs only
 * while that uwsgi process serves a request. An idle process held them: in the lab a security
 * group swap reached the agent 5 to 10 s late, once more than 60 s late, until some other API
 * request happened to land on that process. (In the eventlet server those threads do not
 * reliably survive its fork either: `OVO_PUSH_PLUGIN` restarts them in each worker.)
 */
export function neutronServerUnit(release: ReleaseProfile): string {
  const args = [
    "/usr/bin/neutron-server",
    `--config-file=${NEUTRON_CONF}`,
    "--config-dir=/etc/neutron/server.conf.d",
    `--config-file=${ML2_CONF}`,
    "--log-file=/var/log/neutron/neutron-server.log",
  ];
  return `# Written by openstack-cdktf: upstream's eventlet neutron-server (API and RPC workers) in place of ${(forRelease("neutron", NEUTRON_RELEASES, release).replaces ?? []).join(" and ")}.
[Unit]
Description=OpenStack Neutron server (API and RPC)
After=network-online.target ${release.units.database}.service ${release.units.rabbitmq}.service
Wants=network-online.target

[Service]
User=neutron
Group=neutron
WorkingDirectory=/var/lib/neutron
ExecStart=${args.join(" ")}
Restart=on-failure
LimitNOFILE=65535

[Install]
WantedBy=multi-user.target
`;
}

/**
 * Security groups through iptables with ipset, on the OVS hybrid plug: the ML2 server and the
 * Open vSwitch agents use these same settings. (The seed misspelt the driver as
 * `IptablessFirewallDriver`, which silently disables filtering.)
 */
export const SECURITY_GROUP_SETTINGS: Readonly<Record<string, IniValue>> = {
  enable_security_group: true,
  enable_ipset: true,
  firewall_driver: "iptables_hybrid",
};

/**
 * A service plugin of ours that starts ML2's resource-push threads in every forked
 * neutron-server worker (neutron-ovo-push.py says why), on the server's Python path by a
 * drop-in, loaded through `service_plugins`.
 */
const OVO_PUSH_MODULE = fs.readFileSync(path.join(__dirname, "neutron-ovo-push.py"), "utf8");
const OVO_PUSH_DIR = "/usr/local/lib/openstack-cdktf/python";
const OVO_PUSH_MODULE_NAME = "openstack_cdktf_neutron_ovo_push";
/** Our service plugin (module.class), added to neutron.conf's `[DEFAULT] service_plugins` where the release's `pushThreadsLostInFork` is set. */
export const OVO_PUSH_PLUGIN = `${OVO_PUSH_MODULE_NAME}.OvoPushAfterFork`;

/** How one release runs Neutron's server: upstream's eventlet `neutron-server`, the API and its RPC workers in one service. */
export interface NeutronRelease extends ApiRelease {
  /**
   * Units the distribution's packages run instead of an eventlet `neutron-server`: they are
   * masked, and `units` run from a unit of ours (Debian: the API under uwsgi and a separate RPC
   * server; `neutronServerUnit` says why). @default none
   */
  readonly replaces?: readonly string[];
  /**
   * Whether the server forks its workers under an eventlet older than 0.40, whose green threads
   * do not reliably survive a fork: then our service plugin restarts ML2's push threads in each
   * worker (`OVO_PUSH_PLUGIN`). @default false
   */
  readonly pushThreadsLostInFork?: boolean;
  /** DHCP agents per network with two or more network hosts (`dhcpAgentsPerNetwork` says why Zed has one). @default 2 */
  readonly dhcpAgentsPerNetwork?: number;
}

/** Debian's Neutron server (12 and 13 package it alike). */
const DEBIAN_NEUTRON: NeutronRelease = {
  units: ["neutron-server"],
  replaces: ["neutron-api", "neutron-rpc-server"],
  pushThreadsLostInFork: true,
};

/** How each release runs Neutron's server: our eventlet `neutron-server` unit on Debian (in place of its uwsgi API and RPC server), the package's own on Ubuntu. */
export const NEUTRON_RELEASES: ByRelease<NeutronRelease> = {
  // The package neutron-server is a metapackage: the API under uwsgi (:9696) and the RPC
  // server. Debian 12's eventlet is 0.33, Debian 13's 0.39, Ubuntu 24.04's 0.35.
  "debian-12-zed": { ...DEBIAN_NEUTRON, dhcpAgentsPerNetwork: 1 },
  "debian-13-epoxy": DEBIAN_NEUTRON,
  "ubuntu-2404-caracal": { units: ["neutron-server"], pushThreadsLostInFork: true },
};

/** Neutron's server packages. */
export const NEUTRON_SERVER_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["neutron-server"],
  "debian-13-epoxy": ["neutron-server"],
  "ubuntu-2404-caracal": ["neutron-server", "neutron-plugin-ml2"],
};

/** The Open vSwitch agent's packages, for compute and network hosts. */
export const NEUTRON_OVS_AGENT_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["openvswitch-switch", "neutron-openvswitch-agent"],
  "debian-13-epoxy": ["openvswitch-switch", "neutron-openvswitch-agent"],
  "ubuntu-2404-caracal": ["openvswitch-switch", "neutron-openvswitch-agent"],
};

/** The L3, DHCP and metadata agents' packages, for network hosts. */
export const NEUTRON_NETWORK_AGENT_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["neutron-l3-agent", "neutron-dhcp-agent", "neutron-metadata-agent"],
  "debian-13-epoxy": ["neutron-l3-agent", "neutron-dhcp-agent", "neutron-metadata-agent"],
  "ubuntu-2404-caracal": ["neutron-l3-agent", "neutron-dhcp-agent", "neutron-metadata-agent"],
};

/** Its Keystone user's on the compute hosts too: nova-compute asks Neutron for ports as `neutron`. */
export const NEUTRON_SECRETS: readonly SecretSpec[] = serviceSecrets("neutron", ["controller", "compute"]);

/** Neutron's API in Keystone's catalog: `network`, at :9696 on every controller and the VIP. */
export const NEUTRON_API = {
  /** The catalog type Keystone registers the service under. */
  type: "network",
  /** The API's port, on each controller's management address and on the VIP. */
  port: 9696,
} as const satisfies ApiDeclaration;

/** What neutron declares for the secret catalog and the release profiles (lib/cluster/components.ts), and its API. */
export const NEUTRON_COMPONENT: ComponentDeclaration = {
  name: "neutron",
  needs: ["keystone", "nova"],
  secrets: NEUTRON_SECRETS,
  packages: {
    neutronServer: NEUTRON_SERVER_PACKAGES,
    neutronOvsAgent: NEUTRON_OVS_AGENT_PACKAGES,
    neutronNetworkAgents: NEUTRON_NETWORK_AGENT_PACKAGES,
  },
  controllerPackages: NEUTRON_SERVER_PACKAGES,
  api: NEUTRON_API,
};

/**
 * Neutron's server on every controller: the API (:9696) and the RPC server with the ML2 plugin
 * (flat and VLAN provider networks, VXLAN self-service networks, Open vSwitch with
 * l2population, port security), the L3 router service (HA routers with two network nodes),
 * and notifications to Nova about ports. The first controller upgrades the schema; the others
 * follow it. The agents on network and compute hosts come from their own constructs.
 */
export class NeutronService extends ApiService {
  /** The provider network's physical network name: ML2's `flat_networks` and `network_vlan_ranges`, the agents' `bridge_mappings`. */
  readonly providerPhysnet: string;
  private readonly ha: boolean;
  private readonly vniRanges: string;
  private readonly nova: INovaForNetwork;
  private readonly agentSteps = new Map<Host, Step>();

  constructor(scope: Construct, id: string, props: NeutronServiceProps) {
    // Its secrets join the stack's catalog (a stack of one's own has no other), before its steps use them.
    declareSecrets(scope, NEUTRON_SECRETS);
    super(scope, id, props, {
      name: "neutron",
      port: NEUTRON_API.port,
      catalog: { type: NEUTRON_API.type, description: "OpenStack Networking" },
      databases: ["neutron"],
      configFile: NEUTRON_CONF,
      syncCommand: [
        "neutron-db-manage",
        "--config-file",
        NEUTRON_CONF,
        "--config-file",
        ML2_CONF,
        "upgrade",
        "head",
      ],
      syncComment: "The schema, once, from the first controller (an alembic upgrade: idempotent).",
      packages: NEUTRON_SERVER_PACKAGES,
      units: (release) => forRelease("neutron", NEUTRON_RELEASES, release).units,
      messaging: true,
      // An eventlet server binds one address: its own; a socket of ours takes the VIP.
      vipForwards: () => [{ name: "neutron-server", port: NEUTRON_API.port }],
    });
    this.providerPhysnet = props.providerPhysnet ?? "provider";
    if (!PHYSNET.test(this.providerPhysnet)) {
      throw new Error(
        `NeutronService providerPhysnet: got ${quoteValue(this.providerPhysnet)}: expected ${PHYSNET_EXPECTED}`,
      );
    }
    const networkNodes = props.networkNodes ?? 1;
    if (!Number.isInteger(networkNodes) || networkNodes < 1) {
      throw new Error(
        `NeutronService networkNodes: got ${quoteValue(networkNodes)}: expected a whole number, at least 1`,
      );
    }
    this.ha = networkNodes >= 2;
    this.vniRanges = props.vniRanges ?? "1:1000";
    if (!/^\d+:\d+(,\d+:\d+)*$/.test(this.vniRanges)) {
      throw new Error(
        `NeutronService vniRanges: got ${quoteValue(this.vniRanges)}: expected ranges such as 1:1000`,
      );
    }
    this.nova = props.nova ?? {
      credentials: NOVA_USER,
      metadataHost: this.context.clientAddress,
      metadataPort: NOVA_METADATA_PORT,
      metadataSecret: NOVA_METADATA_SECRET,
    };
    this.deploy();
  }

  /** @deprecated use `steps` */
  get serverSteps(): readonly Step[] {
    return this.steps;
  }

  protected config(host: Host): IniFile {
    const context = this.context;
    return new IniFile({
      DEFAULT: {
        core_plugin: "ml2",
        service_plugins: [
          "router",
          ...(forRelease("neutron", NEUTRON_RELEASES, host.release).pushThreadsLostInFork
            ? [OVO_PUSH_PLUGIN]
            : []),
        ].join(","),
        allow_overlapping_ips: true,
        transport_url: context.messaging.transportUrl,
        auth_strategy: "keystone",
        bind_host: host.address,
        notify_nova_on_port_status_changes: true,
        notify_nova_on_port_data_changes: true,
        api_workers: context.apiWorkers,
        rpc_workers: context.apiWorkers,
        rpc_state_report_workers: 1,
        ...(this.ha ? { l3_ha: true, dhcp_agents_per_network: dhcpAgentsPerNetwork(host.release) } : {}),
      },
      database: { connection: this.databases[0].url, max_retries: -1 },
      keystone_authtoken: this.keystone.authtoken("neutron", this.userSecret),
      nova: this.keystone.serviceCredentials(this.nova.credentials.name, this.nova.credentials.secret),
      // For agents on a controller that is also a network host.
      agent: AGENT_ROOT_HELPER,
      oslo_concurrency: { lock_path: LOCK_PATH },
    });
  }

  /** The agents' packages for a host (a role can install them early, before the controllers are up). */
  agentPackages(host: Host): readonly string[] {
    return [
      ...packagesFor("NeutronService", NEUTRON_OVS_AGENT_PACKAGES, host.release),
      ...(host.hasRole("network")
        ? packagesFor("NeutronService", NEUTRON_NETWORK_AGENT_PACKAGES, host.release)
        : []),
    ];
  }

  /** The agents' steps, one per host, in the order the hosts were given. */
  get agentStepList(): readonly Step[] {
    return [...this.agentSteps.values()];
  }

  /**
   * The agents on a compute or network host, in one step (a change of neutron.conf restarts them
   * all): the Open vSwitch agent everywhere (VXLAN from the host's tunnel address, l2population,
   * the iptables_hybrid firewall, the provider bridge where the host has the provider
   * interface), and on network hosts the L3 (HA routers when there are two or more), DHCP and
   * metadata agents. They start after the Neutron servers (the agents ask them for their ports
   * and routers as they start). One step per host: a second call returns it.
   */
  agents(host: Host): Step {
    const existing = this.agentSteps.get(host);
    if (existing) return existing;
    const network = host.hasRole("network");
    if (network && !host.providerInterface) {
      throw new Error(
        `NeutronService agents ${host.hostName}: providerInterface: got none: expected the interface on the provider network (network hosts carry the routers' gateways)`,
      );
    }
    const interfaces = agentInterfacesProblem({
      management: host.managementInterface,
      provider: host.providerInterface,
      tunnel: host.tunnelInterface,
      datapathType: host.datapathType,
    });
    if (interfaces) {
      throw new Error(
        `NeutronService agents ${host.hostName}: ${interfaces.field}Interface: got ${quoteValue(interfaces.value)}: expected ${interfaces.expected}`,
      );
    }
    const script = host.script("neutron_agents");
    const secrets: string[] = [];
    script.aptInstall(this.agentPackages(host));
    const fileOptions = { group: "neutron", mode: "0640", changeTag: "neutron_agents" } as const;
    // A controller's neutron.conf is the server's, which has all an agent needs.
    if (!this.context.controllers.includes(host)) {
      const conf = agentNeutronConf(this.context.messaging.transportUrl);
      script.writeFile(NEUTRON_CONF, conf.render(), { ...fileOptions, secrets: true });
      secrets.push(...conf.secretsUsed());
    }
    script.writeFile(
      OVS_AGENT_INI,
      openvswitchAgentConfig(host, this.providerPhysnet, SECURITY_GROUP_SETTINGS).render(),
      fileOptions,
    );
    if (network) {
      const { metadataHost, metadataPort, metadataSecret } = this.nova;
      const metadata = metadataAgentConfig(metadataHost, metadataPort, metadataSecret);
      script
        .writeFile(L3_AGENT_INI, l3AgentConfig().render(), fileOptions)
        .writeFile(DHCP_AGENT_INI, dhcpAgentConfig().render(), fileOptions)
        .writeFile(METADATA_AGENT_INI, metadata.render(), { ...fileOptions, secrets: true });
      secrets.push(...metadata.secretsUsed());
    }
    script
      .run("install", "-d", "-o", "neutron", "-g", "neutron", "-m", "0750", LOCK_PATH)
      .comment("Open vSwitch itself first: the bridges below are made through it.")
      .restartIfChanged([OVS_SWITCH_UNIT], "openvswitch");
    if (host.datapathType === "netdev") {
      script
        .writeFile(TUNNEL_BRIDGE_SCRIPT, tunnelBridgeScript(host), {
          mode: "0755",
          changeTag: "tunnel_bridge",
        })
        .writeUnit(TUNNEL_BRIDGE_UNIT, TUNNEL_BRIDGE_UNIT_FILE, "tunnel_bridge")
        .restartIfChanged([TUNNEL_BRIDGE_UNIT], "tunnel_bridge");
    }
    if (host.providerInterface) {
      script
        .comment(
          "The provider bridge, with the provider interface as its port (the agent patches it to br-int).",
        )
        .run(
          "ovs-vsctl",
          "--may-exist",
          "add-br",
          PROVIDER_BRIDGE,
          "--",
          "set",
          "bridge",
          PROVIDER_BRIDGE,
          `datapath_type=${host.datapathType}`,
        )
        .run("ovs-vsctl", "--may-exist", "add-port", PROVIDER_BRIDGE, host.providerInterface);
    }
    script.restartIfChanged([OVS_AGENT_UNIT, ...(network ? NETWORK_AGENT_UNITS : [])], "neutron_agents");
    const step = host.addStep("neutron_agents", script, {
      owner: this,
      secrets,
      after: [...this.context.messaging.readyFor(host), ...this.steps],
    });
    this.agentSteps.set(host, step);
    return step;
  }

  /**
   * A step on the first controller that waits until every agent placed so far reports alive to
   * the servers (an agent's own step ends when its daemons run, before they have registered),
   * failing after `timeoutSeconds`. Call it after the hosts' agents are placed.
   */
  agentsAliveStep(timeoutSeconds = 300): Step {
    const expected = [...this.agentSteps.keys()].flatMap((host) =>
      [OVS_AGENT_TYPE, ...(host.hasRole("network") ? NETWORK_AGENT_TYPES : [])].map(
        (type) => `${type} ${host.hostName}`,
      ),
    );
    if (expected.length === 0) throw new Error("NeutronService.agentsAliveStep: no agents were placed");
    const host = this.context.controllers[0];
    const script = host
      .script("neutron_agents_alive")
      .comment("Every agent alive in the servers' agent list (`Agent Type` `Host` `Alive`).")
      .raw(`deadline=$((SECONDS + ${timeoutSeconds}))`)
      .raw(`expected=(${quote(expected)})`)
      .raw("while :; do")
      .raw("  # shellcheck source=/dev/null")
      .raw(
        `  agents=$(set +u; . ${ADMIN_OPENRC}; openstack network agent list -f value -c "Agent Type" -c Host -c Alive) || agents=""`,
      )
      .raw('  missing=""')
      .raw('  for agent in "${expected[@]}"; do')
      .raw('    grep -qxF "$agent True" <<<"$agents" || missing="$missing, $agent"')
      .raw("  done")
      .raw('  [ -n "$missing" ] || break')
      .raw('  if [ "$SECONDS" -ge "$deadline" ]; then')
      .raw(`    echo "agents not alive after ${timeoutSeconds} s: \${missing#, }" >&2`)
      .raw("    exit 1")
      .raw("  fi")
      .raw("  sleep 5")
      .raw("done");
    return host.addStep("neutron_agents_alive", script, {
      owner: this,
      after: [...this.steps, ...this.agentSteps.values()],
    });
  }

  /** The ML2 settings, which the server and the agents share. */
  ml2Config(): IniFile {
    return new IniFile({
      ml2: {
        type_drivers: "flat,vlan,vxlan",
        tenant_network_types: "vxlan",
        mechanism_drivers: "openvswitch,l2population",
        extension_drivers: "port_security",
      },
      ml2_type_flat: { flat_networks: this.providerPhysnet },
      // The physical network without a range: VLAN provider networks only, no tenant VLANs.
      ml2_type_vlan: { network_vlan_ranges: this.providerPhysnet },
      ml2_type_vxlan: { vni_ranges: this.vniRanges },
      securitygroup: SECURITY_GROUP_SETTINGS,
    });
  }

  /** ml2_conf.ini, the lock directory, and where the packages run something else, our unit. */
  protected configure(script: ShellScript, host: Host): void {
    script.writeFile(ML2_CONF, this.ml2Config().render(), {
      group: "neutron",
      mode: "0640",
      secrets: false,
      changeTag: "neutron",
    });
    script.run("install", "-d", "-o", "neutron", "-g", "neutron", "-m", "0750", LOCK_PATH);
    const release = forRelease("neutron", NEUTRON_RELEASES, host.release);
    const replaced = release.replaces ?? [];
    if (replaced.length > 0) {
      script
        .comment(
          "Upstream's eventlet neutron-server in place of the packages' API and RPC units (neutronServerUnit says why).",
        )
        .maskUnits(replaced)
        .writeUnit(NEUTRON_SERVER_UNIT, neutronServerUnit(host.release), "neutron");
    }
    if (release.pushThreadsLostInFork) {
      script
        .comment("ML2's resource pushes from every forked worker (neutron-ovo-push.py says why).")
        .writeFile(`${OVO_PUSH_DIR}/${OVO_PUSH_MODULE_NAME}.py`, OVO_PUSH_MODULE, {
          mode: "0644",
          changeTag: "neutron",
        })
        .writeDropIn(
          `${NEUTRON_SERVER_UNIT}.service`,
          `[Service]\nEnvironment=PYTHONPATH=${OVO_PUSH_DIR}\n`,
          "neutron",
          "openstack-cdktf-ovo-push",
        );
    }
  }
}
