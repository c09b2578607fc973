/**
 * Fields that are each valid but wrong together (issue 25's first class): a host's interfaces,
 * networks that overlap, day-one names that differ only in case, volume backends that share a
 * pool or a name. Each hostile row is refused in one line that names the field where the value
 * was written (a default's field when nobody wrote it); the constructs refuse the same through
 * their own props.
 */
import { InventoryError, parseInventory } from "../lib/cluster/inventory";
import { MAX_HOSTS } from "../lib/cluster/inventory-schema";
import { CONTROL_CHARACTER } from "../lib/core/field-rules";
import { agentInterfacesProblem } from "../lib/services/neutron-agents";
import { backendNameClash, volumeBackendsProblem } from "../lib/services/volume-backends";
import { TerraformStack, Testing } from "cdktf";
import { DEBIAN_12_ZED } from "../lib/core/releases";
import { Host } from "../lib/hosts/host";
import { MysqlHaPair } from "../lib/platform/mysql-ha-pair";
import { KeystoneService } from "../lib/services/keystone";
import { standaloneControlPlane } from "./service-helpers";
import { buildStack } from "./support";

type Data = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Management 10.0.0.0/24 on eth0 (its default), provider eth1, tunnel 10.1.0.0/24 on eth2. */
function valid(): Data {
  return {
    cluster: "test",
    release: "debian-12-zed",
    ssh: { user: "root", privateKeyFile: "/keys/id" },
    networks: {
      management: { cidr: "10.0.0.0/24", vip: "10.0.0.10" },
      provider: { interface: "eth1", physnet: "provider" },
      tunnel: { cidr: "10.1.0.0/24", interface: "eth2" },
    },
    hosts: [
      { name: "ctl1", address: "10.0.0.11", roles: ["controller"] },
      { name: "ctl2", address: "10.0.0.12", roles: ["controller"] },
      { name: "cmp1", address: "10.0.0.21", tunnelAddress: "10.1.0.21", roles: ["compute", "storage"] },
      { name: "cmp2", address: "10.0.0.22", tunnelAddress: "10.1.0.22", roles: ["compute", "storage"] },
      { name: "net1", address: "10.0.0.31", tunnelAddress: "10.1.0.31", roles: ["network"] },
    ],
    dayOne: {
      external: {
        cidr: "10.2.0.0/24",
        gateway: "10.2.0.1",
        allocationPool: { start: "10.2.0.100", end: "10.2.0.199" },
      },
    },
  };
}

function withRbd(d: Data): Data {
  d.ceph = { osd: { file: "/var/lib/ceph/osd.img", sizeGiB: 8 } };
  d.volumeBackends = [{ name: "ceph", driver: "rbd" }];
  return d;
}

interface Row {
  /** What a careful user (or an attacker) writes. */
  readonly change: (d: Data) => void;
  /** The field the one line must name (where the value was written). */
  readonly field: string;
  /** A piece of what it must say was expected. */
  readonly says: string;
  /** A piece it must not say. */
  readonly notSays?: string;
}

