import { declareSecrets } from "../core/secret-catalog";
import { Construct } from "constructs";
import { ApiDeclaration, ComponentDeclaration } from "../core/component";
import { IniFile, secretPlaceholder } from "../core/ini-file";
import { ByRelease, forRelease, PackagesByRelease, packagesFor } from "../core/releases/packages";
import { SecretSpec } from "../core/secret-spec";
import { ShellScript } from "../core/shell-script";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { readyOn } from "../platform/interfaces";
import { ApiService, ApiServiceProps } from "./api-service";
import {
  SWIFT_DEVICE_EXPECTED,
  SWIFT_DEVICE_NAME,
  SWIFT_DIR,
  SWIFT_STORAGE_PORTS,
  SwiftRingDevice,
  SwiftRings,
} from "./swift-rings";
import { quote } from "../core/field-rules";

/** Swift's storage daemons, as Debian's and Ubuntu's swift-account/-container/-object name them (sharding, sync and erasure coding unused). */
export const SWIFT_STORAGE_UNITS: readonly string[] = ["account", "container", "object"].flatMap((kind) => [
  `swift-${kind}`,
  `swift-${kind}-replicator`,
  `swift-${kind}-auditor`,
  `swift-${kind}-${kind === "account" ? "reaper" : "updater"}`,
]);

/** Swift's units on each release. */
export interface SwiftRelease {
  /** The proxy, on the controllers. */
  readonly proxyUnit: string;
  /** The storage servers and their replicators, auditors, updaters and reaper. */
  readonly storageUnits: readonly string[];
  /** rsync's daemon (replication). */
  readonly rsyncUnit: string;
}

/** Swift's units on each release: the same names on Debian 12 and Ubuntu 24.04. */
export const SWIFT_RELEASES: ByRelease<SwiftRelease> = {
  "debian-12-zed": { proxyUnit: "swift-proxy", storageUnits: SWIFT_STORAGE_UNITS, rsyncUnit: "rsync" },
  "debian-13-epoxy": { proxyUnit: "swift-proxy", storageUnits: SWIFT_STORAGE_UNITS, rsyncUnit: "rsync" },
  "ubuntu-2404-caracal": { proxyUnit: "swift-proxy", storageUnits: SWIFT_STORAGE_UNITS, rsyncUnit: "rsync" },
};

/** The proxy, on the controllers. */
export const SWIFT_PROXY_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["swift-proxy", "python3-keystonemiddleware"],
  "debian-13-epoxy": ["swift-proxy", "python3-keystonemiddleware"],
  "ubuntu-2404-caracal": ["swift-proxy", "python3-keystonemiddleware"],
};

/** The account, container and object servers and rsync (replication), on the storage hosts. */
export const SWIFT_STORAGE_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["swift-account", "swift-container", "swift-object", "rsync"],
  "debian-13-epoxy": ["swift-account", "swift-container", "swift-object", "rsync"],
  "ubuntu-2404-caracal": ["swift-account", "swift-container", "swift-object", "rsync"],
};

/**
 * The proxy's Keystone user, on the controllers; the hash path prefix and suffix, on every Swift
 * host: they place every object, so they are made once and never change (a changed one loses
 * every object stored before).
 */
export const SWIFT_SECRETS: readonly SecretSpec[] = [
  {
    name: "swift_keystone_password",
    kind: "password",
    roles: ["controller"],
    description: "swift Keystone service user",
  },
  {
    name: "swift_hash_path_prefix",
    kind: "password",
    roles: ["controller", "storage"],
    description: "Swift's hash path prefix (never change it: objects are placed by it)",
  },
  {
    name: "swift_hash_path_suffix",
    kind: "password",
    roles: ["controller", "storage"],
    description: "Swift's hash path suffix (never change it: objects are placed by it)",
  },
];

/** Swift's proxy in Keystone's catalog: `object-store`, at :8080 on every controller and the VIP. */
export const SWIFT_API = {
  /** The catalog type Keystone registers the service under. */
  type: "object-store",
  /** The API's port, on each controller's management address and on the VIP. */
  port: 8080,
} as const satisfies ApiDeclaration;

/** What swift declares for the secret catalog and the release profiles (lib/cluster/components.ts), and its API. */
export const SWIFT_COMPONENT: ComponentDeclaration = {
  name: "swift",
  needs: ["keystone"],
  secrets: SWIFT_SECRETS,
  packages: { swiftProxy: SWIFT_PROXY_PACKAGES, swiftStorage: SWIFT_STORAGE_PACKAGES },
  controllerPackages: SWIFT_PROXY_PACKAGES,
  api: SWIFT_API,
};

