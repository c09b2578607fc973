import { Construct } from "constructs";
import { dependable, ITerraformDependable } from "cdktf";
import { join as quote } from "shlex";
import { IniFile, IniValue, secretPlaceholder } from "../core/ini-file";
import { secretSpec } from "../core/secret-catalog";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { ControlPlaneContext, endpointUrl, stepsOnControllers, uwsgiApi } from "./control-plane-context";
import { IIdentity } from "./identity";

export interface NovaServiceProps {
  readonly context: ControlPlaneContext;
  /** Registers Nova's user and endpoints, and supplies the token validation settings. */
  readonly keystone: IIdentity;
  /** Glance's API, for `[glance] api_servers`. @default `http://VIP:9292` */
  readonly glanceUrl?: string;
  /** Where browsers open instance consoles. @default `http://VIP:6080/vnc_auto.html` */
  readonly novncBaseUrl?: string;
  /**
   * Seconds between the scheduler's searches for new compute hosts (on the first controller
   * only: two schedulers searching at once collide on the same host mappings); 0 turns it off.
   * @default 300
   */
  readonly discoverHostsInterval?: number;
}

/** Secret names, checked against the catalog when this module loads. */
const DB_SECRET = secretSpec("nova_db_password").name;
/** The API database (synced by `api_db sync`), and the cells' (cell1 and cell0, by `db sync`). */
const API_DATABASE = "nova_api";
const CELL_DATABASES = ["nova", "nova_cell0"];
const NOVA_SECRET = secretSpec("nova_keystone_password").name;
const PLACEMENT_SECRET = secretSpec("placement_keystone_password").name;
const NEUTRON_SECRET = secretSpec("neutron_keystone_password").name;
const METADATA_SECRET = secretSpec("metadata_proxy_secret").name;

const NOVA_CONF = "/etc/nova/nova.conf";
const LOCK_PATH = "/var/lib/nova/tmp";
/** The metadata API's port; Neutron's metadata agents on the network nodes proxy to it. */
export const NOVA_METADATA_PORT = 8775;

/** `awk` that succeeds when the second `|` column of stdin (a nova-manage table) holds the name. */
function tableHas(name: string): string {
  return `awk -F'|' '{gsub(/ /, "", $2)} $2 == "${name}" {found = 1} END {exit !found}'`;
}

/**
 * Nova's control plane on every controller: the compute API and the metadata API, conductor,
 * scheduler and the noVNC console proxy, with the `nova_api`, `nova` and `nova_cell0`
 * databases through the VIP. The first controller creates the schemas and Cells v2 (cell0 and
 * `cell1`, each only when absent); the others follow it. Compute hosts get their `nova.conf`
 * from `computeConfig` and are mapped into `cell1` by `discoverHostsStep`.
 */
export class NovaService extends Construct {
  /** `http://VIP:8774/v2.1`. */
  readonly apiUrl: string;
  /** The address Neutron's metadata agents send instance requests to (the VIP), on `NOVA_METADATA_PORT`. */
  readonly metadataHost: string;
  /** The step that registers the user, service and endpoints. */
  readonly registration: Step;
  /** The first controller's step, after which the schemas and cells exist. */
  readonly cellsStep: Step;
  /** One step per controller, the first one first. */
  readonly controllerSteps: readonly Step[];
  private readonly context: ControlPlaneContext;
  private readonly keystone: IIdentity;
  private readonly glanceUrl: string;
  private readonly novncBaseUrl: string;
  private discoverStep?: Step;

