/**
 * The hostile-input table (test/hostile-rows.ts) against the constructs: a platform team builds
 * `Host`, `BaseSystem`, `MysqlHaPair`, `CephCluster`, `SwiftService`, `NeutronService` and
 * `DayOne` from TypeScript props, with none of the inventory's parsing in between. Each field of
 * the inventory names the construct prop it becomes; every value the inventory refuses there, the
 * construct refuses too, in one line naming its prop — or the row says why the construct takes it
 * (a rule that needs the whole inventory) or that TypeScript's type refuses it at compile time.
 */
import { TerraformStack, Testing } from "cdktf";
import { CONTROL_CHARACTER } from "../lib/core/field-rules";
import { DEBIAN_12_ZED } from "../lib/core/releases";
import { BaseSystem } from "../lib/hosts/base-system";
import { Host, HostProps } from "../lib/hosts/host";
import { CephCluster } from "../lib/platform/ceph-cluster";
import { MysqlHaPair } from "../lib/platform/mysql-ha-pair";
import { DayOne } from "../lib/services/day-one";
import { DAY_ONE_DEFAULTS, DayOneSettings } from "../lib/services/day-one-settings";
import { NeutronService } from "../lib/services/neutron";
import { SwiftService } from "../lib/services/swift";
import { HOSTILE, HOST_KEY, ROWS, Row, setAt } from "./hostile-rows";
import { standaloneControlPlane } from "./service-helpers";
import { tempDir } from "./support";

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const OUT = tempDir("hostile-constructs");
const stack = () => new TerraformStack(Testing.app({ outdir: OUT }), "s");

/** A probe builds the construct with `value` where the field lands; it throws when refused. */
type Probe = (value: unknown) => void;

interface ConstructRow {
  readonly probe: Probe;
  /** How the construct's message names the prop: `<names>: got …`. */
  readonly names: string | readonly string[];
  /** Values the inventory refuses that this construct takes, each with why. */
  readonly takes?: readonly (readonly [unknown, string])[];
}

/** A field whose TypeScript type refuses every other value (the compile-time proofs are below). */
interface TypedRow {
  readonly typed: string;
}

/** A field with no construct prop of its own. */
interface InventoryOnlyRow {
  readonly inventoryOnly: string;
}

const HOST_BASE = { name: "cmp1", address: "10.0.0.21", release: DEBIAN_12_ZED };

/** A Host with `value` at `at` of its props (over `base`). */
function host(at: string, base: Props = {}): Probe {
  return (value) =>
    new Host(stack(), "h", setAt({ ...HOST_BASE, ...structuredClone(base) }, at, value) as HostProps);
}

function hostRow(at: string, base: Props = {}, takes?: ConstructRow["takes"]): ConstructRow {
  return { probe: host(at, base), names: at === "name" ? "Host name" : `Host cmp1 ${at}`, takes };
}

const WITH_BASTION = { bastion: { host: "jump.example.org" } };
const WITH_LVM = { volumeBackends: [{ name: "lvm", driver: "lvm", volumeGroup: "cinder-volumes" }] };
const WITH_RBD = { volumeBackends: [{ name: "ceph", driver: "rbd", pool: "volumes" }] };

/** BaseSystem on a host of a two-controller cluster, with `value` at `at` of its props. */
function baseSystem(at: string): Probe {
  return (value) => {
    const s = stack();
    const h = new Host(s, "h", HOST_BASE);
    const props = setAt(
      {
        members: [
          { name: "ctl1", address: "10.0.0.11" },
          { name: "cmp1", address: "10.0.0.21" },
        ],
        vip: { name: "api", address: "10.0.0.10" },
        timeServers: ["0.debian.pool.ntp.org"],
      },
      at,
      value,
    );
    new BaseSystem(h, "base", props as ConstructorParameters<typeof BaseSystem>[2]);
  };
}

