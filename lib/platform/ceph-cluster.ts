import { declareSecrets } from "../core/secret-catalog";
import { Construct } from "constructs";
import { join as quote } from "shlex";
import { v5 as uuidV5 } from "uuid";
import { ComponentDeclaration } from "../core/component";
import { Endpoint } from "../core/endpoint";
import { secretPlaceholder } from "../core/ini-file";
import { mapReleases, PackagesByRelease, packagesFor } from "../core/releases/packages";
import { SecretSpec } from "../core/secret-spec";
import { hostSecretFile, ShellScript } from "../core/shell-script";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { quote as quoteValue } from "../core/field-rules";

/** Monitors and managers: the managers are on the controllers, which are monitors too. */
export const CEPH_MON_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["ceph-mon", "ceph-common"],
  // Reef's ceph-mon no longer pulls ceph-base, which holds monmaptool.
  "debian-13-epoxy": ["ceph-mon", "ceph-base", "ceph-common"],
  "ubuntu-2404-caracal": ["ceph-mon", "ceph-common"],
};
export const CEPH_MGR_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["ceph-mgr"],
  "debian-13-epoxy": ["ceph-mgr"],
  "ubuntu-2404-caracal": ["ceph-mgr"],
};
export const CEPH_OSD_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["ceph-osd", "ceph-common"],
  "debian-13-epoxy": ["ceph-osd", "ceph-common"],
  "ubuntu-2404-caracal": ["ceph-osd", "ceph-common"],
};

/** qemu's RBD block driver (librbd), on the compute hosts: Debian's qemu only recommends it. */
export const CEPH_QEMU_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["qemu-block-extra"],
  "debian-13-epoxy": ["qemu-block-extra"],
  "ubuntu-2404-caracal": ["qemu-block-extra"],
};

/**
 * The cluster's own keys, for the hosts that may run a monitor (controllers and storage hosts):
 * a monitor is made from a keyring that holds them all. Each goes only to the hosts whose Ceph
 * steps use it (`onUse`): none without Ceph. The clients' keys (`ceph_cinder_key`) are declared
 * by their users.
 */
export const CEPH_SECRETS: readonly SecretSpec[] = [
  clusterKey("ceph_mon_key", "Ceph monitors' shared key (mon.)"),
  clusterKey("ceph_admin_key", "Ceph's client.admin key"),
  clusterKey("ceph_mgr_key", "Ceph managers' key (every mgr.HOST)"),
  clusterKey(
    "ceph_bootstrap_osd_key",
    "Ceph's client.bootstrap-osd key, with which a storage host adds its OSD",
  ),
];

/** A cluster key: a cephx key for the hosts that may run a monitor, delivered where a step uses it. */
function clusterKey(name: string, description: string): SecretSpec {
  return { name, kind: "cephx", roles: ["controller", "storage"], description, onUse: true };
}

/** What Ceph declares for the secret catalog and the release profiles (lib/cluster/components.ts). */
export const CEPH_COMPONENT: ComponentDeclaration = {
  name: "ceph",
  secrets: CEPH_SECRETS,
  packages: {
    cephMon: CEPH_MON_PACKAGES,
    cephMgr: CEPH_MGR_PACKAGES,
    cephOsd: CEPH_OSD_PACKAGES,
    cephQemu: CEPH_QEMU_PACKAGES,
  },
  // A controller that is a monitor is a manager too (`chooseMonitors`, the cluster's managers).
  controllerPackages: mapReleases(CEPH_MON_PACKAGES, (mon, release) => [
    ...mon,
    ...CEPH_MGR_PACKAGES[release],
  ]),
};

/**
 * Where an OSD keeps its data (BlueStore): a whole block device, or a file of `sizeGiB` made on
 * the host's file system. A file is what Ceph's own test clusters use (vstart.sh); it is for a
 * lab without spare disks, where it is the only way: on a real server give a disk.
 */
export type CephOsdSpec =
  | {
      /** A whole, empty block device under /dev/ (e.g. `/dev/vdb`); the step refuses a disk that holds data. */
      readonly device: string;
    }
  | {
      /** The file's absolute path, under /var/lib/ceph/ or /srv/ (`CEPH_OSD_FILE_EXPECTED`); made sparse once. */
      readonly file: string;
      /** The file's size in GiB, 2 to 65536; never resized. */
      readonly sizeGiB: number;
    };