  constructor(scope: Construct, id: string, props: NovaServiceProps) {
    super(scope, id);
    const context = props.context;
    const interval = props.discoverHostsInterval ?? 300;
    if (!Number.isInteger(interval) || interval < 0) {
      throw new Error(
        `NovaService discoverHostsInterval: got ${interval}: expected a whole number of seconds, 0 to turn it off`,
      );
    }
    this.context = context;
    this.keystone = props.keystone;
    this.apiUrl = endpointUrl(context, 8774, "/v2.1");
    this.metadataHost = context.clientAddress;
    this.glanceUrl = props.glanceUrl ?? endpointUrl(context, 9292);
    this.novncBaseUrl = props.novncBaseUrl ?? endpointUrl(context, 6080, "/vnc_auto.html");

    // One user for the three schemas: each call grants it one of them.
    const databases = [API_DATABASE, ...CELL_DATABASES].map((name) =>
      context.database.database(name, "nova", DB_SECRET),
    );
    const urls = { api: databases[0].url, main: databases[1].url };
    this.registration = props.keystone.register({
      name: "nova",
      type: "compute",
      description: "OpenStack Compute",
      url: this.apiUrl,
      user: { name: "nova", secret: NOVA_SECRET },
    });
    // On the first controller, the databases and the registration come first on the same host;
    // the step chain orders them. The others wait for its schemas and cells.
    this.controllerSteps = stepsOnControllers(context.controllers, [], (host, first, dependsOn) =>
      this.controllerStep(host, first, dependsOn, urls, first ? interval : 0),
    );
    this.cellsStep = this.controllerSteps[0];
  }

  /**
   * `nova.conf` for a compute host: the message queue, Keystone, Placement, Glance, Neutron and
   * the console, but no database (computes reach it only through the conductor) and no
   * metadata secret. A new file on every call; the caller adds `[libvirt]` and the like.
   */
  computeConfig(host: Host): IniFile {
    return new IniFile(this.commonSections(host));
  }

  /**
   * A step on the first controller that maps new compute hosts into `cell1`
   * (`nova-manage cell_v2 discover_hosts`), after `dependsOn` (the compute steps). When `hosts`
   * are given, it repeats until each of them is mapped (their nova-compute registers itself a
   * little after it starts), failing after `timeoutSeconds`. One step: later calls add
   * dependencies and hosts to it.
   */
  discoverHostsStep(
    dependsOn: readonly ITerraformDependable[],
    hosts: readonly Host[] = [],
    timeoutSeconds = 300,
  ): Step {
    if (this.discoverStep) {
      const resource = this.discoverStep.resource;
      resource.dependsOn = [...(resource.dependsOn ?? []), ...dependsOn.map((d) => dependable(d))];
      if (hosts.length > 0) {
        throw new Error(
          "NovaService.discoverHostsStep: hosts to wait for can only be given in the first call",
        );
      }
      return this.discoverStep;
    }
    const host = this.context.controllers[0];
    const names = hosts.map((h) => h.hostName);
    const script = host
      .script("nova_discover_hosts")
      .comment("Map new compute hosts into cell1 (idempotent: mapped hosts are skipped).");
    if (names.length === 0) {
      script.runAs("nova", "nova-manage", "cell_v2", "discover_hosts", "--verbose");
    } else {
      // Host names are hostnames (a-z, 0-9, '-'), safe as words.
      script
        .raw(`deadline=$((SECONDS + ${timeoutSeconds}))`)
        .raw("while :; do")
        .raw("  osc_as nova nova-manage cell_v2 discover_hosts --verbose")
        .raw("  mapped=$(osc_as nova nova-manage cell_v2 list_hosts)")
        .raw('  missing=""')
        .raw(`  for name in ${quote(names)}; do`)
        .raw(
          `    awk -F'|' -v h="$name" '{gsub(/ /, "", $4)} $4 == h {found = 1} END {exit !found}' <<<"$mapped" || missing="$missing $name"`,
        )
        .raw("  done")
        .raw('  [ -n "$missing" ] || break')
        .raw('  if [ "$SECONDS" -ge "$deadline" ]; then')
        .raw(`    echo "compute hosts not registered after ${timeoutSeconds} s:$missing" >&2`)
        .raw("    exit 1")
        .raw("  fi")
        .raw("  sleep 5")
        .raw("done");
    }
    this.discoverStep = host.addStep("nova_discover_hosts", script, {
      owner: this,
      dependsOn: [this.cellsStep, ...dependsOn],
    });
    return this.discoverStep;
  }