const ROWS: Record<string, Row> = {
  "provider interface = the default management interface nobody wrote": {
    change: (d) => (d.networks.provider.interface = "eth0"),
    field: "networks.provider.interface",
    says: "eth0 is the default of networks.management.interface",
  },
  "one host's provider interface = its management interface": {
    change: (d) => (d.hosts[2].interfaces = { management: "ens3", provider: "ens3" }),
    field: "hosts[2].interfaces.provider",
    says: "other than the management interface ens3",
  },
  "a network host's provider interface = the written management interface": {
    change: (d) => {
      d.networks.management.interface = "bond0";
      d.hosts[4].interfaces = { provider: "bond0" };
    },
    field: "hosts[4].interfaces.provider",
    says: "lose its management link",
  },
  "tunnel interface = provider interface": {
    change: (d) => (d.networks.tunnel.interface = "eth1"),
    field: "networks.tunnel.interface",
    says: "other than the provider interface eth1",
    notSays: "management",
  },
  "tunnel interface = management interface with the userspace datapath": {
    change: (d) => {
      d.datapathType = "netdev";
      d.hosts[3].interfaces = { tunnel: "eth0" };
    },
    field: "hosts[3].interfaces.tunnel",
    says: "userspace datapath",
  },
  "tunnel network = management network": {
    change: (d) => {
      d.networks.tunnel.cidr = "10.0.0.0/24";
      for (const h of d.hosts)
        if (h.tunnelAddress) h.tunnelAddress = h.tunnelAddress.replace("10.1.", "10.0.1");
      d.hosts[2].tunnelAddress = "10.0.0.121";
      d.hosts[3].tunnelAddress = "10.0.0.122";
      d.hosts[4].tunnelAddress = "10.0.0.131";
    },
    field: "networks.tunnel.cidr",
    says: "does not overlap networks.management.cidr 10.0.0.0/24",
  },
  "tunnel network inside the management network (a tunnel address = the VIP)": {
    change: (d) => {
      d.networks.tunnel.cidr = "10.0.0.0/28";
      d.hosts[2].tunnelAddress = "10.0.0.10";
      d.hosts[3].tunnelAddress = "10.0.0.3";
      d.hosts[4].tunnelAddress = "10.0.0.4";
    },
    field: "networks.tunnel.cidr",
    says: "a tunnel address could be a host's or the VIP",
  },
  "management network inside the tunnel network": {
    change: (d) => {
      d.networks.tunnel.cidr = "10.0.0.0/16";
      d.hosts[2].tunnelAddress = "10.0.5.21";
      d.hosts[3].tunnelAddress = "10.0.5.22";
      d.hosts[4].tunnelAddress = "10.0.5.31";
    },
    field: "networks.tunnel.cidr",
    says: "overlap networks.management.cidr",
  },
  "day one's external network = the management network": {
    change: (d) => {
      d.dayOne.external = {
        cidr: "10.0.0.0/24",
        gateway: "10.0.0.1",
        allocationPool: { start: "10.0.0.2", end: "10.0.0.250" },
      };
    },
    field: "dayOne.external.cidr",
    says: "the VIP and the hosts' addresses",
  },
  "day one's external network = the tunnel network": {
    change: (d) => {
      d.dayOne.external = {
        cidr: "10.1.0.0/24",
        gateway: "10.1.0.1",
        allocationPool: { start: "10.1.0.2", end: "10.1.0.250" },
      };
    },
    field: "dayOne.external.cidr",
    says: "tunnel addresses",
  },
  "day one's tenant network over the management network": {
    change: (d) => (d.dayOne.tenant = { cidr: "10.0.0.0/16" }),
    field: "dayOne.tenant.cidr",
    says: "hide the management network",
  },
  "day one's default tenant network (192.168.100.0/24) over the management network": {
    change: (d) => {
      d.networks.management = { cidr: "192.168.0.0/16", vip: "192.168.0.10" };
      d.hosts.forEach((h: Data, i: number) => (h.address = `192.168.0.${20 + i}`));
    },
    field: "dayOne.tenant.cidr (its default)",
    says: "does not overlap networks.management.cidr 192.168.0.0/16",
  },
  "two day-one networks whose names differ only in case": {
    change: (d) => {
      d.dayOne.external.name = "Public";
      d.dayOne.tenant = { name: "public" };
    },
    field: "dayOne.tenant.name",
    says: "compared without case",
  },
  "an RBD backend on Ceph's own manager pool": {
    change: (d) =>
      withRbd(d).volumeBackends.push({ name: "health", driver: "rbd", pool: "device_health_metrics" }),
    field: "volumeBackends[1].pool",
    says: "Ceph's own",
  },
  "two RBD backends of one host on one pool": {
    change: (d) => withRbd(d).volumeBackends.push({ name: "ceph2", driver: "rbd", pool: "volumes" }),
    field: "volumeBackends[1].pool",
    says: "a pool no other backend of this host uses ([0] has it)",
  },
  "two RBD backends of one host, one on the default pool, one naming it": {
    change: (d) =>
      (withRbd(d).hosts[2].volumeBackends = [
        { name: "a", driver: "rbd" },
        { name: "b", driver: "rbd", pool: "volumes" },
      ]),
    field: "hosts[2].volumeBackends[1].pool",
    says: "[0] has it",
  },
  "a backend named after os-brick's privsep section": {
    change: (d) => (withRbd(d).volumeBackends[0].name = "privsep_osbrick"),
    field: "volumeBackends[0].name",
    says: "privsep_*",
  },
  "a backend named after Cinder's own privsep section, in capitals": {
    change: (d) => (withRbd(d).volumeBackends[0].name = "CINDER_SYS_ADMIN"),
    field: "volumeBackends[0].name",
    says: "cinder.conf's own sections",
  },
  "one backend name on two hosts for two pools": {
    change: (d) => (withRbd(d).hosts[3].volumeBackends = [{ name: "ceph", driver: "rbd", pool: "fast" }]),
    field: "hosts[3].volumeBackends[0]",
    says: "ceph, rbd pool volumes",
  },
  "one backend name on two hosts that differs only in case": {
    change: (d) => (withRbd(d).hosts[3].volumeBackends = [{ name: "Ceph", driver: "rbd" }]),
    field: "hosts[3].volumeBackends[0]",
    says: "compared without case",
  },
  "aptProxy on port 0": {
    change: (d) => (d.aptProxy = "http://10.0.0.1:0/"),
    field: "aptProxy",
    says: "a port from 1 to 65535",
  },
};