/** A storage host and its OSD. */
export interface CephOsdPlacement {
  /** The storage host that runs the OSD. */
  readonly host: Host;
  /** Where the OSD keeps its data: a disk or a file. */
  readonly osd: CephOsdSpec;
}

/** A client of the cluster (`client.NAME`) with RBD access to some pools, its key a secret. */
export interface CephClient {
  /** Its name without `client.` (the keyring's section is `client.NAME`). */
  readonly name: string;
  /** The secret that holds its key. */
  readonly secret: string;
  /** Pools it reads and writes (`profile rbd`). */
  readonly pools: readonly string[];
  /** The UUID of the libvirt secret that holds its key on compute hosts (Cinder hands it to Nova). */
  readonly libvirtSecretUuid: string;
}

/** Configures `CephCluster`: its name, monitors, managers, OSDs, pools and clients. */
export interface CephClusterProps {
  /** The cluster's name in the inventory: the fsid is made from it, so it never changes. */
  readonly clusterName: string;
  /** An odd number of hosts, each runs a monitor (`ceph_mon` step). */
  readonly monitors: readonly Host[];
  /** Monitors that also run a manager (active/standby). */
  readonly managers: readonly Host[];
  /** One OSD per storage host. */
  readonly osds: readonly CephOsdPlacement[];
  /** The management network (CIDR): Ceph's public network. */
  readonly publicNetwork: string;
  /** RBD pools, made once (`ceph_pools` step). */
  readonly pools: readonly string[];
  /** Clients with RBD access, their keys imported by the `ceph_pools` step. */
  readonly clients: readonly {
    /** The client's name without `client.` (e.g. `cinder`). */
    readonly name: string;
    /** The secret that holds its key. */
    readonly secret: string;
    /** Pools it reads and writes (`profile rbd`), each one of `pools`. */
    readonly pools: readonly string[];
  }[];
  /** Placement groups per pool. @default 32 */
  readonly pgNum?: number;
  /** What each OSD aims to use of memory (BlueStore's caches). @default 4096 (Ceph's default) */
  readonly osdMemoryTargetMiB?: number;
}

/** A pool's, a client's or a host's name as it stands in Ceph's commands and keyring sections. */
const CEPH_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const UUID_NAMESPACE = "c2b6a1e4-3f0d-5a7e-9c1b-6d4e8f2a0b35";
const CEPH_CONF = "/etc/ceph/ceph.conf";
const ADMIN_KEYRING = "/etc/ceph/ceph.client.admin.keyring";
const BOOTSTRAP_OSD_KEYRING = "/var/lib/ceph/bootstrap-osd/ceph.keyring";
const CLIENTS_KEYRING = "/etc/ceph/openstack-cdktf.clients.keyring";
/** The OSD's identity on its host, made once: `ceph osd new` with the same uuid and key is idempotent. */
const OSD_UUID_FILE = "/var/lib/ceph/osd/openstack-cdktf-osd.uuid";
const OSD_KEY_FILE = "/var/lib/ceph/osd/openstack-cdktf-osd.key";
const MON_PORTS = { v2: 3300, v1: 6789 };

/** An OSD's device: under /dev, plain characters (it stands in scripts and a symlink), no `..` segment. */
export const CEPH_OSD_DEVICE = /^\/dev(\/(?!\.\.?(\/|$))[A-Za-z0-9._-]+)+$/;
export const CEPH_OSD_DEVICE_EXPECTED =
  "a block device path under /dev/ of letters, digits and '._-', without '.' or '..' parts";
/** An OSD's file: absolute, plain characters, no `.` or `..` segment. */
const CEPH_OSD_FILE = /^(\/(?!\.\.?(\/|$))[A-Za-z0-9._-]+)+$/;
/**
 * Where an OSD's file may be made (and formatted): Ceph's own folder outside its daemons' data,
 * or /srv outside Swift's devices. Anywhere else it could be a system file (`/etc/shadow`), the
 * cluster's own config (`/etc/ceph/ceph.conf`) or a disk (`/dev/vda`), each formatted by the step.
 */
const CEPH_OSD_FILE_PLACES =
  /^\/(var\/lib\/ceph\/(?!(osd|mon|mgr|mds|tmp|crash|radosgw|bootstrap-[^/]*)(\/|$))|srv\/(?!node(\/|$)))[^/]/;
export const CEPH_OSD_FILE_EXPECTED =
  "an absolute file path of letters, digits and '._-', without '.' or '..' parts, under /var/lib/ceph/ (outside its daemons' folders osd, mon, mgr, mds, tmp, crash, radosgw, bootstrap-*) or /srv/ (outside Swift's /srv/node)";

