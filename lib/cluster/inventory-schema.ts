import { z } from "zod";
import { RELEASE_NAMES } from "../core/releases";
import { ROLES } from "../core/roles";
import { SWIFT_DEVICE_EXPECTED, SWIFT_DEVICE_NAME } from "../services/swift-rings";
import {
  CEPH_MEMORY_EXPECTED,
  CEPH_OSD_DEVICE,
  CEPH_OSD_DEVICE_EXPECTED,
  CEPH_OSD_FILE,
  CEPH_OSD_FILE_EXPECTED,
  CEPH_OSD_SIZE_EXPECTED,
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
 * The inventory file's shape. Every object is strict: an unknown key is an error, because a
 * misspelt key (`adress:`) silently ignored is how the seed's `api_paste_confg` happened.
 */

/** A Ceph OSD's data: a block device, or a file (a lab without spare disks; Ceph's test clusters do this). */
const cephOsdSchema = z.union(
  [
    z.strictObject({
      device: z.string().regex(CEPH_OSD_DEVICE, CEPH_OSD_DEVICE_EXPECTED),
    }),
    z.strictObject({
      file: z.string().regex(CEPH_OSD_FILE, CEPH_OSD_FILE_EXPECTED),
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

const hostname = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    "a hostname: lowercase letters, digits and '-', 1 to 63 characters, not starting or ending with '-'",
  );

const ipAddress = z.union([z.ipv4(), z.ipv6()], { error: "an IPv4 or IPv6 address" });
const cidr = z.union([z.cidrv4(), z.cidrv6()], { error: "a network in CIDR form, such as 10.20.0.0/24" });
const port = z.number().int().min(1).max(65535);
const interfaceName = z
  .string()
  .regex(/^[a-zA-Z0-9_.:-]{1,15}$/, "a network interface name (at most 15 characters)");

/** nova-compute's hypervisor: `auto` is kvm where the compute host has /dev/kvm, else qemu (decided there, at deploy time). */
export const VIRT_TYPES = ["auto", "kvm", "qemu"] as const;
export type VirtType = (typeof VIRT_TYPES)[number];
/** Open vSwitch's datapath: `system` is the kernel module's, `netdev` the userspace one (hosts without the module). */
export const DATAPATH_TYPES = ["system", "netdev"] as const;
export type DatapathType = (typeof DATAPATH_TYPES)[number];

/** Where Glance keeps image data: Swift (survives a controller's loss), or each controller's disk. */
export const IMAGE_STORES = ["swift", "file"] as const;
export type ImageStore = (typeof IMAGE_STORES)[number];

const unixUser = z.string().regex(/^[a-z_][a-z0-9_-]*$/, "a Unix user name");

export const bastionSchema = z.strictObject({
  host: z.string().min(1),
  user: unixUser.optional(),
  port: port.optional(),
  privateKeyFile: z.string().min(1).optional(),
  hostKey: z.string().min(1).optional(),
});

export const sshSchema = z.strictObject({
  user: unixUser.optional(),
  port: port.optional(),
  /** Path to the private key; `~` is expanded by Terraform, a relative path is taken from the inventory's folder. */
  privateKeyFile: z.string().min(1).optional(),
  /** Use the running ssh-agent instead of a key file. */
  agent: z.boolean().optional(),
  /** The host's public key (`ssh-ed25519 AAAA…`), pinned so that a man in the middle is refused. */
  hostKey: z.string().min(1).optional(),
  bastion: bastionSchema.optional(),
  timeout: z
    .string()
    .regex(/^\d+[smh]$/, "a duration such as 5m")
    .optional(),
});

/**
 * A Cinder volume backend, one shape per `driver` (the next, Ceph's `rbd`, adds its own).
 * lib/services/volume-backends.ts checks what spans fields: reserved and repeated names, a
 * volume group used twice, two target helpers on one host.
 */
export const volumeBackendSchema = z.discriminatedUnion(
  "driver",
  [
    z.strictObject({
      name: z.string().regex(VOLUME_BACKEND_NAME, VOLUME_BACKEND_NAME_EXPECTED),
      driver: z.literal("lvm"),
      volumeGroup: z.string().refine(isVolumeGroupName, VOLUME_GROUP_EXPECTED),
      targetHelper: z.enum(TARGET_HELPERS).optional(),
    }),
    z.strictObject({
      name: z.string().regex(VOLUME_BACKEND_NAME, VOLUME_BACKEND_NAME_EXPECTED),
      driver: z.literal("rbd"),
      pool: z.string().regex(RBD_POOL, RBD_POOL_EXPECTED).optional(),
    }),
  ],
  { error: (issue) => (issue.code === "invalid_union" ? VOLUME_BACKEND_DRIVER_EXPECTED : undefined) },
);

export const hostSchema = z.strictObject({
  name: hostname,
  address: ipAddress,
  roles: z.array(z.enum(ROLES)).min(1, "at least one role"),
  tunnelAddress: ipAddress.optional(),
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
  /** Storage hosts: the Swift device, a directory under /srv/node (a mounted disk on a server). */
  swiftDevice: z.string().regex(SWIFT_DEVICE_NAME, SWIFT_DEVICE_EXPECTED).optional(),
  /** Cinder's backends on this storage host; `[]`: none (no cinder-volume). */
  volumeBackends: z.array(volumeBackendSchema).optional(),
  /** Storage hosts, with `ceph`: this host's OSD, instead of `ceph.osd`. */
  cephOsd: cephOsdSchema.optional(),
});

// Day one is IPv4: the lab's and most provider networks are, and IPv6 subnets need RA modes.
const ipv4Address = z.ipv4({ error: "an IPv4 address" });
const ipv4Cidr = z.cidrv4({ error: "an IPv4 network in CIDR form, such as 10.212.0.0/24" });
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
    cidr: ipv4Cidr,
    gateway: ipv4Address,
    allocationPool: z.strictObject({ start: ipv4Address, end: ipv4Address }),
  }),
  tenant: z.strictObject({ name: dayOneName.optional(), cidr: ipv4Cidr.optional() }).optional(),
  router: z.strictObject({ name: dayOneName.optional() }).optional(),
});

