import { Construct } from "constructs";
import { ComponentDeclaration } from "../core/component";
import { API_PORTS } from "../core/openstack-api";
import { SecretSpec, serviceSecrets } from "../core/secret-spec";
import { PackagesByRelease } from "../core/releases/packages";
import { ApiService, ApiServiceProps } from "./api-service";
import { IniFile } from "../core/ini-file";
import { ShellScript } from "../core/shell-script";
import { Host } from "../hosts/host";

export type CinderServiceProps = ApiServiceProps;

const LOCK_PATH = "/var/lib/cinder/tmp";

/** Cinder's secrets, for the secret catalog: its database user's, and its Keystone user's. */
/** Cinder's controller packages: the API and the scheduler. */
export const CINDER_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["cinder-api", "cinder-scheduler"],
  "ubuntu-2404-caracal": ["cinder-api", "cinder-scheduler"],
};

/** The volume service's packages, for the storage hosts. */
export const CINDER_VOLUME_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["cinder-volume"],
  "ubuntu-2404-caracal": ["cinder-volume"],
};

export const CINDER_SECRETS: readonly SecretSpec[] = serviceSecrets("cinder", ["controller", "storage"]);

/** What cinder declares for the secret catalog and the release profiles (lib/components.ts). */
export const CINDER_COMPONENT: ComponentDeclaration = {
  name: "cinder",
  secrets: CINDER_SECRETS,
  packages: { cinderController: CINDER_PACKAGES, cinderVolume: CINDER_VOLUME_PACKAGES },
};

/**
 * Cinder's controller part (block storage API and scheduler) on every controller, behind the
 * VIP: its database, its Keystone user `cinder` and the `cinderv3` service of type `volumev3`
 * at `:8776/v3/%(project_id)s` (the seed registered it as `compute`), and `cinder.conf` without
 * `enabled_backends` (no volumes are kept on the controllers).
 *
 * The volume service on the storage hosts builds on `volumeHostConfig(host)`, which holds the
 * same messaging, database and Keystone settings for that host, and depends on `steps`. Note for
 * it: `cinder-volume` reads the database too, so `cinder_db_password` must then also be
 * delivered to the `storage` role (see `secrets` in this file).
 */
export class CinderService extends ApiService {
  /** The secrets that a host running a Cinder service with `volumeHostConfig` needs. */
  readonly secrets: readonly string[];

  constructor(scope: Construct, id: string, props: CinderServiceProps) {
    super(scope, id, props, {
      name: "cinder",
      port: API_PORTS.volumev3,
      catalog: {
        name: "cinderv3",
        type: "volumev3",
        description: "OpenStack Block Storage",
        path: "/v3/%(project_id)s",
      },
      databases: ["cinder"],
      configFile: "/etc/cinder/cinder.conf",
      syncCommand: ["cinder-manage", "db", "sync"],
      packages: CINDER_PACKAGES,
      units: (release) => release.units.cinderController,
      uwsgiConfigs: (release) => release.paths.cinderUwsgiConfigs,
      messaging: true,
      namePrerequisites: true,
    });
    this.secrets = [this.dbSecret, this.userSecret, ...this.context.messaging.secrets];
    this.deploy();
  }

  /**
   * `cinder.conf` for a host: messaging, database, token validation and locks, with `my_ip` set
   * to the host's address and no backend. A volume host adds `[DEFAULT] enabled_backends` and
   * the backend's section to what this returns.
   */
  volumeHostConfig(host: Host): IniFile {
    return new IniFile({
      DEFAULT: {
        transport_url: this.context.messaging.transportUrl,
        auth_strategy: "keystone",
        my_ip: host.address,
        state_path: "/var/lib/cinder",
      },
      database: { connection: this.databases[0].url, max_retries: -1 },
      keystone_authtoken: this.keystone.authtoken("cinder", this.userSecret),
      oslo_concurrency: { lock_path: LOCK_PATH },
    });
  }

  protected config(host: Host): IniFile {
    return this.volumeHostConfig(host);
  }

  /** The lock directory, then uwsgi. */
  protected configure(script: ShellScript, host: Host): void {
    script.run("install", "-d", "-o", "cinder", "-g", "cinder", "-m", "0750", LOCK_PATH);
    this.uwsgi(script, host);
  }
}