/** Where the devices are: a device NAME is the directory /srv/node/NAME. */
export const SWIFT_DEVICES_DIR = "/srv/node";
const PROXY_CONF = `${SWIFT_DIR}/proxy-server.conf`;
const SWIFT_CONF = `${SWIFT_DIR}/swift.conf`;
const RSYNCD_CONF = "/etc/rsyncd.conf";
/** rsync's daemon port (rsyncd.conf names no other). */
const RSYNC_PORT = 873;
const RECON_CACHE = "/var/cache/swift";

/** A storage host and its device. */
export interface SwiftStorageDevice {
  /** The storage host; its management address goes into the rings. */
  readonly host: Host;
  /** The device's name: the directory /srv/node/NAME. */
  readonly device: string;
}

export interface SwiftServiceProps extends ApiServiceProps {
  /** Every storage host with its device, in a fixed order: the rings are built from this list. */
  readonly storage: readonly SwiftStorageDevice[];
  /** @default 10 (1024 partitions) */
  readonly partPower?: number;
  /**
   * Whether the servers refuse a device that is not a mount point (Swift's `mount_check`): true
   * on servers with a disk per device, so that a disk that did not mount is not filled in the
   * root file system. @default false (plain directories, as in the lab)
   */
  readonly mountCheck?: boolean;
}

/**
 * Swift, the object store: the proxy on every controller behind the VIP (`object-store`
 * endpoints at `:8080/v1/AUTH_%(project_id)s`, Keystone tokens, memcached), and the account,
 * container and object servers with their replicators, auditors and updaters on every storage
 * host (`storageHost`), one device each, bound to the host's management address, replicating
 * over rsync.
 *
 * The rings are built from `storage` once, in the first controller's step, and the other Swift
 * hosts fetch them from a controller, checked against the hash their script carries
 * (lib/services/swift-rings.ts): no step but the builder's lists every device. Replicas =
 * min(3, storage hosts), one zone per host. A change of the storage hosts would move
 * partitions: the builder refuses it (a later issue adds rebalancing; swift-rings.ts says how).
 *
 * The proxy runs as Debian's and Ubuntu's packages start it, eventlet with `workers` processes,
 * on the controller's own address (`bind_ip`); the VIP's port is a socket of ours relayed to it.
 */
export class SwiftService extends ApiService {
  /** The rings, built from `storage`: one zone per storage host, the props' `partPower`. */
  readonly rings: SwiftRings;
  /** Whether the storage servers refuse a device that is not a mount point (`mount_check`). */
  readonly mountCheck: boolean;
  private readonly storage: readonly SwiftStorageDevice[];
  private readonly storageSteps = new Map<Host, Step>();

  constructor(scope: Construct, id: string, props: SwiftServiceProps) {
    // Its secrets join the stack's catalog (a stack of one's own has no other), before its steps use them.
    declareSecrets(scope, SWIFT_SECRETS);
    super(scope, id, props, {
      name: "swift",
      port: SWIFT_API.port,
      catalog: {
        type: SWIFT_API.type,
        description: "OpenStack Object Storage",
        path: "/v1/AUTH_%(project_id)s",
        // keystoneauth's reseller_admin_role: may act on every account (quotas, for one).
        roles: ["ResellerAdmin"],
      },
      databases: [],
      configFile: PROXY_CONF,
      packages: SWIFT_PROXY_PACKAGES,
      units: (release) => [forRelease("swift", SWIFT_RELEASES, release).proxyUnit],
      namePrerequisites: true,
      // An eventlet server binds one address: its own; a socket of ours takes the VIP.
      vipForwards: () => [{ name: "swift-proxy", port: SWIFT_API.port }],
    });
    if (props.storage.length === 0) {
      throw new Error(
        `SwiftService ${this.node.path}: storage: got none: expected at least one storage host`,
      );
    }
    props.storage.forEach((s, i) => {
      if (typeof s.device !== "string" || !SWIFT_DEVICE_NAME.test(s.device)) {
        throw new Error(
          `SwiftService storage[${i}].device: got ${quote(s.device)}: expected ${SWIFT_DEVICE_EXPECTED}`,
        );
      }
    });
    this.storage = props.storage;
    this.mountCheck = props.mountCheck ?? false;
    this.rings = new SwiftRings(
      props.storage.map((s, i): SwiftRingDevice => ({
        zone: i + 1,
        address: s.host.address,
        device: s.device,
      })),
      props.partPower ?? 10,
    );
    this.deploy();
  }

