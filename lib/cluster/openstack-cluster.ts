import { Construct } from "constructs";
import { ComponentDeclaration } from "../core/component";
import { orderByNeeds } from "./service-order";
import { releaseProfile } from "../core/releases";
import { forRelease } from "../core/releases/packages";
import { ReleaseProfile } from "../core/releases/profile";
import { Role } from "../core/roles";
import { declareSecrets } from "../core/secret-catalog";
import { Step } from "../core/step";
import { BaseSystem } from "../hosts/base-system";
import { ComputeNode } from "../hosts/compute-node";
import { ControllerNode } from "../hosts/controller-node";
import { Host } from "../hosts/host";
import { NetworkNode } from "../hosts/network-node";
import { RoleNode } from "../hosts/role-node";
import { StorageNode } from "../hosts/storage-node";
import { ClientAddress } from "../platform/client-address";
import { Heartbeat } from "../platform/heartbeat";
import { Memcached } from "../platform/memcached";
import { MysqlHaPair } from "../platform/mysql-ha-pair";
import { RabbitMq } from "../platform/rabbitmq";
import { ControlPlaneContext } from "../services/control-plane-context";
import { DayOne } from "../services/day-one";
import { CEPH_COMPONENT, CephCluster, chooseMonitors } from "../platform/ceph-cluster";
import { CINDER_COMPONENT, CinderService, cinderRelease } from "../services/cinder";
import { GLANCE_COMPONENT, GlanceService } from "../services/glance";
import { HORIZON_COMPONENT, HorizonDashboard } from "../services/horizon";
import { KEYSTONE_COMPONENT, KeystoneService } from "../services/keystone";
import { NEUTRON_COMPONENT, NeutronService } from "../services/neutron";
import { NOVA_COMPONENT, NovaService } from "../services/nova";
import { PLACEMENT_COMPONENT, PlacementService } from "../services/placement";
import { SWIFT_COMPONENT, SwiftService } from "../services/swift";
import { RBD_CLIENT } from "../services/volume-backends";
import { SECRET_CATALOG } from "./components";
import { SERVICES, ServiceScope } from "./services";
import { Inventory } from "./inventory";

/** Configures `OpenStackCluster`: the inventory it builds. */
export interface OpenStackClusterProps {
  /** A validated inventory (`loadInventory` or `parseInventory`). */
  readonly inventory: Inventory;
}

/**
 * What a controller installs early: the platform the cluster builds on it (the database, the
 * broker, the cache, Heartbeat with a VIP) and every registered service's controller packages
 * (Ceph's where the controller is a monitor), with the debconf answers they read.
 */
function controllerPackages(
  inv: Inventory,
  release: ReleaseProfile,
  cephMonitor: boolean,
): { packages: string[]; debconf: string[] } {
  const platform = release.packages;
  const components = SERVICES.map((s) => s.component).filter((c) => c !== CEPH_COMPONENT || cephMonitor);
  return {
    packages: [
      ...platform.database,
      ...(inv.ha === "heartbeat" ? platform.heartbeat : []),
      ...platform.rabbitmq,
      ...platform.memcached,
      ...components.flatMap((c) =>
        c.controllerPackages ? forRelease(`${c.name} packages`, c.controllerPackages, release) : [],
      ),
    ],
    debconf: components.flatMap((c) =>
      c.debconf ? forRelease(`${c.name} debconf`, c.debconf, release) : [],
    ),
  };
}

const ROLE_CONSTRUCTS: Record<Role, new (scope: Construct, id: string, props: { host: Host }) => RoleNode> = {
  controller: ControllerNode,
  compute: ComputeNode,
  storage: StorageNode,
  network: NetworkNode,
};

/**
 * The whole cloud from one inventory: a `Host` per server, its role constructs, and its base
 * step. Later layers (platform, services) attach their steps to the hosts this exposes.
 */
export class OpenStackCluster extends Construct implements ServiceScope {
  /** The inventory the cluster was built from. */
  readonly inventory: Inventory;
  /** One `Host` per inventory host, in the inventory's order. */
  readonly hosts: readonly Host[];
  /** Each host's `base` step (apt, hostname, time sync: `BaseSystem.step`), by host name. */
  readonly baseSteps: ReadonlyMap<string, Step>;
  /** Moves the VIP between the two controllers; absent with `ha: single`. */
  readonly heartbeat?: Heartbeat;
  /** MariaDB on the controllers; services call `database.database(...)`. */
  readonly database: MysqlHaPair;
  /** RabbitMQ; services use `messaging.transportUrl`. */
  readonly messaging: RabbitMq;
  /** memcached; services use `cache.servers`. */
  readonly cache: Memcached;
  /** What the control-plane services share. */
  readonly controlPlane: ControlPlaneContext;
  /** Waits until every Neutron agent reports alive (on the first controller); absent without agents. */
  readonly agentsAlive?: Step;
  /** Maps the compute hosts into cell1 (on the first controller); absent without compute hosts. */
  readonly discoverHosts?: Step;
  /** The day-one flavor, networks and router; only with the inventory's `dayOne`. */
  readonly dayOne?: DayOne;

