import { declareSecrets } from "../core/secret-catalog";
import * as path from "path";
import { Construct } from "constructs";
import { ApiDeclaration, ComponentDeclaration } from "../core/component";
import { CONTROLLER_ONLY, SecretSpec, serviceSecrets } from "../core/secret-spec";
import { ByRelease, forRelease, PackagesByRelease } from "../core/releases/packages";
import { ApiRelease, ApiService, ApiServiceProps } from "./api-service";
import { join as quote } from "shlex";
import { IniFile, secretPlaceholder } from "../core/ini-file";
import { ShellScript } from "../core/shell-script";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { quote as quoteValue } from "../core/field-rules";

export interface GlanceServiceProps extends ApiServiceProps {
  /**
   * Where the file store keeps image data. With two controllers, mount shared storage (NFS,
   * CephFS) here on both before the first apply, or images uploaded through one controller
   * cannot be downloaded through the other after a failover (see the class comment).
   * @default "/var/lib/glance/images/"
   */
  readonly dataDir?: string;
  /**
   * Keep image data in this object store (Swift) instead of each controller's disk: the file
   * store stays enabled for images already there. @default the file store
   */
  readonly objectStore?: IObjectStore;
}

/** An object store Glance can keep images in: Swift, found in the catalog as `object-store`. */
export interface IObjectStore {
  /** The steps after which the store's API answers a consumer on `host` (Glance there starts after them). */
  readyFor(host: Host): readonly Step[];
}

/** Where Glance finds the Swift account it writes to (as its own user, in the `service` project). */
const SWIFT_STORE_CONF = "/etc/glance/glance-swift-store.conf";

/** Glance's packages: the API, and the Swift client its Swift store uses. */
export const GLANCE_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["glance-api", "python3-swiftclient"],
  "debian-13-epoxy": ["glance-api", "python3-swiftclient"],
  "ubuntu-2404-caracal": ["glance", "python3-swiftclient"],
};

/** How each release runs glance-api: a plain daemon (Debian's init script leaves uwsgi off for Glance). */
export const GLANCE_RELEASES: ByRelease<ApiRelease> = {
  "debian-12-zed": { units: ["glance-api"] },
  "debian-13-epoxy": { units: ["glance-api"] },
  "ubuntu-2404-caracal": { units: ["glance-api"] },
};

/** Glance's secrets, for the secret catalog: its database user's and its Keystone user's, on the controllers. */
export const GLANCE_SECRETS: readonly SecretSpec[] = serviceSecrets("glance", CONTROLLER_ONLY);

/** Glance's API in Keystone's catalog: `image`, at :9292 on every controller and the VIP. */
export const GLANCE_API = {
  /** The catalog type Keystone registers the service under. */
  type: "image",
  /** The API's port, on each controller's management address and on the VIP. */
  port: 9292,
} as const satisfies ApiDeclaration;

/** What glance declares for the secret catalog and the release profiles (lib/cluster/components.ts), and its API. */
export const GLANCE_COMPONENT: ComponentDeclaration = {
  name: "glance",
  // Its image store, when the inventory keeps images in Swift.
  needs: ["keystone", "swift"],
  secrets: GLANCE_SECRETS,
  packages: { glance: GLANCE_PACKAGES },
  controllerPackages: GLANCE_PACKAGES,
  api: GLANCE_API,
};

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
 * Glance), so the API's processes are `[DEFAULT] workers`, not a uwsgi setting, and it binds one
 * address (`bind_host`): the controller's own; the VIP's port is a socket of ours relayed to it
 * (`vipForward`, lib/core/listen.ts).
 */
export class GlanceService extends ApiService {
  /** Where image data is kept on each controller (the file store). */
  readonly dataDir: string;
  /** Whether new images go to the object store (Swift) rather than the file store. */
  readonly usesObjectStore: boolean;