/** Whether an OSD's file may be there (CEPH_OSD_FILE_EXPECTED). */
export function isCephOsdFile(file: string): boolean {
  return CEPH_OSD_FILE.test(file) && CEPH_OSD_FILE_PLACES.test(file);
}
export const CEPH_OSD_SIZE_EXPECTED = "a whole number of GiB from 2 to 65536";
/** The OSD memory target's bounds in MiB: Ceph's least, and 1 TiB. */
export const CEPH_MEMORY_MIB = { min: 896, max: 1048576 } as const;
export const CEPH_MEMORY_EXPECTED = `a whole number of MiB from ${CEPH_MEMORY_MIB.min} (Ceph's least) to ${CEPH_MEMORY_MIB.max}`;

/** An OSD spec's problem, or none (the inventory's schema checks the same). */
export function cephOsdProblem(osd: CephOsdSpec): string | undefined {
  if ("device" in osd) {
    return CEPH_OSD_DEVICE.test(osd.device)
      ? undefined
      : `device: got ${quoteValue(osd.device)}: expected ${CEPH_OSD_DEVICE_EXPECTED}`;
  }
  if (!isCephOsdFile(osd.file))
    return `file: got ${quoteValue(osd.file)}: expected ${CEPH_OSD_FILE_EXPECTED}`;
  if (!Number.isInteger(osd.sizeGiB) || osd.sizeGiB < 2 || osd.sizeGiB > 65536) {
    return `sizeGiB: got ${quoteValue(osd.sizeGiB)}: expected ${CEPH_OSD_SIZE_EXPECTED}`;
  }
  return undefined;
}

/** Where a host records the block (file or device) its OSD was made on, once claimed. */
const OSD_ROOT = "/var/lib/ceph/osd";
const OSD_BLOCK_CLAIM = "openstack-cdktf-osd.block";

/**
 * The guard before an OSD's block is formatted: the block this host's OSD claimed (recorded in
 * `OSD_BLOCK_CLAIM`, or, on a cloud built before the record, the one an OSD here links to) is
 * the only one it uses; an inventory that moves it is refused (the old OSD's data would be left
 * behind). An unclaimed file must not exist yet (it would be someone's); an unclaimed device must
 * be a block device that holds nothing blkid recognises (no partition table, filesystem, LVM or
 * BlueStore label). The claim is recorded before the file is made, so a step cut short never
 * refuses its own file. `osdRoot` is for the unit test.
 */
export function osdBlockClaim(hostName: string, osd: CephOsdSpec, osdRoot = OSD_ROOT): string {
  const block = "device" in osd ? osd.device : osd.file;
  const claim = `${osdRoot}/${OSD_BLOCK_CLAIM}`;
  const what = `Ceph OSD of ${hostName}: ${"device" in osd ? "device" : "file"} ${block}`;
  const refuse = (why: string) => `{ echo ${quote([`${what}: ${why}`])} >&2; exit 1; }`;
  const unclaimed =
    "device" in osd
      ? [
          `  osd_probe=0; blkid -p "$osd_block" >/dev/null 2>&1 || osd_probe=$?`,
          `  [ "$osd_probe" = 2 ] || ${refuse("holds data (blkid -p finds a partition table, filesystem or label, or cannot read it): expected an empty disk; wipe it by hand (wipefs -a) if its data may go")}`,
        ]
      : [
          `  if [ -e "$osd_block" ] || [ -L "$osd_block" ]; then ${refuse("exists and was not made by openstack-cdktf: expected a path where nothing is (remove it by hand if its data may go)")}; fi`,
        ];
  return [
    `# The OSD's block, claimed once (${claim}): never a file or disk that holds someone's data.`,
    `osd_block=${quote([block])}`,
    ...("device" in osd
      ? [`[ -b "$osd_block" ] || ${refuse("not a block device: expected the disk the inventory names")}`]
      : []),
    `if [ ! -s ${quote([claim])} ]; then`,
    `  for osd_link in ${quote([osdRoot])}/ceph-*/block; do`,
    `    if [ -L "$osd_link" ] && [ "$(readlink "$osd_link")" = "$osd_block" ]; then printf '%s\\n' "$osd_block" >${quote([claim])}; fi`,
    "  done",
    "fi",
    `if [ -s ${quote([claim])} ]; then`,
    `  osd_claimed=$(cat ${quote([claim])})`,
    `  [ "$osd_claimed" = "$osd_block" ] || { echo "${what}: this host's OSD is on $osd_claimed: expected the same (moving an OSD would leave its data behind)" >&2; exit 1; }`,
    "else",
    ...unclaimed,
    `  printf '%s\\n' "$osd_block" >${quote([`${claim}.tmp`])} && mv ${quote([`${claim}.tmp`, claim])}`,
    "fi",
  ].join("\n");
}

