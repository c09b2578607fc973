import { declareSecrets } from "../core/secret-catalog";
import { Construct } from "constructs";
import { dependable, ITerraformDependable } from "cdktf";
import { join as quote } from "shlex";
import { ApiDeclaration, ComponentDeclaration } from "../core/component";
import { IniFile, IniValue, secretPlaceholder } from "../core/ini-file";
import { keystoneUser, SecretSpec, serviceSecrets, ServiceUser } from "../core/secret-spec";
import { ShellScript } from "../core/shell-script";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import {
  ByRelease,
  forRelease,
  mapReleases,
  PackagesByRelease,
  packagesFor,
} from "../core/releases/packages";
import { ReleaseProfile } from "../core/releases";
import { ApiRelease, ApiService, ApiServiceProps } from "./api-service";
import { GLANCE_API } from "./glance";
import { uwsgiUnit } from "./control-plane-context";
import { PLACEMENT_USER } from "./placement";
import { quote as quoteValue } from "../core/field-rules";

export interface NovaServiceProps extends ApiServiceProps {
  /** Glance's API, for `[glance] api_servers` (the cluster passes `glance.url`). @default `http://VIP:9292` */
  readonly glanceUrl?: string;
  /** Placement, whose user `[placement]` authenticates as (a `PlacementService`). @default `PLACEMENT_USER` */
  readonly placement?: {
    /** Placement's Keystone user and the secret holding its password. */
    readonly credentials: ServiceUser;
  };
  /**
   * Neutron's user, for `[neutron]` (`NEUTRON_USER` from lib/services/neutron.ts: Neutron is
   * built after Nova, and its file imports this one). @default the Keystone user `neutron`
   */
  readonly neutronUser?: ServiceUser;
  /** Where browsers open instance consoles. @default `http://VIP:6080/vnc_auto.html` */
  readonly novncBaseUrl?: string;
  /**
   * Seconds between the scheduler's searches for new compute hosts (on the first controller
   * only: two schedulers searching at once collide on the same host mappings); 0 turns it off.
   * @default 300
   */
  readonly discoverHostsInterval?: number;
}

/** The API database (synced by `api_db sync`), and the cells' (cell1 and cell0, by `db sync`). */
const API_DATABASE = "nova_api";
const CELL_DATABASES = ["nova", "nova_cell0"];
/** The secret the metadata proxy (Neutron's metadata agents) signs instances' requests with. */
export const NOVA_METADATA_SECRET = "metadata_proxy_secret";
const METADATA_SECRET = NOVA_METADATA_SECRET;

const NOVA_CONF = "/etc/nova/nova.conf";
/** The packages' compute-only file (Debian's nova-compute-kvm, Ubuntu's too): the hypervisor. */
const NOVA_COMPUTE_CONF = "/etc/nova/nova-compute.conf";
const QEMU_CONF = "/etc/libvirt/qemu.conf";
/** The same unit names on Debian 12 and Ubuntu 24.04. */
const LIBVIRT_UNIT = "libvirtd";
const NOVA_COMPUTE_UNIT = "nova-compute";
const LOCK_PATH = "/var/lib/nova/tmp";
/** The metadata API's port; Neutron's metadata agents on the network nodes proxy to it. */
export const NOVA_METADATA_PORT = 8775;
/** The noVNC console proxy's port, where browsers open consoles. */
export const NOVNC_PORT = 6080;
/** The first instance console's port on a compute host (libvirt's VNC ports start here). */
const VNC_FIRST_PORT = 5900;
/** libvirt's NAT network that libvirt-daemon-config-network defines and starts with libvirtd. */
const LIBVIRT_DEFAULT_NETWORK_AUTOSTART = "/etc/libvirt/qemu/networks/autostart/default.xml";

/** How one release runs Nova's controller services. */
export interface NovaRelease extends ApiRelease {
  /**
   * debconf answers given before the packages are installed (`debconf-set-selections` lines), so
   * that maintainer scripts choose what Nova needs. @default none
   */
  readonly debconf?: readonly string[];
  /**
   * Debian's nova-consoleproxy starts the console proxy this file names (spicehtml5 unless told
   * otherwise). @default none: the distribution ships a noVNC-only package
   */
  readonly consoleProxyDefaults?: string;
}

