import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { InventoryError, loadInventory, parseInventory } from "../lib/cluster/inventory";
import { DEFAULT_RELEASE } from "../lib/core/releases";
import { EXAMPLES_DIR, listFiles, REPO, runCli, tempDir } from "./support";

/** A small valid inventory; each bad case below changes one thing in a fresh copy. */
type Data = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function valid(): Data {
  return {
    cluster: "test",
    release: "debian-12-zed",
    ha: "heartbeat",
    ssh: { user: "root", privateKeyFile: "~/.ssh/id_ed25519" },
    networks: {
      management: { cidr: "10.0.0.0/24", vip: "10.0.0.10" },
      provider: { interface: "eth1", physnet: "provider" },
      tunnel: { cidr: "10.1.0.0/24", interface: "eth2" },
    },
    hosts: [
      { name: "ctl1", address: "10.0.0.11", roles: ["controller"] },
      { name: "ctl2", address: "10.0.0.12", roles: ["controller"] },
      { name: "cmp1", address: "10.0.0.21", tunnelAddress: "10.1.0.21", roles: ["compute", "storage"] },
      { name: "net1", address: "10.0.0.31", tunnelAddress: "10.1.0.31", roles: ["network"] },
    ],
  };
}

/** `valid()` with the smallest day-one section: the external network's addresses. */
function withDayOne(): Data {
  const d = valid();
  d.dayOne = {
    external: {
      cidr: "10.212.0.0/24",
      gateway: "10.212.0.1",
      allocationPool: { start: "10.212.0.100", end: "10.212.0.199" },
    },
  };
  return d;
}

function ipv6(): Data {
  const d = valid();
  d.networks.management = { cidr: "fd00:10::/64", vip: "fd00:10::10" };
  d.hosts[0].address = "fd00:10::11";
  d.hosts[1].address = "fd00:10::12";
  d.hosts[2].address = "fd00:10::21";
  d.hosts[3].address = "fd00:10::31";
  return d;
}

/** A real ed25519 public key (ssh-keygen's), as a host key is given. */
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDaBDXw96cvH/McasbBs3/MPuDbuVrHHN95ewTKbT3rx";

const IPV6_NOT_SUPPORTED =
  "IPv6 is not supported yet: Heartbeat's haresources, ha.cf's ucast and MariaDB's grants take IPv4 only";