function refusal(data: Data): string | undefined {
  try {
    parseInventory(data, "inventory", "/inventories");
  } catch (err) {
    if (!(err instanceof InventoryError)) throw err;
    return err.message;
  }
  return undefined;
}

describe("relations between fields, refused in one line that names where the value was written", () => {
  it("the base inventory (and each row's change undone) is valid", () => {
    expect(refusal(valid())).toBeUndefined();
    expect(refusal(withRbd(valid()))).toBeUndefined();
  });

  it.each(Object.entries(ROWS))("%s", (_name, row) => {
    const data = valid();
    row.change(data);
    const message = refusal(data);
    expect(message).toBeDefined();
    expect(message).toMatch(new RegExp(`^inventory: ${escape(row.field)}: got .*: expected `));
    expect(message).toContain(row.says);
    if (row.notSays) expect(message).not.toContain(row.notSays);
    expect(message).not.toMatch(CONTROL_CHARACTER);
    expect(message?.includes("\n")).toBe(false);
  });

  it("keeps what is right together: distinct interfaces, one pool per backend, one backend on many hosts", () => {
    const d = withRbd(valid());
    d.datapathType = "netdev";
    d.hosts[2].interfaces = { management: "eth0", provider: "eth1", tunnel: "eth2" };
    d.hosts[3].volumeBackends = [
      { name: "ceph", driver: "rbd" },
      { name: "fast", driver: "rbd", pool: "fast" },
    ];
    // A controller's interfaces are not the agents': no bridge takes them.
    d.hosts[0].interfaces = { management: "eth1" };
    d.dayOne.tenant = { name: "Private", cidr: "10.3.0.0/24" };
    expect(refusal(d)).toBeUndefined();
  });
});

describe("the rules themselves, as the constructs use them", () => {
  it("agentInterfacesProblem: the system datapath may carry the tunnel on the management interface", () => {
    expect(
      agentInterfacesProblem({ management: "eth0", tunnel: "eth0", datapathType: "system" }),
    ).toBeUndefined();
    expect(
      agentInterfacesProblem({ management: "eth0", tunnel: "eth0", datapathType: "netdev" })?.field,
    ).toBe("tunnel");
    expect(
      agentInterfacesProblem({ management: "eth0", provider: "eth0", datapathType: "system" })?.field,
    ).toBe("provider");
  });

  it("volumeBackendsProblem and backendNameClash see the pool a backend gets by default", () => {
    expect(
      volumeBackendsProblem(
        [
          { name: "a", driver: "rbd" },
          { name: "b", driver: "rbd" },
        ],
        "tgtadm",
      )?.field,
    ).toBe("[1].pool");
    const ceph = { name: "ceph", driver: "rbd", pool: "volumes" } as const;
    expect(
      backendNameClash([
        { name: "a", backends: [ceph] },
        { name: "b", backends: [ceph] },
      ]),
    ).toBeUndefined();
    expect(
      backendNameClash([
        { name: "a", backends: [ceph] },
        { name: "b", backends: [{ name: "ceph", driver: "lvm", volumeGroup: "vg", targetHelper: "tgtadm" }] },
      ]),
    ).toMatchObject({ host: 1, field: "[0]" });
  });

  it("NeutronService refuses a host whose provider interface is its management interface (no inventory involved)", () => {
    const inventory = parseInventory(valid(), "inventory", "/inventories");
    const hosts = inventory.hosts.map((h) =>
      h.name === "net1" ? { ...h, interfaces: { ...h.interfaces, provider: h.interfaces.management } } : h,
    );
    expect(() => buildStack({ ...inventory, hosts })).toThrow(
      /NeutronService agents net1: providerInterface: got "eth0": expected an interface other than the management interface eth0/,
    );
  });

  it("CinderService refuses one backend name for two pools on two hosts (no inventory involved)", () => {
    const inventory = parseInventory(withRbd(valid()), "inventory", "/inventories");
    const hosts = inventory.hosts.map((h) =>
      h.name === "cmp2"
        ? { ...h, volumeBackends: [{ name: "ceph", driver: "rbd" as const, pool: "fast" }] }
        : h,
    );
    expect(() => buildStack({ ...inventory, hosts })).toThrow(
      /CinderService.volumeHost cmp2: volumeBackends\[0\]: got ceph \(rbd pool fast\): expected the backend that name is on cmp1/,
    );
  });
});

