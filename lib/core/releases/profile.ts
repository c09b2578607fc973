/**
 * What differs between supported distribution + OpenStack release pairs in the base system and
 * the platform (apt, time sync, database, heartbeat, rabbitmq, memcached, the client). Each
 * service keeps its own per-release data in its file, keyed by the release's `name`
 * (`forRelease`); no construct tests the release name itself.
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
  /**
   * The base system's and the platform's systemd units. Each service's units, paths and helpers
   * are in a table per release beside its code (`KEYSTONE_RELEASES`, `CINDER_RELEASES`, ...).
   */
  readonly units: {
    readonly timeSync: string;
    readonly database: string;
    readonly rabbitmq: string;
    readonly memcached: string;
  };
  /** The base system's and the platform's paths. */
  readonly paths: {
    readonly chronyConf: string;
    readonly mysqlConfDir: string;
    readonly memcachedConf: string;
    /**
     * Apache's `Listen` lines (port 80), written whole by each step that restarts Apache (the
     * web server several services share).
     */
    readonly apachePortsConf: string;
  };
}