/**
 * Picks the monitors: the controllers first, then storage hosts, up to three, and an odd number
 * (two monitors stop when either stops, one is as good and simpler).
 */
export function chooseMonitors<T>(controllers: readonly T[], storage: readonly T[]): T[] {
  const candidates = [...new Set([...controllers, ...storage])];
  const count = Math.min(3, candidates.length);
  return candidates.slice(0, count % 2 === 0 ? count - 1 : count);
}

/**
 * A Ceph cluster (the release's own packages: Pacific on Debian 12) made by hand the way Ceph's
 * manual deployment guide does it, without cephadm or containers:
 * - monitors on `monitors`, made from one monmap and one keyring computed the same way on each
 *   host (fsid from the cluster's name, keys from the secrets), so they need not talk to make
 *   themselves; managers on `managers`;
 * - one BlueStore OSD per storage host on a disk or a file, added with the bootstrap-osd key;
 * - RBD pools and client keys from the first manager, once every OSD is in.
 * Replicas = min(3, OSDs), one per host; min_size lets a pool serve with one replica lost.
 *
 * Clients (Cinder) read `/etc/ceph/ceph.conf` and their keyring (`clientFiles`); qemu on a
 * compute host reads the key from a libvirt secret (`libvirtSecret`), the data path is librbd
 * in userspace: no kernel RBD module anywhere.
 */
export class CephCluster extends Construct {
  /** The cluster's fsid: a UUID made from `clusterName`, so it never changes. */
  readonly fsid: string;
  /** The clients the props gave, each with the UUID of its libvirt secret. */
  readonly clients: readonly CephClient[];
  private placed?: { monitors: Step[]; osds: Step[]; pools: Step };
  private readonly props: CephClusterProps;
  private readonly replicas: number;
  private readonly libvirtSteps = new Map<Host, Step>();
  /** Hosts where a step already writes ceph.conf: one writer per file and host. */
  private readonly confWrittenOn = new Set<Host>();

  constructor(scope: Construct, id: string, props: CephClusterProps) {
    // Its secrets join the stack's catalog (a stack of one's own has no other), before its steps use them.
    declareSecrets(scope, CEPH_SECRETS);
    super(scope, id);
    const where = `CephCluster ${this.node.path}`;
    if (props.monitors.length % 2 !== 1) {
      throw new Error(
        `${where}: monitors: got ${props.monitors.length} (${props.monitors.map((h) => h.hostName).join(", ")}): expected an odd number`,
      );
    }
    const stray = props.managers.find((h) => !props.monitors.includes(h));
    if (stray) throw new Error(`${where}: managers: got ${stray.hostName}: expected one of the monitors`);
    if (props.managers.length === 0) throw new Error(`${where}: managers: got none: expected at least one`);
    if (props.osds.length === 0)
      throw new Error(`${where}: osds: got none: expected at least one storage host`);
    for (const { host, osd } of props.osds) {
      const problem = cephOsdProblem(osd);
      if (problem) throw new Error(`${where}: osd of ${host.hostName}: ${problem}`);
    }
    for (const name of [...props.pools, ...props.clients.map((c) => c.name)]) {
      if (!CEPH_NAME.test(name)) {
        throw new Error(
          `${where}: got name ${JSON.stringify(name)}: expected lowercase letters, digits, '_' and '-'`,
        );
      }
    }
    for (const client of props.clients) {
      const unknown = client.pools.find((p) => !props.pools.includes(p));
      if (unknown)
        throw new Error(`${where}: client ${client.name}: got pool ${unknown}: expected one of the pools`);
    }
    const pgNum = props.pgNum ?? 32;
    if (!Number.isInteger(pgNum) || pgNum < 1 || pgNum > 4096 || (pgNum & (pgNum - 1)) !== 0) {
      throw new Error(`${where}: pgNum: got ${quoteValue(pgNum)}: expected a power of two from 1 to 4096`);
    }
    const memory = props.osdMemoryTargetMiB;
    if (
      memory !== undefined &&
      (!Number.isInteger(memory) || memory < CEPH_MEMORY_MIB.min || memory > CEPH_MEMORY_MIB.max)
    ) {
      throw new Error(
        `${where}: osdMemoryTargetMiB: got ${quoteValue(memory)}: expected ${CEPH_MEMORY_EXPECTED}`,
      );
    }
    this.props = { ...props, pgNum };
    this.fsid = uuidV5(`openstack-cdktf:ceph:${props.clusterName}`, UUID_NAMESPACE);
    this.replicas = Math.min(3, props.osds.length);
    this.clients = props.clients.map((c) => ({
      ...c,
      libvirtSecretUuid: uuidV5(`${this.fsid}:client.${c.name}`, UUID_NAMESPACE),
    }));
  }

