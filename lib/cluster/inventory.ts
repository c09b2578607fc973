import * as fs from "fs";
import * as path from "path";
import * as ipaddr from "ipaddr.js";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import {
  cidrsOverlap,
  CONTROL_CHARACTER,
  hostNameProblem,
  inIPv4Network,
  networkEdgeProblem,
  printable,
  quote,
} from "../core/field-rules";
import { DEFAULT_RELEASE, ReleaseName, releaseProfile } from "../core/releases";
import { cinderRelease } from "../services/cinder";
import { Role } from "../core/roles";
import { DAY_ONE_DEFAULTS, DayOneSettings, dayOneProblem } from "../services/day-one-settings";
import { DatapathType, ImageStore, InventoryInput, inventorySchema, VirtType } from "./inventory-schema";
import { CephOsdSpec } from "../platform/ceph-cluster";
import { CLUSTER_PART_IDS } from "./part-ids";
import { agentInterfacesProblem } from "../services/neutron-agents";
import {
  backendNameClash,
  resolveVolumeBackends,
  TargetHelper,
  VolumeBackend,
  VolumeBackendSpec,
  volumeBackendsProblem,
} from "../services/volume-backends";

/** SSH settings of one host, after the inventory's defaults were applied. */
export interface SshSettings {
  /** The user Terraform logs in as; any user but root needs passwordless sudo. @default "root" */
  readonly user: string;
  /** @default 22 */
  readonly port: number;
  /** Key file path (absolute, or starting with `~`); absent when `agent` is true. */
  readonly privateKeyFile?: string;
  /** Authenticate with the running ssh-agent instead of a key file. @default false */
  readonly agent: boolean;
  /**
   * The host's pinned public key (`<type> <base64>`); Terraform refuses any other.
   * @default none (not checked)
   */
  readonly hostKey?: string;
  /** Terraform's SSH connection timeout, such as `5m`. @default "5m" */
  readonly timeout: string;
  /** A jump host Terraform connects through. @default none */
  readonly bastion?: {
    /** The jump host's hostname or IPv4 address. */
    readonly host: string;
    /** @default the host's `user` */
    readonly user: string;
    /** @default 22 */
    readonly port: number;
    /** Key file for the jump host (absolute, or starting with `~`). @default the host's key */
    readonly privateKeyFile?: string;
    /** The jump host's pinned public key. @default none (not checked) */
    readonly hostKey?: string;
  };
}

/**
 * One host of a validated inventory, the top level's defaults filled in; `OpenStackCluster`
 * makes a `Host` of each.
 */
export interface HostSpec {
  /** The server's hostname: its line in /etc/hosts and the start of its steps' logical ids. */
  readonly name: string;
  /** Management address (IPv4): SSH and every service use it. */
  readonly address: string;
  /** What the host runs (each role once); one host may hold several. */
  readonly roles: readonly Role[];
  /**
   * Address on the tunnel network (OVS's `local_ip`); compute and network hosts need one when
   * the inventory has a tunnel network.
   * @default none (the management address)
   */
  readonly tunnelAddress?: string;
  /** The host's interface names; where the host names none, its network's `interface`. */
  readonly interfaces: {
    /** Interface on the management network. @default the management network's `interface` */
    readonly management: string;
    /**
     * Interface on the provider (external) network; network hosts need one.
     * @default the provider network's `interface`, else none
     */
    readonly provider?: string;
    /** Interface that carries the VXLAN tunnels. @default the tunnel network's `interface`, else none */
    readonly tunnel?: string;
  };
  /** How Terraform reaches the host: the inventory's `ssh` defaults with the host's own over them. */
  readonly ssh: SshSettings;
  /** nova-compute's hypervisor on this host (compute hosts); `auto`: kvm where /dev/kvm exists, else qemu. */
  readonly virtType: VirtType;
  /** Open vSwitch's datapath on this host (compute and network hosts). */
  readonly datapathType: DatapathType;
  /** Storage hosts: Swift's device, /srv/node/NAME. */
  readonly swiftDevice: string;
  /** Cinder's backends on this host (storage hosts), target helpers filled in; empty: no cinder-volume. */
  readonly volumeBackends: readonly VolumeBackend[];
  /** Storage hosts of a cluster with `ceph`: this host's OSD. */
  readonly cephOsd?: CephOsdSpec;
}

