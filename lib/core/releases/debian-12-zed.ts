import { ReleaseProfile } from "./profile";

/** Debian 12 "bookworm" with OpenStack Zed from Debian's own archive (the packages Debian maintains). */
export const DEBIAN_12_ZED: ReleaseProfile = {
  name: "debian-12-zed",
  distribution: "debian",
  codename: "bookworm",
  openstack: "zed",
  aptSources: [],
  // The base system's and the platform's packages; each service's are in its own file.
  packages: {
    base: ["ca-certificates", "crudini", "curl", "iproute2", "procps"],
    timeSync: ["chrony"],
    database: ["mariadb-server", "mariadb-client", "python3-pymysql"],
    heartbeat: ["heartbeat", "resource-agents"],
    rabbitmq: ["rabbitmq-server"],
    memcached: ["memcached", "python3-memcache"],
    client: ["python3-openstackclient"],
  },
  units: {
    timeSync: "chrony",
    database: "mariadb",
    rabbitmq: "rabbitmq-server",
    memcached: "memcached",
  },
  paths: {
    chronyConf: "/etc/chrony/chrony.conf",
    mysqlConfDir: "/etc/mysql/mariadb.conf.d",
    memcachedConf: "/etc/memcached.conf",
    apachePortsConf: "/etc/apache2/ports.conf",
  },
};