  /**
   * Adds the cluster's steps to its hosts, once: each monitor, then each OSD (after every
   * monitor), then the pools on the first manager. Called when each host's earlier steps are
   * placed: on a storage host the steps come after those, so that its OpenStack services do not
   * wait for the controllers' monitors.
   */
  place(): {
    /** The `ceph_mon` steps, one per monitor. */
    monitors: readonly Step[];
    /** The `ceph_osd` steps, one per storage host. */
    osds: readonly Step[];
    /** The `ceph_pools` step, on the first manager. */
    pools: Step;
  } {
    if (!this.placed) {
      const monitors = this.props.monitors.map((host) => this.monitor(host));
      const osds = this.props.osds.map((placement) => this.osd(placement, monitors));
      this.placed = { monitors, osds, pools: this.pools(this.props.managers[0], [...monitors, ...osds]) };
    }
    return this.placed;
  }

  /** The pools and clients exist and every placement group of the pools was active once. */
  get poolsStep(): Step {
    if (!this.placed)
      throw new Error(`CephCluster ${this.node.path}: poolsStep: not placed yet: call place() first`);
    return this.placed.pools;
  }

  /** The Ceph packages a host installs (a role may install them early). */
  hostPackages(host: Host): readonly string[] {
    const release = host.release;
    const packages = [
      ...(this.props.monitors.includes(host) ? packagesFor("CephCluster", CEPH_MON_PACKAGES, release) : []),
      ...(this.props.managers.includes(host) ? packagesFor("CephCluster", CEPH_MGR_PACKAGES, release) : []),
      ...(this.props.osds.some((o) => o.host === host)
        ? packagesFor("CephCluster", CEPH_OSD_PACKAGES, release)
        : []),
    ];
    return [...new Set(packages)];
  }

  /** A client by name (one the props gave). */
  client(name: string): CephClient {
    const client = this.clients.find((c) => c.name === name);
    if (!client)
      throw new Error(
        `CephCluster.client: got ${name}: expected one of ${this.clients.map((c) => c.name).join(", ")}`,
      );
    return client;
  }

  /** ceph.conf: where the monitors are, cephx everywhere, the pools' replicas, the OSDs' memory. */
  config(): string {
    const monHosts = this.props.monitors.map(monitorAddress).join(",");
    const memory = (this.props.osdMemoryTargetMiB ?? 4096) * 1024 * 1024;
    return [
      "# Written by openstack-cdktf.",
      "[global]",
      `fsid = ${this.fsid}`,
      `mon_initial_members = ${this.props.monitors.map((h) => h.hostName).join(", ")}`,
      `mon_host = ${monHosts}`,
      `public_network = ${this.props.publicNetwork}`,
      "auth_cluster_required = cephx",
      "auth_service_required = cephx",
      "auth_client_required = cephx",
      // Every client is Pacific's or later: the old, insecure reclaim is not needed.
      "auth_allow_insecure_global_id_reclaim = false",
      `osd_pool_default_size = ${this.replicas}`,
      `osd_pool_default_min_size = ${Math.max(1, this.replicas - 1)}`,
      ...(this.replicas === 1
        ? ["# One OSD: one replica, which Ceph refuses unless told.", "mon_allow_pool_size_one = true"]
        : []),
      "",
      "[osd]",
      `osd_memory_target = ${memory}`,
      "",
    ].join("\n");
  }

