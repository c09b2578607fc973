import { declareSecrets } from "../core/secret-catalog";
import { Construct } from "constructs";
import { join as quote } from "shlex";
import { ApiDeclaration, ComponentDeclaration } from "../core/component";
import { Endpoint } from "../core/endpoint";
import { SecretSpec, serviceSecrets } from "../core/secret-spec";
import { ByRelease, forRelease, PackagesByRelease, packagesFor } from "../core/releases/packages";
import { ReleaseProfile } from "../core/releases";
import { ApiRelease, ApiService, ApiServiceProps } from "./api-service";
import { GLANCE_API } from "./glance";
import { IniFile } from "../core/ini-file";
import { ShellScript } from "../core/shell-script";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { TargetHelper } from "../hosts/volume-backends";
import { CephCluster } from "../platform/ceph-cluster";
import { BackendNames, describeVolumeBackend, RBD_CLIENT, volumeBackendSection } from "./volume-backends";

export interface CinderServiceProps extends ApiServiceProps {
  /** Glance's API, for `[DEFAULT] glance_api_servers` where cinder-volume runs. @default `http://VIP:9292` */
  readonly glanceUrl?: string;
  /** The Ceph cluster of the `rbd` backends (its client `cinder`). */
  readonly ceph?: CephCluster;
}

const CINDER_CONF = "/etc/cinder/cinder.conf";
const STATE_PATH = "/var/lib/cinder";
const LOCK_PATH = `${STATE_PATH}/tmp`;
/** Where the tgtadm helper writes a target file per exported volume (`volumes_dir`'s default, under `state_path`). */
const VOLUMES_DIR = `${STATE_PATH}/volumes`;

/** iSCSI's port: tgtd's portal. */
const ISCSI_PORT = 3260;

/**
 * tgtd's iSCSI portal on the management address, where Cinder's `target_ip_address` (`my_ip`)
 * sends the compute hosts: the package's unit starts `tgtd -f`, which listens on every address.
 */
export function tgtDropIn(address: string): string {
  return [
    "# Written by openstack-cdktf: the iSCSI portal on the management address only (tgtd's default:",
    "# every address).",
    "[Service]",
    "ExecStart=",
    `ExecStart=/usr/sbin/tgtd -f --iscsi portal=${Endpoint.of(address).hostPort(ISCSI_PORT)}`,
    "",
  ].join("\n");
}

/** How one release runs Cinder: the API and scheduler (`units`), cinder-volume, and tgtd. */
export interface CinderRelease extends ApiRelease {
  /** Cinder's volume service, on storage hosts with backends. */
  readonly volumeUnit: string;
  /** tgtd, the iSCSI target of LVM backends with `targetHelper: tgtadm`. */
  readonly tgtUnit: string;
  /**
   * The cinder-volume package's tgt snippet that has tgtd read the target files Cinder's
   * `tgtadm` helper writes into its volumes directory (a conffile: `include /var/lib/cinder/volumes/*`).
   */
  readonly tgtTargets: string;
  /** The iSCSI target helper of an LVM backend that names none. */
  readonly defaultTargetHelper: TargetHelper;
}

/** Debian's Cinder (12 and 13 package it alike): the API under uwsgi. */
const DEBIAN_CINDER: CinderRelease = {
  units: ["cinder-api", "cinder-scheduler"],
  uwsgiConfigs: ["/etc/cinder/cinder-api-uwsgi.ini"],
  volumeUnit: "cinder-volume",
  tgtUnit: "tgt",
  tgtTargets: "/etc/tgt/conf.d/cinder_tgt.conf",
  // Upstream's default, and the target cinder-volume's `Depends: tgt | open-iscsi` names first.
  defaultTargetHelper: "tgtadm",
};

/** How each release runs Cinder: the API under uwsgi on Debian, under Apache mod_wsgi on Ubuntu; tgtd for iSCSI on both. */
export const CINDER_RELEASES: ByRelease<CinderRelease> = {
  "debian-12-zed": DEBIAN_CINDER,
  "debian-13-epoxy": DEBIAN_CINDER,
  "ubuntu-2404-caracal": {
    // The API under Apache mod_wsgi: the package's conf says `Listen 8776`.
    units: ["apache2", "cinder-scheduler"],
    apacheSite: "/etc/apache2/conf-available/cinder-wsgi.conf",
    volumeUnit: "cinder-volume",
    tgtUnit: "tgt",
    tgtTargets: "/etc/tgt/conf.d/cinder_tgt.conf",
    // Upstream's default, as the install guide for Ubuntu sets it up (with tgt).
    defaultTargetHelper: "tgtadm",
  },
};

/** Cinder on `release` (its `CINDER_RELEASES` entry). */
export function cinderRelease(release: ReleaseProfile): CinderRelease {
  return forRelease("cinder", CINDER_RELEASES, release);
}