/** A value as the error messages quote it: JSON, a string longer than 60 characters cut there. */
function quoted(value: unknown): string {
  if (typeof value !== "string" || value.length <= 60) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, 60))}… (${value.length} characters)`;
}

const dir = tempDir("inventory");
let fileCount = 0;

function writeInventory(content: Data | string): string {
  const file = path.join(dir, `inventory-${++fileCount}.yaml`);
  fs.writeFileSync(file, typeof content === "string" ? content : YAML.stringify(content));
  return file;
}

function loadError(file: string): InventoryError {
  try {
    loadInventory(file);
  } catch (err) {
    expect(err).toBeInstanceOf(InventoryError);
    return err as InventoryError;
  }
  throw new Error(`${file}: expected an InventoryError, but the inventory loaded`);
}

describe("the examples", () => {
  it.each([
    ["furyu-8-node.yaml", "furyu", 8, "debian-13-epoxy"],
    ["lab-furyu-8-node.yaml", "labfuryu", 8, "debian-13-epoxy"],
    ["lab-small.yaml", "labsmall", 4, "debian-13-epoxy"],
    ["lab-small-zed.yaml", "labsmall", 4, "debian-12-zed"],
  ])("%s loads: cluster %s with %d hosts, release %s", (file, cluster, hosts, release) => {
    const inv = loadInventory(path.join(EXAMPLES_DIR, file));
    expect(inv.cluster).toBe(cluster);
    expect(inv.hosts).toHaveLength(hosts);
    expect(inv.release).toBe(release);
    expect(inv.ha).toBe("heartbeat");
    expect(inv.hosts.filter((h) => h.roles.includes("controller")).map((h) => h.name)).toEqual([
      "controller1",
      "controller2",
    ]);
  });

  it("every example file in examples/ is covered above and valid", () => {
    const files = fs.readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith(".yaml"));
    expect(files.sort()).toEqual([
      "furyu-8-node.yaml",
      "lab-furyu-8-node.yaml",
      "lab-small-zed.yaml",
      "lab-small.yaml",
    ]);
  });

  it("the seed keeps its ~ key path for Terraform to expand; the lab's relative path is taken from examples/", () => {
    const seed = loadInventory(path.join(EXAMPLES_DIR, "furyu-8-node.yaml"));
    expect(seed.hosts.map((h) => h.ssh.privateKeyFile)).toEqual(Array(8).fill("~/.ssh/id_ed25519"));
    const lab = loadInventory(path.join(EXAMPLES_DIR, "lab-small.yaml"));
    expect(new Set(lab.hosts.map((h) => h.ssh.privateKeyFile))).toEqual(
      new Set([path.join(REPO, ".lab", "ssh", "id_ed25519")]),
    );
    expect(lab.aptProxy).toBe("http://10.211.0.1:3142");
    expect(lab.ntpServers).toEqual([]);
  });

  it("the lab examples use OVS's userspace datapath and turn day one on; the seed leaves both at their defaults", () => {
    for (const file of ["lab-small.yaml", "lab-furyu-8-node.yaml"]) {
      const lab = loadInventory(path.join(EXAMPLES_DIR, file));
      expect(lab.datapathType).toBe("netdev");
      // Nested KVM in the lab machine's VM stops guests at boot: the lab emulates.
      expect(lab.virtType).toBe("qemu");
      expect(new Set(lab.hosts.map((h) => `${h.virtType} ${h.datapathType}`))).toEqual(
        new Set(["qemu netdev"]),
      );
      expect(lab.dayOne).toEqual({
        flavor: { name: "m1.tiny", vcpus: 1, ramMiB: 128, diskGiB: 1 },
        external: {
          name: "external",
          physnet: "provider",
          cidr: "10.212.0.0/24",
          gateway: "10.212.0.1",
          allocationPool: { start: "10.212.0.100", end: "10.212.0.199" },
        },
        tenant: { name: "tenant", cidr: "192.168.100.0/24" },
        router: { name: "router" },
      });
    }
    const seed = loadInventory(path.join(EXAMPLES_DIR, "furyu-8-node.yaml"));
    expect([seed.virtType, seed.datapathType, seed.dayOne]).toEqual(["auto", "system", undefined]);
  });

  it("the seed gives each storage host an LVM backend; the lab examples an RBD backend on Ceph with a file OSD", () => {
    const seed = loadInventory(path.join(EXAMPLES_DIR, "furyu-8-node.yaml"));
    const lvm = { name: "lvm", driver: "lvm", volumeGroup: "cinder-volumes", targetHelper: "tgtadm" };
    expect(seed.hosts.map((h) => [h.name, h.volumeBackends])).toEqual(
      seed.hosts.map((h) => [h.name, h.roles.includes("storage") ? [lvm] : []]),
    );
    expect(seed.hosts.filter((h) => h.roles.includes("storage"))).toHaveLength(4);
    expect(seed.ceph).toBeUndefined();
    const rbd = { name: "ceph", driver: "rbd", pool: "volumes" };
    for (const file of ["lab-small.yaml", "lab-furyu-8-node.yaml"]) {
      const lab = loadInventory(path.join(EXAMPLES_DIR, file));
      expect(lab.ceph).toEqual({ osdMemoryTargetMiB: 1024 });
      expect(lab.hosts.map((h) => [h.name, h.volumeBackends, h.cephOsd])).toEqual(
        lab.hosts.map((h) =>
          h.roles.includes("storage")
            ? [h.name, [rbd], { file: "/var/lib/ceph/osd-block.img", sizeGiB: 8 }]
            : [h.name, [], undefined],
        ),
      );
    }
  });
});

describe("defaults and normalization", () => {
  it("gives an inventory that names no release the current one, Debian 13 with Epoxy", () => {
    const d = valid();
    delete d.release;
    expect(parseInventory(d, "x.yaml", "/base").release).toBe("debian-13-epoxy");
    expect(DEFAULT_RELEASE).toBe("debian-13-epoxy");
    // A release named is kept: an existing Zed cloud stays Zed.
    expect(parseInventory(valid(), "x.yaml", "/base").release).toBe("debian-12-zed");
  });

  it("fills in every default", () => {
    const d = valid();
    delete d.ha;
    delete d.ssh;
    const inv = parseInventory(d, "x.yaml", "/base");
    expect(inv.ha).toBe("heartbeat");
    expect(inv.resource).toBe("terraform_data");
    expect(inv.aptProxy).toBeUndefined();
    expect(inv.ntpServers).toEqual(["0.debian.pool.ntp.org", "1.debian.pool.ntp.org"]);
    expect(inv.management).toEqual({
      cidr: "10.0.0.0/24",
      vip: "10.0.0.10",
      vipName: "controller",
      interface: "eth0",
    });
    expect(inv.hosts[3].interfaces).toEqual({ management: "eth0", provider: "eth1", tunnel: "eth2" });
    expect([inv.virtType, inv.datapathType, inv.dayOne]).toEqual(["auto", "system", undefined]);
    expect(inv.hosts.map((h) => [h.virtType, h.datapathType])).toEqual(Array(4).fill(["auto", "system"]));
    expect(inv.hosts[0].ssh).toEqual({
      user: "root",
      port: 22,
      agent: false,
      privateKeyFile: "~/.ssh/id_ed25519",
      hostKey: undefined,
      timeout: "5m",
      bastion: undefined,
    });
  });

  it("merges a host's ssh settings over the inventory's, and resolves relative key paths", () => {
    const d = valid();
    d.ssh = { user: "deploy", port: 2222, privateKeyFile: "keys/id", bastion: { host: "jump.example" } };
    d.hosts[1].ssh = { user: "admin", hostKey: HOST_KEY, privateKeyFile: "/abs/key" };
    d.hosts[2].ssh = { agent: true };
    d.hosts[3].interfaces = { provider: "ens4", management: "ens3" };
    d.hosts[0].roles = ["controller", "controller"];
    const inv = parseInventory(d, "x.yaml", "/inventories");
    expect(inv.hosts[0].roles).toEqual(["controller"]);
    expect(inv.hosts[0].ssh).toMatchObject({
      user: "deploy",
      port: 2222,
      privateKeyFile: "/inventories/keys/id",
    });
    expect(inv.hosts[0].ssh.bastion).toEqual({
      host: "jump.example",
      user: "deploy",
      port: 22,
      privateKeyFile: undefined,
      hostKey: undefined,
    });
    expect(inv.hosts[1].ssh).toMatchObject({ user: "admin", port: 2222, privateKeyFile: "/abs/key" });
    expect(inv.hosts[1].ssh.hostKey).toBe(HOST_KEY);
    expect(inv.hosts[0].ssh.hostKey).toBeUndefined();
    expect(inv.hosts[2].ssh.agent).toBe(true);
    expect(inv.hosts[2].ssh.privateKeyFile).toBeUndefined();
    expect(inv.hosts[3].interfaces).toEqual({ management: "ens3", provider: "ens4", tunnel: "eth2" });
  });

  it("gives each host the inventory's virtType and datapathType unless it has its own", () => {
    const d = valid();
    d.virtType = "qemu";
    d.datapathType = "netdev";
    d.hosts[2].virtType = "kvm";
    d.hosts[3].datapathType = "system";
    const inv = parseInventory(d);
    expect([inv.virtType, inv.datapathType]).toEqual(["qemu", "netdev"]);
    expect(inv.hosts.map((h) => [h.name, h.virtType, h.datapathType])).toEqual([
      ["ctl1", "qemu", "netdev"],
      ["ctl2", "qemu", "netdev"],
      ["cmp1", "kvm", "netdev"],
      ["net1", "qemu", "system"],
    ]);
  });

  it("gives each storage host the inventory's volumeBackends unless it has its own ([]: none), the release's target helper unless named", () => {
    const d = valid();
    d.hosts.push({ name: "stor1", address: "10.0.0.41", roles: ["storage"] });
    d.hosts.push({ name: "stor2", address: "10.0.0.42", roles: ["storage"] });
    d.volumeBackends = [{ name: "lvm", driver: "lvm", volumeGroup: "cinder-volumes" }];
    d.hosts[4].volumeBackends = [
      { name: "fast", driver: "lvm", volumeGroup: "ssd+vg_1.a", targetHelper: "lioadm" },
      { name: "Slow_2", driver: "lvm", volumeGroup: "hdd", targetHelper: "lioadm" },
    ];
    d.hosts[5].volumeBackends = [];
    const inv = parseInventory(d);
    const lvm = { name: "lvm", driver: "lvm", volumeGroup: "cinder-volumes", targetHelper: "tgtadm" };
    expect(inv.volumeBackends).toEqual([lvm]);
    expect(inv.hosts.map((h) => [h.name, h.volumeBackends])).toEqual([
      ["ctl1", []],
      ["ctl2", []],
      ["cmp1", [lvm]],
      ["net1", []],
      [
        "stor1",
        [
          { name: "fast", driver: "lvm", volumeGroup: "ssd+vg_1.a", targetHelper: "lioadm" },
          { name: "Slow_2", driver: "lvm", volumeGroup: "hdd", targetHelper: "lioadm" },
        ],
      ],
      ["stor2", []],
    ]);
    // Without the key anywhere: no backends, so no cinder-volume.
    expect(parseInventory(valid()).hosts.flatMap((h) => h.volumeBackends)).toEqual([]);
    // Ubuntu's default helper is its profile's too.
    const ubuntu = valid();
    ubuntu.release = "ubuntu-2404-caracal";
    ubuntu.hosts[2].volumeBackends = [{ name: "lvm", driver: "lvm", volumeGroup: "cinder-volumes" }];
    expect(parseInventory(ubuntu).hosts[2].volumeBackends).toEqual([lvm]);
  });

  it("fills in day one's defaults, and takes the external network's physnet from networks.provider", () => {
    const d = withDayOne();
    d.networks.provider.physnet = "physnet1";
    expect(parseInventory(d).dayOne).toEqual({
      flavor: { name: "m1.tiny", vcpus: 1, ramMiB: 128, diskGiB: 1 },
      external: {
        name: "external",
        physnet: "physnet1",
        cidr: "10.212.0.0/24",
        gateway: "10.212.0.1",
        allocationPool: { start: "10.212.0.100", end: "10.212.0.199" },
      },
      tenant: { name: "tenant", cidr: "192.168.100.0/24" },
      router: { name: "router" },
    });
    d.dayOne.flavor = { name: "m1.nano", ramMiB: 96 };
    d.dayOne.tenant = { name: "demo-net", cidr: "10.9.0.0/24" };
    d.dayOne.router = { name: "demo-router" };
    d.dayOne.external.name = "public1";
    const inv = parseInventory(d);
    expect(inv.dayOne?.flavor).toEqual({ name: "m1.nano", vcpus: 1, ramMiB: 96, diskGiB: 1 });
    expect(inv.dayOne?.tenant).toEqual({ name: "demo-net", cidr: "10.9.0.0/24" });
    expect([inv.dayOne?.router.name, inv.dayOne?.external.name]).toEqual(["demo-router", "public1"]);
  });

  it("accepts ha: single with one controller and no VIP", () => {
    const single = valid();
    single.ha = "single";
    delete single.networks.management.vip;
    single.hosts.splice(1, 1);
    expect(parseInventory(single).hosts).toHaveLength(3);
  });
});

/** `valid()` with the storage host's backends set to `backends`. */
function withBackends(...backends: Data[]): Data {
  const d = valid();
  d.hosts[2].volumeBackends = backends;
  return d;
}

const LVM: Data = { name: "lvm-1", driver: "lvm", volumeGroup: "cinder-volumes" };
const NAME_EXPECTED =
  "a backend name of letters, digits, '_' and '-', starting with a letter or digit, at most 63 characters";
const RESERVED_EXPECTED =
  "a backend name that is not one of cinder.conf's own sections (DEFAULT, backend, backend_defaults, barbican, cinder_sys_admin, coordination, cors, database, fc-zone-manager, glance, healthcheck, key_manager, keystone_authtoken, nova, os_brick, privsep, profiler, service_user, ssl, vault, oslo_*, privsep_*)";
const VG_EXPECTED =
  "a volume group name of letters, digits and '+_.-', not starting with '-', not '.' or '..', at most 127 characters";

const RBD: Data = { name: "ceph", driver: "rbd" };
const OSD_FILE: Data = { file: "/var/lib/ceph/osd.img", sizeGiB: 8 };

/** `valid()` with Ceph (a file OSD for every storage host) and the storage host's backends. */
function withCeph(...backends: Data[]): Data {
  const d = withBackends(...backends);
  d.ceph = { osd: OSD_FILE };
  return d;
}

/** Bad Ceph settings: pool names (commands, capabilities), OSD paths (scripts, a symlink), sizes, and what needs what. */
function cephCases(): [string, () => Data, string][] {
  const POOL_EXPECTED =
    "a pool name of lowercase letters, digits, '_' and '-', starting with a letter, at most 63 characters";
  const FILE_EXPECTED =
    "an absolute file path of letters, digits and '._-', without '.' or '..' parts, under /var/lib/ceph/ (outside its daemons' folders osd, mon, mgr, mds, tmp, crash, radosgw, bootstrap-*) or /srv/ (outside Swift's /srv/node)";
  const DEVICE_EXPECTED =
    "a block device path under /dev/ of letters, digits and '._-', without '.' or '..' parts";
  const badPool = (pool: string): [string, () => Data, string] => [
    `an RBD pool named ${JSON.stringify(pool)}`,
    () => withCeph({ ...RBD, pool }),
    `hosts[2].volumeBackends[0].pool: got ${quoted(pool)}: expected ${POOL_EXPECTED}`,
  ];
  const badOsd = (osd: Data, key: string, value: unknown, expected: string): [string, () => Data, string] => [
    `an OSD ${JSON.stringify(osd)}`,
    () => {
      const d = withCeph(RBD);
      d.hosts[2].cephOsd = osd;
      return d;
    },
    `hosts[2].cephOsd.${key}: got ${quoted(value)}: expected ${expected}`,
  ];
  return [
    badPool("Volumes"),
    badPool("vol umes"),
    badPool("volumes, allow *"),
    badPool('volumes"'),
    badPool("$(id)"),
    badPool(""),
    badPool("v".repeat(64)),
    badOsd({ file: "relative.img", sizeGiB: 8 }, "file", "relative.img", FILE_EXPECTED),
    badOsd({ file: "/var/lib/../etc/passwd", sizeGiB: 8 }, "file", "/var/lib/../etc/passwd", FILE_EXPECTED),
    badOsd({ file: "/var/lib/ceph/osd img", sizeGiB: 8 }, "file", "/var/lib/ceph/osd img", FILE_EXPECTED),
    badOsd({ file: "/var/lib/$(id)", sizeGiB: 8 }, "file", "/var/lib/$(id)", FILE_EXPECTED),
    badOsd(
      { file: "/var/lib/ceph/osd.img", sizeGiB: 1 },
      "sizeGiB",
      1,
      "a whole number of GiB from 2 to 65536",
    ),
    [
      "an OSD of 2.5 GiB",
      () => {
        const d = withCeph(RBD);
        d.hosts[2].cephOsd = { file: "/var/lib/ceph/osd.img", sizeGiB: 2.5 };
        return d;
      },
      "hosts[2].cephOsd.sizeGiB: got 2.5: expected a whole number of GiB from 2 to 65536",
    ],
    badOsd({ device: "/etc/passwd" }, "device", "/etc/passwd", DEVICE_EXPECTED),
    badOsd({ device: "/dev/../etc/passwd" }, "device", "/dev/../etc/passwd", DEVICE_EXPECTED),
    badOsd({ device: "/dev/sdb;reboot" }, "device", "/dev/sdb;reboot", DEVICE_EXPECTED),
    [
      "an RBD backend without a ceph section",
      () => withBackends(RBD),
      'hosts[2].volumeBackends[0].driver: got "rbd": expected a top-level ceph section too (the cluster the backend\'s volumes are in)',
    ],
    [
      "a default RBD backend without a ceph section",
      () => ({ ...valid(), volumeBackends: [RBD] }),
      'volumeBackends[0].driver: got "rbd": expected a top-level ceph section too (the cluster the backend\'s volumes are in)',
    ],
    [
      "an OSD that is neither a device nor a file",
      () => {
        const d = withCeph(RBD);
        d.hosts[2].cephOsd = {};
        return d;
      },
      "hosts[2].cephOsd: got {}: expected { device: /dev/NAME } or { file: /PATH, sizeGiB: N }",
    ],
    [
      "a storage host without an OSD",
      () => {
        const d = withCeph(RBD);
        d.ceph = {};
        return d;
      },
      "hosts[2].cephOsd: got none and no ceph.osd: expected this storage host's OSD ({ device: /dev/NAME } or { file: /PATH, sizeGiB: N }), here or as ceph.osd for every storage host",
    ],
    [
      "an OSD on a host without role storage",
      () => {
        const d = withCeph(RBD);
        d.hosts[3].cephOsd = OSD_FILE;
        return d;
      },
      'hosts[3].cephOsd: got {"file":"/var/lib/ceph/osd.img","sizeGiB":8}: expected no cephOsd on a host without role storage (OSDs run on the storage hosts)',
    ],
    [
      "an OSD without a ceph section",
      () => {
        const d = valid();
        d.hosts[2].cephOsd = OSD_FILE;
        return d;
      },
      'hosts[2].cephOsd: got {"file":"/var/lib/ceph/osd.img","sizeGiB":8}: expected a top-level ceph section too (without it there is no Ceph cluster)',
    ],
    [
      "a ceph section without storage hosts",
      () => {
        const d = valid();
        d.hosts[2].roles = ["compute"];
        d.ceph = { osd: OSD_FILE };
        return d;
      },
      "ceph: got a ceph section and no host with role storage: expected at least one storage host (each runs an OSD)",
    ],
    [
      "an OSD memory target below Ceph's least",
      () => {
        const d = withCeph(RBD);
        d.ceph.osdMemoryTargetMiB = 512;
        return d;
      },
      "ceph.osdMemoryTargetMiB: got 512: expected a whole number of MiB from 896 (Ceph's least) to 1048576",
    ],
  ];
}

/** Bad volume backends: each value where it would land (a section name, an INI value, a shell word). */
function volumeBackendCases(): [string, () => Data, string][] {
  const at = "hosts[2].volumeBackends";
  const badName = (name: unknown, expected = NAME_EXPECTED): [string, () => Data, string] => [
    `a backend named ${JSON.stringify(name)}`,
    () => withBackends({ ...LVM, name }),
    `${at}[0].name: got ${quoted(name)}: expected ${expected}`,
  ];
  const badGroup = (volumeGroup: string): [string, () => Data, string] => [
    `a volume group named ${JSON.stringify(volumeGroup)}`,
    () => withBackends({ ...LVM, volumeGroup }),
    `${at}[0].volumeGroup: got ${quoted(volumeGroup)}: expected ${VG_EXPECTED}`,
  ];
  return [
    badName("lvm]\n[DEFAULT", "no control or invisible characters (U+000A at character 5)"),
    badName("lvm-1,lvm-2"),
    badName("lvm@host#pool"),
    badName("$(reboot)"),
    badName("-lvm"),
    badName(""),
    badName("a".repeat(64)),
    badName("database", RESERVED_EXPECTED),
    badName("default", RESERVED_EXPECTED),
    badName("Keystone_Authtoken", RESERVED_EXPECTED),
    badName("oslo_messaging_rabbit", RESERVED_EXPECTED),
    badGroup("-vg"),
    badGroup("."),
    badGroup(".."),
    badGroup("cinder volumes"),
    badGroup("vg;rm -rf /"),
    badGroup("vg'$(id)'"),
    badGroup("vg/lv"),
    badGroup(""),
    badGroup("v".repeat(128)),
    [
      "a backend without a name",
      () => withBackends({ driver: "lvm", volumeGroup: "cinder-volumes" }),
      `${at}[0].name: missing: expected string, received undefined`,
    ],
    [
      "a driver that does not exist (yet)",
      () => withBackends({ ...LVM, driver: "nfs" }),
      `${at}[0].driver: got "nfs": expected a volume backend driver: lvm, rbd`,
    ],
    [
      "a backend without a driver",
      () => withBackends({ name: "lvm-1", volumeGroup: "cinder-volumes" }),
      `${at}[0].driver: missing: expected a volume backend driver: lvm, rbd`,
    ],
    [
      "an LVM backend without a volume group",
      () => withBackends({ name: "lvm-1", driver: "lvm" }),
      `${at}[0].volumeGroup: missing: expected string, received undefined`,
    ],
    [
      "an unknown target helper",
      () => withBackends({ ...LVM, targetHelper: "iet" }),
      `${at}[0].targetHelper: got "iet": expected one of "tgtadm"|"lioadm"`,
    ],
    [
      "an unknown key in a backend",
      () => withBackends({ ...LVM, pool: "x" }),
      `${at}[0].pool: unknown key "pool": no such key (check its spelling)`,
    ],
    [
      "volumeBackends that is not a list",
      () => ({ ...valid(), volumeBackends: LVM }),
      'volumeBackends: got {"name":"lvm-1","driver":"lvm","volumeGroup":"cinder-volumes"}: expected array, received object',
    ],
    [
      "two backends of one name on a host",
      () => withBackends(LVM, { ...LVM, volumeGroup: "other" }),
      `${at}[1].name: got "lvm-1": expected a name no other backend of this host has ([0])`,
    ],
    [
      "two backends whose names differ only in case (Cinder's database does not tell them apart)",
      () => withBackends(LVM, { ...LVM, name: "LVM-1", volumeGroup: "other" }),
      `${at}[1].name: got "LVM-1": expected a name no other backend of this host has ([0])`,
    ],
    [
      "two backends on one volume group",
      () => withBackends(LVM, { ...LVM, name: "lvm-2" }),
      `${at}[1].volumeGroup: got "cinder-volumes": expected a volume group no other backend of this host uses ([0] has it)`,
    ],
    [
      "two target helpers on one host (the release's default and another)",
      () => withBackends(LVM, { name: "lvm-2", driver: "lvm", volumeGroup: "other", targetHelper: "lioadm" }),
      `${at}[1].targetHelper: got "lioadm": expected the target helper of the host's other backends (tgtadm): two iSCSI targets cannot share port 3260`,
    ],
    [
      "a bad backend in the inventory's default list",
      () => ({ ...valid(), volumeBackends: [LVM, LVM] }),
      'volumeBackends[1].name: got "lvm-1": expected a name no other backend of this host has ([0])',
    ],
    [
      "volumeBackends on a host without role storage",
      () => {
        const d = valid();
        d.hosts[3].volumeBackends = [LVM];
        return d;
      },
      `hosts[3].volumeBackends: got ["lvm-1"]: expected no volumeBackends on a host without role storage (they are cinder-volume's)`,
    ],
    [
      "an empty volumeBackends on a host without role storage",
      () => {
        const d = valid();
        d.hosts[0].volumeBackends = [];
        return d;
      },
      "hosts[0].volumeBackends: got []: expected no volumeBackends on a host without role storage (they are cinder-volume's)",
    ],
  ];
}