  /** The proxy's settings: Keystone tokens (admin and member may use their project's account), memcached. */
  protected config(host: Host): IniFile {
    const authtoken = this.keystone.authtoken("swift", this.userSecret);
    return new IniFile({
      DEFAULT: {
        bind_ip: host.address,
        bind_port: this.spec.port,
        workers: this.context.apiWorkers,
        user: "swift",
        swift_dir: SWIFT_DIR,
        log_name: "swift-proxy",
      },
      // The install guide's pipeline without tempurl/container_sync: no feature we do not configure.
      "pipeline:main": {
        pipeline: [
          "catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk ratelimit",
          "authtoken keystoneauth copy container-quotas account-quotas slo dlo versioned_writes symlink",
          "proxy-logging proxy-server",
        ].join(" "),
      },
      "app:proxy-server": { use: "egg:swift#proxy", account_autocreate: true },
      "filter:authtoken": {
        "paste.filter_factory": "keystonemiddleware.auth_token:filter_factory",
        ...authtoken,
        // keystoneauth decides, so that anonymous requests reach what allows them (public containers).
        delay_auth_decision: true,
      },
      "filter:keystoneauth": { use: "egg:swift#keystoneauth", operator_roles: "admin,member" },
      "filter:cache": { use: "egg:swift#memcache", memcache_servers: this.context.cache.servers },
      ...Object.fromEntries(
        [
          ["catch_errors", "catch_errors"],
          ["gatekeeper", "gatekeeper"],
          ["healthcheck", "healthcheck"],
          ["proxy-logging", "proxy_logging"],
          ["listing_formats", "listing_formats"],
          ["bulk", "bulk"],
          ["ratelimit", "ratelimit"],
          ["copy", "copy"],
          ["container-quotas", "container_quotas"],
          ["account-quotas", "account_quotas"],
          ["slo", "slo"],
          ["dlo", "dlo"],
          ["versioned_writes", "versioned_writes"],
          ["symlink", "symlink"],
        ].map(([filter, egg]) => [`filter:${filter}`, { use: `egg:swift#${egg}` }]),
      ),
    });
  }

  /**
   * swift.conf and the rings, before the proxy (re)starts: built on the first controller, fetched
   * from it on the others; every controller then serves them to the storage hosts.
   */
  protected configure(script: ShellScript, host: Host): void {
    const controllers = this.context.controllers;
    this.commonFiles(script, "swift", host, host === controllers[0] ? undefined : [controllers[0]]);
    this.rings.serve(script, host.address, this.context.managementCidr);
  }

  /** No database. */
  protected migrate(): void {}

  /** The proxies a consumer on `host` waits for (Glance's object store): its own on a controller, else all. */
  readyFor(host: Host): readonly Step[] {
    return readyOn(this.context.controllers, this.steps, host);
  }

  /** The storage hosts' steps, in the order of `storage`. */
  get storageStepList(): readonly Step[] {
    return [...this.storageSteps.values()];
  }

  /** The storage servers' packages for a host (a role installs them early). */
  storagePackages(host: Host): readonly string[] {
    return packagesFor("SwiftService", SWIFT_STORAGE_PACKAGES, host.release);
  }

  /**
   * The account, container and object servers on a storage host of `storage`, with rsync for
   * replication. It runs after the first controller's Swift step, which checks the rings first:
   * a refused ring change stops there, before any storage host. One step per host.
   */
  storageHost(host: Host): Step {
    const existing = this.storageSteps.get(host);
    if (existing) return existing;
    const entry = this.storage.find((s) => s.host === host);
    if (!entry) {
      throw new Error(
        `SwiftService.storageHost: got ${host.hostName}: expected one of the storage hosts (${this.storage.map((s) => s.host.hostName).join(", ")})`,
      );
    }
    const release = host.release;
    const script = host.script("swift_storage");
    script.aptInstall(this.storagePackages(host));
    this.commonFiles(
      script,
      "swift_storage",
      host,
      this.context.controllers.filter((c) => c !== host),
    );
    const deviceDir = `${SWIFT_DEVICES_DIR}/${entry.device}`;
    script.comment(`The device, ${deviceDir}.`);
    if (this.mountCheck) {
      script.raw(
        `mountpoint -q ${deviceDir} || { echo "Swift device ${deviceDir} on ${host.hostName}: not a mount point: expected a mounted disk (swift.mountCheck is true)" >&2; exit 1; }`,
      );
    }
    script
      .run("install", "-d", "-o", "swift", "-g", "swift", "-m", "0750", SWIFT_DEVICES_DIR, deviceDir)
      .run("install", "-d", "-o", "swift", "-g", "swift", "-m", "0755", RECON_CACHE);
    for (const kind of ["account", "container", "object"] as const) {
      script.writeFile(`${SWIFT_DIR}/${kind}-server.conf`, this.serverConfig(host, kind).render(), {
        group: "swift",
        mode: "0640",
        changeTag: "swift_storage",
      });
    }
    const runs = forRelease("swift", SWIFT_RELEASES, release);
    script
      .writeFile(RSYNCD_CONF, this.rsyncdConfig(host), { changeTag: "rsync" })
      .restartIfChanged([runs.rsyncUnit], "rsync")
      .restartIfChanged(runs.storageUnits, "swift_storage")
      // Where serverConfig and rsyncdConfig bind them.
      .listen(runs.rsyncUnit, host.address, RSYNC_PORT);
    for (const [kind, port] of Object.entries(SWIFT_STORAGE_PORTS)) {
      script.listen(`swift-${kind}`, host.address, port);
    }
    for (const port of Object.values(SWIFT_STORAGE_PORTS)) script.waitForPort(host.address, port, 60);
    const step = host.addStep("swift_storage", script, {
      owner: this,
      secrets: script.secretsUsed(),
      after: [this.firstStep],
    });
    this.storageSteps.set(host, step);
    return step;
  }