/** Cinder's controller packages: the API and the scheduler. */
export const CINDER_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["cinder-api", "cinder-scheduler"],
  "debian-13-epoxy": ["cinder-api", "cinder-scheduler"],
  "ubuntu-2404-caracal": ["cinder-api", "cinder-scheduler"],
};

/** The volume service's packages, for the storage hosts. */
export const CINDER_VOLUME_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["cinder-volume"],
  "debian-13-epoxy": ["cinder-volume"],
  "ubuntu-2404-caracal": ["cinder-volume"],
};

/**
 * An LVM backend's tools. Cinder's `lvm_type = auto` makes a thin pool in an empty volume group,
 * and LVM activates thin pools only with thin_check: thin-provisioning-tools, which Debian's
 * cinder-common depends on but lvm2 only recommends, is named.
 */
export const CINDER_LVM_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["lvm2", "thin-provisioning-tools"],
  "debian-13-epoxy": ["lvm2", "thin-provisioning-tools"],
  "ubuntu-2404-caracal": ["lvm2", "thin-provisioning-tools"],
};

/**
 * tgtd, for `targetHelper: tgtadm`, named: Debian's cinder-volume depends on `tgt | open-iscsi`,
 * and os-brick's open-iscsi (the initiator) already meets that.
 */
export const CINDER_TGT_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["tgt"],
  "debian-13-epoxy": ["tgt"],
  "ubuntu-2404-caracal": ["tgt"],
};

/**
 * The kernel's LIO target through rtslib (`cinder-rtstool`), for `targetHelper: lioadm` (Debian's
 * python3-cinder depends on it; named for what the helper needs). No targetcli: Cinder does not use it.
 */
export const CINDER_LIO_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["python3-rtslib-fb"],
  "debian-13-epoxy": ["python3-rtslib-fb"],
  "ubuntu-2404-caracal": ["python3-rtslib-fb"],
};

/** An RBD backend's client libraries (cinder's RBD driver imports rados and rbd) and the `ceph` tool. */
export const CINDER_RBD_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["python3-rbd", "python3-rados", "ceph-common"],
  "debian-13-epoxy": ["python3-rbd", "python3-rados", "ceph-common"],
  "ubuntu-2404-caracal": ["python3-rbd", "python3-rados", "ceph-common"],
};

/**
 * Cinder's secrets, for the secret catalog: its database user's and its Keystone user's, on the
 * controllers and the storage hosts (cinder-volume reads and writes the database itself); its
 * Ceph client's key for RBD backends, on the storage hosts (cinder-volume), the compute hosts
 * (libvirt's secret, for qemu) and the controllers (which import it into Ceph).
 */
export const CINDER_SECRETS: readonly SecretSpec[] = [
  ...serviceSecrets("cinder", ["controller", "storage"], ["controller", "storage"]),
  {
    name: `ceph_${RBD_CLIENT}_key`,
    kind: "cephx",
    roles: ["controller", "storage", "compute"],
    description: `Ceph's client.${RBD_CLIENT} key (RBD volumes)`,
    onUse: true,
  },
];

/** Cinder's API in Keystone's catalog: `volumev3`, at :8776 on every controller and the VIP. */
export const CINDER_API = {
  /** The catalog type Keystone registers the service under. */
  type: "volumev3",
  /** The API's port, on each controller's management address and on the VIP. */
  port: 8776,
} as const satisfies ApiDeclaration;

/** What cinder declares for the secret catalog and the release profiles (lib/cluster/components.ts), and its API. */
export const CINDER_COMPONENT: ComponentDeclaration = {
  name: "cinder",
  // Glance's URL (volumes from images), and Ceph's pools for RBD backends.
  needs: ["keystone", "glance", "ceph"],
  secrets: CINDER_SECRETS,
  packages: {
    cinderController: CINDER_PACKAGES,
    cinderVolume: CINDER_VOLUME_PACKAGES,
    cinderLvm: CINDER_LVM_PACKAGES,
    cinderTgt: CINDER_TGT_PACKAGES,
    cinderLio: CINDER_LIO_PACKAGES,
    cinderRbd: CINDER_RBD_PACKAGES,
  },
  controllerPackages: CINDER_PACKAGES,
  api: CINDER_API,
};

/**
 * Cinder's controller part (block storage API and scheduler) on every controller, behind the
 * VIP: its database, its Keystone user `cinder` and the `cinderv3` service of type `volumev3`
 * at `:8776/v3/%(project_id)s` (the seed registered it as `compute`), and `cinder.conf`.
 *
 * The volume service runs on the storage hosts that have backends (`Host.volumeBackends`),
 * one `cinder_volume` step each (`volumeHost`). A controller that is one of them keeps one
 * `cinder.conf`: the controller's, with its backends in it.
 */
