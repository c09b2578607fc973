import { declareSecrets } from "../core/secret-catalog";
import { Construct } from "constructs";
import { ApiDeclaration, ComponentDeclaration } from "../core/component";
import { keystoneUser, SecretSpec, serviceSecrets, ServiceUser } from "../core/secret-spec";
import { ByRelease, forRelease, PackagesByRelease } from "../core/releases/packages";
import { ApiRelease, ApiService, ApiServiceProps } from "./api-service";
import { IniFile } from "../core/ini-file";

/** What Placement is given: what every API service is, nothing more. */
export type PlacementServiceProps = ApiServiceProps;

/** Placement's packages. */
export const PLACEMENT_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["placement-api"],
  "debian-13-epoxy": ["placement-api"],
  "ubuntu-2404-caracal": ["placement-api"],
};

/** How each release runs Placement's API: under uwsgi in Debian, under Apache mod_wsgi in Ubuntu. */
export const PLACEMENT_RELEASES: ByRelease<ApiRelease> = {
  "debian-12-zed": { units: ["placement-api"], uwsgiConfigs: ["/etc/placement/placement-api-uwsgi.ini"] },
  "debian-13-epoxy": { units: ["placement-api"], uwsgiConfigs: ["/etc/placement/placement-api-uwsgi.ini"] },
  // The package's site says `Listen 8778`.
  "ubuntu-2404-caracal": {
    units: ["apache2"],
    apacheSite: "/etc/apache2/sites-available/placement-api.conf",
  },
};

/** Placement's secrets, for the secret catalog: its database user's, and its Keystone user's (also on the compute hosts, for nova.conf's `[placement]`). */
export const PLACEMENT_SECRETS: readonly SecretSpec[] = serviceSecrets("placement", [
  "controller",
  "compute",
]);

/** Placement's Keystone user, for services built without a `PlacementService` at hand (Nova's default). */
export const PLACEMENT_USER: ServiceUser = keystoneUser("placement");

/** Placement's API in Keystone's catalog: `placement`, at :8778 on every controller and the VIP. */
export const PLACEMENT_API = {
  /** The catalog type Keystone registers the service under. */
  type: "placement",
  /** The API's port, on each controller's management address and on the VIP. */
  port: 8778,
} as const satisfies ApiDeclaration;

/** What placement declares for the secret catalog and the release profiles (lib/cluster/components.ts), and its API. */
export const PLACEMENT_COMPONENT: ComponentDeclaration = {
  name: "placement",
  needs: ["keystone"],
  secrets: PLACEMENT_SECRETS,
  packages: { placement: PLACEMENT_PACKAGES },
  controllerPackages: PLACEMENT_PACKAGES,
  api: PLACEMENT_API,
};

/**
 * Placement (the resource inventory Nova's scheduler asks) on every controller, behind the VIP:
 * its database, its Keystone user `placement` and `placement` endpoints at :8778, and
 * `placement.conf`. Debian runs the API under uwsgi, on the controller's address and the VIP
 * (`uwsgiApi`; the init script's own `--http-socket :8778` is every address); its processes are
 * the context's `apiWorkers`. Nova's `[placement]` section authenticates with
 * `keystone.serviceCredentials("placement", …)` and finds this service in the catalog.
 */
export class PlacementService extends ApiService {
  constructor(scope: Construct, id: string, props: PlacementServiceProps) {
    // Its secrets join the stack's catalog (a stack of one's own has no other), before its steps use them.
    declareSecrets(scope, PLACEMENT_SECRETS);
    super(scope, id, props, {
      name: "placement",
      port: PLACEMENT_API.port,
      catalog: { type: PLACEMENT_API.type, description: "Placement API" },
      databases: ["placement"],
      configFile: "/etc/placement/placement.conf",
      syncCommand: ["placement-manage", "db", "sync"],
      packages: PLACEMENT_PACKAGES,
      units: (release) => forRelease("placement", PLACEMENT_RELEASES, release).units,
      uwsgiConfigs: (release) => forRelease("placement", PLACEMENT_RELEASES, release).uwsgiConfigs ?? [],
      apacheSite: (release) => forRelease("placement", PLACEMENT_RELEASES, release).apacheSite,
      namePrerequisites: true,
    });
    this.deploy();
  }

  protected config(): IniFile {
    return new IniFile({
      api: { auth_strategy: "keystone" },
      keystone_authtoken: this.keystone.authtoken("placement", this.userSecret),
      placement_database: { connection: this.databases[0].url, max_retries: -1 },
    });
  }
}