  /**
   * ceph.conf (unless a Ceph step of the host writes it) and a client's keyring (readable by
   * `group`) for a host where the client runs.
   */
  clientFiles(
    script: ShellScript,
    host: Host,
    client: CephClient,
    group: string,
    changeTag: string,
  ): ShellScript {
    this.writeConf(script, host, changeTag);
    return script.writeFile(
      `/etc/ceph/ceph.client.${client.name}.keyring`,
      keyring(`client.${client.name}`, client.secret),
      {
        group,
        mode: "0640",
        secrets: true,
        changeTag,
      },
    );
  }

  /**
   * The client's key in libvirt on a compute host, as the secret Cinder names (`rbd_secret_uuid`):
   * qemu opens the volumes with it. After `after` (libvirt installed and running). One step per host.
   */
  libvirtSecret(host: Host, client: CephClient, after: readonly Step[]): Step {
    const existing = this.libvirtSteps.get(host);
    if (existing) return existing;
    const xml = [
      "<secret ephemeral='no' private='no'>",
      `  <uuid>${client.libvirtSecretUuid}</uuid>`,
      `  <usage type='ceph'><name>client.${client.name} secret</name></usage>`,
      "</secret>",
    ].join("\n");
    const uuid = quote([client.libvirtSecretUuid]);
    const xmlFile = `/etc/ceph/libvirt-secret-${client.name}.xml`;
    const keyFile = hostSecretFile(client.secret);
    const script = host
      .script("ceph_libvirt_secret")
      .comment(
        `client.${client.name}'s key as libvirt secret ${client.libvirtSecretUuid}, for qemu's librbd.`,
      )
      .aptInstall(packagesFor("CephCluster", CEPH_QEMU_PACKAGES, host.release))
      .writeFile(xmlFile, xml, { changeTag: "libvirt_secret" })
      .raw(
        `if ! virsh secret-list | grep -qw ${uuid}; then virsh secret-define --file ${quote([xmlFile])}; fi`,
      )
      .comment(
        "The value from the root-only secrets file, never on a command line; set only when it differs.",
      )
      .raw(
        `if [ "$(virsh secret-get-value ${uuid} 2>/dev/null || true)" != "$(cat ${keyFile})" ]; then virsh secret-set-value --secret ${uuid} --file ${keyFile} >/dev/null; fi`,
      );
    const step = host.addStep("ceph_libvirt_secret", script, {
      owner: this,
      secrets: [client.secret],
      after,
    });
    this.libvirtSteps.set(host, step);
    return step;
  }

  /** A monitor (and a manager where asked): made once from the shared monmap and keyring. */
  private monitor(host: Host): Step {
    const name = host.hostName;
    const isManager = this.props.managers.includes(host);
    const monDir = `/var/lib/ceph/mon/ceph-${name}`;
    const script = host
      .script("ceph_mon")
      .comment(`Ceph monitor${isManager ? " and manager" : ""} ${name}.`)
      .aptInstall(this.hostPackages(host));
    this.writeConf(script, host, "ceph_mon");
    script
      .writeFile(ADMIN_KEYRING, keyring("client.admin", "ceph_admin_key"), {
        mode: "0600",
        secrets: true,
        changeTag: "ceph_mon",
      })
      .run("install", "-d", "-o", "ceph", "-g", "ceph", "-m", "0750", "/var/lib/ceph/tmp");
    const monmap = this.props.monitors
      .map((m) => `--addv ${quote([m.hostName, monitorAddress(m)])}`)
      .join(" ");
    script
      .comment(
        "Made once: the monmap of every monitor and the keyring of every cluster key, as on every monitor.",
      )
      .writeFile(`/var/lib/ceph/tmp/mon-bootstrap.keyring`, this.monitorKeyring(), {
        owner: "ceph",
        mode: "0600",
        secrets: true,
        changeTag: "ceph_mon_keyring",
      })
      .raw(
        [
          `if [ ! -e ${quote([`${monDir}/done`])} ]; then`,
          `  install -d -o ceph -g ceph -m 0750 ${quote([monDir])}`,
          `  monmaptool --create --clobber --fsid ${quote([this.fsid])} ${monmap} /var/lib/ceph/tmp/monmap >/dev/null`,
          `  chown ceph:ceph /var/lib/ceph/tmp/monmap`,
          `  runuser -u ceph -- ceph-mon --cluster ceph --mkfs -i ${quote([name])} --monmap /var/lib/ceph/tmp/monmap --keyring /var/lib/ceph/tmp/mon-bootstrap.keyring`,
          `  touch ${quote([`${monDir}/done`])}`,
          `  rm -f /var/lib/ceph/tmp/monmap`,
          "fi",
        ].join("\n"),
      )
      .restartIfChanged([`ceph-mon@${name}`], "ceph_mon")
      // Where the monmap puts it (`monitorAddress`). Its manager and the OSDs take ports from
      // 6800 up on their address in public_network, chosen as they start: not declared.
      .listen(`ceph-mon@${name}`, host.address, MON_PORTS.v2)
      .listen(`ceph-mon@${name}`, host.address, MON_PORTS.v1)
      .waitForPort(host.address, MON_PORTS.v2, 60);
    if (isManager) {
      const mgrDir = `/var/lib/ceph/mgr/ceph-${name}`;
      script
        .run("install", "-d", "-o", "ceph", "-g", "ceph", "-m", "0750", mgrDir)
        .writeFile(`${mgrDir}/keyring`, keyring(`mgr.${name}`, "ceph_mgr_key"), {
          owner: "ceph",
          mode: "0600",
          secrets: true,
          changeTag: "ceph_mon",
        })
        .restartIfChanged([`ceph-mgr@${name}`], "ceph_mon");
    }
    return host.addStep("ceph_mon", script, { owner: this, secrets: script.secretsUsed() });
  }

