import { Construct } from "constructs";
import { IniFile, IniValue } from "../core/ini-file";
import { secretSpec } from "../core/secret-catalog";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { ControlPlaneContext, endpointUrl, stepsOnControllers, uwsgiApi } from "./control-plane-context";
import { IIdentity } from "./identity";

export interface NeutronServiceProps {
  readonly context: ControlPlaneContext;
  /** Registers Neutron's user and endpoints, and supplies the token validation settings. */
  readonly keystone: IIdentity;
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
}

const DB_SECRET = secretSpec("neutron_db_password").name;
/** The database, created and synced by this service. */
const DATABASE = "neutron";
const NEUTRON_SECRET = secretSpec("neutron_keystone_password").name;
const NOVA_SECRET = secretSpec("nova_keystone_password").name;

const NEUTRON_CONF = "/etc/neutron/neutron.conf";
/** Where Debian's init scripts (and Ubuntu's /etc/default/neutron-server) look for the ML2 settings. */
export const ML2_CONF = "/etc/neutron/plugins/ml2/ml2_conf.ini";
const LOCK_PATH = "/var/lib/neutron/tmp";

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
 * Neutron's server on every controller: the API (:9696) and the RPC server with the ML2 plugin
 * (flat and VLAN provider networks, VXLAN self-service networks, Open vSwitch with
 * l2population, port security), the L3 router service (HA routers with two network nodes),
 * and notifications to Nova about ports. The first controller upgrades the schema; the others
 * follow it. The agents on network and compute hosts come from their own constructs.
 */
export class NeutronService extends Construct {
  /** `http://VIP:9696`. */
  readonly apiUrl: string;
  readonly providerPhysnet: string;
  /** The step that registers the user, service and endpoints. */
  readonly registration: Step;
  /** One step per controller, the first one (which upgrades the schema) first. */
  readonly serverSteps: readonly Step[];
  private readonly context: ControlPlaneContext;

  constructor(scope: Construct, id: string, props: NeutronServiceProps) {
    super(scope, id);
    const context = props.context;
    this.context = context;
    this.providerPhysnet = props.providerPhysnet ?? "provider";
    if (!/^[a-z][a-z0-9_-]*$/.test(this.providerPhysnet)) {
      throw new Error(
        `NeutronService providerPhysnet: got ${JSON.stringify(this.providerPhysnet)}: expected a physical network name such as provider`,
      );
    }
    const networkNodes = props.networkNodes ?? 1;
    if (!Number.isInteger(networkNodes) || networkNodes < 1) {
      throw new Error(
        `NeutronService networkNodes: got ${networkNodes}: expected a whole number, at least 1`,
      );
    }
    const vniRanges = props.vniRanges ?? "1:1000";
    if (!/^\d+:\d+(,\d+:\d+)*$/.test(vniRanges)) {
      throw new Error(
        `NeutronService vniRanges: got ${JSON.stringify(vniRanges)}: expected ranges such as 1:1000`,
      );
    }
    this.apiUrl = endpointUrl(context, 9696);

    const db = context.database.database(DATABASE, "neutron", DB_SECRET);
    this.registration = props.keystone.register({
      name: "neutron",
      type: "network",
      description: "OpenStack Networking",
      url: this.apiUrl,
      user: { name: "neutron", secret: NEUTRON_SECRET },
    });
    const ha = networkNodes >= 2;
    const conf = new IniFile({
      DEFAULT: {
        core_plugin: "ml2",
        service_plugins: "router",
        allow_overlapping_ips: true,
        transport_url: context.messaging.transportUrl,
        auth_strategy: "keystone",
        notify_nova_on_port_status_changes: true,
        notify_nova_on_port_data_changes: true,
        rpc_workers: context.apiWorkers ?? 2,
        rpc_state_report_workers: 1,
        ...(ha ? { l3_ha: true, dhcp_agents_per_network: 2 } : {}),
      },
      database: { connection: db.url, max_retries: -1 },
      keystone_authtoken: props.keystone.authtoken("neutron", NEUTRON_SECRET),
      nova: props.keystone.serviceCredentials("nova", NOVA_SECRET),
      oslo_concurrency: { lock_path: LOCK_PATH },
    });
    const ml2 = new IniFile({
      ml2: {
        type_drivers: "flat,vlan,vxlan",
        tenant_network_types: "vxlan",
        mechanism_drivers: "openvswitch,l2population",
        extension_drivers: "port_security",
      },
      ml2_type_flat: { flat_networks: this.providerPhysnet },
      // The physical network without a range: VLAN provider networks only, no tenant VLANs.
      ml2_type_vlan: { network_vlan_ranges: this.providerPhysnet },
      ml2_type_vxlan: { vni_ranges: vniRanges },
      securitygroup: SECURITY_GROUP_SETTINGS,
    });
    // On the first controller, the database and the registration come first on the same host.
    this.serverSteps = stepsOnControllers(context.controllers, [], (host, first, dependsOn) =>
      this.serverStep(host, first, dependsOn, conf, ml2),
    );
  }

  private serverStep(host: Host, first: boolean, dependsOn: Step[], conf: IniFile, ml2: IniFile): Step {
    const release = host.release;
    const options = { group: "neutron", mode: "0640", secrets: true, changeTag: "neutron" } as const;
    const script = host
      .script("neutron")
      .aptInstall(release.packages.neutronServer)
      .writeFile(NEUTRON_CONF, conf.render(), options)
      .writeFile(ML2_CONF, ml2.render(), { ...options, secrets: false });
    for (const ini of release.paths.neutronUwsgiConfigs) {
      uwsgiApi(script, ini, this.context.apiWorkers ?? 2, "neutron");
    }
    script.run("install", "-d", "-o", "neutron", "-g", "neutron", "-m", "0750", LOCK_PATH);
    if (first) {
      script
        .comment("The schema, once, from the first controller (an alembic upgrade: idempotent).")
        .schemaSync(
          [DATABASE],
          "neutron",
          "neutron-db-manage",
          "--config-file",
          NEUTRON_CONF,
          "--config-file",
          ML2_CONF,
          "upgrade",
          "head",
        );
    }
    script.restartIfChanged(release.units.neutronServer, "neutron").waitForPort(host.address, 9696, 120);
    return host.addStep("neutron", script, { owner: this, secrets: conf.secretsUsed(), dependsOn });
  }
}