export class CinderService extends ApiService {
  /** The secrets that a host running a Cinder service with `volumeHostConfig` needs. */
  readonly secrets: readonly string[];
  private readonly glanceUrl: string;
  private readonly ceph?: CephCluster;
  private readonly volumeSteps = new Map<Host, Step>();
  /** The backends' names across the volume hosts placed so far (one name, one backend). */
  private readonly backendNames = new BackendNames();

  constructor(scope: Construct, id: string, props: CinderServiceProps) {
    // Its secrets join the stack's catalog (a stack of one's own has no other), before its steps use them.
    declareSecrets(scope, CINDER_SECRETS);
    super(scope, id, props, {
      name: "cinder",
      port: CINDER_API.port,
      catalog: {
        name: "cinderv3",
        type: CINDER_API.type,
        description: "OpenStack Block Storage",
        path: "/v3/%(project_id)s",
      },
      databases: ["cinder"],
      configFile: CINDER_CONF,
      syncCommand: ["cinder-manage", "db", "sync"],
      packages: CINDER_PACKAGES,
      units: (release) => cinderRelease(release).units,
      uwsgiConfigs: (release) => cinderRelease(release).uwsgiConfigs ?? [],
      apacheSite: (release) => cinderRelease(release).apacheSite,
      messaging: true,
      namePrerequisites: true,
    });
    this.secrets = [this.dbSecret, this.userSecret, ...this.context.messaging.secrets];
    this.glanceUrl = props.glanceUrl ?? this.context.endpoint.url(GLANCE_API.port);
    this.ceph = props.ceph;
    this.deploy();
  }

  /**
   * `cinder.conf` for a host: messaging, database, token validation and locks, with `my_ip` set
   * to the host's address and no backend. A new file on every call; `volumeConfig` adds the
   * host's backends to it.
   */
  volumeHostConfig(host: Host): IniFile {
    return new IniFile({
      DEFAULT: {
        transport_url: this.context.messaging.transportUrl,
        auth_strategy: "keystone",
        my_ip: host.address,
        state_path: STATE_PATH,
      },
      database: { connection: this.databases[0].url, max_retries: -1 },
      keystone_authtoken: this.keystone.authtoken("cinder", this.userSecret),
      oslo_concurrency: { lock_path: LOCK_PATH },
    });
  }

  /**
   * `cinder.conf` for a host with its backends: `volumeHostConfig`, `[DEFAULT] enabled_backends`,
   * Glance (volumes made from images) and one section per backend. Without backends, the same
   * as `volumeHostConfig`.
   */
  volumeConfig(host: Host): IniFile {
    const conf = this.volumeHostConfig(host);
    const backends = host.volumeBackends;
    if (backends.length === 0) return conf;
    conf
      .set("DEFAULT", "enabled_backends", backends.map((b) => b.name).join(","))
      .set("DEFAULT", "glance_api_servers", this.glanceUrl);
    const rbd = backends.some((b) => b.driver === "rbd") ? this.ceph?.client(RBD_CLIENT) : undefined;
    for (const backend of backends) {
      for (const [key, value] of Object.entries(volumeBackendSection(backend, rbd)))
        conf.set(backend.name, key, value);
    }
    return conf;
  }

  /** cinder-volume's packages for a host: the service's, and its backends' (a role can install them early). */
  volumePackages(host: Host): readonly string[] {
    const release = host.release;
    const packages = [...packagesFor("CinderService", CINDER_VOLUME_PACKAGES, release)];
    for (const backend of host.volumeBackends) {
      if (backend.driver === "rbd") {
        packages.push(...packagesFor("CinderService", CINDER_RBD_PACKAGES, release));
        continue;
      }
      packages.push(...packagesFor("CinderService", CINDER_LVM_PACKAGES, release));
      const target = backend.targetHelper === "tgtadm" ? CINDER_TGT_PACKAGES : CINDER_LIO_PACKAGES;
      packages.push(...packagesFor("CinderService", target, release));
    }
    return [...new Set(packages)];
  }

  /** The volume hosts' steps, in the order they were placed. */
  get volumeStepList(): readonly Step[] {
    return [...this.volumeSteps.values()];
  }

