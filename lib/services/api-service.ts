import { Construct } from "constructs";
import { IniFile } from "../core/ini-file";
import { apacheApi, vipForward } from "../core/listen";
import { ReleaseProfile } from "../core/releases";
import { PackagesByRelease, packagesFor } from "../core/releases/packages";
import { databaseSecret, keystoneUser, ServiceUser } from "../core/secret-spec";
import { ShellScript } from "../core/shell-script";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { DatabaseHandle } from "../platform/interfaces";
import {
  ControlPlaneContext,
  listenAddresses,
  ResolvedControlPlane,
  resolveControlPlane,
  serviceVip,
  stepsOnControllers,
  uwsgiApi,
  vipReady,
} from "./control-plane-context";
import { IIdentity } from "./identity";

/**
 * How one release runs an API service, in the service's own table (`PLACEMENT_RELEASES`): its
 * units, and the files that say where it listens (uwsgi ini files, or the package's Apache site).
 */
export interface ApiRelease {
  /** The systemd units restarted when the config changes (e.g. `glance-api`, or `apache2` where Apache serves the API). */
  readonly units: readonly string[];
  /** uwsgi ini files whose sockets and processes are set. @default none (not under uwsgi) */
  readonly uwsgiConfigs?: readonly string[];
  /** The package's Apache file that says `Listen PORT`, where Apache serves the API. @default none */
  readonly apacheSite?: string;
}

/** What every API service is given. */
export interface ApiServiceProps {
  /** The controllers the service runs on, their client address, and the database, message bus and cache. */
  readonly context: ControlPlaneContext;
  /** Registers the service's user and endpoints, and supplies the token validation settings. */
  readonly keystone: IIdentity;
}

/** What an API service says about itself; the recipe (`ApiService`) does the rest. */
export interface ApiServiceSpec {
  /**
   * The service's name: its step on each controller, its change tag, the group its config file
   * belongs to, its database user and its Keystone user; its secrets are `<name>_db_password`
   * and `<name>_keystone_password`.
   */
  readonly name: string;
  /** The API's port on each controller and on the VIP. */
  readonly port: number;
  /** The catalog entry. The URL is `http://VIP:port` + `path`. */
  readonly catalog: {
    /** @default the service's name */
    readonly name?: string;
    /** Catalog type, e.g. `image`, `volumev3`. */
    readonly type: string;
    /** The catalog service's description, e.g. "OpenStack Image". */
    readonly description: string;
    /** @default "" */
    readonly path?: string;
    /** Roles the service's policy names, created when missing. @default none */
    readonly roles?: readonly string[];
  };
  /** The databases the service's user owns, created in this order; the first one first. */
  readonly databases: readonly string[];
  /** The config file the recipe writes (group = name, 0640, with secrets). */
  readonly configFile: string;
  /**
   * The command that creates or upgrades the schema, run as the service's user on the first
   * controller. @default none: the service overrides `migrate`
   */
  readonly syncCommand?: readonly string[];
  /** @default "The schema, once, from the first controller (idempotent)." */
  readonly syncComment?: string;
  /** The packages, per release (a table in the service's own file). */
  readonly packages: PackagesByRelease;
  /** The units restarted when the config changes, and the uwsgi ini files, per release. */
  readonly units: (release: ReleaseProfile) => readonly string[];
  /** Whether the service talks over the message bus (and waits for it). @default false */
  readonly messaging?: boolean;
  /** @default none */
  readonly uwsgiConfigs?: (release: ReleaseProfile) => readonly string[];
  /**
   * The Apache file whose `Listen PORT` serves the API (Ubuntu runs Keystone, Placement and
   * Cinder under Apache), rewritten to the management address and the VIP; Apache's ports.conf
   * is written on them too (`apacheApi`). @default none
   */
  readonly apacheSite?: (release: ReleaseProfile) => string | undefined;
  /**
   * The daemons that bind one address (eventlet's servers): each listens on the management
   * address (its config says so), and a socket of ours takes its port on the VIP (`vipForward`).
   * @default none
   */
  readonly vipForwards?: (release: ReleaseProfile) => readonly {
    /** The daemon's name (`glance-api`): its listener, and our VIP socket's units `openstack-cdktf-vip-NAME`. */
    name: string;
    /** The port the daemon listens on at the management address, and our socket on the VIP. */
    port: number;
  }[];
  /** The ports to wait for after a restart, with their timeouts in seconds. @default [[port, 120]] */
  readonly waitForPorts?: readonly (readonly [number, number])[];
  /**
   * Whether the first controller's step names its database and registration steps in
   * `depends_on` (Glance, Placement and Cinder did) or leaves them to the host's chain (Nova and
   * Neutron did). On one host either orders the same, and the choice keeps each service's
   * Terraform as it was; steps on other hosts (an external database) are named either way.
   * @default false
   */
  readonly namePrerequisites?: boolean;
  /** Steps on other hosts (or earlier on the same) that a controller's step waits for. @default none */
  readonly after?: (host: Host) => readonly Step[];
}

