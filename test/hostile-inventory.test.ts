/**
 * Hostile values in every field of the inventory: each is refused with one line that names the
 * field, or (a key file's path, which any text may be) lands escaped in Terraform's JSON. A
 * field of the schema without a row here fails the test that enumerates them. Then the YAML's
 * own attacks (alias bombs, cycles, size), the names that collide only once the stack is built,
 * and the CLI's one-line errors for them.
 */
import * as fs from "fs";
import * as path from "path";
import { TerraformStack, Testing } from "cdktf";
import * as YAML from "yaml";
import { z } from "zod";
import { InventoryError, loadInventory, parseInventory } from "../lib/cluster/inventory";
import { inventorySchema } from "../lib/cluster/inventory-schema";
import { CLUSTER_PART_IDS } from "../lib/cluster/part-ids";
import { CONTROL_CHARACTER } from "../lib/core/field-rules";
import { DEBIAN_12_ZED } from "../lib/core/releases";
import { BaseSystem } from "../lib/hosts/base-system";
import { Host, HostSteps } from "../lib/hosts/host";
import { errorLines, validateInventory } from "../bin/synthesize";
import {
  LAB_SMALL_EXAMPLE,
  REPO as REPO_ROOT,
  SEED_EXAMPLE,
  buildStack,
  runCli,
  synthJson,
  tempDir,
} from "./support";

type Data = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A real ed25519 public key (ssh-keygen's). */
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDaBDXw96cvH/McasbBs3/MPuDbuVrHHN95ewTKbT3rx";
/** The same key's blob under another type's name. */
const MISLABELLED_KEY = HOST_KEY.replace("ssh-ed25519", "ssh-rsa");

/** Relative key paths are taken from here. */
const BASE_DIR = "/inventories";

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
      { name: "net1", address: "10.0.0.31", tunnelAddress: "10.1.0.31", roles: ["network"] },
    ],
  };
}

function withBastion(): Data {
  const d = valid();
  d.ssh.bastion = { host: "jump.example.org" };
  d.hosts[2].ssh = { bastion: { host: "jump.example.org" } };
  return d;
}

function withLvm(): Data {
  const d = valid();
  d.volumeBackends = [{ name: "lvm", driver: "lvm", volumeGroup: "cinder-volumes" }];
  d.hosts[2].volumeBackends = [{ name: "lvm", driver: "lvm", volumeGroup: "cinder-volumes" }];
  return d;
}

function withRbd(osd: Data = { file: "/var/lib/ceph/osd.img", sizeGiB: 8 }): Data {
  const d = valid();
  d.ceph = { osd: { ...osd } };
  d.volumeBackends = [{ name: "ceph", driver: "rbd", pool: "volumes" }];
  d.hosts[2].volumeBackends = [{ name: "ceph", driver: "rbd", pool: "volumes" }];
  d.hosts[2].cephOsd = { ...osd };
  return d;
}