  /**
   * cinder-volume on a host with backends (`Host.volumeBackends`; a storage host without any
   * runs none): its packages, `cinder.conf` from `volumeConfig` (a controller keeps its own,
   * which has the backends), a check that each backend's volume group exists, and the iSCSI
   * target. It runs after the controllers' Cinder and the message bus. One step per host: a
   * second call returns it.
   */
  volumeHost(host: Host): Step {
    const existing = this.volumeSteps.get(host);
    if (existing) return existing;
    const backends = host.volumeBackends;
    if (backends.length === 0) {
      throw new Error(
        `CinderService.volumeHost ${host.hostName}: volumeBackends: got none: expected at least one backend (a storage host without backends runs no cinder-volume)`,
      );
    }
    const clash = this.backendNames.add(host.hostName, host.volumeBackends);
    if (clash) {
      throw new Error(
        `CinderService.volumeHost ${host.hostName}: volumeBackends${clash.field}: got ${clash.value}: expected ${clash.expected}`,
      );
    }
    const release = host.release;
    const script = host
      .script("cinder_volume")
      .comment(`cinder-volume with its backends: ${backends.map(describeVolumeBackend).join("; ")}.`)
      .aptInstall(this.volumePackages(host));
    const lvm = backends.flatMap((b) => (b.driver === "lvm" ? [b] : []));
    const rbd = backends.some((b) => b.driver === "rbd");
    if (lvm.length > 0)
      script.comment(
        "Before anything changes: each LVM backend's volume group, made on the host beforehand.",
      );
    for (const backend of lvm) {
      const missing = `volume group ${backend.volumeGroup} (backend ${backend.name}) is missing on ${host.hostName}: expected it made beforehand (vgcreate ${backend.volumeGroup} DEVICE)`;
      script.raw(
        `if ! vgs ${quote([backend.volumeGroup])} >/dev/null 2>&1; then echo ${quote([missing])} >&2; exit 1; fi`,
      );
    }
    const secrets: string[] = [];
    if (!this.context.controllers.includes(host)) {
      const conf = this.volumeConfig(host);
      script
        .writeFile(CINDER_CONF, conf.render(), {
          group: "cinder",
          mode: "0640",
          secrets: true,
          changeTag: "cinder_volume",
        })
        .run("install", "-d", "-o", "cinder", "-g", "cinder", "-m", "0750", LOCK_PATH);
      secrets.push(...conf.secretsUsed());
    }
    if (rbd) {
      if (!this.ceph) {
        throw new Error(
          `CinderService.volumeHost ${host.hostName}: an rbd backend: got no ceph: expected CinderServiceProps.ceph (the inventory's ceph section)`,
        );
      }
      script.comment(
        "The RBD backends' Ceph client: ceph.conf and client.cinder's keyring, readable by cinder.",
      );
      this.ceph.clientFiles(script, host, this.ceph.client(RBD_CLIENT), "cinder", "cinder_volume");
      secrets.push(...script.secretsUsed());
    }
    // One target helper per host (the inventory and Host refuse two).
    if (lvm.length === 0) {
      // No iSCSI target: the data path is librbd, from qemu on the compute hosts.
    } else if (lvm[0].targetHelper === "tgtadm") {
      script
        .comment("tgtd reads the target files the tgtadm helper writes (the package's own snippet, kept).")
        .writeFile(cinderRelease(release).tgtTargets, `include ${VOLUMES_DIR}/*\n`, { changeTag: "tgt" })
        .comment("tgtd's portal on the management address (Cinder's target_ip_address, my_ip) only.")
        .writeDropIn(`${cinderRelease(release).tgtUnit}.service`, tgtDropIn(host.address), "tgt")
        // Restarted only when its files changed: a restart drops the instances' iSCSI sessions.
        .restartIfChanged([cinderRelease(release).tgtUnit], "tgt")
        .listen(cinderRelease(release).tgtUnit, host.address, ISCSI_PORT);
    } else {
      const tgt = cinderRelease(release).tgtUnit;
      const busy = `${tgt} is running on ${host.hostName}: expected no tgtd with targetHelper lioadm (both serve iSCSI on port 3260): stop and disable it`;
      script.raw(
        `if systemctl is-active --quiet ${quote([tgt])}; then echo ${quote([busy])} >&2; exit 1; fi`,
      );
    }
    script.restartIfChanged([cinderRelease(release).volumeUnit], "cinder_volume");
    const step = host.addStep("cinder_volume", script, {
      owner: this,
      secrets: [...new Set(secrets)],
      after: [
        ...this.context.messaging.readyFor(host),
        ...this.steps,
        ...(rbd && this.ceph ? [this.ceph.poolsStep] : []),
      ],
    });
    this.volumeSteps.set(host, step);
    return step;
  }

  protected config(host: Host): IniFile {
    return this.volumeConfig(host);
  }

  /**
   * The lock directory, then uwsgi. On a controller with backends, cinder-volume (which the
   * host's `cinder_volume` step starts) reads this step's cinder.conf too: a change restarts it.
   */
  protected configure(script: ShellScript, host: Host): void {
    script.run("install", "-d", "-o", "cinder", "-g", "cinder", "-m", "0750", LOCK_PATH);
    this.uwsgi(script, host);
    if (host.volumeBackends.length > 0) {
      const unit = quote([cinderRelease(host.release).volumeUnit]);
      script.ifChanged(
        "cinder",
        `if systemctl is-active --quiet ${unit}; then systemctl restart ${unit}; fi`,
      );
    }
  }
}
