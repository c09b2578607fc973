import { ReleaseProfile } from "./profile";

/** Ubuntu 24.04 "noble" with OpenStack 2024.1 Caracal from Ubuntu's main archive. */
export const UBUNTU_2404_CARACAL: ReleaseProfile = {
  name: "ubuntu-2404-caracal",
  distribution: "ubuntu",
  codename: "noble",
  openstack: "2024.1",
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