  /**
   * The host's OSD: an id from the monitors (`ceph osd new` with a uuid and key kept on the
   * host, so a re-run gets the same id), BlueStore made on the disk or file once, the unit
   * enabled. After every monitor, so that the cluster has its quorum.
   */
  private osd(placement: CephOsdPlacement, monitors: readonly Step[]): Step {
    const { host, osd } = placement;
    const script = host
      .script("ceph_osd")
      .comment(
        `Ceph OSD of ${host.hostName} on ${"device" in osd ? `device ${osd.device}` : `file ${osd.file} (${osd.sizeGiB} GiB)`}.`,
      )
      .aptInstall(this.hostPackages(host));
    this.writeConf(script, host, "ceph_osd");
    script
      .run("install", "-d", "-o", "ceph", "-g", "ceph", "-m", "0750", "/var/lib/ceph/bootstrap-osd")
      .writeFile(BOOTSTRAP_OSD_KEYRING, keyring("client.bootstrap-osd", "ceph_bootstrap_osd_key"), {
        owner: "ceph",
        mode: "0600",
        secrets: true,
        changeTag: "ceph_osd",
      });
    const block = "device" in osd ? osd.device : osd.file;
    script.raw(osdBlockClaim(host.hostName, osd));
    if ("file" in osd) {
      script
        .comment("A sparse file, made once and never resized (BlueStore keeps its size in its label).")
        .raw(
          `if [ ! -e ${quote([osd.file])} ]; then install -d -m 0750 ${quote([osd.file.replace(/\/[^/]+$/, "") || "/"])}; truncate -s ${osd.sizeGiB}G ${quote([osd.file])}; fi`,
        )
        .run("chown", "ceph:ceph", osd.file)
        .run("chmod", "0600", osd.file);
    }
    script.raw(
      [
        `[ -s ${OSD_UUID_FILE} ] || { cat /proc/sys/kernel/random/uuid >${OSD_UUID_FILE}.tmp && mv ${OSD_UUID_FILE}.tmp ${OSD_UUID_FILE}; }`,
        `[ -s ${OSD_KEY_FILE} ] || { (umask 077 && ceph-authtool --gen-print-key >${OSD_KEY_FILE}.tmp) && mv ${OSD_KEY_FILE}.tmp ${OSD_KEY_FILE}; }`,
        `osd_uuid=$(cat ${OSD_UUID_FILE})`,
        // The key goes in on stdin, as JSON: never on a command line.
        `osd_id=$(printf '{"cephx_secret": "%s"}' "$(cat ${OSD_KEY_FILE})" | ceph --connect-timeout 300 -n client.bootstrap-osd -k ${BOOTSTRAP_OSD_KEYRING} osd new "$osd_uuid" -i -)`,
        `case "$osd_id" in '' | *[!0-9]*) echo "ceph osd new: got '$osd_id': expected an OSD id" >&2; exit 1 ;; esac`,
        `osd_dir=/var/lib/ceph/osd/ceph-$osd_id`,
        `if [ ! -e "$osd_dir/ready" ]; then`,
        `  install -d -o ceph -g ceph -m 0750 "$osd_dir"`,
        `  ln -sfn ${quote([block])} "$osd_dir/block"`,
        `  ceph-authtool --create-keyring "$osd_dir/keyring" --name "osd.$osd_id" --add-key "$(cat ${OSD_KEY_FILE})" >/dev/null`,
        `  chown -R ceph:ceph "$osd_dir"`,
        ...("device" in osd ? [`  chown ceph:ceph ${quote([block])}`] : []),
        `  runuser -u ceph -- ceph-osd --cluster ceph -i "$osd_id" --mkfs --osd-uuid "$osd_uuid"`,
        "fi",
        // Restarted when ceph.conf or the keyrings changed, started when down, enabled for boot.
        `osc_restart_if_changed ceph_osd "ceph-osd@$osd_id"`,
      ].join("\n"),
    );
    return host.addStep("ceph_osd", script, {
      owner: this,
      secrets: script.secretsUsed(),
      after: monitors,
    });
  }