/** A validated inventory with every default filled in. */
export interface Inventory {
  /** The cluster's name: the stack's name and folder, the secrets file's name, the seed of Ceph's fsid. */
  readonly cluster: string;
  /** The distribution + OpenStack release every host runs (`releaseProfile` gives its profile); `DEFAULT_RELEASE` when the file names none. */
  readonly release: ReleaseName;
  /** `heartbeat`: two controllers share a virtual IP; `single`: one controller, no VIP. */
  readonly ha: "heartbeat" | "single";
  /**
   * Which Terraform resource carries the steps (`null_resource` adds the null provider).
   * @default "terraform_data"
   */
  readonly resource: "terraform_data" | "null_resource";
  /**
   * An http(s) URL apt goes through on every host: `Acquire::http::Proxy` in /etc/apt/apt.conf.d.
   * @default none
   */
  readonly aptProxy?: string;
  /** Upstream time servers for the controllers; empty means the controllers serve their own clock. */
  readonly ntpServers: readonly string[];
  /** The network the hosts reach each other and the cloud's APIs on. */
  readonly management: {
    /**
     * The network in CIDR form: every host's address and the VIP are in it; MariaDB's grants and
     * chrony's `allow` open it.
     */
    readonly cidr: string;
    /** The controllers' virtual IP (Heartbeat's), every endpoint's address; absent with `ha: single`. */
    readonly vip?: string;
    /** The VIP's name in /etc/hosts and Horizon's ALLOWED_HOSTS. @default "controller" */
    readonly vipName: string;
    /** The hosts' default interface on it (each HostSpec has its own, resolved). @default "eth0" */
    readonly interface: string;
  };
  /** The provider (external) network, a flat network Neutron's network hosts bridge to. @default none */
  readonly provider?: {
    /** The hosts' default interface on it (each HostSpec has its own, resolved). */
    readonly interface: string;
    /**
     * Its physical network name: ML2's `flat_networks` and `bridge_mappings`, and the day-one
     * external network's.
     */
    readonly physnet: string;
  };
  /**
   * A network of its own for the VXLAN tunnels between compute and network hosts.
   * @default none (they use the management network)
   */
  readonly tunnel?: {
    /** The network in CIDR form; its prefix is each tunnel address's netmask. */
    readonly cidr: string;
    /** The hosts' default interface on it (each HostSpec has its own, resolved). */
    readonly interface: string;
  };
  /** The hosts' default hypervisor (each HostSpec has its own, resolved). */
  readonly virtType: VirtType;
  /** The hosts' default Open vSwitch datapath (each HostSpec has its own, resolved). */
  readonly datapathType: DatapathType;
  /** Swift's partition power (2^partPower partitions per ring) and whether devices must be mount points. */
  readonly swift: {
    /** A number in swift-ring-builder's create command. @default 10 (1024 partitions) */
    readonly partPower: number;
    /**
     * Whether the storage servers refuse a device that is not a mount point (Swift's `mount_check`).
     * @default false
     */
    readonly mountCheck: boolean;
  };
  /** Where Glance keeps image data. */
  readonly imageStore: ImageStore;
  /** The storage hosts' default backends (each HostSpec has its own, resolved). */
  readonly volumeBackends: readonly VolumeBackend[];
  /** A Ceph cluster (each storage host's OSD is its HostSpec's `cephOsd`); absent: none. */
  readonly ceph?: {
    /**
     * What each OSD aims to use of memory, in MiB (`osd_memory_target` in ceph.conf).
     * @default none (CephCluster uses 4096)
     */
    readonly osdMemoryTargetMiB?: number;
  };
  /** The opt-in day-one content, every default filled in; absent: none is made. */
  readonly dayOne?: DayOneSettings;
  /** Every host, in the inventory's order. */
  readonly hosts: readonly HostSpec[];
}

/** A bad inventory: the message names the file, the field, the value and what was expected. */
export class InventoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InventoryError";
  }
}

/** /srv/node/swift: a plain directory unless the operator mounts a disk there (then set swift.mountCheck). */
export const DEFAULT_SWIFT_DEVICE = "swift";
/** 1024 partitions: Swift's rule of thumb (about 100 partitions a device) fits clusters of up to 10 storage devices; more needs a larger power before the first apply. */
export const DEFAULT_SWIFT_PART_POWER = 10;

const CONTROLLERS_PER_HA_MODE = { heartbeat: 2, single: 1 } as const;

/** Larger than any inventory (a thousand hosts take about 100 KB): refused before it is read. */
const MAX_INVENTORY_BYTES = 1024 * 1024;
/**
 * What aliases may expand to, as the yaml package counts it (its own default, named here): a
 * "billion laughs" file, aliases of aliases, exceeds it long before it fills the memory.
 */
const MAX_ALIAS_COUNT = 100;

