/**
 * The hostile-input table: a valid inventory, hostile values, and a row for every field of the
 * inventory's schema with what it takes and refuses. test/hostile-inventory.test.ts runs it
 * against the inventory, test/hostile-constructs.test.ts against the constructs each field
 * reaches.
 */
import { z } from "zod";
import { InventoryError, parseInventory } from "../lib/cluster/inventory";
import { CONTROL_CHARACTER } from "../lib/core/field-rules";

export type Data = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A real ed25519 public key (ssh-keygen's). */
export const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDaBDXw96cvH/McasbBs3/MPuDbuVrHHN95ewTKbT3rx";
/** The same key's blob under another type's name. */
const MISLABELLED_KEY = HOST_KEY.replace("ssh-ed25519", "ssh-rsa");

/** Relative key paths are taken from here. */
export const BASE_DIR = "/inventories";

export function valid(): Data {
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
      { name: "net1", address: "10.0.0.31", tunnelAddress: "10.1.0.31", roles: ["network"] },
    ],
  };
}

export function withBastion(): Data {
  const d = valid();
  d.ssh.bastion = { host: "jump.example.org" };
  d.hosts[2].ssh = { bastion: { host: "jump.example.org" } };
  return d;
}

export function withLvm(): Data {
  const d = valid();
  d.volumeBackends = [{ name: "lvm", driver: "lvm", volumeGroup: "cinder-volumes" }];
  d.hosts[2].volumeBackends = [{ name: "lvm", driver: "lvm", volumeGroup: "cinder-volumes" }];
  return d;
}

export function withRbd(osd: Data = { file: "/var/lib/ceph/osd.img", sizeGiB: 8 }): Data {
  const d = valid();
  d.ceph = { osd: { ...osd } };
  d.volumeBackends = [{ name: "ceph", driver: "rbd", pool: "volumes" }];
  d.hosts[2].volumeBackends = [{ name: "ceph", driver: "rbd", pool: "volumes" }];
  d.hosts[2].cephOsd = { ...osd };
  return d;
}

export function withDayOne(): Data {
  const d = valid();
  d.dayOne = {
    flavor: { name: "m1.tiny", vcpus: 1, ramMiB: 128, diskGiB: 1 },
    external: {
      name: "external",
      cidr: "10.212.0.0/24",
      gateway: "10.212.0.1",
      allocationPool: { start: "10.212.0.100", end: "10.212.0.199" },
    },
    tenant: { name: "tenant", cidr: "192.168.100.0/24" },
    router: { name: "router" },
  };
  return d;
}

/** What every field is fed: injection, control and invisible characters, template syntax, size, look-alikes. */
export const HOSTILE = {
  quoteInjection: 'x"; rm -rf / #',
  aptHook: 'http://x:3142/";\nAPT::Update::Pre-Invoke {"id"};',
  newlineConfigLine: "pool.ntp.org\nallow all",
  nul: "eth1\u0000",
  escape: "eth\u001b[2J",
  del: "eth\u007f",
  c1: "eth\u0085",
  lineSeparator: "eth\u20281",
  bidiOverride: "eth\u202e1",
  zeroWidth: "eth\u200b1",
  tab: "eth\t1",
  interpolation: '${file("/etc/shadow")}',
  directive: "%{ for x in [1] }x%{ endfor }",
  commandSubstitution: "$(reboot)",
  leadingDash: "-oProxyCommand=id",
  space: "a b",
  overlong: "a".repeat(5000),
  fullwidth: "ｅｔｈ０",
  cyrillic: "сontroller", // a Cyrillic es
  empty: "",
} as const;
export type HostileName = keyof typeof HOSTILE;

/** What a key file path takes: any text without control characters, escaped on its way into the JSON. */
export const PATH_TAKES: readonly HostileName[] = [
  "quoteInjection",
  "interpolation",
  "directive",
  "commandSubstitution",
  "leadingDash",
  "space",
  "fullwidth",
  "cyrillic",
];

