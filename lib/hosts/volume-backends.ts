/**
 * Cinder's volume backends on a storage host, as the host carries them (`HostProps.volumeBackends`):
 * what the inventory's `volumeBackends` say, checked and with their defaults filled in. What they
 * become in `cinder.conf` is Cinder's (lib/services/volume-backends.ts). One kind per `driver`,
 * so that another driver (Ceph RBD) adds a kind beside `lvm` without reshaping the others.
 */

/** How an LVM backend exports its volumes over iSCSI: tgtd (`tgtadm`) or the kernel's LIO target (`lioadm`). */
export const TARGET_HELPERS = ["tgtadm", "lioadm"] as const;
export type TargetHelper = (typeof TARGET_HELPERS)[number];

/** The drivers a backend may name. */
export const VOLUME_BACKEND_DRIVERS = ["lvm", "rbd"] as const;
export type VolumeBackendDriver = (typeof VOLUME_BACKEND_DRIVERS)[number];
export const VOLUME_BACKEND_DRIVER_EXPECTED = `a volume backend driver: ${VOLUME_BACKEND_DRIVERS.join(", ")}`;

/** An LVM backend as given: volumes are logical volumes of `volumeGroup`, exported over iSCSI. */
export interface LvmBackendSpec {
  /** The section name in cinder.conf and the `volume_backend_name` (a volume type selects it by this). */
  readonly name: string;
  readonly driver: "lvm";
  /** A volume group made on the host beforehand. */
  readonly volumeGroup: string;
  /** @default the release's (`CINDER_RELEASES`' `defaultTargetHelper`) */
  readonly targetHelper?: TargetHelper;
}

/**
 * A Ceph RBD backend as given: volumes are RBD images in `pool` of the cluster's Ceph (the
 * inventory's `ceph` section), read and written by the `cinder` Ceph client; qemu on the compute
 * hosts opens them with librbd.
 */
export interface RbdBackendSpec {
  readonly name: string;
  readonly driver: "rbd";
  /** @default "volumes" */
  readonly pool?: string;
}

/** A backend as given (the inventory's `volumeBackends` entries, or `HostProps.volumeBackends`). */
export type VolumeBackendSpec = LvmBackendSpec | RbdBackendSpec;

/** An LVM backend with its defaults filled in. */
export interface LvmBackend extends LvmBackendSpec {
  readonly targetHelper: TargetHelper;
}

/** An RBD backend with its defaults filled in. */
export interface RbdBackend extends RbdBackendSpec {
  readonly pool: string;
}

/** A backend with its defaults filled in. */
export type VolumeBackend = LvmBackend | RbdBackend;

/** The RBD backends' pool when none is named. */
export const DEFAULT_RBD_POOL = "volumes";
/** A Ceph pool name as the library makes it (it stands in commands and in capabilities). */
export const RBD_POOL = /^[a-z][a-z0-9_-]{0,62}$/;
export const RBD_POOL_EXPECTED =
  "a pool name of lowercase letters, digits, '_' and '-', starting with a letter, at most 63 characters";
/** The Ceph client (client.cinder) that every RBD backend uses. */
export const RBD_CLIENT = "cinder";

/** The pools of the RBD backends among `backends`, each once. */
export function rbdPools(backends: readonly VolumeBackend[]): string[] {
  return [...new Set(backends.flatMap((b) => (b.driver === "rbd" ? [b.pool] : [])))];
}

/**
 * A backend's name: a section header (`[lvm-1]`), an item of `enabled_backends` (a comma list)
 * and the part of Cinder's host strings after `@` (`host@lvm-1#pool`), so no `,`, `@`, `#`.
 */
export const VOLUME_BACKEND_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
export const VOLUME_BACKEND_NAME_EXPECTED =
  "a backend name of letters, digits, '_' and '-', starting with a letter or digit, at most 63 characters";

/**
 * Sections cinder.conf has or may have for itself: a backend of that name would mix its keys
 * into them. Compared without case; every `oslo_*` section is reserved too.
 */