/**
 * The recipe of an OpenStack API service on every controller, behind the VIP: its databases and
 * their user, its Keystone user and catalog entry, and one step per controller that installs
 * the packages, writes the config file, sets up uwsgi, creates or upgrades the schema (on the
 * first controller, before the others start), restarts what changed and waits for the port.
 *
 * A subclass calls `super` with its spec, sets its own fields, then `deploy()`; it overrides
 * `config` (the config file for a host), and where it differs `configure` (what comes after
 * the config file: extra files, directories, `uwsgi`), `beforeInstall` and `migrate`.
 *
 * Uniform outputs: `url`, `databases`, `registrationStep`, `steps` (one per controller, the
 * first one first) and `firstStep`.
 */
export abstract class ApiService extends Construct {
  /** The catalog URL, e.g. `http://VIP:9292`. */
  readonly url: string;
  /** The databases, in the spec's order. */
  readonly databases: readonly DatabaseHandle[];
  /** The Keystone user, service and endpoints. */
  readonly registrationStep: Step;
  /** What the subclass said about the service (its `super` call's spec). */
  protected readonly spec: ApiServiceSpec;
  /** The props' control plane, its defaults (region, API workers) resolved. */
  protected readonly context: ResolvedControlPlane;
  /** The identity service it registered with; its `authtoken` keys go into the config file. */
  protected readonly keystone: IIdentity;
  private deployed?: readonly Step[];

  protected constructor(scope: Construct, id: string, props: ApiServiceProps, spec: ApiServiceSpec) {
    super(scope, id);
    this.spec = spec;
    this.context = resolveControlPlane(props.context);
    this.keystone = props.keystone;
    this.url = this.context.endpoint.url(spec.port, spec.catalog.path ?? "");
    this.databases = spec.databases.map((name) =>
      this.context.database.database(name, spec.name, this.dbSecret),
    );
    this.registrationStep = props.keystone.register({
      name: spec.catalog.name ?? spec.name,
      type: spec.catalog.type,
      description: spec.catalog.description,
      roles: spec.catalog.roles,
      url: this.url,
      user: this.credentials,
    });
  }

  /** The database user's secret, `<name>_db_password`. */
  get dbSecret(): string {
    return databaseSecret(this.spec.name);
  }

  /** The Keystone user's secret, `<name>_keystone_password`. */
  get userSecret(): string {
    return this.credentials.secret;
  }

  /**
   * The service's Keystone user and its secret, for the services that authenticate as it
   * (Nova's `[placement]` takes `placement.credentials`): no other service spells its name.
   */
  get credentials(): ServiceUser {
    return keystoneUser(this.spec.name);
  }

  /** @deprecated use `url` (Nova and Neutron called it `apiUrl`) */
  get apiUrl(): string {
    return this.url;
  }

  /** @deprecated use `registrationStep` (Nova and Neutron called it `registration`) */
  get registration(): Step {
    return this.registrationStep;
  }

  /** The first database's step. */
  get databaseStep(): Step {
    return this.databases[0].step;
  }

  /** One step per controller, the first one (which creates or upgrades the schema) first. */
  get steps(): readonly Step[] {
    if (!this.deployed) throw new Error(`${this.node.path}: deploy() was not called`);
    return this.deployed;
  }

  /** The first controller's step, after which the schema exists. */
  get firstStep(): Step {
    return this.steps[0];
  }

