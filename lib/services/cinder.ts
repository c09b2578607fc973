import { Construct } from "constructs";
import { IniFile } from "../core/ini-file";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { ControlPlaneContext, endpointUrl, stepsOnControllers, uwsgiApi } from "./control-plane-context";
import { IIdentity } from "./identity";

export interface CinderServiceProps {
  readonly context: ControlPlaneContext;
  readonly keystone: IIdentity;
}

const PORT = 8776;
const DB_SECRET = "cinder_db_password";
/** The database, created and synced by this service. */
const DATABASE = "cinder";
const USER_SECRET = "cinder_keystone_password";
const LOCK_PATH = "/var/lib/cinder/tmp";

/**
 * Cinder's controller part (block storage API and scheduler) on every controller, behind the
 * VIP: its database, its Keystone user `cinder` and the `cinderv3` service of type `volumev3`
 * at `:8776/v3/%(project_id)s` (the seed registered it as `compute`), and `cinder.conf` without
 * `enabled_backends` (no volumes are kept on the controllers).
 *
 * The volume service on the storage hosts builds on `volumeHostConfig(host)`, which holds the
 * same messaging, database and Keystone settings for that host, and depends on `steps`. Note for
 * it: `cinder-volume` reads the database too, so `cinder_db_password` must then also be
 * delivered to the `storage` role (lib/core/secret-catalog.ts).
 */
export class CinderService extends Construct {
  /** `http://VIP:8776/v3/%(project_id)s`, as in the catalog. */
  readonly url: string;
  readonly databaseStep: Step;
  readonly registrationStep: Step;
  /** One per controller; the first also creates the schema. Volume hosts depend on these. */
  readonly steps: readonly Step[];
  /** The secrets that a host running a Cinder service with `volumeHostConfig` needs. */
  readonly secrets: readonly string[] = [DB_SECRET, USER_SECRET, "rabbitmq_password"];
  private readonly context: ControlPlaneContext;
  private readonly keystone: IIdentity;
  private readonly databaseUrl: string;

  constructor(scope: Construct, id: string, props: CinderServiceProps) {
    super(scope, id);
    const { context, keystone } = props;
    this.context = context;
    this.keystone = keystone;
    this.url = endpointUrl(context, PORT, "/v3/%(project_id)s");
    const db = context.database.database(DATABASE, "cinder", DB_SECRET);
    this.databaseStep = db.step;
    this.databaseUrl = db.url;
    this.registrationStep = keystone.register({
      name: "cinderv3",
      type: "volumev3",
      description: "OpenStack Block Storage",
      url: this.url,
      user: { name: "cinder", secret: USER_SECRET },
    });
    this.steps = stepsOnControllers(
      context.controllers,
      [db.step, this.registrationStep],
      (host, first, dependsOn) => this.controllerStep(host, first, dependsOn),
    );
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
      database: { connection: this.databaseUrl, max_retries: -1 },
      keystone_authtoken: this.keystone.authtoken("cinder", USER_SECRET),
      oslo_concurrency: { lock_path: LOCK_PATH },
    });
  }

  private controllerStep(host: Host, first: boolean, dependsOn: Step[]): Step {
    const release = host.release;
    const script = host
      .script("cinder")
      .aptInstall(release.packages.cinderController)
      .writeFile("/etc/cinder/cinder.conf", this.volumeHostConfig(host).render(), {
        group: "cinder",
        mode: "0640",
        secrets: true,
        changeTag: "cinder",
      })
      .run("install", "-d", "-o", "cinder", "-g", "cinder", "-m", "0750", LOCK_PATH);
    for (const ini of release.paths.cinderUwsgiConfigs) {
      uwsgiApi(script, ini, this.context.apiWorkers ?? 2, "cinder");
    }
    if (first) {
      script
        .comment("The schema, once, from the first controller (idempotent).")
        .schemaSync([DATABASE], "cinder", "cinder-manage", "db", "sync");
    }
    script.restartIfChanged(release.units.cinderController, "cinder").waitForPort(host.address, PORT, 120);
    return host.addStep("cinder", script, { owner: this, secrets: [...this.secrets], dependsOn });
  }
}