/** Nova's controller services on each release: API (and metadata API), conductor, scheduler, console proxy. */
export const NOVA_RELEASES: ByRelease<NovaRelease> = {
  "debian-12-zed": {
    // The APIs run under uwsgi, started by /etc/init.d/<unit> systemd-start.
    units: ["nova-api", "nova-api-metadata", "nova-conductor", "nova-scheduler", "nova-novncproxy"],
    uwsgiConfigs: ["/etc/nova/nova-api-uwsgi.ini", "/etc/nova/nova-api-metadata-uwsgi.ini"],
    // Its postinst rewrites NOVA_CONSOLE_PROXY_TYPE from this answer on every configure.
    debconf: ["nova-consoleproxy nova-consoleproxy/daemon_type select novnc"],
    consoleProxyDefaults: "/etc/default/nova-consoleproxy",
  },
  "debian-13-epoxy": {
    // The APIs run under uwsgi, started by /etc/init.d/<unit> systemd-start.
    units: ["nova-api", "nova-api-metadata", "nova-conductor", "nova-scheduler", "nova-novncproxy"],
    uwsgiConfigs: ["/etc/nova/nova-api-uwsgi.ini", "/etc/nova/nova-api-metadata-uwsgi.ini"],
    // Its postinst rewrites NOVA_CONSOLE_PROXY_TYPE from this answer on every configure.
    debconf: ["nova-consoleproxy nova-consoleproxy/daemon_type select novnc"],
    consoleProxyDefaults: "/etc/default/nova-consoleproxy",
  },
  // nova-api serves both the compute API (:8774) and the metadata API (:8775).
  "ubuntu-2404-caracal": { units: ["nova-api", "nova-conductor", "nova-scheduler", "nova-novncproxy"] },
};

/** The debconf answers of each release, wherever Nova's controller packages install. */
const NOVA_DEBCONF = mapReleases(NOVA_RELEASES, (r) => r.debconf ?? []);

/** Nova on `release` (its `NOVA_RELEASES` entry). */
export function novaRelease(release: ReleaseProfile): NovaRelease {
  return forRelease("nova", NOVA_RELEASES, release);
}

/** Where the release runs Nova's APIs under uwsgi (Debian), which binds several addresses. */
function novaApisUnderUwsgi(release: ReleaseProfile): boolean {
  return (novaRelease(release).uwsgiConfigs ?? []).length > 0;
}

/** `awk` that succeeds when the second `|` column of stdin (a nova-manage table) holds the name. */
function tableHas(name: string): string {
  return `awk -F'|' '{gsub(/ /, "", $2)} $2 == "${name}" {found = 1} END {exit !found}'`;
}

/** Nova's controller packages: the APIs, conductor, scheduler and console proxy. */
export const NOVA_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["nova-api", "nova-conductor", "nova-scheduler", "nova-consoleproxy"],
  "debian-13-epoxy": ["nova-api", "nova-conductor", "nova-scheduler", "nova-consoleproxy"],
  "ubuntu-2404-caracal": ["nova-api", "nova-conductor", "nova-scheduler", "nova-novncproxy"],
};

/** nova-compute's packages, for compute hosts (genisoimage writes config drives, a recommends only). */
export const NOVA_COMPUTE_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["nova-compute", "qemu-kvm", "libvirt-daemon-system", "genisoimage"],
  // qemu-kvm is only a name qemu-system-x86 provides in Debian 13.
  "debian-13-epoxy": ["nova-compute", "qemu-system-x86", "libvirt-daemon-system", "genisoimage"],
  "ubuntu-2404-caracal": ["nova-compute", "qemu-kvm", "libvirt-daemon-system", "genisoimage"],
};

/**
 * Nova's secrets, for the secret catalog: its database user's, its Keystone user's (also on the
 * compute hosts), and the metadata proxy's, which Neutron's metadata agents share.
 */
export const NOVA_SECRETS: readonly SecretSpec[] = [
  ...serviceSecrets("nova", ["controller", "compute"]),
  {
    name: METADATA_SECRET,
    kind: "password",
    roles: ["controller", "network"],
    description: "Nova metadata proxy",
  },
];

/** Nova's Keystone user, for services built without a `NovaService` at hand (Neutron's default). */
export const NOVA_USER: ServiceUser = keystoneUser("nova");

/**
 * Nova as Neutron uses it (`NovaService` implements it): the user Neutron notifies of port
 * changes as, and the metadata API the metadata agents forward instances' requests to.
 */
export interface INovaForNetwork {
  /** Nova's Keystone user and its secret: neutron.conf's `[nova]` authenticates as it to notify Nova. */
  readonly credentials: ServiceUser;
  /** Where the metadata API answers (the VIP): the metadata agents' `nova_metadata_host`. */
  readonly metadataHost: string;
  /** The metadata API's port: the metadata agents' `nova_metadata_port`. */
  readonly metadataPort: number;
  /** The name of the secret instances' metadata requests are signed with (`metadata_proxy_shared_secret`). */
  readonly metadataSecret: string;
}