/** Reads, parses and validates an inventory file. Throws `InventoryError` on the first problem. */
export function loadInventory(file: string): Inventory {
  // The name as it is printed: a newline or an escape sequence in it cannot forge output.
  const shown = printable(file);
  const text = readInventoryText(file, shown);
  const nesting = flowNestingProblem(text);
  if (nesting) throw new InventoryError(`${shown}: ${nesting}`);
  // `linePos` is only filled in with prettyErrors, which also adds lines of context: count lines here.
  const lineCounter = new LineCounter();
  let data: unknown;
  try {
    // stringKeys: a list or map as a key is an error (as JS object keys they would be mangled).
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter, stringKeys: true });
    // A warning (an unknown tag such as `!foo`, dropped) is refused too: nothing is silently ignored.
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) {
      const line = lineCounter.linePos(problem.pos[0]);
      const where = `line ${line.line} column ${line.col}`;
      throw new InventoryError(`${shown}: ${where}: ${oneLine(problem.message)}`);
    }
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    if (err instanceof InventoryError) throw err;
    // toJS throws for an alias bomb, and for an alias of an anchor that is not set yet; the
    // parser's recursion, for block nesting deeper than the flow check sees (a safety net).
    const message = (err as Error).message;
    if (err instanceof RangeError) {
      throw new InventoryError(`${shown}: got YAML nested too deeply to parse: expected an inventory`);
    }
    if (/alias count/i.test(message)) {
      throw new InventoryError(
        `${shown}: got YAML aliases that expand too far (a "billion laughs"): expected at most ${MAX_ALIAS_COUNT} nodes made by aliases`,
      );
    }
    throw new InventoryError(`${shown}: YAML: ${oneLine(message)}`);
  }
  return parseInventory(data, shown, path.dirname(path.resolve(file)));
}

/**
 * How deep `[` and `{` may nest in the text: far below where the parser's recursion overflows
 * (about 800 levels), far above any inventory (MAX_DEPTH refuses what is deeper than 16 once parsed).
 */
const MAX_FLOW_NESTING = 64;

/**
 * Flow collections (`[`, `{`) nested deeper than MAX_FLOW_NESTING, found by a scan of the text
 * before the parser, which recurses once per level (60,000 `[` overflow its stack). Quoted scalars and
 * comments are skipped; a bracket inside a plain scalar counts, which only makes the check
 * stricter for text no inventory has. Returns the problem, with where it is, or undefined.
 */
function flowNestingProblem(text: string): string | undefined {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") {
      line++;
      lineStart = i + 1;
    } else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]))) {
      while (i + 1 < text.length && text[i + 1] !== "\n") i++;
    } else if (c === "'" || c === '"') {
      // To the closing quote ('' is an escaped ' inside single quotes; \ escapes inside double).
      for (i++; i < text.length; i++) {
        if (text[i] === "\n") {
          line++;
          lineStart = i + 1;
        } else if (c === '"' && text[i] === "\\") i++;
        else if (text[i] === c && !(c === "'" && text[i + 1] === "'")) break;
        else if (text[i] === c) i++;
      }
    } else if (c === "[" || c === "{") {
      if (++depth > MAX_FLOW_NESTING) {
        return `line ${line} column ${i - lineStart + 1}: got YAML lists or maps nested deeper than ${MAX_FLOW_NESTING} levels: expected an inventory`;
      }
    } else if ((c === "]" || c === "}") && depth > 0) depth--;
  }
  return undefined;
}

/** The file's text: a regular file, not empty, at most MAX_INVENTORY_BYTES, UTF-8. */
function readInventoryText(file: string, shown: string): string {
  let bytes: Buffer;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) {
      throw new InventoryError(`${shown}: cannot read the inventory: not a regular file`);
    }
    if (stat.size > MAX_INVENTORY_BYTES) {
      throw new InventoryError(
        `${shown}: got ${stat.size} bytes: expected an inventory of at most ${MAX_INVENTORY_BYTES} bytes`,
      );
    }
    // Also what /proc and /sys files report: they are never read (their text could be secret).
    if (stat.size === 0) {
      throw new InventoryError(`${shown}: got an empty file (0 bytes): expected an inventory`);
    }
    bytes = fs.readFileSync(file);
  } catch (err) {
    if (err instanceof InventoryError) throw err;
    throw new InventoryError(`${shown}: cannot read the inventory: ${oneLine((err as Error).message)}`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InventoryError(`${shown}: got bytes that are not UTF-8: expected a UTF-8 text file`);
  }
}

/** The first line of a message, its control characters escaped. */
function oneLine(message: string): string {
  return JSON.stringify(message.split("\n")[0]).slice(1, -1);
}

/**
 * Validates an inventory given as data (already parsed YAML, or an object built in TypeScript).
 * `source` names it in error messages; relative key paths are resolved against `baseDir`.
 */
export function parseInventory(data: unknown, source = "inventory", baseDir = process.cwd()): Inventory {
  checkPlainData(data, source);
  const parsed = inventorySchema.safeParse(data);
  if (!parsed.success) {
    throw new InventoryError(describeIssue(source, data, parsed.error.issues[0]));
  }
  checkInput(parsed.data, source);
  const inventory = normalize(parsed.data, baseDir);
  checkTopology(inventory, source);
  checkRelations(parsed.data, inventory, source);
  return inventory;
}

/** The longest string anywhere in an inventory (PATH_MAX; a host key of RSA 16384 is about 2800). */
const MAX_STRING_LENGTH = 4096;
/** Deeper than any inventory (hosts[0].volumeBackends[0].name is 4 levels). */
const MAX_DEPTH = 16;

/**
 * Before the schema, every string and key anywhere: no control or invisible formatting
 * characters (CONTROL_CHARACTER), at most MAX_STRING_LENGTH characters; and the data a tree
 * of bounded depth (a YAML alias inside its own anchor makes a cycle).
 */