export interface Row {
  /** Where the value goes (a concrete path into `base()`). */
  readonly at: string;
  /** A valid inventory around the field. @default valid() */
  readonly base?: () => Data;
  /** A value this field takes (so the row reaches the field); none where every value is refused. */
  readonly ok?: unknown;
  /** Values this field refuses besides HOSTILE's. */
  readonly bad?: readonly unknown[];
  /** HOSTILE values this field takes: each must reach the stack's JSON escaped (key file paths). */
  readonly takes?: readonly HostileName[];
  /** Fields an error may name instead, where a bad value collides with another field's. */
  readonly alsoNames?: readonly string[];
  /** For `takes`: the connection field of cmp1's steps the value lands in. */
  readonly lands?: "private_key" | "bastion_private_key";
}

const PORT_BAD = [0, 65536, 22.5, -1, "22", Infinity];
const ADDRESS_BAD = [
  "10.0.0.256",
  "010.0.0.11",
  "１0.0.0.11",
  "10.0.0.11/24",
  "fd00::11",
  "::ffff:10.0.0.11",
];
const NETWORK_BAD = [
  "10.0.0.5/24",
  "0.0.0.0/0",
  "10.0.0.0/7",
  "127.0.0.0/8",
  "224.0.0.0/8",
  "10.0.0.0/31",
  "10.0.0.0/024",
  "fd00::/64",
  "10.0.0.0",
];
const INTERFACE_BAD = ["eth1:0", "-eth1", ".", "..", "eth/1", "a".repeat(16)];
const NAME_BAD = ["localhost", "ip6-loopback", "nova", "database", "1node", "node-", "Node", "a_b"];
const HOST_KEY_BAD = [
  `${HOST_KEY} root@host`,
  MISLABELLED_KEY,
  "ssh-ed25519 AAAA",
  "ssh-dss AAAA",
  `${HOST_KEY}\n${HOST_KEY}`,
];
const HOST_BAD = [
  "jump;id",
  "-jump",
  "jump_1.example",
  "1.2.3",
  "10.0.0.256",
  "fd00::1",
  `${"a".repeat(64)}.org`,
];
const USER_BAD = ["root;id", "-root", "Root", "a".repeat(33), "1user"];
const TIMEOUT_BAD = ["0m", "99999m", "5 m", "5d", "5"];
const BOOLEAN_BAD = ["true", 1, null];