  /**
   * The pools (RBD, `rbd pool init` waits until their placement groups are active) and the
   * clients' keys, from the first manager once every OSD is in.
   */
  private pools(host: Host, after: readonly Step[]): Step {
    const script = host.script("ceph_pools").comment("Ceph's RBD pools and client keys.");
    for (const pool of this.props.pools) {
      const stuck = `rbd pool init ${pool}: not done in 300 s: expected its placement groups active (ceph -s says why)`;
      script
        .run("ceph", "osd", "pool", "create", pool, String(this.props.pgNum))
        .raw(`timeout 300 rbd pool init ${quote([pool])} || { echo ${quote([stuck])} >&2; exit 1; }`);
    }
    if (this.clients.length > 0) {
      const body = this.clients
        .map((c) =>
          keyring(`client.${c.name}`, c.secret, {
            mon: "profile rbd",
            osd: c.pools.map((p) => `profile rbd pool=${p}`).join(", "),
          }),
        )
        .join("");
      script
        .comment(
          "The clients' keys and capabilities, as the keyring says (an import changes nothing when they are).",
        )
        .writeFile(CLIENTS_KEYRING, body, { mode: "0600", secrets: true, changeTag: "ceph_clients" })
        .run("ceph", "auth", "import", "-i", CLIENTS_KEYRING);
    }
    return host.addStep("ceph_pools", script, {
      owner: this,
      secrets: script.secretsUsed(),
      after,
    });
  }

  /**
   * ceph.conf, from the host's first step that needs it. A later step keeps a copy of what it
   * last ran with instead (under /var/lib/ceph), so that a change of ceph.conf marks its tag too.
   */
  private writeConf(script: ShellScript, host: Host, changeTag: string): void {
    if (!this.confWrittenOn.has(host)) {
      this.confWrittenOn.add(host);
      script.writeFile(CEPH_CONF, this.config(), { changeTag });
    } else {
      script.writeFile(`/var/lib/ceph/${changeTag}.ceph.conf`, this.config(), { changeTag });
    }
  }

  /** Every cluster key with its capabilities: what a monitor is made from. */
  private monitorKeyring(): string {
    const entries: [string, string, Record<string, string>][] = [
      ["mon.", "ceph_mon_key", { mon: "allow *" }],
      ["client.admin", "ceph_admin_key", { mds: "allow *", mgr: "allow *", mon: "allow *", osd: "allow *" }],
      ["client.bootstrap-osd", "ceph_bootstrap_osd_key", { mgr: "allow r", mon: "profile bootstrap-osd" }],
      ...this.props.managers.map((h): [string, string, Record<string, string>] => [
        `mgr.${h.hostName}`,
        "ceph_mgr_key",
        { mds: "allow *", mon: "allow profile mgr", osd: "allow *" },
      ]),
    ];
    return entries.map(([entity, secret, caps]) => keyring(entity, secret, caps)).join("");
  }
}

/** A keyring section: the entity, its key (filled from a secret on the host), its capabilities if given. */
function keyring(entity: string, secret: string, caps: Record<string, string> = {}): string {
  const lines = [`[${entity}]`, `\tkey = ${secretPlaceholder(secret)}`];
  for (const [service, cap] of Object.entries(caps)) lines.push(`\tcaps ${service} = "${cap}"`);
  return `${lines.join("\n")}\n`;
}

/** A monitor's addresses as monmaptool and `mon_host` take them: `[v2:ADDR:3300,v1:ADDR:6789]`. */
function monitorAddress(host: Host): string {
  const at = Endpoint.of(host.address);
  return `[v2:${at.hostPort(MON_PORTS.v2)},v1:${at.hostPort(MON_PORTS.v1)}]`;
}