function checkPlainData(data: unknown, source: string): void {
  const checkString = (value: string, at: readonly PropertyKey[], what: string): void => {
    const fail = (expected: string): never => {
      throw new InventoryError(
        `${source}: ${formatPath(at)}: got ${what}${quote(value)}: expected ${expected}`,
      );
    };
    const control = CONTROL_CHARACTER.exec(value);
    if (control) {
      const code = control[0].codePointAt(0)?.toString(16).toUpperCase().padStart(4, "0");
      fail(`no control or invisible characters (U+${code} at character ${control.index + 1})`);
    }
    if (value.length > MAX_STRING_LENGTH) fail(`at most ${MAX_STRING_LENGTH} characters`);
  };
  const visit = (value: unknown, at: PropertyKey[], ancestors: readonly object[]): void => {
    if (typeof value === "string") return checkString(value, at, "");
    if (value === null || typeof value !== "object") return;
    if (ancestors.includes(value)) {
      throw new InventoryError(
        `${source}: ${formatPath(at)}: got a YAML alias inside its own anchor: expected data without cycles`,
      );
    }
    if (ancestors.length >= MAX_DEPTH) {
      throw new InventoryError(
        `${source}: ${formatPath(at)}: got data nested deeper than ${MAX_DEPTH} levels: expected an inventory`,
      );
    }
    const inside = [...ancestors, value];
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, [...at, i], inside));
      return;
    }
    for (const [key, item] of Object.entries(value)) {
      checkString(key, [...at, key], "the key ");
      // YAML 1.1's merge key: not part of YAML 1.2, so the parser keeps it as a key named "<<".
      if (key === "<<") {
        throw new InventoryError(
          `${source}: ${formatPath([...at, key])}: got a YAML merge key (<<): expected the keys written out (merge keys are YAML 1.1, not 1.2)`,
        );
      }
      // An object's own `__proto__` (YAML makes one), which the schema's checks pass over.
      if (key === "__proto__") {
        throw new InventoryError(
          `${source}: ${formatPath([...at, key])}: unknown key "__proto__": no such key (check its spelling)`,
        );
      }
      visit(item, [...at, key], inside);
    }
  };
  visit(data, [], []);
}

/**
 * A union's issue as the issue of the one option whose keys the value has (`{ file, sizeGiB:
 * "8" }` is a file OSD with a bad size), so that the message names the field; else as it is.
 */
function optionIssue(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== "invalid_union") return issue;
  const fitting = issue.errors.filter((issues) =>
    issues.every((i) => i.code !== "unrecognized_keys" && i.path.length > 0),
  );
  if (fitting.length !== 1) return issue;
  const inner = fitting[0][0];
  return optionIssue({ ...inner, path: [...issue.path, ...inner.path] });
}

function describeIssue(source: string, data: unknown, unionIssue: z.core.$ZodIssue): string {
  const issue = optionIssue(unionIssue);
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0];
    return `${source}: ${formatPath([...issue.path, key])}: unknown key ${quote(key)}: no such key (check its spelling)`;
  }
  const fieldPath = formatPath(issue.path);
  const value = valueAt(data, issue.path);
  const expected = issue.message;
  if (value === undefined) {
    return `${source}: ${fieldPath}: missing: expected ${expected.replace(/^Invalid (input|option): expected /, "")}`;
  }
  const cleaned = expected.replace(/^Invalid (input|option): expected /, "").replace(/^Invalid /, "a valid ");
  // A list that is too long is said by its length, not quoted.
  const got = issue.code === "too_big" && Array.isArray(value) ? `${value.length} items` : quote(value);
  return `${source}: ${fieldPath}: got ${got}: expected ${cleaned}`;
}

/** `hosts[2].interfaces.management`; a key that is not a plain word is quoted: `ssh["a b"]`. */
function formatPath(segments: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(String(segment)))
      out += `${out ? "." : ""}${String(segment)}`;
    else out += `[${quote(String(segment))}]`;
  }
  return out || "(top level)";
}