  /** What controllers and computes share. */
  private commonSections(host: Host): Record<string, Record<string, IniValue>> {
    const context = this.context;
    const keystone = this.keystone;
    return {
      DEFAULT: {
        transport_url: context.messaging.transportUrl,
        my_ip: host.address,
        state_path: "/var/lib/nova",
      },
      api: { auth_strategy: "keystone" },
      keystone_authtoken: keystone.authtoken("nova", NOVA_SECRET),
      // Required since 2023 (the fix for CVE-2023-2088): services pass the user's token along
      // with their own, so that others accept volume and port operations from them.
      service_user: {
        send_service_user_token: true,
        ...keystone.serviceCredentials("nova", NOVA_SECRET),
      },
      placement: keystone.serviceCredentials("placement", PLACEMENT_SECRET),
      glance: { api_servers: this.glanceUrl },
      neutron: keystone.serviceCredentials("neutron", NEUTRON_SECRET),
      cinder: { os_region_name: context.region ?? "RegionOne" },
      vnc: {
        enabled: true,
        server_listen: host.address,
        server_proxyclient_address: host.address,
        novncproxy_base_url: this.novncBaseUrl,
      },
      oslo_concurrency: { lock_path: LOCK_PATH },
    };
  }

  private controllerStep(
    host: Host,
    first: boolean,
    dependsOn: Step[],
    urls: { api: string; main: string },
    discoverInterval: number,
  ): Step {
    const release = host.release;
    const context = this.context;
    const workers = context.apiWorkers ?? 2;
    const common = this.commonSections(host);
    const conf = new IniFile({
      ...common,
      DEFAULT: { ...common.DEFAULT, enabled_apis: "osapi_compute,metadata" },
      api_database: { connection: urls.api, max_retries: -1 },
      database: { connection: urls.main, max_retries: -1 },
      neutron: {
        ...common.neutron,
        service_metadata_proxy: true,
        metadata_proxy_shared_secret: secretPlaceholder(METADATA_SECRET),
      },
      cache: { enabled: true, backend: "oslo_cache.memcache_pool", memcache_servers: context.cache.servers },
      conductor: { workers },
      scheduler: {
        workers,
        ...(discoverInterval > 0 ? { discover_hosts_in_cells_interval: discoverInterval } : {}),
      },
    });
    const script = host.script("nova");
    for (const selection of release.debconf.novaController) {
      script.raw(`debconf-set-selections <<<${quote([selection])}`);
    }
    script.aptInstall(release.packages.novaController).writeFile(NOVA_CONF, conf.render(), {
      group: "nova",
      mode: "0640",
      secrets: true,
      changeTag: "nova",
    });
    if (release.paths.novaConsoleProxyDefaults) {
      script.writeFile(
        release.paths.novaConsoleProxyDefaults,
        "# Written by openstack-cdktf: the noVNC proxy, no serial console proxy.\nNOVA_CONSOLE_PROXY_TYPE=novnc\nNOVA_SERIAL_PROXY_START=false\n",
        { changeTag: "nova" },
      );
    }
    for (const ini of release.paths.novaUwsgiConfigs) {
      uwsgiApi(script, ini, workers, "nova");
    }
    script.run("install", "-d", "-o", "nova", "-g", "nova", "-m", "0750", LOCK_PATH);
    if (first) {
      const list = "osc_as nova nova-manage cell_v2 list_cells";
      script
        .comment("The schemas and Cells v2, once, from the first controller; each command is idempotent.")
        .schemaSync([API_DATABASE], "nova", "nova-manage", "api_db", "sync")
        .raw(`cells=$(${list})`)
        .raw(`if ! ${tableHas("cell0")} <<<"$cells"; then osc_as nova nova-manage cell_v2 map_cell0; fi`)
        .raw(
          `if ! ${tableHas("cell1")} <<<"$cells"; then osc_as nova nova-manage cell_v2 create_cell --name=cell1 --verbose; fi`,
        )
        .schemaSync(CELL_DATABASES, "nova", "nova-manage", "db", "sync");
    }
    script
      .restartIfChanged(release.units.novaController, "nova")
      .waitForPort(host.address, 8774, 120)
      .waitForPort(host.address, NOVA_METADATA_PORT, 120)
      .waitForPort(host.address, 6080, 60);
    return host.addStep("nova", script, { owner: this, secrets: conf.secretsUsed(), dependsOn });
  }
}