  constructor(scope: Construct, id: string, props: GlanceServiceProps) {
    // Its secrets join the stack's catalog (a stack of one's own has no other), before its steps use them.
    declareSecrets(scope, GLANCE_SECRETS);
    super(scope, id, props, {
      name: "glance",
      port: GLANCE_API.port,
      catalog: { type: GLANCE_API.type, description: "OpenStack Image" },
      databases: ["glance"],
      configFile: "/etc/glance/glance-api.conf",
      syncCommand: ["glance-manage", "db_sync"],
      packages: GLANCE_PACKAGES,
      units: (release) => forRelease("glance", GLANCE_RELEASES, release).units,
      namePrerequisites: true,
      // On a controller with a proxy, its own: the first Glance need not wait for the others'.
      after: (host) => props.objectStore?.readyFor(host) ?? [],
      // An eventlet server binds one address: its own; a socket of ours takes the VIP.
      vipForwards: () => [{ name: "glance-api", port: GLANCE_API.port }],
    });
    this.usesObjectStore = props.objectStore !== undefined;
    const dataDir = props.dataDir ?? "/var/lib/glance/images/";
    if (!path.isAbsolute(dataDir) || /[\r\n]/.test(dataDir)) {
      throw new Error(`GlanceService dataDir: got ${quoteValue(dataDir)}: expected an absolute path`);
    }
    this.dataDir = dataDir;
    this.deploy();
  }

  protected config(host: Host): IniFile {
    return new IniFile({
      DEFAULT: { workers: this.context.apiWorkers, bind_host: host.address },
      database: { connection: this.databases[0].url, max_retries: -1 },
      glance_store: this.usesObjectStore
        ? {
            stores: "file,http,swift",
            default_store: "swift",
            filesystem_store_datadir: this.dataDir,
            // One account (the service project's) for every image, in container `glance`.
            swift_store_multi_tenant: false,
            swift_store_container: "glance",
            swift_store_create_container_on_put: true,
            swift_store_config_file: SWIFT_STORE_CONF,
            default_swift_reference: "glance",
            swift_store_endpoint_type: "internalURL",
          }
        : { stores: "file,http", default_store: "file", filesystem_store_datadir: this.dataDir },
      keystone_authtoken: this.keystone.authtoken("glance", this.userSecret),
      oslo_concurrency: { lock_path: "/var/lock/glance" },
      paste_deploy: { flavor: "keystone" },
    });
  }

  /** No uwsgi: the Swift store's credentials (with Swift), the image directory unless it exists. */
  protected configure(script: ShellScript): void {
    if (this.usesObjectStore) {
      script.writeFile(SWIFT_STORE_CONF, this.swiftStoreConfig().render(), {
        group: "glance",
        mode: "0640",
        secrets: true,
        changeTag: "glance",
      });
    }
    script
      .comment("The image directory, unless it exists (it may be an operator's shared mount).")
      .raw(
        `[ -d ${quote([this.dataDir])} ] || ${quote(["install", "-d", "-o", "glance", "-g", "glance", "-m", "0750", this.dataDir])}`,
      );
  }

  /** The Swift store's reference: Glance's own Keystone user. */
  private swiftStoreConfig(): IniFile {
    return new IniFile({
      glance: {
        auth_version: 3,
        auth_address: this.keystone.authUrl,
        user: "service:glance",
        key: secretPlaceholder(this.userSecret),
        user_domain_id: "default",
        project_domain_id: "default",
      },
    });
  }

  protected migrate(script: ShellScript): void {
    super.migrate(script);
    // The metadata definitions the package ships (/etc/glance/metadefs: CPU pinning,
    // watchdog, OS type, ...): without them Horizon's "Update Metadata" offers nothing.
    // --merge adds only what is missing, so a load cut half-way is completed by the next
    // run, and a run on a loaded database changes nothing.
    script
      .comment("Glance's metadata definitions, missing ones only.")
      .runAs("glance", "glance-manage", "db", "load_metadefs", "--merge");
  }
}