/** A row for each field of the schema, keyed as `schemaFields` names them. */
export const ROWS: Record<string, Row> = {
  cluster: { at: "cluster", ok: "prod-1", bad: ["1cloud", "Cloud", "cloud_1"] },
  release: { at: "release", ok: "ubuntu-2404-caracal", bad: ["debian-12-zed "] },
  ha: { at: "ha", ok: "heartbeat", bad: ["Heartbeat"] },
  resource: { at: "resource", ok: "null_resource", bad: ["null_resource\n"] },
  aptProxy: {
    at: "aptProxy",
    ok: "http://10.0.0.1:3142",
    bad: [
      'http://x:3142/";',
      "http://user:secret@10.0.0.1:3142",
      "HTTP://10.0.0.1:3142",
      "http://ｘ.example:3142",
      "http://10.0.0.1:80",
      "ftp://10.0.0.1",
      "http://10.0.0.1:3142/?a=b",
      "http://10.0.0.1:3142/a;b",
      "http://10.0.0.1:3142/$x",
      "file:///etc/passwd",
      "http://[fd00::1]:3142",
    ],
  },
  "ntpServers[]": {
    at: "ntpServers[0]",
    ok: "0.debian.pool.ntp.org",
    bad: [
      "pool.ntp.org allow",
      "-pool.ntp.org",
      "1.2.3",
      "10.0.0.256",
      "fd00::1",
      "a..b",
      `${"a".repeat(64)}.org`,
    ],
  },
  "ssh.user": { at: "ssh.user", ok: "deploy", bad: USER_BAD },
  "ssh.port": { at: "ssh.port", ok: 2222, bad: PORT_BAD },
  "ssh.privateKeyFile": { at: "ssh.privateKeyFile", ok: "keys/id", takes: PATH_TAKES, lands: "private_key" },
  "ssh.agent": { at: "ssh.agent", ok: false, bad: BOOLEAN_BAD },
  "ssh.bastion.host": { at: "ssh.bastion.host", base: withBastion, ok: "10.9.0.1", bad: HOST_BAD },
  "ssh.bastion.user": { at: "ssh.bastion.user", base: withBastion, ok: "ops", bad: USER_BAD },
  "ssh.bastion.port": { at: "ssh.bastion.port", base: withBastion, ok: 2222, bad: PORT_BAD },
  "ssh.bastion.privateKeyFile": {
    at: "ssh.bastion.privateKeyFile",
    base: () => {
      const d = withBastion();
      delete d.hosts[2].ssh;
      return d;
    },
    ok: "~/.ssh/jump",
    takes: PATH_TAKES,
    lands: "bastion_private_key",
  },
  "ssh.bastion.hostKey": { at: "ssh.bastion.hostKey", base: withBastion, ok: HOST_KEY, bad: HOST_KEY_BAD },
  "ssh.timeout": { at: "ssh.timeout", ok: "10m", bad: TIMEOUT_BAD },
  // Accepted and ignored before: a host key pins one host.
  "ssh.hostKey": { at: "ssh.hostKey", bad: [HOST_KEY] },
  virtType: { at: "virtType", ok: "kvm", bad: ["xen"] },
  datapathType: { at: "datapathType", ok: "system", bad: ["dpdk"] },
  "swift.partPower": { at: "swift.partPower", ok: 12, bad: [5, 23, 10.5, "10"] },
  "swift.mountCheck": { at: "swift.mountCheck", ok: true, bad: BOOLEAN_BAD },
  imageStore: { at: "imageStore", ok: "file", bad: ["rbd"] },
  "ceph.osd.device": {
    at: "ceph.osd.device",
    base: () => withRbd({ device: "/dev/sdb" }),
    ok: "/dev/nvme1n1",
    bad: ["/etc/passwd", "/dev/../etc/passwd", "/dev/sdb;reboot", "/dev/sd b"],
  },
  "ceph.osd.file": {
    at: "ceph.osd.file",
    base: () => {
      const d = withRbd();
      delete d.hosts[2].cephOsd;
      return d;
    },
    ok: "/srv/osd.img",
    bad: [
      "relative.img",
      "/var/lib/../etc/passwd",
      "/var/lib/$(id)",
      // Places the step would format: a system file, a disk, the cluster's own config, an OSD's data, Swift's device.
      "/etc/shadow",
      "/dev/vda",
      "/etc/ceph/ceph.conf",
      "/var/lib/ceph/osd/ceph-0/block",
      "/var/lib/ceph/bootstrap-osd/ceph.keyring",
      "/srv/node/swift/osd.img",
    ],
  },
  "ceph.osd.sizeGiB": { at: "ceph.osd.sizeGiB", base: withRbd, ok: 16, bad: [1, 65537, 2.5, "8"] },
  "ceph.osdMemoryTargetMiB": { at: "ceph.osdMemoryTargetMiB", base: withRbd, ok: 2048, bad: [512, "4096"] },
  "volumeBackends[].name": {
    at: "volumeBackends[0].name",
    base: withLvm,
    ok: "lvm-2",
    bad: ["lvm]", "DEFAULT", "a,b"],
  },
  "volumeBackends[].driver": { at: "volumeBackends[0].driver", base: withLvm, ok: "lvm", bad: ["nfs"] },
  "volumeBackends[].volumeGroup": {
    at: "volumeBackends[0].volumeGroup",
    base: withLvm,
    ok: "vg+1_a.b",
    bad: ["-vg", "vg/lv", "."],
  },
  "volumeBackends[].targetHelper": {
    at: "volumeBackends[0].targetHelper",
    base: withLvm,
    ok: "tgtadm",
    bad: ["iet"],
  },
  "volumeBackends[].pool": {
    at: "volumeBackends[0].pool",
    base: withRbd,
    ok: "images",
    bad: ["Volumes", "volumes, allow *"],
  },
  "networks.management.cidr": {
    at: "networks.management.cidr",
    base: () => {
      const d = valid();
      d.networks.management.vip = "10.0.0.10";
      return d;
    },
    ok: "10.0.0.0/16",
    bad: NETWORK_BAD,
  },
  "networks.management.vip": {
    at: "networks.management.vip",
    ok: "10.0.0.254",
    bad: [...ADDRESS_BAD, "10.0.0.0", "10.0.0.255", "10.5.0.10", "10.0.0.11"],
  },
  "networks.management.vipName": {
    at: "networks.management.vipName",
    ok: "api",
    bad: ["localhost", "ctl1", "Api"],
    alsoNames: ["hosts[0].name"],
  },
  "networks.management.interface": { at: "networks.management.interface", ok: "ens3", bad: INTERFACE_BAD },
  "networks.provider.interface": { at: "networks.provider.interface", ok: "eth1.100", bad: INTERFACE_BAD },
  "networks.provider.physnet": {
    at: "networks.provider.physnet",
    ok: "physnet1",
    bad: ["provider:br-ex", "Provider", `p${"a".repeat(64)}`],
  },
  "networks.tunnel.cidr": { at: "networks.tunnel.cidr", ok: "10.1.0.0/16", bad: NETWORK_BAD },
  "networks.tunnel.interface": { at: "networks.tunnel.interface", ok: "bond0", bad: INTERFACE_BAD },
  "hosts[].name": { at: "hosts[2].name", ok: "compute-1", bad: NAME_BAD },
  "hosts[].address": {
    at: "hosts[2].address",
    ok: "10.0.0.99",
    bad: [...ADDRESS_BAD, "10.0.0.0", "10.0.0.255"],
  },
  "hosts[].roles[]": { at: "hosts[2].roles[0]", ok: "compute", bad: ["controler", "Compute"] },
  "hosts[].tunnelAddress": {
    at: "hosts[2].tunnelAddress",
    ok: "10.1.0.99",
    bad: [...ADDRESS_BAD, "10.1.0.0", "10.1.0.255", "10.2.0.21"],
  },
  "hosts[].interfaces.management": { at: "hosts[2].interfaces.management", ok: "enp0s3", bad: INTERFACE_BAD },
  "hosts[].interfaces.provider": { at: "hosts[2].interfaces.provider", ok: "eth1", bad: INTERFACE_BAD },
  "hosts[].interfaces.tunnel": { at: "hosts[2].interfaces.tunnel", ok: "vxlan_0", bad: INTERFACE_BAD },
  "hosts[].ssh.user": { at: "hosts[2].ssh.user", ok: "_ops", bad: USER_BAD },
  "hosts[].ssh.port": { at: "hosts[2].ssh.port", ok: 65535, bad: PORT_BAD },
  "hosts[].ssh.privateKeyFile": {
    at: "hosts[2].ssh.privateKeyFile",
    ok: "~/.ssh/cmp1",
    takes: PATH_TAKES,
    lands: "private_key",
  },
  "hosts[].ssh.agent": { at: "hosts[2].ssh.agent", ok: false, bad: BOOLEAN_BAD },
  "hosts[].ssh.bastion.host": {
    at: "hosts[2].ssh.bastion.host",
    base: withBastion,
    ok: "jump-2.example.org",
    bad: HOST_BAD,
  },
  "hosts[].ssh.bastion.user": {
    at: "hosts[2].ssh.bastion.user",
    base: withBastion,
    ok: "ops",
    bad: USER_BAD,
  },
  "hosts[].ssh.bastion.port": { at: "hosts[2].ssh.bastion.port", base: withBastion, ok: 22, bad: PORT_BAD },
  "hosts[].ssh.bastion.privateKeyFile": {
    at: "hosts[2].ssh.bastion.privateKeyFile",
    base: withBastion,
    ok: "/keys/jump",
    takes: PATH_TAKES,
    lands: "bastion_private_key",
  },
  "hosts[].ssh.bastion.hostKey": {
    at: "hosts[2].ssh.bastion.hostKey",
    base: withBastion,
    ok: HOST_KEY,
    bad: HOST_KEY_BAD,
  },
  "hosts[].ssh.timeout": { at: "hosts[2].ssh.timeout", ok: "90s", bad: TIMEOUT_BAD },
  "hosts[].ssh.hostKey": { at: "hosts[2].ssh.hostKey", ok: HOST_KEY, bad: HOST_KEY_BAD },
  "hosts[].virtType": { at: "hosts[2].virtType", ok: "qemu", bad: ["xen"] },
  "hosts[].datapathType": { at: "hosts[2].datapathType", ok: "netdev", bad: ["dpdk"] },
  "hosts[].swiftDevice": { at: "hosts[2].swiftDevice", ok: "sdb1", bad: ["..", "sdb/1", "-sdb", "sd b"] },
  "hosts[].volumeBackends[].name": {
    at: "hosts[2].volumeBackends[0].name",
    base: withLvm,
    ok: "fast",
    bad: ["lvm@host#pool", "oslo_concurrency"],
  },
  "hosts[].volumeBackends[].driver": {
    at: "hosts[2].volumeBackends[0].driver",
    base: withLvm,
    ok: "lvm",
    bad: ["LVM"],
  },
  "hosts[].volumeBackends[].volumeGroup": {
    at: "hosts[2].volumeBackends[0].volumeGroup",
    base: withLvm,
    ok: "vg0",
    bad: ["..", "vg;rm -rf /"],
  },
  "hosts[].volumeBackends[].targetHelper": {
    at: "hosts[2].volumeBackends[0].targetHelper",
    base: withLvm,
    ok: "lioadm",
    bad: ["tgt"],
  },
  "hosts[].volumeBackends[].pool": {
    at: "hosts[2].volumeBackends[0].pool",
    base: withRbd,
    ok: "fast-volumes",
    bad: ["-volumes", "v".repeat(64)],
  },
  "hosts[].cephOsd.device": {
    at: "hosts[2].cephOsd.device",
    base: () => withRbd({ device: "/dev/sdb" }),
    ok: "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4",
    bad: ["/dev/./sdb", "/dev/sdb\n"],
  },
  "hosts[].cephOsd.file": {
    at: "hosts[2].cephOsd.file",
    base: withRbd,
    ok: "/srv/ceph/osd.img",
    bad: ["/srv/osd img", "/root/.ssh/authorized_keys", "/srv/node"],
  },
  "hosts[].cephOsd.sizeGiB": { at: "hosts[2].cephOsd.sizeGiB", base: withRbd, ok: 2, bad: [0, 70000] },
  "dayOne.flavor.name": {
    at: "dayOne.flavor.name",
    base: withDayOne,
    ok: "m1.nano",
    bad: ["m1 tiny", "-m1"],
  },
  "dayOne.flavor.vcpus": {
    at: "dayOne.flavor.vcpus",
    base: withDayOne,
    ok: 2,
    bad: [0, 2147483648, 1.5, "1"],
  },
  "dayOne.flavor.ramMiB": { at: "dayOne.flavor.ramMiB", base: withDayOne, ok: 64, bad: [0, "128"] },
  "dayOne.flavor.diskGiB": { at: "dayOne.flavor.diskGiB", base: withDayOne, ok: 2, bad: [-1] },
  "dayOne.external.name": {
    at: "dayOne.external.name",
    base: withDayOne,
    ok: "public",
    bad: ["tenant", "pub lic"],
    alsoNames: ["dayOne.tenant.name"],
  },
  "dayOne.external.cidr": {
    at: "dayOne.external.cidr",
    base: withDayOne,
    ok: "10.212.0.0/23",
    bad: ["10.212.0.1/24", "10.212.0.0/31", "fd00::/64"],
  },
  "dayOne.external.gateway": {
    at: "dayOne.external.gateway",
    base: withDayOne,
    ok: "10.212.0.254",
    bad: ["10.212.0.0", "10.212.0.255", "10.213.0.1", "10.212.0.150"],
    alsoNames: ["dayOne.external.allocationPool"],
  },
  "dayOne.external.allocationPool.start": {
    at: "dayOne.external.allocationPool.start",
    base: withDayOne,
    ok: "10.212.0.50",
    bad: ["10.212.0.200", "10.211.0.100"],
    alsoNames: ["dayOne.external.allocationPool"],
  },
  "dayOne.external.allocationPool.end": {
    at: "dayOne.external.allocationPool.end",
    base: withDayOne,
    ok: "10.212.0.250",
    bad: ["10.212.0.99", "10.212.0.255"],
    alsoNames: ["dayOne.external.allocationPool"],
  },
  "dayOne.tenant.name": {
    at: "dayOne.tenant.name",
    base: withDayOne,
    ok: "demo",
    bad: ["external", "demo net"],
  },
  "dayOne.tenant.cidr": {
    at: "dayOne.tenant.cidr",
    base: withDayOne,
    ok: "192.168.0.0/16",
    bad: ["10.212.0.128/25", "192.168.100.1/24"],
  },
  "dayOne.router.name": { at: "dayOne.router.name", base: withDayOne, ok: "gw", bad: ["router\r"] },
};