function withDayOne(): Data {
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
const HOSTILE = {
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
type HostileName = keyof typeof HOSTILE;

/** What a key file path takes: any text without control characters, escaped on its way into the JSON. */
const PATH_TAKES: readonly HostileName[] = [
  "quoteInjection",
  "interpolation",
  "directive",
  "commandSubstitution",
  "leadingDash",
  "space",
  "fullwidth",
  "cyrillic",
];

interface Row {
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
const ROWS: Record<string, Row> = {
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
function schemaFields(schema: z.ZodType, prefix = ""): string[] {
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
function setAt(data: Data, at: string, value: unknown): Data {
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
function refusal(data: Data): string | undefined {
  try {
    parseInventory(data, "inventory", BASE_DIR);
  } catch (err) {
    if (!(err instanceof InventoryError)) throw err;
    return err.message;
  }
  return undefined;
}

/** What is wrong with a refusal's message, or undefined: one line, naming the field, the value short. */
function messageProblem(message: string | undefined, fields: readonly string[]): string | undefined {
  if (message === undefined) return "accepted";
  if (!fields.some((f) => message.startsWith(`inventory: ${f}: `))) return `names another field: ${message}`;
  if (!/: (got .*: expected |unknown key )/.test(message)) return `not "got …: expected …": ${message}`;
  if (message.includes("\n") || CONTROL_CHARACTER.test(message))
    return `not one clean line: ${JSON.stringify(message)}`;
  if (message.length > 600) return `${message.length} characters long`;
  return undefined;
}

/** Terraform's template escapes, as `hclString` must apply them: the oracle for a path's literal. */
function escapedLiteral(text: string): string {
  return JSON.stringify(text)
    .replace(/\$\{/g, () => "$${")
    .replace(/%\{/g, () => "%%{");
}

describe("every field of the inventory against hostile values", () => {
  it("has a row for every field of the schema, and no row for a field it does not have", () => {
    const fields = schemaFields(inventorySchema);
    expect(fields.length).toBeGreaterThan(70);
    expect(fields.filter((f) => !(f in ROWS))).toEqual([]);
    expect(Object.keys(ROWS).filter((f) => !fields.includes(f))).toEqual([]);
  });

  it("the field enumeration is live (a new field without a row would be found)", () => {
    const wider = inventorySchema.extend({ newField: z.string().optional() });
    expect(schemaFields(wider).filter((f) => !(f in ROWS))).toEqual(["newField"]);
  });

  it.each(Object.entries(ROWS))("%s", (_field, row) => {
    const base = row.base ?? valid;
    expect(refusal(base())).toBeUndefined();
    if (row.ok !== undefined) expect(refusal(setAt(base(), row.at, row.ok))).toBeUndefined();
    const taken = new Set<unknown>((row.takes ?? []).map((name) => HOSTILE[name]));
    const refused = [...Object.values(HOSTILE).filter((v) => !taken.has(v)), ...(row.bad ?? [])];
    const problems = refused.flatMap((value) => {
      const problem = messageProblem(refusal(setAt(base(), row.at, value)), [
        row.at,
        ...(row.alsoNames ?? []),
      ]);
      return problem ? [`${JSON.stringify(value)?.slice(0, 40)}: ${problem}`] : [];
    });
    expect(problems).toEqual([]);
  });

  it.each(Object.entries(ROWS).filter(([, row]) => row.takes))(
    "%s takes any path, and it reaches Terraform's JSON escaped",
    (_field, row) => {
      for (const name of row.takes ?? []) {
        const value = HOSTILE[name];
        const inventory = parseInventory(setAt((row.base ?? valid)(), row.at, value), "inventory", BASE_DIR);
        const { json } = synthJson(inventory);
        const connection = json.resource.terraform_data.cmp1_base.connection as Record<string, unknown>;
        const file = value.startsWith("~") || path.isAbsolute(value) ? value : path.resolve(BASE_DIR, value);
        expect(connection[row.lands ?? "private_key"]).toBe(`\${file(pathexpand(${escapedLiteral(file)}))}`);
      }
    },
  );
});

describe("names that collide only in the built stack", () => {
  /** Ids of the constructs beside a host's own (a Host under the cluster, an owner's HostSteps). */
  function idsBesideHosts(file: string): Set<string> {
    const stack = buildStack(loadInventory(file));
    const names = new Set(stack.cluster.hosts.map((h) => h.hostName));
    const ids = new Set<string>();
    for (const construct of stack.node.findAll()) {
      const children = construct.node.children;
      if (!children.some((c) => c instanceof Host || c instanceof HostSteps)) continue;
      for (const child of children) if (!names.has(child.node.id)) ids.add(child.node.id);
    }
    return ids;
  }

  it("CLUSTER_PART_IDS is every construct id a host's name could meet (the seed's and the lab's clusters)", () => {
    const ids = new Set([...idsBesideHosts(SEED_EXAMPLE), ...idsBesideHosts(LAB_SMALL_EXAMPLE)]);
    expect([...ids].sort()).toEqual([...CLUSTER_PART_IDS].sort());
  });

  it("two hosts whose steps' ids collide: the loader cannot see it, validate names both", () => {
    const d = valid();
    d.hosts[1].name = "ctl1-db"; // ctl1's db_keystone and ctl1-db's keystone: ctl1_db_keystone
    const file = path.join(tempDir("collide"), "collide.yaml");
    fs.writeFileSync(file, YAML.stringify(d));
    expect(loadInventory(file).hosts[1].name).toBe("ctl1-db");
    expect(() => validateInventory(file)).toThrow(
      new InventoryError(
        `${file}: hosts[1].name: got "ctl1-db": expected a name whose steps' ids differ from hosts[0]'s ("ctl1"): both make the step id ctl1_db_keystone`,
      ),
    );
  });
});

describe("YAML's own limits", () => {
  const dir = tempDir("yaml");
  let count = 0;
  function write(content: string | Buffer): string {
    const file = path.join(dir, `inventory-${++count}.yaml`);
    fs.writeFileSync(file, content);
    return file;
  }
  function loadError(file: string): string {
    try {
      loadInventory(file);
    } catch (err) {
      expect(err).toBeInstanceOf(InventoryError);
      return (err as Error).message;
    }
    throw new Error(`${file} loaded`);
  }

  /** A billion laughs: each level nine aliases of the one before. */
  const bomb = [
    'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    ..."bcdefghi".split("").map((c, i) => {
      const prev = "abcdefghi"[i];
      return `${c}: &${c} [${Array(9).fill(`*${prev}`).join(", ")}]`;
    }),
  ].join("\n");

  it.each([
    [
      "an alias bomb",
      bomb,
      ': got YAML aliases that expand too far (a "billion laughs"): expected at most 100 nodes made by aliases',
    ],
    [
      "a self-referencing alias",
      "cluster: x\nhosts: &h [*h]\n",
      ": hosts[0]: got a YAML alias inside its own anchor: expected data without cycles",
    ],
    [
      "an alias before its anchor",
      "cluster: *x\n",
      ": YAML: Unresolved alias (the anchor must be set before the alias): x",
    ],
    [
      "an unknown tag (dropped by YAML)",
      "cluster: !secret x\n",
      ": line 1 column 10: Unresolved tag: !secret",
    ],
    ["a list as a key", "? [a, b]\n: 1\n", ": line 1 column 3: With stringKeys, all keys must be strings"],
    [
      "two documents",
      "cluster: a\n---\ncluster: b\n",
      ": line 2 column 1: Source contains multiple documents; please use YAML.parseAllDocuments()",
    ],
    [
      "an own __proto__",
      "__proto__: {polluted: 1}\n",
      ': __proto__: unknown key "__proto__": no such key (check its spelling)',
    ],
    [
      "a key with a newline",
      '"a\\nb": 1\n',
      ': ["a\\nb"]: got the key "a\\nb": expected no control or invisible characters (U+000A at character 2)',
    ],
    [
      "deep nesting",
      `cluster: ${"[".repeat(40)}${"]".repeat(40)}\n`,
      ": cluster[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: got data nested deeper than 16 levels: expected an inventory",
    ],
    [
      // The parser recurses once per level: found in the text before it runs.
      "60,000 nested [ (the parser's stack)",
      `cluster: ${"[".repeat(60000)}${"]".repeat(60000)}\n`,
      ": line 1 column 74: got YAML lists or maps nested deeper than 64 levels: expected an inventory",
    ],
    [
      "a bracket in quotes and comments does not count",
      `cluster: x # ${"[".repeat(100)}\nrelease: '${"{".repeat(100)}'\nha: "${"[".repeat(100)}\\""\n`,
      `: release: got "${"{".repeat(60)}"… (100 characters): expected `,
    ],
    [
      "a merge key",
      "cluster: x\n<<: {bogus: 1}\n",
      ': ["<<"]: got a YAML merge key (<<): expected the keys written out (merge keys are YAML 1.1, not 1.2)',
    ],
    ["a value of .inf", "cluster: .inf\n", ": cluster: got .inf: expected "],
    ["a value of .nan", "cluster: .nan\n", ": cluster: got .nan: expected "],
  ])("%s: one line", (_name, text, expected) => {
    const file = write(text);
    const message = loadError(file);
    if (expected.endsWith("expected ")) expect(message.startsWith(`${file}${expected}`)).toBe(true);
    else expect(message).toBe(`${file}${expected}`);
  });

  it("refuses a file over 1 MiB before reading it, a folder, and bytes that are not UTF-8", () => {
    const big = write(`# ${"x".repeat(1024 * 1024)}\n`);
    expect(loadError(big)).toBe(`${big}: got 1048579 bytes: expected an inventory of at most 1048576 bytes`);
    expect(loadError(dir)).toBe(`${dir}: cannot read the inventory: not a regular file`);
    const latin1 = write(Buffer.from("cluster: caf\xe9\n", "latin1"));
    expect(loadError(latin1)).toBe(`${latin1}: got bytes that are not UTF-8: expected a UTF-8 text file`);
  });

  it("reads no empty file, nor a /proc file (which says 0 bytes): its text could be the environment", () => {
    const empty = write("");
    expect(loadError(empty)).toBe(`${empty}: got an empty file (0 bytes): expected an inventory`);
    const environ = path.join(dir, "environ.yaml");
    fs.symlinkSync("/proc/self/environ", environ);
    expect(loadError(environ)).toBe(`${environ}: got an empty file (0 bytes): expected an inventory`);
  });

  it("prints a file name's newline and escape sequence escaped: no forged line, no colours", () => {
    const file = path.join(dir, "a\nerror: forged\u001b[31m.yaml");
    fs.writeFileSync(file, "cluster: [x]\n");
    const message = loadError(file);
    expect(message).toBe(
      `${dir}/a\\u000aerror: forged\\u001b[31m.yaml: cluster: got ["x"]: expected string, received array`,
    );
  });
});

describe("constructs used from TypeScript refuse the same values", () => {
  const stack = () => new TerraformStack(Testing.app({ outdir: tempDir("constructs") }), "s");
  const host = (props: Record<string, unknown>) =>
    new Host(stack(), "h", { name: "h1", address: "10.0.0.5", release: DEBIAN_12_ZED, ...props });

  it.each([
    [
      { hostKey: '${file("/etc/shadow")}' },
      'Host h1 hostKey: got "${file(\\"/etc/shadow\\")}": expected a public key',
    ],
    [{ hostKey: `${HOST_KEY}\n@cert-authority * ${HOST_KEY}` }, "Host h1 hostKey: got"],
    [{ bastion: { host: "%{ if true }x%{ endif }" } }, "Host h1 bastion.host: got"],
    [{ bastion: { host: "jump", hostKey: "x" } }, "Host h1 bastion.hostKey: got"],
    [{ managementInterface: "eth0:1" }, "Host h1 managementInterface: got"],
    [{ timeout: "${var.t}" }, "Host h1 timeout: got"],
    [{ port: 0 }, "Host h1 port: got 0: expected a port from 1 to 65535"],
    [{ privateKeyFile: "/k\n" }, 'Host h1 privateKeyFile: got "/k\\n"'],
  ])("Host refuses %j", (props, message) => {
    expect(() => host(props)).toThrow(message);
  });

  it("BaseSystem refuses an apt proxy that ends apt's quoted string, and a time server with a config line", () => {
    const h = host({});
    expect(
      () =>
        new BaseSystem(h, "b1", {
          members: [],
          timeServers: [],
          aptProxy: 'http://x/";APT::Update::Pre-Invoke {"id"};',
        }),
    ).toThrow(
      'BaseSystem aptProxy: got "http://x/\\";APT::Update::Pre-Invoke {\\"id\\"};": expected an http:// or https:// URL',
    );
    expect(() => new BaseSystem(h, "b2", { members: [], timeServers: ["pool.ntp.org\nallow all"] })).toThrow(
      'BaseSystem timeServers: got "pool.ntp.org\\nallow all": expected a hostname or an IP address',
    );
  });
});

describe("the CLI on inventories that only break when loaded or built", () => {
  const dir = tempDir("cli-hostile");
  const lab = fs.readFileSync(LAB_SMALL_EXAMPLE, "utf8");
  const cases: [string, string, RegExp][] = [
    ["an alias bomb", "", /: got YAML aliases that expand too far/],
    [
      "a self-referencing alias",
      "cluster: x\nhosts: &h [*h]\n",
      /: hosts\[0\]: got a YAML alias inside its own anchor/,
    ],
    [
      "two hosts whose step ids collide",
      lab.replace("name: controller2,", "name: controller1-db,"),
      /: hosts\[1\]\.name: got "controller1-db": expected a name whose steps' ids differ from hosts\[0\]'s/,
    ],
    [
      "a host named like a part of the cluster",
      lab.replace("name: network1,", "name: nova,"),
      /: hosts\[3\]\.name: got "nova"/,
    ],
    [
      "a host named localhost",
      lab.replace("name: network1,", "name: localhost,"),
      /: hosts\[3\]\.name: got "localhost"/,
    ],
    [
      "a huge value",
      lab.replace("cluster: labsmall", `cluster: ${"x".repeat(100000)}`),
      /: cluster: got "x{60}"… \(100000 characters\): expected at most 4096 characters$/,
    ],
  ];
  cases[0][1] = [
    "a: &a [x, x, x, x, x, x, x, x, x]",
    ..."bcdefgh".split("").map((c, i) => `${c}: &${c} [${Array(9).fill(`*${"abcdefgh"[i]}`).join(", ")}]`),
  ].join("\n");

  /** synth too where it gets furthest: in the YAML (no output folder yet), and building the stack (an empty one there). */
  const SYNTH_TOO = new Set(["an alias bomb", "two hosts whose step ids collide"]);
  const EMPTY_OUT_BEFORE = "two hosts whose step ids collide";

  it.each(cases)(
    "validate: %s is one line on stderr and exit 1 (synth: nothing written)",
    (name, text, expected) => {
      const file = path.join(dir, `${name.replace(/\W+/g, "-")}.yaml`);
      fs.writeFileSync(file, text);
      const out = path.join(dir, `out-${name.replace(/\W+/g, "-")}`, "cdktf.out");
      if (name === EMPTY_OUT_BEFORE) fs.mkdirSync(out, { recursive: true });
      const runs = [["validate", file], ...(SYNTH_TOO.has(name) ? [["synth", file, "-o", out]] : [])];
      for (const args of runs) {
        const result = runCli(args);
        expect(result.stdout).toBe("");
        expect(result.status).toBe(1);
        const lines = result.stderr.split("\n").filter(Boolean);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(new RegExp(`^error: ${file.replace(/[.]/g, "\\.")}`));
        expect(lines[0]).toMatch(expected);
        expect(result.stderr).not.toMatch(/\n\s+at /);
      }
      if (name === EMPTY_OUT_BEFORE) expect(fs.readdirSync(out)).toEqual([]);
      else expect(fs.existsSync(path.dirname(out))).toBe(false);
    },
  );

  /** One line on stderr, exit 1, no stack trace, within 60 s. */
  function oneLineFailure(args: string[]): string {
    const result = runCli(args, REPO_ROOT, 60_000);
    expect(result.signal).toBeNull();
    expect(result.status).toBe(1);
    const lines = result.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    return lines[0];
  }

  it("escapes a file name's newline and escape sequence in what it prints, error or not", () => {
    const file = path.join(dir, "lab\nerror: forged\u001b[31m.yaml");
    fs.writeFileSync(file, lab);
    const shown = `${dir}/lab\\u000aerror: forged\\u001b[31m.yaml`;
    expect(runCli(["validate", file]).stdout).toBe(
      `${shown}: valid: cluster labsmall, 4 hosts, debian-12-zed\n`,
    );
    fs.writeFileSync(file, "cluster: [x]\n");
    expect(oneLineFailure(["validate", file])).toBe(
      `error: ${shown}: cluster: got ["x"]: expected string, received array`,
    );
  });

  it("refuses a secrets file or an output folder under /proc in one line (Node's recursive mkdir spun there forever)", () => {
    expect(oneLineFailure(["secrets", "init", LAB_SMALL_EXAMPLE, "--file", "/proc/osc-none/s.json"])).toBe(
      "error: /proc/osc-none/s.json: cannot write the secrets file (ENOENT)",
    );
    expect(oneLineFailure(["synth", LAB_SMALL_EXAMPLE, "-o", "/proc/osc-none/out"])).toMatch(
      /^error: \/proc\/osc-none\/out: cannot write the stack: ENOENT/,
    );
  });

  it("refuses a malformed secrets file in one line that names no value", () => {
    const secrets = path.join(dir, "bad-secrets.json");
    fs.writeFileSync(secrets, '{"secret_x": "hunter2"');
    expect(oneLineFailure(["secrets", "init", LAB_SMALL_EXAMPLE, "--file", secrets])).toBe(
      `error: ${secrets}: not valid JSON (at position 22): expected a secrets file`,
    );
    fs.writeFileSync(secrets, '{"secret_mysql_replication_password": 42}');
    expect(oneLineFailure(["secrets", "init", LAB_SMALL_EXAMPLE, "--file", secrets])).toBe(
      `error: ${secrets}: secret_mysql_replication_password: got number: expected a non-empty string`,
    );
  });

  it("says an unexpected error is one, in one line, with its stack only under --debug", () => {
    const bug = new TypeError("cannot read x\nof undefined");
    expect(errorLines(bug, false)).toEqual([
      "error: cannot read x (unexpected: please report it with the command that gave it; --debug prints the stack)",
    ]);
    const debug = errorLines(bug, true);
    expect(debug).toHaveLength(2);
    expect(debug[1]).toMatch(/^TypeError: cannot read x\nof undefined\n\s+at /);
    expect(errorLines(new InventoryError("f\u001b: x: got 1: expected 2"), true)).toEqual([
      "error: f\\u001b: x: got 1: expected 2",
    ]);
  });

  it("validate writes nothing and says valid for an example (an App would make ./cdktf.out)", () => {
    const cwd = tempDir("cli-cwd");
    const result = runCli(["validate", LAB_SMALL_EXAMPLE], cwd);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`${LAB_SMALL_EXAMPLE}: valid: cluster labsmall, 4 hosts, debian-12-zed\n`);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });
});