/** MysqlHaPair on ctl1 (10.0.0.11) and ctl2 (10.0.0.12), its client address the VIP 10.0.0.10. */
function mysqlHaPair(field: "managementCidr" | "clientAddress"): Probe {
  return (value) => {
    const s = stack();
    const controllers = [1, 2].map(
      (n) => new Host(s, `ctl${n}`, { name: `ctl${n}`, address: `10.0.0.1${n}`, release: DEBIAN_12_ZED }),
    );
    const props = { controllers, managementCidr: "10.0.0.0/24", clientAddress: "10.0.0.10" };
    const address = field === "clientAddress" ? (value as string) : props.clientAddress;
    new MysqlHaPair(s, "db", {
      ...props,
      [field]: value,
      vip: { address, readyFor: () => [] },
    });
  };
}

/** CephCluster with one monitor (ctl1) and cmp1's OSD, `value` at `at` of its props. */
function cephCluster(at: string, osd: Props = { file: "/var/lib/ceph/osd.img", sizeGiB: 8 }): Probe {
  return (value) => {
    const s = stack();
    const ctl = new Host(s, "ctl1", { name: "ctl1", address: "10.0.0.11", release: DEBIAN_12_ZED });
    const cmp = new Host(s, "cmp1", HOST_BASE);
    const props = setAt(
      {
        clusterName: "test",
        monitors: [ctl],
        managers: [ctl],
        osds: [{ host: cmp, osd: { ...osd } }],
        publicNetwork: "10.0.0.0/24",
        pools: ["volumes"],
        clients: [],
      },
      at,
      value,
    );
    new CephCluster(s, "ceph", props as ConstructorParameters<typeof CephCluster>[2]);
  };
}

/** A stand-alone control plane (controllers 10.9.0.1 and 10.9.0.2) with one more storage host. */
function swiftDevice(value: unknown): void {
  const { stack: s, context, keystone } = standaloneControlPlane(DEBIAN_12_ZED);
  const storage = new Host(s, "st1", { name: "st1", address: "10.9.0.21", release: DEBIAN_12_ZED });
  new SwiftService(s, "swift", { context, keystone, storage: [{ host: storage, device: value as string }] });
}

function swiftPartPower(value: unknown): void {
  const { stack: s, context, keystone } = standaloneControlPlane(DEBIAN_12_ZED);
  const storage = new Host(s, "st1", { name: "st1", address: "10.9.0.21", release: DEBIAN_12_ZED });
  new SwiftService(s, "swift", {
    context,
    keystone,
    storage: [{ host: storage, device: "sdb1" }],
    partPower: value as number,
  });
}

function neutronPhysnet(value: unknown): void {
  const { stack: s, context, keystone } = standaloneControlPlane(DEBIAN_12_ZED);
  new NeutronService(s, "neutron", { context, keystone, providerPhysnet: value as string });
}

const DAY_ONE_BASE: DayOneSettings = {
  flavor: { ...DAY_ONE_DEFAULTS.flavor },
  router: { name: DAY_ONE_DEFAULTS.routerName },
  external: {
    name: "external",
    physnet: "provider",
    cidr: "10.212.0.0/24",
    gateway: "10.212.0.1",
    allocationPool: { start: "10.212.0.100", end: "10.212.0.199" },
  },
  tenant: { name: "tenant", cidr: "192.168.100.0/24" },
};

/** DayOne's settings with `value` at `at` (the inventory's `dayOne.` path, less `dayOne.`). */
function dayOneRow(at: string, alsoNames: readonly string[] = []): ConstructRow {
  return {
    probe: (value) => {
      const s = stack();
      const h = new Host(s, "ctl1", { name: "ctl1", address: "10.0.0.11", release: DEBIAN_12_ZED });
      new DayOne(s, "day_one", {
        host: h,
        settings: setAt(structuredClone(DAY_ONE_BASE), at, value) as DayOneSettings,
        after: [],
      });
    },
    names: [at, ...alsoNames].map((f) => `DayOne ${f}`),
  };
}

/** Why a Host takes an address the inventory refuses: the rule needs a network the Host is not told. */
const NO_NETWORK =
  "a Host is not told its network: MysqlHaPair and the control plane check the controllers' addresses against managementCidr";
const NOT_IN_OWN_STACK = "a construct id of OpenStackCluster: a Host in one's own stack may have this name";

