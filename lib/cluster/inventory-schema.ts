import * as net from "net";
import { z } from "zod";
import {
  HOST_OR_IPV4_EXPECTED,
  HOSTNAME,
  HOSTNAME_EXPECTED,
  hostNetworkProblem,
  ipv4AddressProblem,
  IPV6_NOT_SUPPORTED,
  INTERFACE_NAME,
  INTERFACE_NAME_EXPECTED,
  isHostOrIPv4,
  isSshPublicKey,
  PHYSNET,
  PHYSNET_EXPECTED,
  proxyUrlProblem,
  SSH_PUBLIC_KEY_EXPECTED,
  SSH_TIMEOUT,
  SSH_TIMEOUT_EXPECTED,
  UNIX_USER,
  UNIX_USER_EXPECTED,
} from "../core/field-rules";
import { RELEASE_NAMES } from "../core/releases";
import { ROLES } from "../core/roles";
import { SWIFT_DEVICE_EXPECTED, SWIFT_DEVICE_NAME } from "../services/swift-rings";
import {
  CEPH_MEMORY_EXPECTED,
  CEPH_MEMORY_MIB,
  CEPH_OSD_DEVICE,
  CEPH_OSD_DEVICE_EXPECTED,
  CEPH_OSD_FILE_EXPECTED,
  CEPH_OSD_SIZE_EXPECTED,
  isCephOsdFile,
} from "../platform/ceph-cluster";
import { DAY_ONE_NAME, DAY_ONE_NAME_EXPECTED, FLAVOR_NUMBER_EXPECTED } from "../services/day-one-settings";
import {
  isVolumeGroupName,
  RBD_POOL,
  RBD_POOL_EXPECTED,
  TARGET_HELPERS,
  VOLUME_BACKEND_DRIVER_EXPECTED,
  VOLUME_BACKEND_NAME,
  VOLUME_BACKEND_NAME_EXPECTED,
  VOLUME_GROUP_EXPECTED,
} from "../services/volume-backends";

/**
 * The inventory file's shape, and what each field may hold. Every object is strict: an unknown
 * key is an error, because a misspelt key (`adress:`) silently ignored is how the seed's
 * `api_paste_confg` happened. Each field's comment says where its value lands and why its rule
 * makes it safe there.
 *
 * Before this schema, `parseInventory` refuses in every string (and key) control characters,
 * invisible formatting characters and more than 4096 characters: no field needs one, and a
 * newline is how a value adds a line of its own to a config file. The ASCII rules below also
 * refuse look-alikes (`ｅｔｈ０`, a Cyrillic `е`). Cross-field rules (networks and the addresses
 * in them, names that collide) are in inventory.ts; what a stack cannot be built from is found
 * by building it (bin/synthesize.ts).
 *
 * The only inventory values that reach Terraform's JSON, where `${` and `%{` are evaluated, are
 * the SSH connection's: addresses, user names, ports and host keys, whose rules admit neither
 * sequence, and key file paths, which go through `hclString` (escaped). Everything else goes
 * into the steps' scripts, files that Terraform uploads as they are.
 */

/** A zod string refined by a rule that returns what was expected, or undefined when the value is fine. */
function checkedString(problem: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const message = problem(value);
    if (message !== undefined) ctx.addIssue({ code: "custom", message });
  });
}

/** A cluster member's or the cluster's address (ipv4AddressProblem). */
const ipv4Address = checkedString(ipv4AddressProblem);

/**
 * A network of the cluster's hosts (hostNetworkProblem): the management network is opened in
 * MariaDB's grants, chrony's `allow`, rsync's `hosts allow` and Ceph's `public_network`; the
 * tunnel network's prefix is each tunnel address's netmask.
 */
const hostNetwork = checkedString(hostNetworkProblem);

/** A host's name (the cluster's and the VIP's too): see HOSTNAME. */
const hostname = z.string().regex(HOSTNAME, HOSTNAME_EXPECTED);

/** A TCP port: a number in the SSH connection (Terraform's JSON). */
const port = z
  .int({ error: "a port from 1 to 65535" })
  .min(1, "a port from 1 to 65535")
  .max(65535, "a port from 1 to 65535");

/** A network interface name: in ip(8) and ovs-vsctl commands, ha.cf's ucast, haresources (see INTERFACE_NAME). */
const interfaceName = z.string().regex(INTERFACE_NAME, INTERFACE_NAME_EXPECTED);

