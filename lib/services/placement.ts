import { Construct } from "constructs";
import { IniFile } from "../core/ini-file";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { ControlPlaneContext, endpointUrl, stepsOnControllers, uwsgiApi } from "./control-plane-context";
import { IIdentity } from "./identity";

export interface PlacementServiceProps {
  readonly context: ControlPlaneContext;
  readonly keystone: IIdentity;
}

const PORT = 8778;
const DB_SECRET = "placement_db_password";
/** The database, created and synced by this service. */
const DATABASE = "placement";
const USER_SECRET = "placement_keystone_password";

/**
 * Placement (the resource inventory Nova's scheduler asks) on every controller, behind the VIP:
 * its database, its Keystone user `placement` and `placement` endpoints at :8778, and
 * `placement.conf`. Debian runs the API under uwsgi (`--http-socket :8778`); its processes are
 * the context's `apiWorkers`. Nova's `[placement]` section authenticates with
 * `keystone.serviceCredentials("placement", …)` and finds this service in the catalog.
 */
export class PlacementService extends Construct {
  /** `http://VIP:8778`. */
  readonly url: string;
  readonly databaseStep: Step;
  readonly registrationStep: Step;
  /** One per controller; the first also creates the schema. */
  readonly steps: readonly Step[];
  private readonly context: ControlPlaneContext;

  constructor(scope: Construct, id: string, props: PlacementServiceProps) {
    super(scope, id);
    const { context, keystone } = props;
    this.context = context;
    this.url = endpointUrl(context, PORT);
    const db = context.database.database(DATABASE, "placement", DB_SECRET);
    this.databaseStep = db.step;
    this.registrationStep = keystone.register({
      name: "placement",
      type: "placement",
      description: "Placement API",
      url: this.url,
      user: { name: "placement", secret: USER_SECRET },
    });
    const conf = new IniFile({
      api: { auth_strategy: "keystone" },
      keystone_authtoken: keystone.authtoken("placement", USER_SECRET),
      placement_database: { connection: db.url, max_retries: -1 },
    }).render();
    this.steps = stepsOnControllers(
      context.controllers,
      [db.step, this.registrationStep],
      (host, first, dependsOn) => this.controllerStep(host, first, conf, dependsOn),
    );
  }

  private controllerStep(host: Host, first: boolean, conf: string, dependsOn: Step[]): Step {
    const release = host.release;
    const script = host
      .script("placement")
      .aptInstall(release.packages.placement)
      .writeFile("/etc/placement/placement.conf", conf, {
        group: "placement",
        mode: "0640",
        secrets: true,
        changeTag: "placement",
      });
    for (const ini of release.paths.placementUwsgiConfigs) {
      uwsgiApi(script, ini, this.context.apiWorkers ?? 2, "placement");
    }
    if (first) {
      script
        .comment("The schema, once, from the first controller (idempotent).")
        .schemaSync([DATABASE], "placement", "placement-manage", "db", "sync");
    }
    script.restartIfChanged([release.units.placement], "placement").waitForPort(host.address, PORT, 120);
    return host.addStep("placement", script, { owner: this, secrets: [DB_SECRET, USER_SECRET], dependsOn });
  }
}