/** Every leaf field of a schema: `hosts[].ssh.bastion.host` (a union's options' fields together). */
export function schemaFields(schema: z.ZodType, prefix = ""): string[] {
  if (schema instanceof z.ZodOptional) return schemaFields(schema.unwrap() as z.ZodType, prefix);
  if (schema instanceof z.ZodObject) {
    return Object.entries(schema.shape).flatMap(([key, field]) =>
      schemaFields(field as z.ZodType, prefix ? `${prefix}.${key}` : key),
    );
  }
  if (schema instanceof z.ZodArray) return schemaFields(schema.element as z.ZodType, `${prefix}[]`);
  if (schema instanceof z.ZodUnion) {
    return [...new Set((schema.options as z.ZodType[]).flatMap((option) => schemaFields(option, prefix)))];
  }
  return [prefix];
}

/** `hosts[2].ssh.port` → ["hosts", 2, "ssh", "port"]. */
function segments(at: string): (string | number)[] {
  return [...at.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]));
}

/** `data` with `value` at `at`, making the objects on the way. */
export function setAt(data: Data, at: string, value: unknown): Data {
  const keys = segments(at);
  let current = data;
  keys.slice(0, -1).forEach((key, i) => {
    current[key] ??= typeof keys[i + 1] === "number" ? [] : {};
    current = current[key];
  });
  current[keys[keys.length - 1]] = value;
  return data;
}

/** The InventoryError's message, or undefined when the data is valid. */
export function refusal(data: Data): string | undefined {
  try {
    parseInventory(data, "inventory", BASE_DIR);
  } catch (err) {
    if (!(err instanceof InventoryError)) throw err;
    return err.message;
  }
  return undefined;
}

/** What is wrong with a refusal's message, or undefined: one line, naming the field, the value short. */
export function messageProblem(message: string | undefined, fields: readonly string[]): string | undefined {
  if (message === undefined) return "accepted";
  if (!fields.some((f) => message.startsWith(`inventory: ${f}: `))) return `names another field: ${message}`;
  if (!/: (got .*: expected |unknown key )/.test(message)) return `not "got …: expected …": ${message}`;
  if (message.includes("\n") || CONTROL_CHARACTER.test(message))
    return `not one clean line: ${JSON.stringify(message)}`;
  if (message.length > 600) return `${message.length} characters long`;
  return undefined;
}

/** Terraform's template escapes, as `hclString` must apply them: the oracle for a path's literal. */
export function escapedLiteral(text: string): string {
  return JSON.stringify(text)
    .replace(/\$\{/g, () => "$${")
    .replace(/%\{/g, () => "%%{");
}