/** nova-compute's hypervisor: `auto` is kvm where the compute host has /dev/kvm, else qemu (decided there, at deploy time). */
export const VIRT_TYPES = ["auto", "kvm", "qemu"] as const;
export type VirtType = (typeof VIRT_TYPES)[number];
/** Open vSwitch's datapath: `system` is the kernel module's, `netdev` the userspace one (hosts without the module). */
export const DATAPATH_TYPES = ["system", "netdev"] as const;
export type DatapathType = (typeof DATAPATH_TYPES)[number];

/** Where Glance keeps image data: Swift (survives a controller's loss), or each controller's disk. */
export const IMAGE_STORES = ["swift", "file"] as const;
export type ImageStore = (typeof IMAGE_STORES)[number];

/** An SSH user: the connection's user (Terraform's JSON) and a part of its upload folder's path in a script. */
const unixUser = z.string().regex(UNIX_USER, UNIX_USER_EXPECTED);

/**
 * A private key's path: Terraform reads it at apply through `${file(pathexpand("…"))}`,
 * the path written by `hclString` (JSON-quoted, `${` and `%{` escaped), so any path without
 * control characters is safe; at most PATH_MAX.
 */
const keyFile = z.string().min(1, "a file path").max(4096, "a file path of at most 4096 characters");

/**
 * A pinned host key: Terraform writes it into a known_hosts line, and it reaches the JSON as it
 * is: `<type> <base64>` only (see isSshPublicKey), which holds no template sequence.
 */
const hostKey = z.string().refine(isSshPublicKey, SSH_PUBLIC_KEY_EXPECTED);

/** A jump host: every field reaches the connection in Terraform's JSON as it is (a key file escaped). */
export const bastionSchema = z.strictObject({
  /** A hostname or IPv4 address: neither holds `$`, `%`, `{` or a space. */
  host: checkedString((value) =>
    isHostOrIPv4(value)
      ? undefined
      : `${HOST_OR_IPV4_EXPECTED}${net.isIPv6(value) ? ` (${IPV6_NOT_SUPPORTED})` : ""}`,
  ),
  user: unixUser.optional(),
  port: port.optional(),
  privateKeyFile: keyFile.optional(),
  hostKey: hostKey.optional(),
});

/** SSH settings both the top level (defaults) and a host take. */
const sshFields = {
  user: unixUser.optional(),
  port: port.optional(),
  /** Path to the private key; `~` is expanded by Terraform, a relative path is taken from the inventory's folder. */
  privateKeyFile: keyFile.optional(),
  /** Use the running ssh-agent instead of a key file. */
  agent: z.boolean().optional(),
  bastion: bastionSchema.optional(),
  /** Terraform's connection timeout (the JSON): a few digits and a unit. */
  timeout: z.string().regex(SSH_TIMEOUT, SSH_TIMEOUT_EXPECTED).optional(),
};

/** A host's own SSH settings, over the top level's. */
export const sshSchema = z.strictObject({
  ...sshFields,
  /** The host's public key, pinned so that a man in the middle is refused. */
  hostKey: hostKey.optional(),
});

/** The top level's SSH settings: defaults for every host. */
export const sshDefaultsSchema = z.strictObject({
  ...sshFields,
  /** A host key pins one host; here it would be ignored (a key accepted and ignored is an error). */
  hostKey: z
    .undefined({
      error: "no hostKey in the ssh defaults: a host key pins one host (give it as hosts[N].ssh.hostKey)",
    })
    .optional(),
});

/** A Ceph OSD's data: a block device, or a file (a lab without spare disks; Ceph's test clusters do this). */
const cephOsdSchema = z.union(
  [
    z.strictObject({
      /** Under /dev, plain characters (it stands in scripts and a symlink), no `.` or `..` part. */
      device: z.string().regex(CEPH_OSD_DEVICE, CEPH_OSD_DEVICE_EXPECTED),
    }),
    z.strictObject({
      /** Absolute, plain characters (a word in the OSD script), no `.` or `..` part, where the library may format (isCephOsdFile). */
      file: z.string().refine(isCephOsdFile, CEPH_OSD_FILE_EXPECTED),
      /** A number in the script's truncate(1). */
      sizeGiB: z
        .int({ error: CEPH_OSD_SIZE_EXPECTED })
        .min(2, CEPH_OSD_SIZE_EXPECTED)
        .max(65536, CEPH_OSD_SIZE_EXPECTED),
    }),
  ],
  {
    error: (issue) =>
      issue.code === "invalid_union" ? "{ device: /dev/NAME } or { file: /PATH, sizeGiB: N }" : undefined,
  },
);