/** Each inventory field (ROWS' keys) and where it lands when the constructs are used directly. */
const CONSTRUCT_ROWS: Record<string, ConstructRow | TypedRow | InventoryOnlyRow> = {
  cluster: {
    inventoryOnly:
      "the inventory's stack and Ceph's fsid are named after it; a stack of one's own is named by its author",
  },
  release: { typed: "HostProps.release is a ReleaseProfile object (DEBIAN_12_ZED, …)" },
  ha: {
    inventoryOnly:
      "OpenStackCluster picks Heartbeat from it; a stack of one's own builds Heartbeat (or not) itself",
  },
  resource: { typed: "HostProps.resourceKind is a union of two strings" },
  aptProxy: { probe: baseSystem("aptProxy"), names: "BaseSystem aptProxy" },
  "ntpServers[]": { probe: baseSystem("timeServers[0]"), names: "BaseSystem timeServers" },
  "ssh.user": hostRow("user"),
  "ssh.port": hostRow("port"),
  "ssh.privateKeyFile": hostRow("privateKeyFile"),
  "ssh.agent": { typed: "HostProps.agent is a boolean" },
  "ssh.bastion.host": hostRow("bastion.host", WITH_BASTION),
  "ssh.bastion.user": hostRow("bastion.user", WITH_BASTION),
  "ssh.bastion.port": hostRow("bastion.port", WITH_BASTION),
  "ssh.bastion.privateKeyFile": hostRow("bastion.privateKeyFile", WITH_BASTION),
  "ssh.bastion.hostKey": hostRow("bastion.hostKey", WITH_BASTION),
  "ssh.timeout": hostRow("timeout"),
  "ssh.hostKey": {
    inventoryOnly: "a cluster-wide host key; a Host's own hostKey is hosts[].ssh.hostKey's row",
  },
  virtType: { typed: "HostProps.virtType is a union of three strings" },
  datapathType: { typed: "HostProps.datapathType is a union of two strings" },
  "swift.partPower": { probe: swiftPartPower, names: "SwiftRings partPower" },
  "swift.mountCheck": { typed: "SwiftServiceProps.mountCheck is a boolean" },
  imageStore: { typed: "GlanceServiceProps.objectStore is a SwiftService object or none" },
  "ceph.osd.device": {
    probe: cephCluster("osds[0].osd.device", { device: "/dev/sdb" }),
    names: "osd of cmp1: device",
  },
  "ceph.osd.file": { probe: cephCluster("osds[0].osd.file"), names: "osd of cmp1: file" },
  "ceph.osd.sizeGiB": { probe: cephCluster("osds[0].osd.sizeGiB"), names: "osd of cmp1: sizeGiB" },
  "ceph.osdMemoryTargetMiB": {
    probe: cephCluster("osdMemoryTargetMiB"),
    names: "CephCluster s/ceph: osdMemoryTargetMiB",
  },
  "volumeBackends[].name": hostRow("volumeBackends[0].name", WITH_LVM),
  "volumeBackends[].driver": hostRow("volumeBackends[0].driver", WITH_LVM),
  "volumeBackends[].volumeGroup": hostRow("volumeBackends[0].volumeGroup", WITH_LVM),
  "volumeBackends[].targetHelper": hostRow("volumeBackends[0].targetHelper", WITH_LVM),
  "volumeBackends[].pool": hostRow("volumeBackends[0].pool", WITH_RBD),
  "networks.management.cidr": { probe: mysqlHaPair("managementCidr"), names: "MysqlHaPair managementCidr" },
  "networks.management.vip": {
    probe: mysqlHaPair("clientAddress"),
    names: "MysqlHaPair clientAddress",
    takes: [
      [
        "10.0.0.11",
        "a controller's own address is a client address (one controller, no VIP): MysqlHaPair binds nothing more",
      ],
    ],
  },
  "networks.management.vipName": {
    probe: baseSystem("vip.name"),
    names: "BaseSystem vip.name",
  },
  "networks.management.interface": hostRow("managementInterface"),
  "networks.provider.interface": hostRow("providerInterface"),
  "networks.provider.physnet": { probe: neutronPhysnet, names: "NeutronService providerPhysnet" },
  "networks.tunnel.cidr": {
    inventoryOnly: "a Host takes its tunnelAddress and tunnelPrefixLength (hosts[].tunnelAddress's row)",
  },
  "networks.tunnel.interface": hostRow("tunnelInterface"),
  "hosts[].name": hostRow("name", {}, [
    ["nova", NOT_IN_OWN_STACK],
    ["database", NOT_IN_OWN_STACK],
  ]),
  "hosts[].address": hostRow("address", {}, [
    ["10.0.0.0", NO_NETWORK],
    ["10.0.0.255", NO_NETWORK],
  ]),
  "hosts[].roles[]": { typed: "a role is a construct (ControllerNode, ComputeNode, …), not a string" },
  "hosts[].tunnelAddress": hostRow("tunnelAddress", { tunnelPrefixLength: 24 }, [
    [
      "10.2.0.21",
      "a Host is told its tunnel prefix, not its tunnel network: any network of that size is its own",
    ],
  ]),
  "hosts[].interfaces.management": hostRow("managementInterface"),
  "hosts[].interfaces.provider": hostRow("providerInterface"),
  "hosts[].interfaces.tunnel": hostRow("tunnelInterface"),
  "hosts[].ssh.user": hostRow("user"),
  "hosts[].ssh.port": hostRow("port"),
  "hosts[].ssh.privateKeyFile": hostRow("privateKeyFile"),
  "hosts[].ssh.agent": { typed: "HostProps.agent is a boolean" },
  "hosts[].ssh.bastion.host": hostRow("bastion.host", WITH_BASTION),
  "hosts[].ssh.bastion.user": hostRow("bastion.user", WITH_BASTION),
  "hosts[].ssh.bastion.port": hostRow("bastion.port", WITH_BASTION),
  "hosts[].ssh.bastion.privateKeyFile": hostRow("bastion.privateKeyFile", WITH_BASTION),
  "hosts[].ssh.bastion.hostKey": hostRow("bastion.hostKey", WITH_BASTION),
  "hosts[].ssh.timeout": hostRow("timeout"),
  "hosts[].ssh.hostKey": hostRow("hostKey"),
  "hosts[].virtType": { typed: "HostProps.virtType is a union of three strings" },
  "hosts[].datapathType": { typed: "HostProps.datapathType is a union of two strings" },
  "hosts[].swiftDevice": { probe: swiftDevice, names: "SwiftService storage[0].device" },
  "hosts[].volumeBackends[].name": hostRow("volumeBackends[0].name", WITH_LVM),
  "hosts[].volumeBackends[].driver": hostRow("volumeBackends[0].driver", WITH_LVM),
  "hosts[].volumeBackends[].volumeGroup": hostRow("volumeBackends[0].volumeGroup", WITH_LVM),
  "hosts[].volumeBackends[].targetHelper": hostRow("volumeBackends[0].targetHelper", WITH_LVM),
  "hosts[].volumeBackends[].pool": hostRow("volumeBackends[0].pool", WITH_RBD),
  "hosts[].cephOsd.device": {
    probe: cephCluster("osds[0].osd.device", { device: "/dev/sdb" }),
    names: "osd of cmp1: device",
  },
  "hosts[].cephOsd.file": { probe: cephCluster("osds[0].osd.file"), names: "osd of cmp1: file" },
  "hosts[].cephOsd.sizeGiB": { probe: cephCluster("osds[0].osd.sizeGiB"), names: "osd of cmp1: sizeGiB" },
  "dayOne.flavor.name": dayOneRow("flavor.name"),
  "dayOne.flavor.vcpus": dayOneRow("flavor.vcpus"),
  "dayOne.flavor.ramMiB": dayOneRow("flavor.ramMiB"),
  "dayOne.flavor.diskGiB": dayOneRow("flavor.diskGiB"),
  "dayOne.external.name": dayOneRow("external.name", ["tenant.name"]),
  "dayOne.external.cidr": dayOneRow("external.cidr"),
  "dayOne.external.gateway": dayOneRow("external.gateway", ["external.allocationPool"]),
  "dayOne.external.allocationPool.start": dayOneRow("external.allocationPool.start", [
    "external.allocationPool",
  ]),
  "dayOne.external.allocationPool.end": dayOneRow("external.allocationPool.end", ["external.allocationPool"]),
  "dayOne.tenant.name": dayOneRow("tenant.name"),
  "dayOne.tenant.cidr": dayOneRow("tenant.cidr"),
  "dayOne.router.name": dayOneRow("router.name"),
};