  /** The services by their component's name, as `SERVICES` built them (Ceph absent without its section). */
  private readonly built = new Map<string, Construct | undefined>();

  constructor(scope: Construct, id: string, props: OpenStackClusterProps) {
    super(scope, id);
    // The whole catalog first, so that every role's host receives its role's secrets.
    declareSecrets(this, SECRET_CATALOG);
    const inv = props.inventory;
    this.inventory = inv;
    const release = releaseProfile(inv.release);
    this.hosts = inv.hosts.map(
      (spec) =>
        new Host(this, spec.name, {
          name: spec.name,
          address: spec.address,
          release,
          user: spec.ssh.user,
          port: spec.ssh.port,
          privateKeyFile: spec.ssh.privateKeyFile,
          agent: spec.ssh.agent,
          hostKey: spec.ssh.hostKey,
          timeout: spec.ssh.timeout,
          bastion: spec.ssh.bastion,
          managementInterface: spec.interfaces.management,
          providerInterface: spec.interfaces.provider,
          tunnelInterface: spec.interfaces.tunnel,
          tunnelAddress: spec.tunnelAddress,
          tunnelPrefixLength: inv.tunnel ? Number(inv.tunnel.cidr.split("/")[1]) : undefined,
          virtType: spec.virtType,
          datapathType: spec.datapathType,
          volumeBackends: spec.volumeBackends,
          defaultTargetHelper: cinderRelease(release).defaultTargetHelper,
          resourceKind: inv.resource,
        }),
    );
    const roleNodes: RoleNode[] = [];
    this.hosts.forEach((host, i) => {
      for (const role of inv.hosts[i].roles) roleNodes.push(new ROLE_CONSTRUCTS[role](host, role, { host }));
    });

    const members = inv.hosts.map((h) => ({ name: h.name, address: h.address }));
    const controllerNames = this.hostsWithRole("controller").map((h) => h.hostName);
    const baseSteps = new Map<string, Step>();
    for (const host of this.hosts) {
      const isController = host.hasRole("controller");
      const base = new BaseSystem(host, "base_system", {
        members,
        vip: inv.management.vip ? { name: inv.management.vipName, address: inv.management.vip } : undefined,
        aptProxy: inv.aptProxy,
        timeServers: isController ? inv.ntpServers : controllerNames,
        serveTimeTo: isController ? [inv.management.cidr] : undefined,
      });
      baseSteps.set(host.hostName, base.step);
    }
    this.baseSteps = baseSteps;
    // Each controller's packages, early, in parallel (ControllerNode.preinstallPackages).
    const cephMonitors = inv.ceph
      ? chooseMonitors(this.hostsWithRole("controller"), this.hostsWithRole("storage"))
      : [];
    for (const node of roleNodes) {
      if (node instanceof ControllerNode) {
        const early = controllerPackages(inv, release, cephMonitors.includes(node.host));
        node.preinstallPackages(early.packages, early.debconf);
      }
    }

    // The platform layer on the controllers: the VIP (services bind to it), the database pair,
    // the message broker and the cache, all reached through the VIP.
    const controllers = this.hostsWithRole("controller");
    const clientAddress = inv.management.vip ?? controllers[0].address;
    this.heartbeat =
      inv.ha === "heartbeat"
        ? new Heartbeat(this, "heartbeat", {
            controllers,
            vip: clientAddress,
            prefixLength: Number(inv.management.cidr.split("/")[1]),
          })
        : undefined;
    // The client address, once: every server on it (database, broker, APIs) takes this object.
    const client = this.heartbeat
      ? ClientAddress.ofVip(this.heartbeat)
      : ClientAddress.ofController(controllers[0]);
    // The database and the broker listen on the VIP: given Heartbeat, they come after it.
    this.database = new MysqlHaPair(this, "database", {
      controllers,
      client,
      managementCidr: inv.management.cidr,
    });
    this.messaging = new RabbitMq(this, "messaging", { controllers, client });
    this.cache = new Memcached(this, "cache", { controllers });

    // The control plane, on every controller, behind the VIP.
    this.controlPlane = {
      controllers,
      clientAddress,
      // The APIs listen on the VIP too: given Heartbeat, after it.
      vip: this.heartbeat,
      client,
      managementCidr: inv.management.cidr,
      database: this.database,
      messaging: this.messaging,
      cache: this.cache,
    };
    // The services, each after those its component says it needs.
    const services = SERVICES.map((s) => ({ ...s, name: s.component.name, needs: s.component.needs ?? [] }));
    for (const service of orderByNeeds(services)) this.built.set(service.name, service.build(this));

    // The data plane: each compute, network and storage host places its services' parts; then
    // the first controller maps the compute hosts into cell1. The storage packages come first:
    // on a compute + storage host they install with the compute packages, before the steps
    // that wait for the controllers.
    const dataPlane = {
      nova: this.nova,
      neutron: this.neutron,
      cinder: this.cinder,
      swift: this.swift,
      ceph: this.ceph,
    };
    for (const node of roleNodes) {
      if (node instanceof StorageNode) node.preinstallPackages(dataPlane);
    }
    for (const node of roleNodes) {
      if (node instanceof ComputeNode || node instanceof NetworkNode || node instanceof StorageNode) {
        node.placeServices(dataPlane);
      }
    }
    // Ceph after the hosts' services: on a storage host its OSD waits for the controllers'
    // monitors (the last of their steps so far), and nothing of OpenStack waits behind it.
    // Then cinder-volume, which for RBD waits for Ceph's pools, and qemu's key on compute hosts.
    if (this.ceph) {
      this.ceph.place();
      if (this.ceph.clients.some((c) => c.name === RBD_CLIENT)) {
        const client = this.ceph.client(RBD_CLIENT);
        for (const host of this.hostsWithRole("compute")) {
          this.ceph.libvirtSecret(host, client, [this.nova.computeHost(host)]);
        }
      }
    }
    for (const node of roleNodes) {
      if (node instanceof StorageNode) node.placeVolumeService(dataPlane);
    }
    const agentHosts = this.hosts.filter((h) => h.hasRole("compute") || h.hasRole("network"));
    this.agentsAlive = agentHosts.length > 0 ? this.neutron.agentsAliveStep() : undefined;
    const computeHosts = this.hostsWithRole("compute");
    this.discoverHosts =
      computeHosts.length > 0
        ? this.nova.discoverHostsStep(this.nova.computeStepList, computeHosts)
        : undefined;

    // Last: it needs every API it calls, the agents, and the compute hosts mapped.
    this.dayOne = inv.dayOne
      ? new DayOne(this, "day_one", {
          host: controllers[0],
          settings: inv.dayOne,
          after: [
            ...this.nova.steps,
            ...this.neutron.steps,
            ...this.neutron.agentStepList,
            ...(this.agentsAlive ? [this.agentsAlive] : []),
            ...(this.discoverHosts ? [this.discoverHosts] : []),
          ],
        })
      : undefined;
  }