function valueAt(data: unknown, segments: readonly PropertyKey[]): unknown {
  let current: unknown = data;
  for (const segment of segments) {
    if (current === null || typeof current !== "object") return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function resolveKeyFile(file: string | undefined, baseDir: string): string | undefined {
  if (file === undefined || file.startsWith("~") || path.isAbsolute(file)) return file;
  return path.resolve(baseDir, file);
}

/** The inventory's release: the one it names, else DEFAULT_RELEASE. */
function releaseOf(input: InventoryInput): ReleaseName {
  return input.release ?? DEFAULT_RELEASE;
}

/** The target helper of an LVM backend that names none, on the inventory's release. */
function defaultTargetHelper(release: ReleaseName): TargetHelper {
  return cinderRelease(releaseProfile(release)).defaultTargetHelper;
}

/** Refuses a list of backends that one host could not hold; `field` names the list. */
function checkVolumeBackends(
  backends: readonly VolumeBackendSpec[] | undefined,
  field: string,
  input: InventoryInput,
): void {
  const problem = backends && volumeBackendsProblem(backends, defaultTargetHelper(releaseOf(input)));
  if (problem) {
    throw new InventoryError(
      `${field}${problem.field}: got ${quote(problem.value)}: expected ${problem.expected}`,
    );
  }
}

/** What the defaults would hide: a host's own override where it lands nowhere, a section that needs another. */
function checkInput(input: InventoryInput, source: string): void {
  checkVolumeBackends(input.volumeBackends, `${source}: volumeBackends`, input);
  // With agent: true a key file is never read: one set beside it (or over it) would be ignored.
  if (input.ssh?.agent && input.ssh.privateKeyFile !== undefined) {
    throw new InventoryError(
      `${source}: ssh.privateKeyFile: got ${quote(input.ssh.privateKeyFile)}: expected no privateKeyFile with agent: true (the agent's keys are used, never the file)`,
    );
  }
  if (input.ha === "single" && input.networks.management.vipName !== undefined) {
    throw new InventoryError(
      `${source}: networks.management.vipName: got ${quote(input.networks.management.vipName)}: expected no vipName with ha: single (there is no VIP to name)`,
    );
  }
  input.hosts.forEach((host, i) => {
    const where = (key: string) => `${source}: hosts[${i}].${key}`;
    const keyFile = host.ssh?.privateKeyFile;
    if (keyFile !== undefined && (host.ssh?.agent ?? input.ssh?.agent)) {
      throw new InventoryError(
        `${where("ssh.privateKeyFile")}: got ${quote(keyFile)}: expected no privateKeyFile where agent is true (set agent: false on this host to use the file)`,
      );
    }
    if (host.virtType !== undefined && !host.roles.includes("compute")) {
      throw new InventoryError(
        `${where("virtType")}: got "${host.virtType}": expected no virtType on a host without role compute (it is nova-compute's hypervisor)`,
      );
    }
    if (host.datapathType !== undefined && !host.roles.some((r) => r === "compute" || r === "network")) {
      throw new InventoryError(
        `${where("datapathType")}: got "${host.datapathType}": expected no datapathType on a host without role compute or network (it is the Open vSwitch agent's datapath)`,
      );
    }
    if (host.swiftDevice !== undefined && !host.roles.includes("storage")) {
      throw new InventoryError(
        `${where("swiftDevice")}: got "${host.swiftDevice}": expected no swiftDevice on a host without role storage (it is Swift's device there)`,
      );
    }
    if (host.volumeBackends !== undefined && !host.roles.includes("storage")) {
      throw new InventoryError(
        `${where("volumeBackends")}: got ${quote(host.volumeBackends.map((b) => b.name))}: expected no volumeBackends on a host without role storage (they are cinder-volume's)`,
      );
    }
    checkVolumeBackends(host.volumeBackends, where("volumeBackends"), input);
    if (host.cephOsd !== undefined && !host.roles.includes("storage")) {
      throw new InventoryError(
        `${where("cephOsd")}: got ${quote(host.cephOsd)}: expected no cephOsd on a host without role storage (OSDs run on the storage hosts)`,
      );
    }
    if (host.cephOsd !== undefined && !input.ceph) {
      throw new InventoryError(
        `${where("cephOsd")}: got ${quote(host.cephOsd)}: expected a top-level ceph section too (without it there is no Ceph cluster)`,
      );
    }
    if (input.ceph && host.roles.includes("storage") && !host.cephOsd && !input.ceph.osd) {
      throw new InventoryError(
        `${where("cephOsd")}: got none and no ceph.osd: expected this storage host's OSD ({ device: /dev/NAME } or { file: /PATH, sizeGiB: N }), here or as ceph.osd for every storage host`,
      );
    }
    const rbd = (host.volumeBackends ?? []).findIndex((b) => b.driver === "rbd");
    if (rbd >= 0 && !input.ceph) {
      throw new InventoryError(
        `${where(`volumeBackends[${rbd}].driver`)}: got "rbd": expected a top-level ceph section too (the cluster the backend's volumes are in)`,
      );
    }
  });
  const defaultRbd = (input.volumeBackends ?? []).findIndex((b) => b.driver === "rbd");
  if (defaultRbd >= 0 && !input.ceph) {
    throw new InventoryError(
      `${source}: volumeBackends[${defaultRbd}].driver: got "rbd": expected a top-level ceph section too (the cluster the backend's volumes are in)`,
    );
  }
  if (input.ceph && !input.hosts.some((h) => h.roles.includes("storage"))) {
    throw new InventoryError(
      `${source}: ceph: got a ceph section and no host with role storage: expected at least one storage host (each runs an OSD)`,
    );
  }
  if (input.dayOne && !input.networks.provider) {
    throw new InventoryError(
      `${source}: dayOne.external: got no networks.provider: expected networks.provider, whose physnet the flat external network is on`,
    );
  }
}

function normalizeDayOne(input: InventoryInput): DayOneSettings | undefined {
  const dayOne = input.dayOne;
  const provider = input.networks.provider;
  // checkInput refused a dayOne without a provider network.
  if (!dayOne || !provider) return undefined;
  const flavor = DAY_ONE_DEFAULTS.flavor;
  return {
    flavor: {
      name: dayOne.flavor?.name ?? flavor.name,
      vcpus: dayOne.flavor?.vcpus ?? flavor.vcpus,
      ramMiB: dayOne.flavor?.ramMiB ?? flavor.ramMiB,
      diskGiB: dayOne.flavor?.diskGiB ?? flavor.diskGiB,
    },
    external: {
      name: dayOne.external.name ?? DAY_ONE_DEFAULTS.externalName,
      physnet: provider.physnet,
      cidr: dayOne.external.cidr,
      gateway: dayOne.external.gateway,
      allocationPool: {
        start: dayOne.external.allocationPool.start,
        end: dayOne.external.allocationPool.end,
      },
    },
    tenant: {
      name: dayOne.tenant?.name ?? DAY_ONE_DEFAULTS.tenant.name,
      cidr: dayOne.tenant?.cidr ?? DAY_ONE_DEFAULTS.tenant.cidr,
    },
    router: { name: dayOne.router?.name ?? DAY_ONE_DEFAULTS.routerName },
  };
}

function normalize(input: InventoryInput, baseDir: string): Inventory {
  const defaults = input.ssh ?? {};
  const virtType = input.virtType ?? "auto";
  const datapathType = input.datapathType ?? "system";
  const managementInterface = input.networks.management.interface ?? "eth0";
  const release = releaseOf(input);
  const targetHelper = defaultTargetHelper(release);
  const volumeBackends = resolveVolumeBackends(input.volumeBackends ?? [], targetHelper);
  const hosts: HostSpec[] = input.hosts.map((host) => {
    const ssh = { ...defaults, ...(host.ssh ?? {}) };
    const agent = ssh.agent ?? false;
    const user = ssh.user ?? "root";
    return {
      name: host.name,
      address: host.address,
      roles: [...new Set(host.roles)],
      tunnelAddress: host.tunnelAddress,
      interfaces: {
        management: host.interfaces?.management ?? managementInterface,
        provider: host.interfaces?.provider ?? input.networks.provider?.interface,
        tunnel: host.interfaces?.tunnel ?? input.networks.tunnel?.interface,
      },
      ssh: {
        user,
        port: ssh.port ?? 22,
        agent,
        privateKeyFile: agent
          ? undefined
          : resolveKeyFile(ssh.privateKeyFile ?? "~/.ssh/id_ed25519", baseDir),
        hostKey: host.ssh?.hostKey,
        timeout: ssh.timeout ?? "5m",
        bastion: ssh.bastion && {
          host: ssh.bastion.host,
          user: ssh.bastion.user ?? user,
          port: ssh.bastion.port ?? 22,
          privateKeyFile: resolveKeyFile(ssh.bastion.privateKeyFile, baseDir),
          hostKey: ssh.bastion.hostKey,
        },
      },
      virtType: host.virtType ?? virtType,
      datapathType: host.datapathType ?? datapathType,
      swiftDevice: host.swiftDevice ?? DEFAULT_SWIFT_DEVICE,
      // checkInput refused a host's own list on a host without role storage.
      volumeBackends: host.roles.includes("storage")
        ? resolveVolumeBackends(host.volumeBackends ?? volumeBackends, targetHelper)
        : [],
      cephOsd: input.ceph && host.roles.includes("storage") ? (host.cephOsd ?? input.ceph.osd) : undefined,
    };
  });
  return {
    cluster: input.cluster,
    release,
    ha: input.ha ?? "heartbeat",
    resource: input.resource ?? "terraform_data",
    aptProxy: input.aptProxy,
    ntpServers: input.ntpServers ?? ["0.debian.pool.ntp.org", "1.debian.pool.ntp.org"],
    management: {
      cidr: input.networks.management.cidr,
      vip: input.networks.management.vip,
      vipName: input.networks.management.vipName ?? "controller",
      interface: managementInterface,
    },
    provider: input.networks.provider,
    tunnel: input.networks.tunnel,
    virtType,
    datapathType,
    swift: {
      partPower: input.swift?.partPower ?? DEFAULT_SWIFT_PART_POWER,
      mountCheck: input.swift?.mountCheck ?? false,
    },
    imageStore: input.imageStore ?? "swift",
    volumeBackends,
    ceph: input.ceph && { osdMemoryTargetMiB: input.ceph.osdMemoryTargetMiB },
    dayOne: normalizeDayOne(input),
    hosts,
  };
}

/** Why a member (or the VIP) cannot have this name, or undefined. */
function reservedNameProblem(name: string, construct: boolean): string | undefined {
  const own = hostNameProblem(name); // the schema checked the form: this is /etc/hosts' own names
  if (own) return own;
  if (construct && CLUSTER_PART_IDS.includes(name)) {
    return `a name that is not one of the cluster's own parts (${CLUSTER_PART_IDS.filter((id) => !id.includes("_")).join(", ")})`;
  }
  return undefined;
}

/** One spelling per address, so that `::1` and `0:0::1` collide. */
function normalizedAddress(address: string): string {
  return ipaddr.parse(address).toNormalizedString();
}

/** Cross-field checks that a schema cannot express: uniqueness, networks, HA and roles. */
function checkTopology(inv: Inventory, source: string): void {
  const fail = (field: string, value: unknown, expected: string): never => {
    throw new InventoryError(`${source}: ${field}: got ${quote(value)}: expected ${expected}`);
  };
  const { cidr, vip } = inv.management;
  const vipNameProblem = reservedNameProblem(inv.management.vipName, false);
  if (vip !== undefined && vipNameProblem) {
    fail("networks.management.vipName", inv.management.vipName, vipNameProblem);
  }
  const seenNames = new Map<string, number>();
  const seenAddresses = new Map<string, number>();
  inv.hosts.forEach((host, i) => {
    const earlier = seenNames.get(host.name);
    if (earlier !== undefined)
      fail(`hosts[${i}].name`, host.name, `a name not used before (hosts[${earlier}])`);
    seenNames.set(host.name, i);
    const nameProblem = reservedNameProblem(host.name, true);
    if (nameProblem) fail(`hosts[${i}].name`, host.name, nameProblem);
    if (host.name === inv.management.vipName) {
      fail(`hosts[${i}].name`, host.name, `a name other than the VIP's name (networks.management.vipName)`);
    }
    if (!inIPv4Network(host.address, cidr)) {
      fail(`hosts[${i}].address`, host.address, `an address inside the management network ${cidr}`);
    }
    const edge = networkEdgeProblem(host.address, cidr, "management");
    if (edge) fail(`hosts[${i}].address`, host.address, edge);
    const address = normalizedAddress(host.address);
    const clash = seenAddresses.get(address);
    if (clash !== undefined)
      fail(`hosts[${i}].address`, host.address, `an address not used before (hosts[${clash}])`);
    seenAddresses.set(address, i);
    if (host.tunnelAddress !== undefined) {
      if (!inv.tunnel) {
        fail(
          `hosts[${i}].tunnelAddress`,
          host.tunnelAddress,
          "no tunnelAddress unless networks.tunnel is set",
        );
      } else if (!inIPv4Network(host.tunnelAddress, inv.tunnel.cidr)) {
        fail(
          `hosts[${i}].tunnelAddress`,
          host.tunnelAddress,
          `an address inside the tunnel network ${inv.tunnel.cidr}`,
        );
      } else {
        const tunnelEdge = networkEdgeProblem(host.tunnelAddress, inv.tunnel.cidr, "tunnel");
        if (tunnelEdge) fail(`hosts[${i}].tunnelAddress`, host.tunnelAddress, tunnelEdge);
      }
    } else if (inv.tunnel && host.roles.some((r) => r === "compute" || r === "network")) {
      fail(
        `hosts[${i}].tunnelAddress`,
        undefined,
        `an address in ${inv.tunnel.cidr}: compute and network hosts carry tunnels`,
      );
    }
    if (
      host.datapathType === "netdev" &&
      !inv.tunnel &&
      host.roles.some((r) => r === "compute" || r === "network")
    ) {
      fail(
        `hosts[${i}].datapathType`,
        host.datapathType,
        "system, or networks.tunnel set: the userspace datapath moves the tunnel address onto an OVS bridge, never the management address",
      );
    }
  });
  const seenTunnels = new Map<string, number>();
  inv.hosts.forEach((host, i) => {
    if (host.tunnelAddress === undefined) return;
    const address = normalizedAddress(host.tunnelAddress);
    const clash = seenTunnels.get(address);
    if (clash !== undefined)
      fail(`hosts[${i}].tunnelAddress`, host.tunnelAddress, `an address not used before (hosts[${clash}])`);
    seenTunnels.set(address, i);
  });

  const controllers = inv.hosts.filter((h) => h.roles.includes("controller"));
  const wanted = CONTROLLERS_PER_HA_MODE[inv.ha];
  if (controllers.length !== wanted) {
    fail(
      "hosts",
      controllers.map((h) => h.name),
      `exactly ${wanted} host(s) with role controller for ha: ${inv.ha}` +
        (inv.ha === "heartbeat" ? " (an active/passive pair)" : " (use ha: heartbeat for two)"),
    );
  }
  if (inv.ha === "heartbeat") {
    if (vip === undefined) fail("networks.management.vip", vip, "a virtual IP for ha: heartbeat");
    if (!inIPv4Network(vip as string, cidr)) {
      fail("networks.management.vip", vip, `an address inside the management network ${cidr}`);
    }
    const vipEdge = networkEdgeProblem(vip as string, cidr, "management");
    if (vipEdge) fail("networks.management.vip", vip, vipEdge);
    const clash = seenAddresses.get(normalizedAddress(vip as string));
    if (clash !== undefined)
      fail("networks.management.vip", vip, `an address no host uses (hosts[${clash}] has it)`);
  } else if (vip !== undefined) {
    fail(
      "networks.management.vip",
      vip,
      "no virtual IP with ha: single (the controller's own address is used)",
    );
  }

  const needs: { role: Role; service: string }[] = [
    { role: "compute", service: "Nova's compute service" },
    { role: "storage", service: "Swift's storage servers and Cinder's volume service" },
    { role: "network", service: "Neutron's L3 and DHCP agents" },
  ];
  for (const need of needs) {
    if (!inv.hosts.some((h) => h.roles.includes(need.role))) {
      fail(
        "hosts",
        `no host with role ${need.role}`,
        `at least one host with role ${need.role} for ${need.service}`,
      );
    }
  }
  if (inv.dayOne) {
    const problem = dayOneProblem(inv.dayOne);
    if (problem) fail(`dayOne.${problem.field}`, problem.value, problem.expected);
  }
  const providerless = inv.hosts.findIndex((h) => h.roles.includes("network") && !h.interfaces.provider);
  if (providerless >= 0) {
    fail(
      `hosts[${providerless}].interfaces.provider`,
      undefined,
      "a provider interface for a network host (set networks.provider.interface or the host's interfaces.provider)",
    );
  }
}

/**
 * Fields that are each valid but wrong together (after checkTopology): a host's interfaces, the
 * networks against each other, and backend names across hosts. Each rule lives with the fields
 * it relates (`agentInterfacesProblem`, `backendNameClash`); here they are named as the
 * inventory spells them, including the defaults nobody wrote down.
 */
function checkRelations(input: InventoryInput, inv: Inventory, source: string): void {
  const fail = (field: string, value: unknown, expected: string): never => {
    throw new InventoryError(`${source}: ${field}: got ${quote(value)}: expected ${expected}`);
  };
  inv.hosts.forEach((host, i) => {
    if (!host.roles.some((r) => r === "compute" || r === "network")) return;
    const problem = agentInterfacesProblem({ ...host.interfaces, datapathType: host.datapathType });
    if (!problem) return;
    // Where the refused value was written: the host's own interfaces, or the network's default.
    const own = input.hosts[i].interfaces?.[problem.field] !== undefined;
    const field = own ? `hosts[${i}].interfaces.${problem.field}` : `networks.${problem.field}.interface`;
    const managementDefault =
      problem.other === "management" &&
      input.hosts[i].interfaces?.management === undefined &&
      input.networks.management.interface === undefined
        ? ` (${host.interfaces.management} is the default of networks.management.interface)`
        : "";
    fail(field, problem.value, `on ${host.name} (hosts[${i}]), ${problem.expected}${managementDefault}`);
  });

  // Networks that must not share an address, each with why.
  const management = { field: "networks.management.cidr", cidr: inv.management.cidr };
  const tunnel = inv.tunnel && { field: "networks.tunnel.cidr", cidr: inv.tunnel.cidr };
  const external = inv.dayOne && { field: "dayOne.external.cidr", cidr: inv.dayOne.external.cidr };
  const tenant = inv.dayOne && {
    field:
      input.dayOne?.tenant?.cidr !== undefined ? "dayOne.tenant.cidr" : "dayOne.tenant.cidr (its default)",
    cidr: inv.dayOne.tenant.cidr,
  };
  const apart: [typeof management | undefined, typeof management | undefined, string][] = [
    [
      tunnel,
      management,
      "its route would capture management addresses, and a tunnel address could be a host's or the VIP",
    ],
    [
      external,
      management,
      "Neutron would hand out the VIP and the hosts' addresses as router gateways and floating IPs",
    ],
    [
      external,
      tunnel,
      "Neutron would hand out the hosts' tunnel addresses as router gateways and floating IPs",
    ],
    [
      tenant,
      management,
      "the guests' route to their own network would hide the management network (the cloud's APIs)",
    ],
  ];
  for (const [a, b, why] of apart) {
    if (a && b && cidrsOverlap(a.cidr, b.cidr)) {
      fail(a.field, a.cidr, `a network that does not overlap ${b.field} ${b.cidr}: ${why}`);
    }
  }

  const storage = inv.hosts.filter((h) => h.volumeBackends.length > 0);
  const clash = backendNameClash(storage.map((h) => ({ name: h.name, backends: h.volumeBackends })));
  if (clash) {
    const i = inv.hosts.indexOf(storage[clash.host]);
    const own = input.hosts[i].volumeBackends !== undefined;
    fail(
      `${own ? `hosts[${i}].volumeBackends` : "volumeBackends"}${clash.field}`,
      clash.value,
      `on ${inv.hosts[i].name}, ${clash.expected}`,
    );
  }
}