const RESERVED_SECTIONS = [
  "DEFAULT",
  "backend",
  "backend_defaults",
  "barbican",
  "cinder_sys_admin",
  "coordination",
  "cors",
  "database",
  "fc-zone-manager",
  "glance",
  "healthcheck",
  "key_manager",
  "keystone_authtoken",
  "nova",
  "os_brick",
  "privsep",
  "profiler",
  "service_user",
  "ssl",
  "vault",
];
/**
 * Prefixes of sections that are reserved as a family: oslo's libraries, and oslo.privsep's
 * contexts (os-brick's `privsep_osbrick`, Cinder's own `cinder_sys_admin`).
 */
const RESERVED_PREFIXES = ["oslo_", "privsep_"];
const RESERVED_EXPECTED = `a backend name that is not one of cinder.conf's own sections (${RESERVED_SECTIONS.join(", ")}, ${RESERVED_PREFIXES.map((p) => `${p}*`).join(", ")})`;

/**
 * Pools Ceph makes for itself: the manager's (`device_health_metrics` on Pacific; Reef's `.mgr`
 * is outside RBD_POOL already). A backend there would hand Cinder the manager's data.
 */
const CEPH_OWN_POOLS = ["device_health_metrics"];

/** LVM's rule for a volume group's name (lvm(8), "VALID NAMES"). */
const VOLUME_GROUP = /^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$/;
export const VOLUME_GROUP_EXPECTED =
  "a volume group name of letters, digits and '+_.-', not starting with '-', not '.' or '..', at most 127 characters";

export function isVolumeGroupName(name: string): boolean {
  return VOLUME_GROUP.test(name) && name !== "." && name !== "..";
}

/** One problem with a host's backends, its field relative to the list (`[1].volumeGroup`). */
export interface VolumeBackendProblem {
  readonly field: string;
  readonly value: unknown;
  readonly expected: string;
}

/**
 * The first problem with a host's backends, or none: each field as it lands in cinder.conf and
 * in the script, and what one host cannot hold twice (a name, a volume group) or at once (two
 * target helpers: both iSCSI targets would listen on port 3260).
 */
export function volumeBackendsProblem(
  backends: readonly VolumeBackendSpec[],
  defaultTargetHelper: TargetHelper,
): VolumeBackendProblem | undefined {
  const names = new Map<string, number>();
  const groups = new Map<string, number>();
  const pools = new Map<string, number>();
  for (const [i, backend] of backends.entries()) {
    const at = (key: string) => `[${i}].${key}`;
    const { name, driver } = backend;
    if (typeof name !== "string" || !VOLUME_BACKEND_NAME.test(name)) {
      return { field: at("name"), value: name, expected: VOLUME_BACKEND_NAME_EXPECTED };
    }
    if (isReservedSection(name)) return { field: at("name"), value: name, expected: RESERVED_EXPECTED };
    // oslo.config's section names are case-sensitive, Cinder's backend names in MySQL are not.
    const earlier = names.get(name.toLowerCase());
    if (earlier !== undefined) {
      return {
        field: at("name"),
        value: name,
        expected: `a name no other backend of this host has ([${earlier}])`,
      };
    }
    names.set(name.toLowerCase(), i);
    if (!(VOLUME_BACKEND_DRIVERS as readonly string[]).includes(driver)) {
      return { field: at("driver"), value: driver, expected: VOLUME_BACKEND_DRIVER_EXPECTED };
    }
    if (backend.driver === "rbd") {
      if (backend.pool !== undefined && (typeof backend.pool !== "string" || !RBD_POOL.test(backend.pool))) {
        return { field: at("pool"), value: backend.pool, expected: RBD_POOL_EXPECTED };
      }
      const pool = backend.pool ?? DEFAULT_RBD_POOL;
      if (CEPH_OWN_POOLS.includes(pool)) {
        return {
          field: at("pool"),
          value: pool,
          expected: `a pool other than Ceph's own (${CEPH_OWN_POOLS.join(", ")})`,
        };
      }
      // Each backend reports the whole pool's capacity as its own: the scheduler counts it twice.
      const sharing = pools.get(pool);
      if (sharing !== undefined) {
        return {
          field: at("pool"),
          value: pool,
          expected: `a pool no other backend of this host uses ([${sharing}] has it)`,
        };
      }
      pools.set(pool, i);
      continue;
    }
    const { volumeGroup, targetHelper } = backend;
    if (typeof volumeGroup !== "string" || !isVolumeGroupName(volumeGroup)) {
      return { field: at("volumeGroup"), value: volumeGroup, expected: VOLUME_GROUP_EXPECTED };
    }
    const shared = groups.get(volumeGroup);
    if (shared !== undefined) {
      return {
        field: at("volumeGroup"),
        value: volumeGroup,
        expected: `a volume group no other backend of this host uses ([${shared}] has it)`,
      };
    }
    groups.set(volumeGroup, i);
    if (targetHelper !== undefined && !(TARGET_HELPERS as readonly string[]).includes(targetHelper)) {
      return {
        field: at("targetHelper"),
        value: targetHelper,
        expected: `one of ${TARGET_HELPERS.join(", ")}`,
      };
    }
  }
  const lvm = resolveVolumeBackends(backends, defaultTargetHelper).flatMap((b, i) =>
    b.driver === "lvm" ? [{ i, helper: b.targetHelper }] : [],
  );
  const other = lvm.find((b) => b.helper !== lvm[0].helper);
  if (other) {
    return {
      field: `[${other.i}].targetHelper`,
      value: other.helper,
      expected: `the target helper of the host's other backends (${lvm[0].helper}): two iSCSI targets cannot share port 3260`,
    };
  }
  return undefined;
}