describe("constructs built in TypeScript refuse what the inventory refuses", () => {
  const stack = () => new TerraformStack(Testing.app(), "own");
  const host = (scope: TerraformStack, name: string, address: string) =>
    new Host(scope, name, { name, address, release: DEBIAN_12_ZED });

  it("two hosts of one stack at one address: the second is refused; an IPv6 address is refused as the inventory does", () => {
    const s = stack();
    host(s, "a", "10.0.0.5");
    expect(() => host(s, "b", "10.0.0.5")).toThrow(
      'Host b address: got "10.0.0.5": expected an address no other host of the stack has (Host a has it)',
    );
    // Another stack is another cloud.
    expect(() => host(stack(), "b", "10.0.0.5")).not.toThrow();
    expect(() => host(stack(), "c", "fd00::5")).toThrow(
      'Host c address: got "fd00::5": expected an IPv4 address (IPv6 is not supported yet',
    );
  });

  it.each([
    [
      "a single address",
      "10.0.0.1",
      'MysqlHaPair managementCidr: got "10.0.0.1": expected an IPv4 network in CIDR form',
    ],
    [
      "a /32",
      "10.0.0.11/32",
      'MysqlHaPair managementCidr: got "10.0.0.11/32": expected an IPv4 network in CIDR form with a prefix from /8 to /30',
    ],
    ["a host's address, not the network's", "10.0.0.11/24", "expected its network address (10.0.0.0/24)"],
    ["an IPv6 network (MariaDB's grant would be '%': every host)", "fd00::/64", "IPv6 is not supported yet"],
    ["the whole Internet", "0.0.0.0/0", "with a prefix from /8 to /30"],
    [
      "a network without the controllers",
      "10.9.0.0/24",
      'MysqlHaPair a address: got "10.0.0.11": expected an address inside managementCidr 10.9.0.0/24',
    ],
  ])("MysqlHaPair refuses %s as managementCidr", (_what, managementCidr, message) => {
    const s = stack();
    const controllers = [host(s, "a", "10.0.0.11"), host(s, "b", "10.0.0.12")];
    const vip = { address: "10.0.0.10", readyFor: () => [] };
    expect(
      () => new MysqlHaPair(s, "db", { controllers, managementCidr, clientAddress: "10.0.0.10", vip }),
    ).toThrow(message);
  });

  it("a control plane's context with a management network that holds no controller is refused by its first service", () => {
    const { stack: s, context } = standaloneControlPlane(DEBIAN_12_ZED);
    expect(
      () => new KeystoneService(s, "keystone2", { context: { ...context, managementCidr: "10.8.0.0/24" } }),
    ).toThrow(
      'ControlPlaneContext ctl1 address: got "10.9.0.1": expected an address inside managementCidr 10.8.0.0/24',
    );
  });
});

describe("inventories larger than the library supports", () => {
  it(`refuses more than MAX_HOSTS (${MAX_HOSTS}) hosts in one line, by their count, before anything is built`, () => {
    const d = valid();
    const extra = MAX_HOSTS - d.hosts.length + 1;
    for (let i = 0; i < extra; i++) {
      d.hosts.push({
        name: `c${i}`,
        address: `10.0.${16 + Math.floor(i / 250)}.${1 + (i % 250)}`,
        roles: ["storage"],
      });
    }
    d.networks.management.cidr = "10.0.0.0/16";
    expect(refusal(d)).toBe(
      `inventory: hosts: got ${MAX_HOSTS + 1} items: expected at most ${MAX_HOSTS} hosts (the largest cluster the benchmark proves; a larger one is not supported yet)`,
    );
    d.hosts.pop();
    expect(refusal(d)).toBeUndefined();
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
