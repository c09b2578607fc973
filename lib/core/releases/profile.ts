/**
 * What differs between supported distribution + OpenStack release pairs in the base system and
 * the platform (apt, time sync, database, heartbeat, rabbitmq, memcached, the client). Each
 * service keeps its own per-release data in its file, keyed by the release's `name`
 * (`forRelease`); no construct tests the release name itself.
 */
export interface ReleaseProfile {
  /** The inventory's `release:` value. */
  readonly name: string;
  /** The Linux distribution every host runs. */
  readonly distribution: "debian" | "ubuntu";
  /** The distribution release's codename (`bookworm`, `noble`). */
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
    /** Tools the steps' scripts use (crudini, curl, iproute2, ...), installed on every host by the `base` step. */
    readonly base: readonly string[];
    /** The time sync daemon (chrony), on every host. */
    readonly timeSync: readonly string[];
    /** MariaDB and its Python driver, on the controllers. */
    readonly database: readonly string[];
    /** Heartbeat and its resource agents, on the controllers with `ha: heartbeat`. */
    readonly heartbeat: readonly string[];
    /** The RabbitMQ message broker, on the controllers. */
    readonly rabbitmq: readonly string[];
    /** memcached and its Python client, on the controllers. */
    readonly memcached: readonly string[];
    /** The OpenStack command-line client (`openstack`). */
    readonly client: readonly string[];
  };
  /**
   * The base system's and the platform's systemd units. Each service's units, paths and helpers
   * are in a table per release beside its code (`KEYSTONE_RELEASES`, `CINDER_RELEASES`, ...).
   */
  readonly units: {
    /** The time sync daemon's unit (`chrony`). */
    readonly timeSync: string;
    /** MariaDB's unit (`mariadb`). */
    readonly database: string;
    /** The broker's unit (`rabbitmq-server`). */
    readonly rabbitmq: string;
    /** memcached's unit (`memcached`). */
    readonly memcached: string;
  };
  /** The base system's and the platform's paths. */
  readonly paths: {
    /** chrony's config file, written whole by the `base` step. */
    readonly chronyConf: string;
    /** The folder MariaDB reads extra config files from; the database step writes `99-openstack.cnf` there. */
    readonly mysqlConfDir: string;
    /** memcached's config file, written whole by the cache's step. */
    readonly memcachedConf: string;
    /**
     * Apache's `Listen` lines (port 80), written whole by each step that restarts Apache (the
     * web server several services share).
     */
    readonly apachePortsConf: string;
  };
}