/** [what is wrong, the inventory (data or YAML text), the message after "<file>: "] */
const BAD: [string, () => Data | string, string][] = [
  [
    "the userspace datapath without a tunnel network (it would move the management address)",
    () => {
      const d = valid();
      delete d.networks.tunnel;
      for (const h of d.hosts) delete h.tunnelAddress;
      d.datapathType = "netdev";
      return d;
    },
    'hosts[2].datapathType: got "netdev": expected system, or networks.tunnel set: the userspace datapath moves the tunnel address onto an OVS bridge, never the management address',
  ],
  ...volumeBackendCases(),
  ...cephCases(),
  [
    "an unknown top-level key",
    () => ({ ...valid(), clustr: "x" }),
    'clustr: unknown key "clustr": no such key (check its spelling)',
  ],
  [
    "an unknown key in a host",
    () => {
      const d = valid();
      d.hosts[1].adress = "10.0.0.12";
      return d;
    },
    'hosts[1].adress: unknown key "adress": no such key (check its spelling)',
  ],
  [
    "an unknown key in a nested object",
    () => {
      const d = valid();
      d.networks.management.vipname = "ctl";
      return d;
    },
    'networks.management.vipname: unknown key "vipname": no such key (check its spelling)',
  ],
  [
    "a duplicate host name",
    () => {
      const d = valid();
      d.hosts[2].name = "ctl1";
      return d;
    },
    'hosts[2].name: got "ctl1": expected a name not used before (hosts[0])',
  ],
  [
    "a host named like the VIP",
    () => {
      const d = valid();
      d.hosts[3].name = "controller";
      return d;
    },
    'hosts[3].name: got "controller": expected a name other than the VIP\'s name (networks.management.vipName)',
  ],
  [
    "a duplicate address",
    () => {
      const d = valid();
      d.hosts[3].address = "10.0.0.21";
      return d;
    },
    'hosts[3].address: got "10.0.0.21": expected an address not used before (hosts[2])',
  ],
  [
    "an IPv6 management network",
    () => ipv6(),
    `networks.management.cidr: got "fd00:10::/64": expected an IPv4 network in CIDR form with a prefix from /8 to /30, such as 10.20.0.0/24 (${IPV6_NOT_SUPPORTED})`,
  ],
  [
    "an address outside the management network",
    () => {
      const d = valid();
      d.hosts[2].address = "10.9.0.21";
      return d;
    },
    'hosts[2].address: got "10.9.0.21": expected an address inside the management network 10.0.0.0/24',
  ],
  [
    "an IPv6 address in an IPv4 management network",
    () => {
      const d = valid();
      d.hosts[0].address = "fd00:10::11";
      return d;
    },
    `hosts[0].address: got "fd00:10::11": expected an IPv4 address (${IPV6_NOT_SUPPORTED})`,
  ],
  [
    "a VIP that a host uses",
    () => {
      const d = valid();
      d.networks.management.vip = "10.0.0.12";
      return d;
    },
    'networks.management.vip: got "10.0.0.12": expected an address no host uses (hosts[1] has it)',
  ],
  [
    "a VIP outside the network",
    () => {
      const d = valid();
      d.networks.management.vip = "10.5.0.10";
      return d;
    },
    'networks.management.vip: got "10.5.0.10": expected an address inside the management network 10.0.0.0/24',
  ],
  [
    "no VIP with ha: heartbeat",
    () => {
      const d = valid();
      delete d.networks.management.vip;
      return d;
    },
    "networks.management.vip: got undefined: expected a virtual IP for ha: heartbeat",
  ],
  [
    "no VIP with ha left to its default (heartbeat)",
    () => {
      const d = valid();
      delete d.ha;
      delete d.networks.management.vip;
      return d;
    },
    "networks.management.vip: got undefined: expected a virtual IP for ha: heartbeat",
  ],
  [
    "a VIP with ha: single",
    () => {
      const d = valid();
      d.ha = "single";
      d.hosts.splice(1, 1);
      return d;
    },
    'networks.management.vip: got "10.0.0.10": expected no virtual IP with ha: single (the controller\'s own address is used)',
  ],
  [
    "one controller with ha: heartbeat",
    () => {
      const d = valid();
      d.hosts.splice(1, 1);
      return d;
    },
    'hosts: got ["ctl1"]: expected exactly 2 host(s) with role controller for ha: heartbeat (an active/passive pair)',
  ],
  [
    "three controllers with ha: heartbeat",
    () => {
      const d = valid();
      d.hosts.push({ name: "ctl3", address: "10.0.0.13", roles: ["controller"] });
      return d;
    },
    'hosts: got ["ctl1","ctl2","ctl3"]: expected exactly 2 host(s) with role controller for ha: heartbeat (an active/passive pair)',
  ],
  [
    "two controllers with ha: single",
    () => {
      const d = valid();
      d.ha = "single";
      delete d.networks.management.vip;
      return d;
    },
    'hosts: got ["ctl1","ctl2"]: expected exactly 1 host(s) with role controller for ha: single (use ha: heartbeat for two)',
  ],
  [
    "no compute host",
    () => {
      const d = valid();
      d.hosts[2].roles = ["storage"];
      return d;
    },
    'hosts: got "no host with role compute": expected at least one host with role compute for Nova\'s compute service',
  ],
  [
    "no storage host",
    () => {
      const d = valid();
      d.hosts[2].roles = ["compute"];
      return d;
    },
    "hosts: got \"no host with role storage\": expected at least one host with role storage for Swift's storage servers and Cinder's volume service",
  ],
  [
    "no network host",
    () => {
      const d = valid();
      d.hosts.splice(3, 1);
      return d;
    },
    'hosts: got "no host with role network": expected at least one host with role network for Neutron\'s L3 and DHCP agents',
  ],
  [
    "a host name with upper case",
    () => {
      const d = valid();
      d.hosts[0].name = "Ctl1";
      return d;
    },
    "hosts[0].name: got \"Ctl1\": expected a hostname: lowercase letters, digits and '-', 1 to 63 characters, starting with a letter, not ending with '-'",
  ],
  [
    "a host name with an underscore",
    () => {
      const d = valid();
      d.hosts[1].name = "ctl_2";
      return d;
    },
    "hosts[1].name: got \"ctl_2\": expected a hostname: lowercase letters, digits and '-', 1 to 63 characters, starting with a letter, not ending with '-'",
  ],
  [
    "a bad IP address",
    () => {
      const d = valid();
      d.hosts[2].address = "10.0.0.256";
      return d;
    },
    'hosts[2].address: got "10.0.0.256": expected an IPv4 address',
  ],
  [
    "a bad release",
    () => ({ ...valid(), release: "debian-11-yoga" }),
    'release: got "debian-11-yoga": expected one of "debian-12-zed"|"debian-13-epoxy"|"ubuntu-2404-caracal"',
  ],
  [
    "an unknown role",
    () => {
      const d = valid();
      d.hosts[0].roles = ["controler"];
      return d;
    },
    'hosts[0].roles[0]: got "controler": expected one of "controller"|"compute"|"storage"|"network"',
  ],
  [
    "a missing required field",
    () => {
      const d = valid();
      delete d.cluster;
      return d;
    },
    "cluster: missing: expected string, received undefined",
  ],
  [
    "an apt proxy that is not http",
    () => ({ ...valid(), aptProxy: "ftp://10.0.0.1:3142" }),
    'aptProxy: got "ftp://10.0.0.1:3142": expected an http:// or https:// URL such as http://10.0.0.1:3142',
  ],
  [
    "a tunnel address outside the tunnel network",
    () => {
      const d = valid();
      d.hosts[2].tunnelAddress = "10.2.0.21";
      return d;
    },
    'hosts[2].tunnelAddress: got "10.2.0.21": expected an address inside the tunnel network 10.1.0.0/24',
  ],
  [
    "no tunnel address for a compute host while networks.tunnel is set",
    () => {
      const d = valid();
      delete d.hosts[2].tunnelAddress;
      return d;
    },
    "hosts[2].tunnelAddress: got undefined: expected an address in 10.1.0.0/24: compute and network hosts carry tunnels",
  ],
  [
    "a tunnel address without networks.tunnel",
    () => {
      const d = valid();
      delete d.networks.tunnel;
      return d;
    },
    'hosts[2].tunnelAddress: got "10.1.0.21": expected no tunnelAddress unless networks.tunnel is set',
  ],
  [
    "a duplicate tunnel address",
    () => {
      const d = valid();
      d.hosts[3].tunnelAddress = "10.1.0.21";
      return d;
    },
    'hosts[3].tunnelAddress: got "10.1.0.21": expected an address not used before (hosts[2])',
  ],
  [
    "a network host without a provider interface",
    () => {
      const d = valid();
      delete d.networks.provider;
      return d;
    },
    "hosts[3].interfaces.provider: got undefined: expected a provider interface for a network host " +
      "(set networks.provider.interface or the host's interfaces.provider)",
  ],
  [
    "an unknown virtType",
    () => ({ ...valid(), virtType: "xen" }),
    'virtType: got "xen": expected one of "auto"|"kvm"|"qemu"',
  ],
  [
    "an unknown datapathType on a host",
    () => {
      const d = valid();
      d.hosts[3].datapathType = "dpdk";
      return d;
    },
    'hosts[3].datapathType: got "dpdk": expected one of "system"|"netdev"',
  ],
  [
    "a virtType on a host without role compute",
    () => {
      const d = valid();
      d.hosts[3].virtType = "qemu";
      return d;
    },
    'hosts[3].virtType: got "qemu": expected no virtType on a host without role compute (it is nova-compute\'s hypervisor)',
  ],
  [
    "a datapathType on a controller",
    () => {
      const d = valid();
      d.hosts[0].datapathType = "netdev";
      return d;
    },
    'hosts[0].datapathType: got "netdev": expected no datapathType on a host without role compute or network (it is the Open vSwitch agent\'s datapath)',
  ],
  [
    "day one without networks.provider",
    () => {
      const d = withDayOne();
      delete d.networks.provider;
      return d;
    },
    "dayOne.external: got no networks.provider: expected networks.provider, whose physnet the flat external network is on",
  ],
  [
    "day one without its external network",
    () => ({ ...valid(), dayOne: { flavor: { ramMiB: 64 } } }),
    "dayOne.external: missing: expected object, received undefined",
  ],
  [
    "a misspelt day-one key",
    () => {
      const d = withDayOne();
      d.dayOne.flavor = { ram: 64 };
      return d;
    },
    'dayOne.flavor.ram: unknown key "ram": no such key (check its spelling)',
  ],
  [
    "a day-one name with a space",
    () => {
      const d = withDayOne();
      d.dayOne.router = { name: "my router" };
      return d;
    },
    "dayOne.router.name: got \"my router\": expected a name of letters, digits, '_', '.' and '-', starting with a letter or digit, at most 64 characters",
  ],
  [
    "a flavor's RAM given as text",
    () => {
      const d = withDayOne();
      d.dayOne.flavor = { ramMiB: "128" };
      return d;
    },
    'dayOne.flavor.ramMiB: got "128": expected a whole number from 1 to 2147483647',
  ],
  [
    "a flavor without vCPUs",
    () => {
      const d = withDayOne();
      d.dayOne.flavor = { vcpus: 0 };
      return d;
    },
    "dayOne.flavor.vcpus: got 0: expected a whole number from 1 to 2147483647",
  ],
  [
    "an IPv6 external network",
    () => {
      const d = withDayOne();
      d.dayOne.external.cidr = "fd00:212::/64";
      return d;
    },
    'dayOne.external.cidr: got "fd00:212::/64": expected an IPv4 network in CIDR form, such as 10.212.0.0/24',
  ],
  [
    "an external network given by one of its addresses",
    () => {
      const d = withDayOne();
      d.dayOne.external.cidr = "10.212.0.1/24";
      return d;
    },
    'dayOne.external.cidr: got "10.212.0.1/24": expected its network address (10.212.0.0/24)',
  ],
  [
    "an external gateway outside the external network",
    () => {
      const d = withDayOne();
      d.dayOne.external.gateway = "10.213.0.1";
      return d;
    },
    'dayOne.external.gateway: got "10.213.0.1": expected an IPv4 address inside 10.212.0.0/24, not its network or broadcast address',
  ],
  [
    "an allocation pool outside the external network",
    () => {
      const d = withDayOne();
      d.dayOne.external.allocationPool.start = "10.211.0.100";
      return d;
    },
    'dayOne.external.allocationPool.start: got "10.211.0.100": expected an IPv4 address inside 10.212.0.0/24, not its network or broadcast address',
  ],
  [
    "an allocation pool that ends before it starts",
    () => {
      const d = withDayOne();
      d.dayOne.external.allocationPool = { start: "10.212.0.199", end: "10.212.0.100" };
      return d;
    },
    'dayOne.external.allocationPool: got "10.212.0.199-10.212.0.100": expected a start no later than the end',
  ],
  [
    "an allocation pool with the gateway in it",
    () => {
      const d = withDayOne();
      d.dayOne.external.gateway = "10.212.0.150";
      return d;
    },
    'dayOne.external.allocationPool: got "10.212.0.100-10.212.0.199": expected a range without the gateway 10.212.0.150',
  ],
  [
    "a tenant network inside the external one",
    () => {
      const d = withDayOne();
      d.dayOne.tenant = { cidr: "10.212.0.128/25" };
      return d;
    },
    'dayOne.tenant.cidr: got "10.212.0.128/25": expected a network that does not overlap the external network 10.212.0.0/24',
  ],
  [
    "one name for both day-one networks",
    () => {
      const d = withDayOne();
      d.dayOne.tenant = { name: "external" };
      return d;
    },
    'dayOne.tenant.name: got "external": expected a name other than the external network\'s (external.name "external"), compared without case',
  ],
  [
    "a management network given by one of its addresses (MariaDB's grants would match no client)",
    () => {
      const d = valid();
      d.networks.management.cidr = "10.0.0.5/24";
      return d;
    },
    'networks.management.cidr: got "10.0.0.5/24": expected its network address (10.0.0.0/24)',
  ],
  [
    "a management network of the whole Internet (grants and NTP open to all)",
    () => {
      const d = valid();
      d.networks.management.cidr = "0.0.0.0/0";
      return d;
    },
    'networks.management.cidr: got "0.0.0.0/0": expected an IPv4 network in CIDR form with a prefix from /8 to /30, such as 10.20.0.0/24',
  ],
  [
    "a loopback tunnel network",
    () => {
      const d = valid();
      d.networks.tunnel.cidr = "127.0.0.0/8";
      return d;
    },
    'networks.tunnel.cidr: got "127.0.0.0/8": expected an IPv4 network in CIDR form with a prefix from /8 to /30, such as 10.20.0.0/24, outside 0.0.0.0/8, 127.0.0.0/8 (loopback), 224.0.0.0/4 (multicast) and 240.0.0.0/4',
  ],
  [
    "the VIP on the broadcast address",
    () => {
      const d = valid();
      d.networks.management.vip = "10.0.0.255";
      return d;
    },
    'networks.management.vip: got "10.0.0.255": expected an address inside the management network 10.0.0.0/24 other than its network address 10.0.0.0 and broadcast address 10.0.0.255',
  ],
  [
    "a host on the network's own address",
    () => {
      const d = valid();
      d.hosts[2].address = "10.0.0.0";
      return d;
    },
    'hosts[2].address: got "10.0.0.0": expected an address inside the management network 10.0.0.0/24 other than its network address 10.0.0.0 and broadcast address 10.0.0.255',
  ],
  [
    "a host named localhost",
    () => {
      const d = valid();
      d.hosts[3].name = "localhost";
      return d;
    },
    'hosts[3].name: got "localhost": expected a name that /etc/hosts does not already give to another address (localhost, ip6-localhost, ip6-loopback, ip6-allnodes, ip6-allrouters)',
  ],
  [
    "a host named like a part of the cluster (a construct id)",
    () => {
      const d = valid();
      d.hosts[3].name = "nova";
      return d;
    },
    'hosts[3].name: got "nova": expected a name that is not one of the cluster\'s own parts (heartbeat, database, messaging, cache, keystone, swift, glance, placement, ceph, cinder, horizon, nova, neutron)',
  ],
  [
    "a host name that resolvers read as an address",
    () => {
      const d = valid();
      d.hosts[3].name = "10";
      return d;
    },
    "hosts[3].name: got \"10\": expected a hostname: lowercase letters, digits and '-', 1 to 63 characters, starting with a letter, not ending with '-'",
  ],
  [
    "a VIP named localhost",
    () => {
      const d = valid();
      d.networks.management.vipName = "localhost";
      return d;
    },
    'networks.management.vipName: got "localhost": expected a name that /etc/hosts does not already give to another address (localhost, ip6-localhost, ip6-loopback, ip6-allnodes, ip6-allrouters)',
  ],
  [
    "a VIP name with ha: single (nothing to name)",
    () => {
      const d = valid();
      d.ha = "single";
      delete d.networks.management.vip;
      d.networks.management.vipName = "api";
      d.hosts.splice(1, 1);
      return d;
    },
    'networks.management.vipName: got "api": expected no vipName with ha: single (there is no VIP to name)',
  ],
  [
    "a host key in the ssh defaults (it would be ignored)",
    () => {
      const d = valid();
      d.ssh.hostKey = HOST_KEY;
      return d;
    },
    `ssh.hostKey: got ${quoted(HOST_KEY)}: expected no hostKey in the ssh defaults: a host key pins one host (give it as hosts[N].ssh.hostKey)`,
  ],
  [
    "a host key with a comment (it would be part of Terraform's known_hosts line)",
    () => {
      const d = valid();
      d.hosts[0].ssh = { hostKey: `${HOST_KEY} root@ctl1` };
      return d;
    },
    `hosts[0].ssh.hostKey: got ${quoted(`${HOST_KEY} root@ctl1`)}: expected a public key as '<type> <base64>' without a comment, such as the first two words of the host's /etc/ssh/ssh_host_ed25519_key.pub`,
  ],
  [
    "a key file beside agent: true (never read)",
    () => {
      const d = valid();
      d.ssh.agent = true;
      return d;
    },
    'ssh.privateKeyFile: got "~/.ssh/id_ed25519": expected no privateKeyFile with agent: true (the agent\'s keys are used, never the file)',
  ],
  [
    "a host's key file under the defaults' agent: true (never read)",
    () => {
      const d = valid();
      d.ssh = { agent: true };
      d.hosts[1].ssh = { privateKeyFile: "/keys/ctl2" };
      return d;
    },
    'hosts[1].ssh.privateKeyFile: got "/keys/ctl2": expected no privateKeyFile where agent is true (set agent: false on this host to use the file)',
  ],
  [
    "an apt proxy with a quote (it would end apt's string and could add a hook)",
    () => ({ ...valid(), aptProxy: 'http://10.0.0.1:3142/";' }),
    'aptProxy: got "http://10.0.0.1:3142/\\";": expected an http:// or https:// URL such as http://10.0.0.1:3142, written as the URL parser writes it: "http://10.0.0.1:3142/%22;"',
  ],
  [
    "an apt proxy with a password (apt.conf.d and the script are readable by all)",
    () => ({ ...valid(), aptProxy: "http://apt:secret@10.0.0.1:3142" }),
    'aptProxy: got "http://apt:secret@10.0.0.1:3142": expected an http:// or https:// URL such as http://10.0.0.1:3142, without a user or password (apt.conf.d and the step\'s script are readable by all)',
  ],
  [
    "an NTP server with a config line after it",
    () => ({ ...valid(), ntpServers: ["pool.ntp.org\nallow all"] }),
    'ntpServers[0]: got "pool.ntp.org\\nallow all": expected no control or invisible characters (U+000A at character 13)',
  ],
  [
    "an NTP server that is not one word",
    () => ({ ...valid(), ntpServers: ["pool.ntp.org allow"] }),
    "ntpServers[0]: got \"pool.ntp.org allow\": expected a hostname (RFC 1123: letters, digits, '-' and '.') or an IPv4 address",
  ],
  [
    "an interface name with Heartbeat's separator",
    () => {
      const d = valid();
      d.hosts[0].interfaces = { management: "eth0:1" };
      return d;
    },
    "hosts[0].interfaces.management: got \"eth0:1\": expected a network interface name: 1 to 15 letters, digits, '_', '.' or '-', not starting with '-', not '.' or '..'",
  ],
  [
    "a huge value (quoted short)",
    () => ({ ...valid(), cluster: "c".repeat(100000) }),
    `cluster: got "${"c".repeat(60)}"… (100000 characters): expected at most 4096 characters`,
  ],
  [
    "a YAML syntax error",
    () => "cluster: test\nrelease: debian-12-zed\nhosts:\n  - name: ctl1\n    address: [10.0.0.11\n",
    "line 6 column 1: Flow sequence in block collection must be sufficiently indented and end with a ]",
  ],
  [
    "a YAML key given twice",
    () => "cluster: test\nrelease: debian-12-zed\ncluster: other\n",
    "line 3 column 1: Map keys must be unique",
  ],
  [
    "a YAML tab indentation",
    () => "cluster: test\nnetworks:\n\tmanagement: {}\n",
    "line 3 column 1: Tabs are not allowed as indentation",
  ],
];

