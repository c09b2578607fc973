/**
 * What differs between supported distribution + OpenStack release pairs. Services ask the
 * profile for package names, unit names, paths and differing config keys; no construct tests
 * the release name itself.
 */
export interface ReleaseProfile {
  /** The inventory's `release:` value. */
  readonly name: string;
  readonly distribution: "debian" | "ubuntu";
  readonly codename: string;
  /** OpenStack release series shipped by the distribution. */
  readonly openstack: string;
  /**
   * apt sources for OpenStack beyond the distribution's own archive, one-line format. Empty for
   * both supported releases: Debian 12 ships Zed and Ubuntu 24.04 ships 2024.1 in their main
   * archives.
   */
  readonly aptSources: readonly string[];
  /**
   * The base system's and the platform's package names. Each service declares its own, in a
   * table per release beside its code (`GLANCE_PACKAGES`, ...).
   */
  readonly packages: {
    readonly base: readonly string[];
    readonly timeSync: readonly string[];
    readonly database: readonly string[];
    readonly heartbeat: readonly string[];
    readonly rabbitmq: readonly string[];
    readonly memcached: readonly string[];
    readonly client: readonly string[];
  };
  /** systemd unit names. */
  readonly units: {
    readonly timeSync: string;
    readonly database: string;
    readonly rabbitmq: string;
    readonly memcached: string;
    /** Keystone runs under uwsgi in Debian and under Apache mod_wsgi in Ubuntu. */
    readonly keystone: string;
    readonly placement: string;
    readonly glance: string;
    /** Cinder's controller services: the API and the scheduler. */
    readonly cinderController: readonly string[];
    /** Cinder's volume service, on storage hosts with backends. */
    readonly cinderVolume: string;
    /** tgtd, the iSCSI target of LVM backends with `targetHelper: tgtadm`. */
    readonly tgt: string;
    /** Nova's controller services: API (and metadata API), conductor, scheduler, console proxy. */
    readonly novaController: readonly string[];
    /** Neutron's server: upstream's eventlet `neutron-server`, the API and its RPC workers in one service. */
    readonly neutronServer: readonly string[];
    /**
     * Units the distribution's packages run instead of an eventlet `neutron-server`: they are
     * masked, and `neutronServer` runs from a unit of ours (Debian: the API under uwsgi and a
     * separate RPC server; lib/services/neutron.ts says why). @default none
     */
    readonly neutronServerReplaces?: readonly string[];
    readonly horizon: string;
    /** Swift's proxy, on the controllers. */
    readonly swiftProxy: string;
    /** Swift's storage servers and their replicators, auditors, updaters and reaper. */
    readonly swiftStorage: readonly string[];
    /** rsync's daemon (Swift's replication). */
    readonly rsync: string;
  };
  readonly paths: {
    readonly chronyConf: string;
    readonly mysqlConfDir: string;
    readonly memcachedConf: string;
    readonly horizonLocalSettings: string;
    /**
     * Settings snippets that Horizon executes after `local_settings.py` (Debian's own set
     * WEBROOT and a per-process cache there). @default none
     */
    readonly horizonSettingsSnippets?: string;
    /** Horizon's Django `manage.py` (collectstatic, compress). */
    readonly horizonManage: string;
    /** uwsgi ini files of Keystone's, Placement's and Cinder's APIs; none without uwsgi (Apache). */
    readonly keystoneUwsgiConfigs: readonly string[];
    readonly placementUwsgiConfigs: readonly string[];
    readonly cinderUwsgiConfigs: readonly string[];
    /**
     * The packages' Apache files that say `Listen PORT` for Keystone, Placement and Cinder where
     * Apache serves them (rewritten to the management address and the VIP). @default none (uwsgi)
     */
    readonly keystoneApacheSite?: string;
    readonly placementApacheSite?: string;
    readonly cinderApacheSite?: string;
    /** Apache's `Listen` lines (port 80), written whole by each step that restarts Apache. */
    readonly apachePortsConf: string;
    /**
     * The cinder-volume package's tgt snippet that has tgtd read the target files Cinder's
     * `tgtadm` helper writes into its volumes directory.
     */
    readonly tgtCinderTargets: string;
    /** uwsgi ini files of Nova's APIs, whose `[uwsgi] processes` is set to the API workers; none without uwsgi. */
    readonly novaUwsgiConfigs: readonly string[];
    /**
     * Debian's nova-consoleproxy starts the console proxy this file names (spicehtml5 unless told
     * otherwise). @default none: the distribution ships a noVNC-only package
     */
    readonly novaConsoleProxyDefaults?: string;
  };
  /** How Apache serves Horizon. */
  readonly horizon: {
    /** The group Horizon's WSGI processes run as; `local_settings.py` is readable by it alone. */
    readonly group: string;
    /** The Apache site that serves Horizon at /horizon/, enabled when it is not. @default none */
    readonly apacheSite?: string;
  };
  /** Cinder's volume service. */
  readonly cinder: {
    /** The iSCSI target helper of an LVM backend that names none. */
    readonly defaultTargetHelper: "tgtadm" | "lioadm";
  };
  /**
   * debconf answers given before a component's packages are installed (`debconf-set-selections`
   * lines), so that maintainer scripts choose what the services need.
   */
  readonly debconf: {
    readonly novaController: readonly string[];
  };
}

/** Swift's storage daemons, as Debian's and Ubuntu's swift-account/-container/-object name them (sharding, sync and erasure coding unused). */
export const SWIFT_STORAGE_UNITS: readonly string[] = ["account", "container", "object"].flatMap((kind) => [
  `swift-${kind}`,
  `swift-${kind}-replicator`,
  `swift-${kind}-auditor`,
  `swift-${kind}-${kind === "account" ? "reaper" : "updater"}`,
]);
