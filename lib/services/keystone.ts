import { declareSecrets } from "../core/secret-catalog";
import * as fs from "fs";
import * as path from "path";
import { Construct } from "constructs";
import { ApiDeclaration, ComponentDeclaration } from "../core/component";
import { IniFile, IniValue, secretPlaceholder } from "../core/ini-file";
import { apacheApi } from "../core/listen";
import { CONTROLLER_ONLY, SecretSpec } from "../core/secret-spec";
import { ByRelease, forRelease, PackagesByRelease, packagesFor } from "../core/releases/packages";
import { Step } from "../core/step";
import { hostSecretFile } from "../core/shell-script";
import { Host } from "../hosts/host";
import {
  ControlPlaneContext,
  listenAddresses,
  ResolvedControlPlane,
  resolveControlPlane,
  stepsOnControllers,
  uwsgiApi,
  vipReady,
} from "./control-plane-context";
import { ApiRelease } from "./api-service";
import { IIdentity, ServiceRegistration } from "./identity";

export type { IIdentity, ServiceRegistration } from "./identity";

const REGISTER_SCRIPT = fs.readFileSync(path.join(__dirname, "keystone-register.py"), "utf8");
const REGISTER_PATH = "/usr/local/lib/openstack-cdktf/keystone-register.py";
/** The database, created and synced by this service. */
const DATABASE = "keystone";

/** root's shell settings for the cloud's admin on every controller (written by KeystoneService, 0600). */
export const ADMIN_OPENRC = "/root/admin-openrc";

/** Keystone's packages (under Apache mod_wsgi on Ubuntu), and the client its steps use. */
export const KEYSTONE_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["keystone", "python3-openstackclient"],
  "debian-13-epoxy": ["keystone", "python3-openstackclient"],
  "ubuntu-2404-caracal": ["keystone", "apache2", "libapache2-mod-wsgi-py3", "python3-openstackclient"],
};

/** Keystone's secrets, for the secret catalog. */
export const KEYSTONE_SECRETS: readonly SecretSpec[] = [
  {
    name: "keystone_admin_password",
    kind: "password",
    roles: CONTROLLER_ONLY,
    description: "Keystone admin user",
  },
  {
    name: "keystone_db_password",
    kind: "password",
    roles: CONTROLLER_ONLY,
    description: "keystone database user",
  },
  { name: "keystone_fernet_key_0", kind: "fernet", roles: CONTROLLER_ONLY, description: "Fernet staged key" },
  {
    name: "keystone_fernet_key_1",
    kind: "fernet",
    roles: CONTROLLER_ONLY,
    description: "Fernet primary key",
  },
  {
    name: "keystone_credential_key_0",
    kind: "fernet",
    roles: CONTROLLER_ONLY,
    description: "credential staged key",
  },
  {
    name: "keystone_credential_key_1",
    kind: "fernet",
    roles: CONTROLLER_ONLY,
    description: "credential primary key",
  },
];

/** How each release runs Keystone: under uwsgi in Debian, under Apache mod_wsgi in Ubuntu. */
export const KEYSTONE_RELEASES: ByRelease<ApiRelease> = {
  "debian-12-zed": { units: ["keystone"], uwsgiConfigs: ["/etc/keystone/keystone-uwsgi.ini"] },
  "debian-13-epoxy": { units: ["keystone"], uwsgiConfigs: ["/etc/keystone/keystone-uwsgi.ini"] },
  // The package's site says `Listen 5000`.
  "ubuntu-2404-caracal": { units: ["apache2"], apacheSite: "/etc/apache2/sites-available/keystone.conf" },
};

/** Keystone's own API in its catalog: `identity`, at :5000 on every controller and the VIP. */
export const KEYSTONE_API = {
  /** The catalog type Keystone registers the service under. */
  type: "identity",
  /** The API's port, on each controller's management address and on the VIP. */
  port: 5000,
} as const satisfies ApiDeclaration;

/** What keystone declares for the secret catalog and the release profiles (lib/cluster/components.ts), and its API. */
export const KEYSTONE_COMPONENT: ComponentDeclaration = {
  name: "keystone",
  secrets: KEYSTONE_SECRETS,
  packages: { keystone: KEYSTONE_PACKAGES },
  controllerPackages: KEYSTONE_PACKAGES,
  api: KEYSTONE_API,
};

/** What Keystone is given: only the control plane (the one API service that needs no `IIdentity`). */
export interface KeystoneServiceProps {
  /** The controllers, client address, database and memcached (its token cache) Keystone runs with; its region is the catalog's. */
  readonly context: ControlPlaneContext;
}

