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
  /** Package names, per component. */
  readonly packages: {
    readonly base: readonly string[];
    readonly timeSync: readonly string[];
    readonly database: readonly string[];
    readonly heartbeat: readonly string[];
    readonly rabbitmq: readonly string[];
    readonly memcached: readonly string[];
    readonly keystone: readonly string[];
    readonly glance: readonly string[];
    readonly placement: readonly string[];
    readonly novaController: readonly string[];
    readonly novaCompute: readonly string[];
    readonly neutronServer: readonly string[];
    readonly neutronOvsAgent: readonly string[];
    readonly neutronNetworkAgents: readonly string[];
    readonly cinderController: readonly string[];
    readonly cinderVolume: readonly string[];
    readonly horizon: readonly string[];
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
    readonly horizon: string;
  };
  readonly paths: {
    readonly chronyConf: string;
    readonly mysqlConfDir: string;
    readonly memcachedConf: string;
    readonly horizonLocalSettings: string;
  };
}