/** Nova's API in Keystone's catalog: `compute`, at :8774 on every controller and the VIP (the metadata API, :8775, is not in the catalog). */
export const NOVA_API = {
  /** The catalog type Keystone registers the service under. */
  type: "compute",
  /** The API's port, on each controller's management address and on the VIP. */
  port: 8774,
} as const satisfies ApiDeclaration;

/** What nova declares for the secret catalog and the release profiles (lib/cluster/components.ts), and its API. */
export const NOVA_COMPONENT: ComponentDeclaration = {
  name: "nova",
  // Its endpoints: Placement for the compute hosts, Glance for images.
  needs: ["keystone", "placement", "glance"],
  secrets: NOVA_SECRETS,
  packages: { novaController: NOVA_PACKAGES, novaCompute: NOVA_COMPUTE_PACKAGES },
  controllerPackages: NOVA_PACKAGES,
  debconf: NOVA_DEBCONF,
  api: NOVA_API,
};

/**
 * Nova's control plane on every controller: the compute API and the metadata API, conductor,
 * scheduler and the noVNC console proxy, with the `nova_api`, `nova` and `nova_cell0`
 * databases through the VIP. The first controller creates the schemas and Cells v2 (cell0 and
 * `cell1`, each only when absent); the others follow it. Compute hosts get their `nova.conf`
 * from `computeConfig` and are mapped into `cell1` by `discoverHostsStep`.
 */
export class NovaService extends ApiService implements INovaForNetwork {
  /** The address Neutron's metadata agents send instance requests to (the VIP), on `metadataPort`. */
  readonly metadataHost: string;
  /** The metadata API's port, 8775 (`NOVA_METADATA_PORT`). */
  readonly metadataPort = NOVA_METADATA_PORT;
  /** The metadata proxy secret's name, `metadata_proxy_secret` (`NOVA_METADATA_SECRET`). */
  readonly metadataSecret = NOVA_METADATA_SECRET;
  private readonly glanceUrl: string;
  private readonly placementUser: ServiceUser;
  private readonly neutronUser: ServiceUser;
  private readonly novncBaseUrl: string;
  private readonly discoverInterval: number;
  private discoverStep?: Step;
  private readonly computeSteps = new Map<Host, Step>();

  constructor(scope: Construct, id: string, props: NovaServiceProps) {
    // One user for the three schemas: each database() call grants it one of them.
    // Its secrets join the stack's catalog (a stack of one's own has no other), before its steps use them.
    declareSecrets(scope, NOVA_SECRETS);
    super(scope, id, props, {
      name: "nova",
      port: NOVA_API.port,
      catalog: { type: NOVA_API.type, description: "OpenStack Compute", path: "/v2.1" },
      databases: [API_DATABASE, ...CELL_DATABASES],
      configFile: NOVA_CONF,
      packages: NOVA_PACKAGES,
      units: (release) => novaRelease(release).units,
      uwsgiConfigs: (release) => novaRelease(release).uwsgiConfigs ?? [],
      waitForPorts: [
        [NOVA_API.port, 120],
        [NOVA_METADATA_PORT, 120],
        [NOVNC_PORT, 60],
      ],
      messaging: true,
      // Daemons that bind one address (their own); a socket of ours takes the VIP: the noVNC
      // proxy, and where no uwsgi runs them (Ubuntu's eventlet nova-api), both APIs.
      vipForwards: (release) => [
        ...(novaApisUnderUwsgi(release)
          ? []
          : [
              { name: "nova-api", port: NOVA_API.port },
              { name: "nova-api-metadata", port: NOVA_METADATA_PORT },
            ]),
        { name: "nova-novncproxy", port: NOVNC_PORT },
      ],
    });
    const interval = props.discoverHostsInterval ?? 300;
    if (!Number.isInteger(interval) || interval < 0) {
      throw new Error(
        `NovaService discoverHostsInterval: got ${quoteValue(interval)}: expected a whole number of seconds, 0 to turn it off`,
      );
    }
    this.discoverInterval = interval;
    this.metadataHost = this.context.clientAddress;
    this.glanceUrl = props.glanceUrl ?? this.context.endpoint.url(GLANCE_API.port);
    this.placementUser = props.placement?.credentials ?? PLACEMENT_USER;
    this.neutronUser = props.neutronUser ?? keystoneUser("neutron");
    this.novncBaseUrl = props.novncBaseUrl ?? this.context.endpoint.url(NOVNC_PORT, "/vnc_auto.html");
    this.deploy();
  }