/**
 * A Cinder volume backend, one shape per `driver`. lib/services/volume-backends.ts checks what
 * spans fields: reserved and repeated names, a volume group used twice, two target helpers on
 * one host.
 */
export const volumeBackendSchema = z.discriminatedUnion(
  "driver",
  [
    z.strictObject({
      /** A cinder.conf section, an item of enabled_backends, part of Cinder's host strings (VOLUME_BACKEND_NAME). */
      name: z.string().regex(VOLUME_BACKEND_NAME, VOLUME_BACKEND_NAME_EXPECTED),
      driver: z.literal("lvm"),
      /** A word in the script's vgs command and a cinder.conf value: LVM's own name rule. */
      volumeGroup: z.string().refine(isVolumeGroupName, VOLUME_GROUP_EXPECTED),
      targetHelper: z.enum(TARGET_HELPERS).optional(),
    }),
    z.strictObject({
      name: z.string().regex(VOLUME_BACKEND_NAME, VOLUME_BACKEND_NAME_EXPECTED),
      driver: z.literal("rbd"),
      /** A word in Ceph's commands and in client.cinder's capabilities (RBD_POOL). */
      pool: z.string().regex(RBD_POOL, RBD_POOL_EXPECTED).optional(),
    }),
  ],
  { error: (issue) => (issue.code === "invalid_union" ? VOLUME_BACKEND_DRIVER_EXPECTED : undefined) },
);

export const hostSchema = z.strictObject({
  /** See `hostname`; inventory.ts also refuses /etc/hosts' own names and the cluster's construct ids. */
  name: hostname,
  /** Inside the management network, not its network or broadcast address (inventory.ts). */
  address: ipv4Address,
  roles: z.array(z.enum(ROLES)).min(1, "at least one role"),
  /** Inside the tunnel network: OVS's local_ip, an address in the step's ip(8) commands. */
  tunnelAddress: ipv4Address.optional(),
  interfaces: z
    .strictObject({
      management: interfaceName.optional(),
      provider: interfaceName.optional(),
      tunnel: interfaceName.optional(),
    })
    .optional(),
  ssh: sshSchema.optional(),
  virtType: z.enum(VIRT_TYPES).optional(),
  datapathType: z.enum(DATAPATH_TYPES).optional(),
  /** Storage hosts: the Swift device, a directory under /srv/node and a word in swift-ring-builder's commands. */
  swiftDevice: z.string().regex(SWIFT_DEVICE_NAME, SWIFT_DEVICE_EXPECTED).optional(),
  /** Cinder's backends on this storage host; `[]`: none (no cinder-volume). */
  volumeBackends: z.array(volumeBackendSchema).optional(),
  /** Storage hosts, with `ceph`: this host's OSD, instead of `ceph.osd`. */
  cephOsd: cephOsdSchema.optional(),
});

// Day one is IPv4: the lab's and most provider networks are, and IPv6 subnets need RA modes.
// Its values go into a JSON spec file that the step writes and day-one.py reads; the names are
// also words in the step's log lines (dayOneProblem checks the addresses against each other).
const dayOneAddress = z.ipv4({ error: "an IPv4 address" });
const dayOneCidr = z.cidrv4({ error: "an IPv4 network in CIDR form, such as 10.212.0.0/24" });
const dayOneName = z.string().regex(DAY_ONE_NAME, DAY_ONE_NAME_EXPECTED);
const flavorNumber = z
  .int({ error: FLAVOR_NUMBER_EXPECTED })
  .min(1, FLAVOR_NUMBER_EXPECTED)
  .max(2147483647, FLAVOR_NUMBER_EXPECTED);

/** The opt-in day-one content (kolla-ansible's init-runonce): off when absent. */
export const dayOneSchema = z.strictObject({
  flavor: z
    .strictObject({
      name: dayOneName.optional(),
      vcpus: flavorNumber.optional(),
      ramMiB: flavorNumber.optional(),
      diskGiB: flavorNumber.optional(),
    })
    .optional(),
  // No defaults for the addresses: the provider network is a real LAN with other machines on it.
  external: z.strictObject({
    name: dayOneName.optional(),
    cidr: dayOneCidr,
    gateway: dayOneAddress,
    allocationPool: z.strictObject({ start: dayOneAddress, end: dayOneAddress }),
  }),
  tenant: z.strictObject({ name: dayOneName.optional(), cidr: dayOneCidr.optional() }).optional(),
  router: z.strictObject({ name: dayOneName.optional() }).optional(),
});

