import * as path from "path";
import { Construct } from "constructs";
import { join as quote } from "shlex";
import { IniFile } from "../core/ini-file";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { ControlPlaneContext, endpointUrl, stepsOnControllers } from "./control-plane-context";
import { IIdentity } from "./identity";

export interface GlanceServiceProps {
  readonly context: ControlPlaneContext;
  readonly keystone: IIdentity;
  /**
   * Where the file store keeps image data. With two controllers, mount shared storage (NFS,
   * CephFS) here on both before the first apply, or images uploaded through one controller
   * cannot be downloaded through the other after a failover (see the class comment).
   * @default "/var/lib/glance/images/"
   */
  readonly dataDir?: string;
}

const PORT = 9292;
const DB_SECRET = "glance_db_password";
/** The database, created and synced by this service. */
const DATABASE = "glance";
const USER_SECRET = "glance_keystone_password";

/**
 * Glance (the image API) on every controller, behind the VIP: its database, its Keystone user
 * `glance` and `image` endpoints at :9292, and `glance-api.conf` with the file store.
 *
 * The file store and two controllers: the VIP sends all API traffic to one controller at a time,
 * so uploads land on the disk of whichever controller held the VIP then. The image records live
 * in the replicated database, so `openstack image list` works through either controller right
 * after a failover; downloading (booting) an image whose data sits on the other controller's
 * disk fails until that controller is back. For image data that survives a failover, mount
 * shared storage (NFS, CephFS) at `dataDir` on both controllers, owned by `glance`: this
 * construct creates the directory only when it is missing, so it never chowns an operator's
 * mount. Glance's Swift or Ceph stores are the other way out, outside this construct.
 *
 * Debian starts glance-api as a plain eventlet daemon (its init script leaves uwsgi off for
 * Glance), so the API's processes are `[DEFAULT] workers`, not a uwsgi setting.
 */
export class GlanceService extends Construct {
  /** `http://VIP:9292`, for Nova's `[glance] api_servers` and Cinder. */
  readonly url: string;
  /** Where image data is kept on each controller. */
  readonly dataDir: string;
  /** The database and its user. */
  readonly databaseStep: Step;
  /** The Keystone user, service and endpoints. */
  readonly registrationStep: Step;
  /** One per controller; the first also creates the schema. */
  readonly steps: readonly Step[];

  constructor(scope: Construct, id: string, props: GlanceServiceProps) {
    super(scope, id);
    const { context, keystone } = props;
    const dataDir = props.dataDir ?? "/var/lib/glance/images/";
    if (!path.isAbsolute(dataDir) || /[\r\n]/.test(dataDir)) {
      throw new Error(`GlanceService dataDir: got ${JSON.stringify(dataDir)}: expected an absolute path`);
    }
    this.dataDir = dataDir;
    this.url = endpointUrl(context, PORT);
    const db = context.database.database(DATABASE, "glance", DB_SECRET);
    this.databaseStep = db.step;
    this.registrationStep = keystone.register({
      name: "glance",
      type: "image",
      description: "OpenStack Image",
      url: this.url,
      user: { name: "glance", secret: USER_SECRET },
    });
    const conf = new IniFile({
      DEFAULT: { workers: context.apiWorkers ?? 2 },
      database: { connection: db.url, max_retries: -1 },
      glance_store: { stores: "file,http", default_store: "file", filesystem_store_datadir: dataDir },
      keystone_authtoken: keystone.authtoken("glance", USER_SECRET),
      oslo_concurrency: { lock_path: "/var/lock/glance" },
      paste_deploy: { flavor: "keystone" },
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
      .script("glance")
      .aptInstall(release.packages.glance)
      .writeFile("/etc/glance/glance-api.conf", conf, {
        group: "glance",
        mode: "0640",
        secrets: true,
        changeTag: "glance",
      })
      .comment("The image directory, unless it exists (it may be an operator's shared mount).")
      .raw(
        `[ -d ${quote([this.dataDir])} ] || ${quote(["install", "-d", "-o", "glance", "-g", "glance", "-m", "0750", this.dataDir])}`,
      );
    if (first) {
      script
        .comment("The schema, once, from the first controller (idempotent).")
        .schemaSync([DATABASE], "glance", "glance-manage", "db_sync")
        // The metadata definitions the package ships (/etc/glance/metadefs: CPU pinning,
        // watchdog, OS type, ...): without them Horizon's "Update Metadata" offers nothing.
        // --merge adds only what is missing, so a load cut half-way is completed by the next
        // run, and a run on a loaded database changes nothing.
        .comment("Glance's metadata definitions, missing ones only.")
        .runAs("glance", "glance-manage", "db", "load_metadefs", "--merge");
    }
    script.restartIfChanged([release.units.glance], "glance").waitForPort(host.address, PORT, 120);
    return host.addStep("glance", script, { owner: this, secrets: [DB_SECRET, USER_SECRET], dependsOn });
  }
}