  /**
   * swift.conf (the hash path secrets, one storage policy) and the rings: built here when
   * `fetchFrom` is undefined (the first controller), else fetched from those controllers (a
   * host that is a controller has them from its proxy step already).
   */
  private commonFiles(
    script: ShellScript,
    changeTag: string,
    host: Host,
    fetchFrom: readonly Host[] | undefined,
  ): void {
    const conf = new IniFile({
      "swift-hash": {
        swift_hash_path_prefix: secretPlaceholder("swift_hash_path_prefix"),
        swift_hash_path_suffix: secretPlaceholder("swift_hash_path_suffix"),
      },
      "storage-policy:0": { name: "Policy-0", default: "yes" },
    });
    script.writeFile(SWIFT_CONF, conf.render(), { group: "swift", mode: "0640", secrets: true, changeTag });
    if (fetchFrom === undefined) {
      this.rings.build(script, changeTag);
    } else {
      const controller = this.context.controllers.includes(host);
      this.rings.fetch(
        script,
        changeTag,
        fetchFrom.map((c) => c.address),
        controller,
      );
    }
  }

  /** An account, container or object server's config: the host's address, the devices, recon. */
  private serverConfig(host: Host, kind: "account" | "container" | "object"): IniFile {
    const daemons: Record<typeof kind, string[]> = {
      account: ["account-replicator", "account-auditor", "account-reaper"],
      container: ["container-replicator", "container-auditor", "container-updater"],
      object: ["object-replicator", "object-auditor", "object-updater"],
    };
    const conf = new IniFile({
      DEFAULT: {
        bind_ip: host.address,
        bind_port: SWIFT_STORAGE_PORTS[kind],
        user: "swift",
        swift_dir: SWIFT_DIR,
        devices: SWIFT_DEVICES_DIR,
        mount_check: this.mountCheck,
        log_name: `swift-${kind}`,
      },
      "pipeline:main": { pipeline: `healthcheck recon ${kind}-server` },
      [`app:${kind}-server`]: { use: `egg:swift#${kind}` },
      "filter:healthcheck": { use: "egg:swift#healthcheck" },
      "filter:recon": {
        use: "egg:swift#recon",
        recon_cache_path: RECON_CACHE,
        ...(kind === "object" ? { recon_lock_path: "/run/lock/swift" } : {}),
      },
    });
    for (const daemon of daemons[kind]) conf.set(daemon, "recon_cache_path", RECON_CACHE);
    return conf;
  }

  /** rsync's daemon for the replicators: the host's address only, the management network only. */
  private rsyncdConfig(host: Host): string {
    const modules = ["account", "container", "object"].map((kind) =>
      [
        `[${kind}]`,
        `max connections = 4`,
        `path = ${SWIFT_DEVICES_DIR}/`,
        `read only = false`,
        `lock file = /run/lock/swift-rsync-${kind}.lock`,
      ].join("\n"),
    );
    return [
      "# Swift's replication (written by openstack-cdktf).",
      "uid = swift",
      "gid = swift",
      `address = ${host.address}`,
      `hosts allow = ${this.context.managementCidr}`,
      "hosts deny = *",
      "log file = /var/log/rsyncd.log",
      "pid file = /run/rsyncd.pid",
      "",
      modules.join("\n\n"),
      "",
    ].join("\n");
  }
}
