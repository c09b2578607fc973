import { DEBIAN_12_ZED } from "./debian-12-zed";
import { ReleaseProfile } from "./profile";

/**
 * Debian 13 "trixie" with OpenStack 2025.1 Epoxy from Debian's own archive (the packages Debian
 * maintains). Its base system and platform are packaged as Debian 12's, but for the client below.
 */
export const DEBIAN_13_EPOXY: ReleaseProfile = {
  ...DEBIAN_12_ZED,
  name: "debian-13-epoxy",
  codename: "trixie",
  openstack: "2025.1",
  packages: {
    ...DEBIAN_12_ZED.packages,
    // MariaDB 11.8's client is `mariadb`; the `mysql` names the scripts and Heartbeat's agents use
    // moved to mariadb-client-compat.
    database: ["mariadb-server", "mariadb-client", "mariadb-client-compat", "python3-pymysql"],
  },
};
