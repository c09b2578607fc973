import { componentPackages } from "../lib/cluster/components";
import { DEBIAN_12_ZED, RELEASE_NAMES, UBUNTU_2404_CARACAL } from "../lib/core/releases";
import { packagesFor } from "../lib/core/releases/packages";
import { GLANCE_PACKAGES } from "../lib/services/glance";
import { NEUTRON_SERVER_PACKAGES } from "../lib/services/neutron";

describe("packages declared next to each service", () => {
  it("the catalog assembles the services' lists from the services' tables; the profiles keep only the platform's", () => {
    expect(componentPackages("debian-12-zed").glance).toEqual(GLANCE_PACKAGES["debian-12-zed"]);
    expect(componentPackages("ubuntu-2404-caracal").neutronServer).toEqual(
      NEUTRON_SERVER_PACKAGES["ubuntu-2404-caracal"],
    );
    for (const profile of [DEBIAN_12_ZED, UBUNTU_2404_CARACAL]) {
      expect(Object.keys(profile.packages).sort()).toEqual([
        "base",
        "client",
        "database",
        "heartbeat",
        "memcached",
        "rabbitmq",
        "timeSync",
      ]);
      for (const list of Object.values(profile.packages)) expect(list.length).toBeGreaterThan(0);
    }
    for (const release of RELEASE_NAMES) {
      for (const list of Object.values(componentPackages(release))) expect(list.length).toBeGreaterThan(0);
    }
  });

  it("a release a service has no packages for is a clear error", () => {
    expect(() =>
      packagesFor("GlanceService", GLANCE_PACKAGES, { ...DEBIAN_12_ZED, name: "debian-13-flamingo" }),
    ).toThrow(
      'GlanceService packages: got release "debian-13-flamingo": expected one of debian-12-zed, debian-13-epoxy, ubuntu-2404-caracal',
    );
  });
});