/** The construct's message, or undefined when it took the value. */
function constructRefusal(probe: Probe, value: unknown): string | undefined {
  try {
    probe(value);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  return undefined;
}

/** What is wrong with a construct's refusal: one line, naming the prop, "got …: expected …". */
function constructMessageProblem(message: string | undefined, names: readonly string[]): string | undefined {
  if (message === undefined) return "accepted";
  if (!names.some((n) => message.includes(`${n}: got `))) return `names another prop: ${message}`;
  if (!message.includes(": expected ")) return `not "got …: expected …": ${message}`;
  if (message.includes("\n") || CONTROL_CHARACTER.test(message))
    return `not one clean line: ${JSON.stringify(message)}`;
  if (message.length > 600) return `${message.length} characters long`;
  return undefined;
}

/** The values the inventory refuses at a row's field. */
function refusedByInventory(row: Row): unknown[] {
  const taken = new Set<unknown>((row.takes ?? []).map((name) => HOSTILE[name]));
  return [...Object.values(HOSTILE).filter((v) => !taken.has(v)), ...(row.bad ?? [])];
}

describe("the hostile-input table against the constructs", () => {
  it("names where every field of the inventory lands, and nothing else", () => {
    expect(Object.keys(CONSTRUCT_ROWS).sort()).toEqual(Object.keys(ROWS).sort());
  });

  const probed = Object.entries(CONSTRUCT_ROWS).filter((e): e is [string, ConstructRow] => "probe" in e[1]);

  it.each(probed)(
    "%s: the construct takes the inventory's valid value and refuses what it refuses",
    (field, row) => {
      const inventoryRow = ROWS[field];
      const names = typeof row.names === "string" ? [row.names] : row.names;
      if (inventoryRow.ok !== undefined) expect(constructRefusal(row.probe, inventoryRow.ok)).toBeUndefined();
      const takes = new Map(row.takes ?? []);
      const problems = refusedByInventory(inventoryRow)
        .filter((value) => !takes.has(value))
        .flatMap((value) => {
          const problem = constructMessageProblem(constructRefusal(row.probe, value), names);
          return problem ? [`${JSON.stringify(value)?.slice(0, 40)}: ${problem.slice(0, 200)}`] : [];
        });
      expect(problems).toEqual([]);
      // What a construct takes that the inventory refuses, it takes for the reason given (a check that could fail).
      for (const value of takes.keys())
        expect([field, value, constructRefusal(row.probe, value)]).toEqual([field, value, undefined]);
    },
  );
});

/**
 * The typed rows, proven by the compiler (`npm test` type-checks the tests): each line below
 * would compile if the type took the inventory's bad value.
 */
export function typedRowsProofs(): unknown[] {
  return [
    // @ts-expect-error virtType is "auto" | "kvm" | "qemu"
    { ...HOST_BASE, virtType: "xen" } satisfies HostProps,
    // @ts-expect-error datapathType is "system" | "netdev"
    { ...HOST_BASE, datapathType: "dpdk" } satisfies HostProps,
    // @ts-expect-error agent is a boolean
    { ...HOST_BASE, agent: "true" } satisfies HostProps,
    // @ts-expect-error resourceKind is "terraform_data" | "null_resource"
    { ...HOST_BASE, resourceKind: "null_resource\n" } satisfies HostProps,
    // @ts-expect-error release is a ReleaseProfile
    { ...HOST_BASE, release: "debian-12-zed" } satisfies HostProps,
    { ...HOST_BASE, hostKey: HOST_KEY } satisfies HostProps,
  ];
}