export const inventorySchema = z.strictObject({
  cluster: hostname,
  release: z.enum(RELEASE_NAMES),
  ha: z.enum(["heartbeat", "single"]).optional(),
  resource: z.enum(["terraform_data", "null_resource"]).optional(),
  aptProxy: z.url({ protocol: /^https?$/, error: "an http:// or https:// URL" }).optional(),
  ntpServers: z.array(z.string().min(1)).optional(),
  ssh: sshSchema.optional(),
  /** Defaults for the hosts; a host may override them. */
  virtType: z.enum(VIRT_TYPES).optional(),
  datapathType: z.enum(DATAPATH_TYPES).optional(),
  /** Swift's rings (built once from the storage hosts) and its storage servers. */
  swift: z
    .strictObject({
      partPower: z
        .int()
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
      osdMemoryTargetMiB: z
        .int()
        .min(896, CEPH_MEMORY_EXPECTED)
        .max(1048576, CEPH_MEMORY_EXPECTED)
        .optional(),
    })
    .optional(),
  /** The storage hosts' backends, unless a host names its own. */
  volumeBackends: z.array(volumeBackendSchema).optional(),
  networks: z.strictObject({
    management: z.strictObject({
      cidr,
      vip: ipAddress.optional(),
      vipName: hostname.optional(),
      interface: interfaceName.optional(),
    }),
    provider: z
      .strictObject({
        interface: interfaceName,
        physnet: z.string().regex(/^[a-z][a-z0-9_-]*$/, "a physical network name such as provider"),
      })
      .optional(),
    tunnel: z.strictObject({ cidr, interface: interfaceName }).optional(),
  }),
  hosts: z.array(hostSchema).min(1, "at least one host"),
  dayOne: dayOneSchema.optional(),
});

export type InventoryInput = z.infer<typeof inventorySchema>;