  /** The first controller's step, after which the schemas and cells exist (`firstStep`). */
  get cellsStep(): Step {
    return this.firstStep;
  }

  /** @deprecated use `steps` */
  get controllerSteps(): readonly Step[] {
    return this.steps;
  }

  /**
   * `nova.conf` for a compute host: the message queue, Keystone, Placement, Glance, Neutron and
   * the console, but no database (computes reach it only through the conductor) and no
   * metadata secret. A new file on every call; the caller adds `[libvirt]` and the like.
   */
  computeConfig(host: Host): IniFile {
    return new IniFile(this.commonSections(host));
  }

  /** nova-compute's packages for a host (a role can install them early, before the controllers are up). */
  computePackages(host: Host): readonly string[] {
    return packagesFor("NovaService", NOVA_COMPUTE_PACKAGES, host.release);
  }

  /** The compute hosts' steps, in the order the hosts were given. */
  get computeStepList(): readonly Step[] {
    return [...this.computeSteps.values()];
  }

  /**
   * nova-compute with libvirt on a host: its `nova.conf` (`computeConfig`; a controller keeps its
   * own, which has all of it), the hypervisor from the host's `virtType` (`auto`: kvm where
   * /dev/kvm exists), and in a container libvirt without cgroups of its own. It runs after the
   * controllers' Nova (nova-compute starts only once a conductor answers); `discoverHostsStep`
   * maps it into cell1. One step per host: a second call returns it.
   */
  computeHost(host: Host): Step {
    const existing = this.computeSteps.get(host);
    if (existing) return existing;
    const script = host.script("nova_compute");
    script.aptInstall(this.computePackages(host));
    const secrets: string[] = [];
    if (!this.context.controllers.includes(host)) {
      const conf = this.computeConfig(host);
      script.writeFile(NOVA_CONF, conf.render(), {
        group: "nova",
        mode: "0640",
        secrets: true,
        changeTag: "nova_compute",
      });
      secrets.push(...conf.secretsUsed());
    }
    script.comment(`The hypervisor (virtType ${host.virtType}).`);
    if (host.virtType === "auto") {
      script.raw("if [ -c /dev/kvm ]; then virt_type=kvm; else virt_type=qemu; fi");
    } else if (host.virtType === "kvm") {
      script
        .raw(
          `[ -c /dev/kvm ] || { echo "virtType kvm: /dev/kvm is missing on ${host.hostName}: expected a host with KVM (or virtType qemu)" >&2; exit 1; }`,
        )
        .raw("virt_type=kvm");
    } else {
      script.raw("virt_type=qemu");
    }
    script
      .raw(`osc_ini_set nova_compute ${NOVA_COMPUTE_CONF} libvirt virt_type "$virt_type"`)
      .comment(
        "In a container libvirt cannot make cgroups of its own (the guest fails to start with\n" +
          "'Failed to create v1 controller cpu'); a server keeps libvirt's default.",
      )
      .raw("if systemd-detect-virt --container --quiet; then")
      .raw(`  if ! grep -qx 'cgroup_controllers = \\[ \\]' ${QEMU_CONF}; then`)
      .raw(`    echo 'cgroup_controllers = [ ]' >>${QEMU_CONF}`)
      .raw("    osc_mark_changed libvirt")
      .raw("  fi")
      .raw("fi")
      .run("install", "-d", "-o", "nova", "-g", "nova", "-m", "0750", LOCK_PATH)
      .comment(
        'libvirt\'s NAT network "default" (virbr0; its dnsmasq serves DNS on 192.168.122.1 and DHCP\n' +
          "on every address): Nova does not use it. Not started with libvirtd, and stopped if it runs.",
      )
      .raw(
        `if [ -e ${LIBVIRT_DEFAULT_NETWORK_AUTOSTART} ]; then rm -f ${LIBVIRT_DEFAULT_NETWORK_AUTOSTART}; fi`,
      )
      // Socket-activated, and it exits when idle: restarted only when its config changed.
      .ifChanged("libvirt", `systemctl restart ${LIBVIRT_UNIT}`)
      .raw(
        'if grep -qx default <<<"$(virsh -q net-list --name 2>/dev/null || true)"; then virsh -q net-destroy default; fi',
      )
      .restartIfChanged([NOVA_COMPUTE_UNIT], "nova_compute")
      // Instances' consoles, on `[vnc] server_listen` (commonSections): the first at this port,
      // each next one at the next (libvirt's remote_display_port_min).
      .listen("qemu", host.address, VNC_FIRST_PORT);
    // nova-compute reports ready to systemd only once a conductor answers: it starts after the
    // controllers' Nova (a start before would time out in systemd and fail the step).
    const step = host.addStep("nova_compute", script, {
      owner: this,
      secrets,
      after: [...this.context.messaging.readyFor(host), ...this.steps],
    });
    this.computeSteps.set(host, step);
    return step;
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
        .raw(`expected=(${quote(names)})`)
        .raw("while :; do")
        .raw("  osc_as nova nova-manage cell_v2 discover_hosts --verbose")
        .raw("  mapped=$(osc_as nova nova-manage cell_v2 list_hosts)")
        .raw('  missing=""')
        .raw('  for name in "${expected[@]}"; do')
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
      keystone_authtoken: keystone.authtoken("nova", this.userSecret),
      // Required since 2023 (the fix for CVE-2023-2088): services pass the user's token along
      // with their own, so that others accept volume and port operations from them.
      service_user: {
        send_service_user_token: true,
        ...keystone.serviceCredentials("nova", this.userSecret),
      },
      placement: keystone.serviceCredentials(this.placementUser.name, this.placementUser.secret),
      glance: { api_servers: this.glanceUrl },
      neutron: keystone.serviceCredentials(this.neutronUser.name, this.neutronUser.secret),
      cinder: { os_region_name: context.region },
      vnc: {
        enabled: true,
        server_listen: host.address,
        server_proxyclient_address: host.address,
        novncproxy_base_url: this.novncBaseUrl,
      },
      oslo_concurrency: { lock_path: LOCK_PATH },
    };
  }

  /** The controllers' `nova.conf`; the scheduler on the first one searches for new compute hosts. */
  protected config(host: Host): IniFile {
    const context = this.context;
    const workers = context.apiWorkers;
    const discoverInterval = host === context.controllers[0] ? this.discoverInterval : 0;
    const common = this.commonSections(host);
    // Under uwsgi (Debian) the APIs' sockets are uwsgi's; eventlet's nova-api binds these.
    const listen = novaApisUnderUwsgi(host.release)
      ? {}
      : { osapi_compute_listen: host.address, metadata_listen: host.address };
    return new IniFile({
      ...common,
      DEFAULT: { ...common.DEFAULT, enabled_apis: "osapi_compute,metadata", ...listen },
      api_database: { connection: this.databases[0].url, max_retries: -1 },
      database: { connection: this.databases[1].url, max_retries: -1 },
      neutron: {
        ...common.neutron,
        service_metadata_proxy: true,
        metadata_proxy_shared_secret: secretPlaceholder(METADATA_SECRET),
      },
      cache: { enabled: true, backend: "oslo_cache.memcache_pool", memcache_servers: context.cache.servers },
      conductor: { workers },
      vnc: { ...common.vnc, novncproxy_host: host.address },
      scheduler: {
        workers,
        ...(discoverInterval > 0 ? { discover_hosts_in_cells_interval: discoverInterval } : {}),
      },
    });
  }

  /** debconf answers the package's maintainer scripts read. */
  protected beforeInstall(script: ShellScript, host: Host): void {
    for (const selection of forRelease("nova debconf", NOVA_DEBCONF, host.release))
      script.debconfSet(selection);
  }

  /** Debian's ini files: the compute API's and the metadata API's (`nova-api-metadata-uwsgi.ini`). */
  protected uwsgiPort(ini: string): number {
    return uwsgiUnit(ini) === "nova-api-metadata" ? NOVA_METADATA_PORT : NOVA_API.port;
  }

  /** The console proxy's defaults, uwsgi, the lock directory. */
  protected configure(script: ShellScript, host: Host): void {
    const defaults = novaRelease(host.release).consoleProxyDefaults;
    if (defaults) {
      script.writeFile(
        defaults,
        "# Written by openstack-cdktf: the noVNC proxy, no serial console proxy.\nNOVA_CONSOLE_PROXY_TYPE=novnc\nNOVA_SERIAL_PROXY_START=false\n",
        { changeTag: "nova" },
      );
    }
    this.uwsgi(script, host);
    script.run("install", "-d", "-o", "nova", "-g", "nova", "-m", "0750", LOCK_PATH);
  }

  /** The schemas and Cells v2: cell0 and cell1, each only when absent. */
  protected migrate(script: ShellScript): void {
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
}