describe("bad inventories", () => {
  it.each(BAD)("%s", (_name, content, expected) => {
    const file = writeInventory(content());
    const err = loadError(file);
    expect(err.message).toBe(`${file}: ${expected}`);
    expect(err.message).not.toContain("\n");
  });

  it("each bad case differs from a valid inventory (the valid base loads)", () => {
    expect(loadInventory(writeInventory(valid())).hosts).toHaveLength(4);
    expect(loadInventory(writeInventory(withDayOne())).dayOne?.external.cidr).toBe("10.212.0.0/24");
  });

  it("names the file it cannot read", () => {
    const missing = path.join(dir, "no-such.yaml");
    expect(loadError(missing).message).toMatch(
      new RegExp(`^${missing.replace(/[.]/g, "\\.")}: cannot read the inventory: ENOENT`),
    );
  });

  it("parseInventory names its source", () => {
    expect(() => parseInventory({ ...valid(), clustr: 1 }, "my-app.ts")).toThrow(
      'my-app.ts: clustr: unknown key "clustr"',
    );
    expect(() => parseInventory("not an object")).toThrow('inventory: (top level): got "not an object"');
  });
});

describe("the CLI on a bad inventory", () => {
  /** Every file under the folder with its content and modification time. */
  function snapshot(folder: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const rel of listFiles(folder)) {
      const file = path.join(folder, rel);
      out[rel] = `${fs.statSync(file).mtimeMs} ${fs.readFileSync(file, "base64")}`;
    }
    return out;
  }

  function outputDir(): string {
    const out = path.join(tempDir("cli"), "cdktf.out");
    fs.mkdirSync(path.join(out, "stacks", "test"), { recursive: true });
    fs.writeFileSync(path.join(out, "MARKER"), "left by an earlier run\n");
    fs.writeFileSync(path.join(out, "stacks", "test", "cdk.tf.json"), '{"earlier": true}\n');
    return out;
  }

  it("synth exits non-zero with one line naming the problem, and leaves the output folder as it was", () => {
    const out = outputDir();
    const before = snapshot(out);
    const d = valid();
    d.hosts[1].adress = "10.0.0.12";
    const bad = writeInventory(d);
    const result = runCli(["synth", bad, "-o", out]);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `error: ${bad}: hosts[1].adress: unknown key "adress": no such key (check its spelling)\n`,
    );
    expect(result.status).toBe(1);
    expect(snapshot(out)).toEqual(before);
  });

  it("validate reports a YAML error on one line with its position", () => {
    const bad = writeInventory("cluster: test\ncluster: again\n");
    const result = runCli(["validate", bad]);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(`error: ${bad}: line 2 column 1: Map keys must be unique\n`);
    expect(result.status).toBe(1);
  });

  it("synth with a valid inventory writes the stack into the same kind of folder (the comparison above is live)", () => {
    const out = outputDir();
    const before = snapshot(out);
    const result = runCli(["synth", writeInventory(valid()), "-o", out]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(snapshot(out)).not.toEqual(before);
    const stack = JSON.parse(fs.readFileSync(path.join(out, "stacks", "test", "cdk.tf.json"), "utf8"));
    // The summary counts what was written (every host has at least its secrets and base steps).
    const steps = Object.keys(stack.resource.terraform_data).length;
    expect(steps).toBeGreaterThan(2 * 4);
    expect(result.stdout).toContain(`4 hosts, ${steps} steps\n`);
  });
});
