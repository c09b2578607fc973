import { ReleaseProfile, SWIFT_STORAGE_UNITS } from "./profile";

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
    keystone: "apache2",
    placement: "apache2",
    glance: "glance-api",
    cinderController: ["apache2", "cinder-scheduler"],
    cinderVolume: "cinder-volume",
    tgt: "tgt",
    // nova-api serves both the compute API (:8774) and the metadata API (:8775).
    novaController: ["nova-api", "nova-conductor", "nova-scheduler", "nova-novncproxy"],
    neutronServer: ["neutron-server"],
    horizon: "apache2",
    swiftProxy: "swift-proxy",
    swiftStorage: SWIFT_STORAGE_UNITS,
    rsync: "rsync",
  },
  paths: {
    chronyConf: "/etc/chrony/chrony.conf",
    mysqlConfDir: "/etc/mysql/mariadb.conf.d",
    memcachedConf: "/etc/memcached.conf",
    horizonLocalSettings: "/etc/openstack-dashboard/local_settings.py",
    horizonManage: "/usr/share/openstack-dashboard/manage.py",
    keystoneUwsgiConfigs: [],
    placementUwsgiConfigs: [],
    cinderUwsgiConfigs: [],
    // The packages' sites (`Listen 5000`, `Listen 8778`, `Listen 8776`).
    keystoneApacheSite: "/etc/apache2/sites-available/keystone.conf",
    placementApacheSite: "/etc/apache2/sites-available/placement-api.conf",
    cinderApacheSite: "/etc/apache2/conf-available/cinder-wsgi.conf",
    apachePortsConf: "/etc/apache2/ports.conf",
    tgtCinderTargets: "/etc/tgt/conf.d/cinder_tgt.conf",
    novaUwsgiConfigs: [],
  },
  // The package's conf-available/openstack-dashboard.conf: a WSGI daemon as horizon:horizon.
  horizon: { group: "horizon" },
  // Upstream's default, as the install guide for Ubuntu sets it up (with tgt).
  cinder: { defaultTargetHelper: "tgtadm" },
  debconf: {
    novaController: [],
  },
};
