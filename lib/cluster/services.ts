/**
 * The control plane's services: the cluster's one registration list. Each line names a
 * service's component (its name, secrets, packages and `needs`, declared in the service's own
 * file) and how the cluster builds it; the secret catalog (./components.ts) and the build order
 * (`orderByNeeds`) both come from this list. A new service adds its line here.
 */
import { Construct } from "constructs";
import { ComponentDeclaration } from "../core/component";
import { Role } from "../core/roles";
import { Host } from "../hosts/host";
import { CEPH_COMPONENT, CephCluster, chooseMonitors } from "../platform/ceph-cluster";
import { ApiServiceProps } from "../services/api-service";
import { CINDER_COMPONENT, CinderService } from "../services/cinder";
import { ControlPlaneContext } from "../services/control-plane-context";
import { GLANCE_COMPONENT, GlanceService } from "../services/glance";
import { HORIZON_COMPONENT, HorizonDashboard } from "../services/horizon";
import { KEYSTONE_COMPONENT, KeystoneService } from "../services/keystone";
import { NEUTRON_COMPONENT, NEUTRON_USER, NeutronService } from "../services/neutron";
import { NOVA_COMPONENT, NovaService } from "../services/nova";
import { PLACEMENT_COMPONENT, PlacementService } from "../services/placement";
import { SWIFT_COMPONENT, SwiftService } from "../services/swift";
import { RBD_CLIENT, rbdPools } from "../services/volume-backends";
import { Inventory } from "./inventory";

/**
 * What a service's builder reads from the cluster (`OpenStackCluster` is one): the inventory,
 * the hosts, the shared control plane, and the services built before it.
 */
export interface ServiceScope extends Construct {
  readonly inventory: Inventory;
  readonly hosts: readonly Host[];
  readonly controlPlane: ControlPlaneContext;
  readonly keystone: KeystoneService;
  readonly swift: SwiftService;
  readonly glance: GlanceService;
  readonly placement: PlacementService;
  readonly ceph: CephCluster | undefined;
  readonly nova: NovaService;
  hostsWithRole(role: Role): Host[];
}

/** A service of the cluster: its component (name, `needs`), and how the cluster builds it. */
export interface ServiceBuilder {
  readonly component: ComponentDeclaration;
  /** The service, or undefined where the inventory leaves it out. */
  build(cluster: ServiceScope): Construct | undefined;
}

/** What every API service is given: the shared control plane, and Keystone to register with. */
function apiProps(c: ServiceScope): ApiServiceProps {
  return { context: c.controlPlane, keystone: c.keystone };
}

/**
 * The control plane's services, one line each. The cluster builds them in the order their
 * components' `needs` determine (`orderByNeeds`); this list's order where those leave it free.
 */
export const SERVICES: readonly ServiceBuilder[] = [
  {
    component: KEYSTONE_COMPONENT,
    build: (c) => new KeystoneService(c, "keystone", { context: c.controlPlane }),
  },
  { component: SWIFT_COMPONENT, build: (c) => swiftService(c) },
  { component: GLANCE_COMPONENT, build: (c) => glanceService(c) },
  { component: PLACEMENT_COMPONENT, build: (c) => new PlacementService(c, "placement", apiProps(c)) },
  { component: CEPH_COMPONENT, build: (c) => (c.inventory.ceph ? cephCluster(c) : undefined) },
  { component: CINDER_COMPONENT, build: (c) => cinderService(c) },
  { component: HORIZON_COMPONENT, build: (c) => horizonDashboard(c) },
  { component: NOVA_COMPONENT, build: (c) => novaService(c) },
  { component: NEUTRON_COMPONENT, build: (c) => neutronService(c) },
];

function swiftService(c: ServiceScope): SwiftService {
  const inv = c.inventory;
  return new SwiftService(c, "swift", {
    ...apiProps(c),
    storage: c.hosts.flatMap((host, i) =>
      host.hasRole("storage") ? [{ host, device: inv.hosts[i].swiftDevice }] : [],
    ),
    partPower: inv.swift.partPower,
    mountCheck: inv.swift.mountCheck,
  });
}

function glanceService(c: ServiceScope): GlanceService {
  return new GlanceService(c, "glance", {
    ...apiProps(c),
    objectStore: c.inventory.imageStore === "swift" ? c.swift : undefined,
  });
}

function cinderService(c: ServiceScope): CinderService {
  return new CinderService(c, "cinder", { ...apiProps(c), glanceUrl: c.glance.url, ceph: c.ceph });
}

function horizonDashboard(c: ServiceScope): HorizonDashboard {
  const vip = c.inventory.management;
  return new HorizonDashboard(c, "horizon", {
    ...apiProps(c),
    // The VIP and its name, and each controller by name and address: never "*".
    allowedHosts: [
      ...(vip.vip ? [vip.vip, vip.vipName] : []),
      ...c.hostsWithRole("controller").flatMap((h) => [h.hostName, h.address]),
    ],
  });
}

// Nova authenticates as Placement and Neutron, and Neutron as Nova: each by the owner's object
// (Neutron's user by its constant: Neutron is built after Nova, whose object it takes).
function novaService(c: ServiceScope): NovaService {
  return new NovaService(c, "nova", {
    ...apiProps(c),
    glanceUrl: c.glance.url,
    placement: c.placement,
    neutronUser: NEUTRON_USER,
  });
}

function neutronService(c: ServiceScope): NeutronService {
  return new NeutronService(c, "neutron", {
    ...apiProps(c),
    nova: c.nova,
    providerPhysnet: c.inventory.provider?.physnet,
    networkNodes: c.hostsWithRole("network").length,
  });
}

/**
 * The cluster's Ceph: monitors on the controllers and then storage hosts (three at most, an
 * odd number), managers on the controllers, an OSD on every storage host, the RBD backends'
 * pools and their client (`cinder`).
 */
function cephCluster(c: ServiceScope): CephCluster {
  const inv = c.inventory;
  const controllers = c.hostsWithRole("controller");
  const storage = c.hostsWithRole("storage");
  const pools = rbdPools(inv.hosts.flatMap((h) => h.volumeBackends));
  const monitors = chooseMonitors(controllers, storage);
  return new CephCluster(c, "ceph", {
    clusterName: inv.cluster,
    monitors,
    managers: controllers.filter((h) => monitors.includes(h)),
    osds: c.hosts.flatMap((host, i) => {
      const osd = inv.hosts[i].cephOsd;
      return osd ? [{ host, osd }] : [];
    }),
    publicNetwork: inv.management.cidr,
    pools,
    clients: pools.length > 0 ? [{ name: RBD_CLIENT, secret: `ceph_${RBD_CLIENT}_key`, pools }] : [],
    osdMemoryTargetMiB: inv.ceph?.osdMemoryTargetMiB,
  });
}