/**
 * The most hosts an inventory may list: what `npm run bench` proves (2 controllers, a network
 * host and 3,000 compute+storage hosts synthesize and plan in bounded memory), with room. A
 * larger list is refused in one line before anything is built, never a heap crash.
 */
export const MAX_HOSTS = 3500;
const MAX_HOSTS_EXPECTED = `at most ${MAX_HOSTS} hosts (the largest cluster the benchmark proves; a larger one is not supported yet)`;

export const inventorySchema = z.strictObject({
  /** The stack's name and folder, the secrets file's name, the seed of Ceph's fsid: see `hostname`. */
  cluster: hostname,
  /** @default DEFAULT_RELEASE */
  release: z.enum(RELEASE_NAMES).optional(),
  ha: z.enum(["heartbeat", "single"]).optional(),
  resource: z.enum(["terraform_data", "null_resource"]).optional(),
  /** `Acquire::http::Proxy "<url>";` in apt.conf.d: see proxyUrlProblem. */
  aptProxy: checkedString(proxyUrlProblem).optional(),
  /** Each a `server <name> iburst` line in the controllers' chrony.conf: a hostname or address, one word. */
  ntpServers: z
    .array(
      checkedString((value) =>
        isHostOrIPv4(value)
          ? undefined
          : `${HOST_OR_IPV4_EXPECTED}${net.isIPv6(value) ? ` (${IPV6_NOT_SUPPORTED})` : ""}`,
      ),
    )
    .max(16, "at most 16 servers")
    .optional(),
  ssh: sshDefaultsSchema.optional(),
  /** Defaults for the hosts; a host may override them. */
  virtType: z.enum(VIRT_TYPES).optional(),
  datapathType: z.enum(DATAPATH_TYPES).optional(),
  /** Swift's rings (built once from the storage hosts) and its storage servers. */
  swift: z
    .strictObject({
      /** A number in swift-ring-builder's create command. */
      partPower: z
        .int({ error: "a partition power from 6 to 22" })
        .min(6, "a partition power from 6 to 22")
        .max(22, "a partition power from 6 to 22")
        .optional(),
      mountCheck: z.boolean().optional(),
    })
    .optional(),
  imageStore: z.enum(IMAGE_STORES).optional(),
  /** A Ceph cluster: monitors on the controllers (and storage hosts, up to three), an OSD on every storage host. */
  ceph: z
    .strictObject({
      /** Every storage host's OSD, unless it names its own (`cephOsd`). */
      osd: cephOsdSchema.optional(),
      /** A number in ceph.conf. */
      osdMemoryTargetMiB: z
        .int({ error: CEPH_MEMORY_EXPECTED })
        .min(CEPH_MEMORY_MIB.min, CEPH_MEMORY_EXPECTED)
        .max(CEPH_MEMORY_MIB.max, CEPH_MEMORY_EXPECTED)
        .optional(),
    })
    .optional(),
  /** The storage hosts' backends, unless a host names its own. */
  volumeBackends: z.array(volumeBackendSchema).optional(),
  networks: z.strictObject({
    management: z.strictObject({
      cidr: hostNetwork,
      /** Heartbeat's resource, /etc/hosts, every endpoint: inside the network, no host's (inventory.ts). */
      vip: ipv4Address.optional(),
      /** The VIP's line in /etc/hosts and Horizon's ALLOWED_HOSTS: see `hostname`. */
      vipName: hostname.optional(),
      interface: interfaceName.optional(),
    }),
    provider: z
      .strictObject({
        interface: interfaceName,
        /** ML2's flat_networks and bridge_mappings (`physnet:br-provider`), Neutron's API: Neutron's length limit. */
        physnet: z.string().regex(PHYSNET, PHYSNET_EXPECTED),
      })
      .optional(),
    tunnel: z.strictObject({ cidr: hostNetwork, interface: interfaceName }).optional(),
  }),
  hosts: z.array(hostSchema).min(1, "at least one host").max(MAX_HOSTS, MAX_HOSTS_EXPECTED),
  dayOne: dayOneSchema.optional(),
});

/** An inventory as written, once the schema accepted it: no default filled in yet (`Inventory` has them). */
export type InventoryInput = z.infer<typeof inventorySchema>;