/**
 * Keystone on every controller: Fernet tokens with keys from the secrets (identical on both
 * controllers, so a token issued by one validates on the other), the database through the
 * VIP, tokens cached in memcached, `keystone-manage bootstrap` with the admin password from the
 * secrets (no admin token), the `service` project, an `admin-openrc` for root, and the identity
 * endpoints on the VIP. Other services register their users and endpoints through it.
 */
export class KeystoneService extends Construct implements IIdentity {
  /** `http://VIP:5000/v3`. */
  readonly authUrl: string;
  /** `http://VIP:5000`: where services validate tokens. */
  readonly tokenUrl: string;
  readonly region: string;
  /** The step after which Keystone answers and the admin user exists. */
  readonly bootstrapStep: Step;
  private readonly context: ResolvedControlPlane;
  private readonly registrations = new Map<string, Step>();

  constructor(scope: Construct, id: string, props: KeystoneServiceProps) {
    // Its secrets join the stack's catalog (a stack of one's own has no other), before its steps use them.
    declareSecrets(scope, KEYSTONE_SECRETS);
    super(scope, id);
    const context = resolveControlPlane(props.context);
    this.context = context;
    this.region = context.region;
    this.tokenUrl = context.endpoint.url(KEYSTONE_API.port);
    this.authUrl = context.endpoint.url(KEYSTONE_API.port, "/v3");
    const db = context.database.database(DATABASE, "keystone", "keystone_db_password");
    [this.bootstrapStep] = stepsOnControllers(context.controllers, [db.step], (host, first, dependsOn) =>
      this.controllerStep(host, first, dependsOn, db.url),
    );
  }

  /** The `[keystone_authtoken]` keys for a service that validates tokens as `user`. */
  authtoken(user: string, secret: string): Record<string, IniValue> {
    return {
      www_authenticate_uri: this.tokenUrl,
      ...serviceUser(this.tokenUrl, user, secret, { memcached_servers: this.context.cache.servers }),
      service_token_roles_required: true,
    };
  }

  /** Keys to authenticate as a service user elsewhere (`[placement]`, `[neutron]`, `[service_user]`…). */
  serviceCredentials(user: string, secret: string): Record<string, IniValue> {
    return { ...serviceUser(this.authUrl, user, secret), region_name: this.region };
  }

  /**
   * Makes a service's user (admin on the `service` project), catalog entry and endpoints exist,
   * once, from the first controller. Returns the step; depend on it before the service starts.
   */
  register(registration: ServiceRegistration): Step {
    const existing = this.registrations.get(registration.name);
    if (existing) return existing;
    const host = this.context.controllers[0];
    const spec = {
      region: this.region,
      user: registration.user
        ? {
            name: registration.user.name,
            password: secretPlaceholder(registration.user.secret),
            // "service": the role services check on the service token that comes with a user's token
            // (keystonemiddleware's service_token_roles, required here); admin for the rest.
            roles: ["admin", "service"],
          }
        : undefined,
      service: {
        name: registration.name,
        type: registration.type,
        description: registration.description,
        endpoints: { public: registration.url, internal: registration.url, admin: registration.url },
      },
      ...(registration.roles?.length ? { roles: registration.roles } : {}),
    };
    const file = `/etc/openstack-cdktf/keystone/${registration.name}.json`;
    const script = host
      .script(`keystone_${registration.name}`)
      .comment(`Keystone user, service (${registration.type}) and endpoints of ${registration.name}.`)
      .writeFile(file, `${JSON.stringify(spec, null, 2)}\n`, { mode: "0600", secrets: true })
      .raw("# shellcheck source=/dev/null")
      .raw(`( set +u; . ${ADMIN_OPENRC}; python3 ${REGISTER_PATH} ${file} )`);
    const step = host.addStep(`keystone_${registration.name}`, script, {
      owner: this,
      secrets: registration.user ? [registration.user.secret] : [],
      dependsOn: [this.bootstrapStep],
    });
    this.registrations.set(registration.name, step);
    return step;
  }