  /** What `SERVICES` built for a component; an error when the list has no line for it. */
  private service<T extends Construct | undefined>(component: ComponentDeclaration): T {
    if (!this.built.has(component.name))
      throw new Error(`OpenStackCluster: no service ${component.name} in SERVICES`);
    return this.built.get(component.name) as T;
  }

  get keystone(): KeystoneService {
    return this.service(KEYSTONE_COMPONENT);
  }

  /** Objects: the proxy on the controllers, the storage servers on the storage hosts. */
  get swift(): SwiftService {
    return this.service(SWIFT_COMPONENT);
  }

  /** Images, in Swift (or, with `imageStore: file`, on each controller's disk). */
  get glance(): GlanceService {
    return this.service(GLANCE_COMPONENT);
  }

  get placement(): PlacementService {
    return this.service(PLACEMENT_COMPONENT);
  }

  /** Cinder's API and scheduler; cinder-volume on the storage hosts with volume backends. */
  get cinder(): CinderService {
    return this.service(CINDER_COMPONENT);
  }

  /** Ceph (the inventory's `ceph` section): RBD volumes. */
  get ceph(): CephCluster | undefined {
    return this.service(CEPH_COMPONENT);
  }

  /** The dashboard at http://VIP/horizon/. */
  get horizon(): HorizonDashboard {
    return this.service(HORIZON_COMPONENT);
  }

  /** Nova's control plane; compute hosts use `nova.computeConfig` and `nova.discoverHostsStep`. */
  get nova(): NovaService {
    return this.service(NOVA_COMPONENT);
  }

  /** Neutron's server with ML2; the agents share its settings. */
  get neutron(): NeutronService {
    return this.service(NEUTRON_COMPONENT);
  }

  /** The hosts that hold `role`, in the inventory's order. */
  hostsWithRole(role: Role): Host[] {
    return this.hosts.filter((h) => h.hasRole(role));
  }

  /** Every step on the cluster's hosts, host by host, each host's in the order they were added. */
  get steps(): Step[] {
    return this.hosts.flatMap((h) => h.steps);
  }
}