/** The backends with the release's target helper where none is given. */
export function resolveVolumeBackends(
  backends: readonly VolumeBackendSpec[],
  defaultTargetHelper: TargetHelper,
): VolumeBackend[] {
  return backends.map((b) =>
    b.driver === "rbd"
      ? { ...b, pool: b.pool ?? DEFAULT_RBD_POOL }
      : { ...b, targetHelper: b.targetHelper ?? defaultTargetHelper },
  );
}

function isReservedSection(name: string): boolean {
  const lower = name.toLowerCase();
  return (
    RESERVED_PREFIXES.some((p) => lower.startsWith(p)) ||
    RESERVED_SECTIONS.some((s) => s.toLowerCase() === lower)
  );
}

/** A backend name on two hosts that do not mean the same backend: where, and what was expected. */
export interface BackendNameClash {
  /** The index of the host (in the list given) whose backend clashes with an earlier one. */
  readonly host: number;
  readonly field: string;
  readonly value: string;
  readonly expected: string;
}

/**
 * Across the cluster's storage hosts, one backend name is one backend: a volume type selects
 * hosts by `volume_backend_name` (and Cinder's database compares names without case), so the
 * same name must be spelt the same and name the same driver, and for RBD the same pool. Hosts
 * are added one by one (`CinderService` as it places them), each checked against the earlier.
 */
export class BackendNames {
  private readonly first = new Map<string, { host: string; backend: VolumeBackend }>();

  /** The first of `backends` that clashes with an earlier host's (`host` left 0), else adds them. */
  add(hostName: string, backends: readonly VolumeBackend[]): BackendNameClash | undefined {
    for (const [i, backend] of backends.entries()) {
      const earlier = this.first.get(backend.name.toLowerCase());
      if (!earlier || earlier.host === hostName) continue;
      const other = earlier.backend;
      const same =
        other.name === backend.name &&
        other.driver === backend.driver &&
        (backend.driver !== "rbd" || (other.driver === "rbd" && other.pool === backend.pool));
      if (!same) {
        return {
          host: 0,
          field: `[${i}]`,
          value: `${backend.name} (${backend.driver}${backend.driver === "rbd" ? ` pool ${backend.pool}` : ""})`,
          expected: `the backend that name is on ${earlier.host} (${other.name}, ${other.driver}${other.driver === "rbd" ? ` pool ${other.pool}` : ""}), or another name: a volume type picks hosts by backend name, compared without case`,
        };
      }
    }
    for (const backend of backends) {
      if (!this.first.has(backend.name.toLowerCase())) {
        this.first.set(backend.name.toLowerCase(), { host: hostName, backend });
      }
    }
    return undefined;
  }
}

/** `BackendNames` over a whole list of hosts: the first clash, `host` its index in the list. */
export function backendNameClash(
  hosts: readonly { readonly name: string; readonly backends: readonly VolumeBackend[] }[],
): BackendNameClash | undefined {
  const names = new BackendNames();
  for (const [h, host] of hosts.entries()) {
    const clash = names.add(host.name, host.backends);
    if (clash) return { ...clash, host: h };
  }
  return undefined;
}