  private controllerStep(host: Host, first: boolean, dependsOn: Step[], databaseUrl: string): Step {
    const release = host.release;
    const context = this.context;
    const conf = new IniFile({
      DEFAULT: { log_dir: "/var/log/keystone" },
      database: { connection: databaseUrl, max_retries: -1 },
      token: { provider: "fernet" },
      fernet_tokens: { key_repository: "/etc/keystone/fernet-keys/", max_active_keys: 3 },
      credential: { key_repository: "/etc/keystone/credential-keys/" },
      cache: { enabled: true, backend: "oslo_cache.memcache_pool", memcache_servers: context.cache.servers },
    });
    const admin = this.authUrl;
    const openrc = [
      "# Written by openstack-cdktf: the cloud's admin, through the VIP.",
      "export OS_PROJECT_DOMAIN_NAME=Default",
      "export OS_USER_DOMAIN_NAME=Default",
      "export OS_PROJECT_NAME=admin",
      "export OS_USERNAME=admin",
      `export OS_PASSWORD='${secretPlaceholder("keystone_admin_password")}'`,
      `export OS_AUTH_URL=${admin}`,
      "export OS_IDENTITY_API_VERSION=3",
      "export OS_IMAGE_API_VERSION=2",
      `export OS_REGION_NAME=${this.region}`,
      "",
    ].join("\n");
    const script = host
      .script("keystone")
      .aptInstall(packagesFor("KeystoneService", KEYSTONE_PACKAGES, release))
      .writeFile("/etc/keystone/keystone.conf", conf.render(), {
        group: "keystone",
        mode: "0640",
        secrets: true,
        changeTag: "keystone",
      })
      .comment("Fernet and credential keys from the secrets: the same on every controller.");
    for (const repo of ["fernet", "credential"]) {
      const dir = `/etc/keystone/${repo}-keys`;
      script.run("install", "-d", "-o", "keystone", "-g", "keystone", "-m", "0700", dir);
      for (const index of [0, 1]) {
        script.writeFile(`${dir}/${index}`, `${secretPlaceholder(`keystone_${repo}_key_${index}`)}\n`, {
          owner: "keystone",
          group: "keystone",
          mode: "0600",
          secrets: true,
          changeTag: "keystone",
        });
      }
    }
    const addresses = listenAddresses(context, host);
    const runs = forRelease("keystone", KEYSTONE_RELEASES, release);
    for (const ini of runs.uwsgiConfigs ?? []) {
      uwsgiApi(script, ini, context.apiWorkers, "keystone", addresses, KEYSTONE_API.port);
    }
    if (runs.apacheSite) {
      const apache = {
        file: runs.apacheSite,
        port: KEYSTONE_API.port,
        portsConf: release.paths.apachePortsConf,
      };
      apacheApi(script, apache, addresses, "keystone");
    }
    if (first) {
      script
        .comment("The schema, once, from the first controller (idempotent).")
        .schemaSync([DATABASE], "keystone", "keystone-manage", "db_sync");
    }
    script.restartIfChanged(runs.units, "keystone").waitForPort(host.address, KEYSTONE_API.port, 120);
    if (first) {
      script
        .comment(
          "The admin user, project, role, region and identity endpoints; the password via the environment.",
        )
        .raw(`OS_BOOTSTRAP_PASSWORD=$(cat ${hostSecretFile("keystone_admin_password")})`)
        .raw("export OS_BOOTSTRAP_PASSWORD")
        .runAs(
          "keystone",
          "keystone-manage",
          "bootstrap",
          "--bootstrap-admin-url",
          admin,
          "--bootstrap-internal-url",
          admin,
          "--bootstrap-public-url",
          admin,
          "--bootstrap-region-id",
          this.region,
        )
        .raw("unset OS_BOOTSTRAP_PASSWORD");
    }
    script
      .writeFile(ADMIN_OPENRC, openrc, { mode: "0600", secrets: true, changeTag: "openrc" })
      .writeFile(REGISTER_PATH, REGISTER_SCRIPT, { mode: "0755", changeTag: "register" });
    if (first) {
      script
        .comment("The service project, through the VIP.")
        .waitForPort(context.clientAddress, KEYSTONE_API.port, 120)
        .writeFile("/etc/openstack-cdktf/keystone/service-project.json", "{}\n", { mode: "0600" })
        .raw("# shellcheck source=/dev/null")
        .raw(
          `( set +u; . ${ADMIN_OPENRC}; python3 ${REGISTER_PATH} /etc/openstack-cdktf/keystone/service-project.json )`,
        );
    }
    const secrets = KEYSTONE_SECRETS.map((s) => s.name);
    return host.addStep("keystone", script, {
      owner: this,
      secrets,
      dependsOn,
      after: vipReady(context, host),
    });
  }
}

/** A user of the `service` project with a password, in keystoneauth's keys (in the order services' files had them). */
function serviceUser(
  authUrl: string,
  user: string,
  secret: string,
  extra: Record<string, IniValue> = {},
): Record<string, IniValue> {
  return {
    auth_url: authUrl,
    ...extra,
    auth_type: "password",
    project_domain_name: "Default",
    user_domain_name: "Default",
    project_name: "service",
    username: user,
    password: secretPlaceholder(secret),
  };
}