  /** The config file for a host (the one at `spec.configFile`). */
  protected abstract config(host: Host): IniFile;

  /** Before the packages are installed. @default nothing */
  protected beforeInstall(_script: ShellScript, _host: Host): void {}

  /** After the config file is written. @default the uwsgi settings */
  protected configure(script: ShellScript, host: Host): void {
    this.uwsgi(script, host);
  }

  /** On the first controller, before the restart. @default the spec's sync command */
  protected migrate(script: ShellScript): void {
    if (!this.spec.syncCommand)
      throw new Error(`${this.node.path}: no syncCommand, and migrate() is not overridden`);
    script
      .comment(this.spec.syncComment ?? "The schema, once, from the first controller (idempotent).")
      .schemaSync(this.spec.databases, this.spec.name, ...this.spec.syncCommand);
  }

  /**
   * The API's uwsgi processes (the context's `apiWorkers`) and sockets (`listenAddresses`, at
   * `uwsgiPort`), for each of the release's ini files.
   */
  protected uwsgi(script: ShellScript, host: Host): void {
    const addresses = this.listenAddresses(host);
    for (const ini of this.spec.uwsgiConfigs?.(host.release) ?? []) {
      uwsgiApi(script, ini, this.context.apiWorkers, this.spec.name, addresses, this.uwsgiPort(ini));
    }
  }

  /** The port a uwsgi ini file's API listens on (the package's). @default the spec's port */
  protected uwsgiPort(_ini: string): number {
    return this.spec.port;
  }

  /** Where the API listens on a controller: its management address and the VIP (`listenAddresses`). */
  protected listenAddresses(host: Host): string[] {
    return listenAddresses(this.context, host);
  }

  /** Builds the step on each controller; call once, at the end of the subclass's constructor. */
  protected deploy(): void {
    if (this.deployed) throw new Error(`${this.node.path}: deploy() was called twice`);
    const prerequisites = [...this.databases.map((d) => d.step), this.registrationStep];
    this.deployed = stepsOnControllers(
      this.context.controllers,
      this.spec.namePrerequisites ? prerequisites : [],
      (host, first, dependsOn) => this.controllerStep(host, first, dependsOn, prerequisites),
    );
  }

  private controllerStep(host: Host, first: boolean, dependsOn: Step[], prerequisites: Step[]): Step {
    const { spec, context } = this;
    const release = host.release;
    const conf = this.config(host);
    const script = host.script(spec.name);
    this.beforeInstall(script, host);
    script
      .aptInstall(packagesFor(this.constructor.name, spec.packages, release))
      .writeFile(spec.configFile, conf.render(), {
        group: spec.name,
        mode: "0640",
        secrets: true,
        changeTag: spec.name,
      });
    this.configure(script, host);
    const site = spec.apacheSite?.(release);
    if (site) {
      const apache = { file: site, port: spec.port, portsConf: release.paths.apachePortsConf };
      apacheApi(script, apache, this.listenAddresses(host), spec.name);
    }
    if (first) this.migrate(script);
    script.restartIfChanged(spec.units(release), spec.name);
    const forwards = spec.vipForwards?.(release) ?? [];
    // Each binds the management address, as its config (`config`) says; the VIP is the socket's.
    for (const forward of forwards) script.listen(forward.name, host.address, forward.port);
    // After the daemons: one still bound to every address (the packages' default, before this
    // step's config) would hold the VIP's port too, and the socket would not start.
    const vip = serviceVip(context);
    if (vip) {
      for (const forward of forwards) {
        vipForward(script, { ...forward, vip, target: host.address });
      }
    }
    for (const [port, timeout] of spec.waitForPorts ?? [[spec.port, 120]]) {
      script.waitForPort(host.address, port, timeout);
    }
    return host.addStep(spec.name, script, {
      owner: this,
      secrets: script.secretsUsed(),
      dependsOn,
      after: [
        ...(first ? prerequisites : []),
        ...(spec.messaging ? context.messaging.readyFor(host) : []),
        ...context.cache.readyFor(host),
        ...vipReady(context, host),
        ...(spec.after?.(host) ?? []),
      ],
    });
  }
}
