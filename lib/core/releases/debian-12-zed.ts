import { ReleaseProfile, SWIFT_STORAGE_UNITS } from "./profile";

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
    keystone: "keystone",
    placement: "placement-api",
    // glance-api runs as a plain daemon: Debian's init script leaves uwsgi off for Glance.
    glance: "glance-api",
    cinderController: ["cinder-api", "cinder-scheduler"],
    cinderVolume: "cinder-volume",
    tgt: "tgt",
    // The APIs run under uwsgi, started by /etc/init.d/<unit> systemd-start.
    novaController: ["nova-api", "nova-api-metadata", "nova-conductor", "nova-scheduler", "nova-novncproxy"],
    // The package neutron-server is a metapackage: the API under uwsgi (:9696) and the RPC
    // server. Both are masked for upstream's eventlet neutron-server (lib/services/neutron.ts).
    neutronServer: ["neutron-server"],
    neutronServerReplaces: ["neutron-api", "neutron-rpc-server"],
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
    horizonSettingsSnippets: "/etc/openstack-dashboard/local_settings.d",
    horizonManage: "/usr/share/openstack-dashboard/manage.py",
    keystoneUwsgiConfigs: ["/etc/keystone/keystone-uwsgi.ini"],
    placementUwsgiConfigs: ["/etc/placement/placement-api-uwsgi.ini"],
    cinderUwsgiConfigs: ["/etc/cinder/cinder-api-uwsgi.ini"],
    apachePortsConf: "/etc/apache2/ports.conf",
    // A conffile of cinder-volume: `include /var/lib/cinder/volumes/*`.
    tgtCinderTargets: "/etc/tgt/conf.d/cinder_tgt.conf",
    novaUwsgiConfigs: ["/etc/nova/nova-api-uwsgi.ini", "/etc/nova/nova-api-metadata-uwsgi.ini"],
    novaConsoleProxyDefaults: "/etc/default/nova-consoleproxy",
  },
  // openstack-dashboard-apache's alias-only site (WSGIScriptAlias /horizon) runs Horizon
  // embedded in Apache's www-data processes.
  horizon: { group: "www-data", apacheSite: "openstack-dashboard-alias-only" },
  // Upstream's default, and the target cinder-volume's `Depends: tgt | open-iscsi` names first.
  cinder: { defaultTargetHelper: "tgtadm" },
  debconf: {
    // Its postinst rewrites NOVA_CONSOLE_PROXY_TYPE from this answer on every configure.
    novaController: ["nova-consoleproxy nova-consoleproxy/daemon_type select novnc"],
  },
};
