import { declareSecrets } from "../core/secret-catalog";
import * as net from "net";
import * as path from "path";
import { Construct } from "constructs";
import { join as quote } from "shlex";
import { ComponentDeclaration } from "../core/component";
import { Endpoint } from "../core/endpoint";
import { secretPlaceholder } from "../core/ini-file";
import { CONTROLLER_ONLY, SecretSpec } from "../core/secret-spec";
import { ByRelease, forRelease, PackagesByRelease, packagesFor } from "../core/releases/packages";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { apachePortsConf } from "../core/listen";
import { ControlPlaneContext, listenAddresses, vipReady } from "./control-plane-context";
import { IIdentity } from "./identity";
import { quote as quoteValue } from "../core/field-rules";

/** What Horizon is given: the controllers it runs on, the Keystone users sign in through, and the names browsers use. */
export interface HorizonDashboardProps {
  /** The controllers Horizon runs on, their client address (`OPENSTACK_HOST`) and the memcached sessions are kept in. */
  readonly context: ControlPlaneContext;
  /** The identity service users sign in through: its `authUrl` is `OPENSTACK_KEYSTONE_URL`. */
  readonly keystone: IIdentity;
  /**
   * The names and addresses browsers may use to reach the dashboard (Django's `ALLOWED_HOSTS`):
   * typically the VIP, its name, and the controllers' names and addresses. `*` is refused.
   */
  readonly allowedHosts: readonly string[];
}

/** Where Apache serves Horizon (Django's WEBROOT). */
export const HORIZON_WEBROOT = "/horizon/";
const WEBROOT = HORIZON_WEBROOT;
const SECRET = "horizon_secret_key";
/** How one release serves Horizon: through Apache, from the dashboard package's files. */
export interface HorizonRelease {
  /** Apache's unit. */
  readonly unit: string;
  /** Horizon's `local_settings.py`, written whole, readable by `group` only. */
  readonly localSettings: string;
  /**
   * Settings snippets that Horizon executes after `local_settings.py` (Debian's own set WEBROOT
   * and a per-process cache there). @default none
   */
  readonly settingsSnippets?: string;
  /** Horizon's Django `manage.py` (collectstatic, compress). */
  readonly manage: string;
  /** The group Horizon's WSGI processes run as; `local_settings.py` is readable by it alone. */
  readonly group: string;
  /** The Apache site that serves Horizon at /horizon/, enabled when it is not. @default none */
  readonly apacheSite?: string;
  /**
   * Whether Horizon must run in each Apache process's main Python interpreter (mod_wsgi's
   * `WSGIApplicationGroup %{GLOBAL}`, in a conf of ours): the release's `cryptography` is a
   * PyO3 module, which one process loads into one interpreter only, and mod_wsgi gives an
   * embedded application a sub-interpreter of its own (every page then answers 500 with
   * `ImportError: PyO3 modules ... may only be initialized once per interpreter process`).
   * @default false
   */
  readonly mainInterpreter?: boolean;
}

/** Our Apache conf (conf-available) for `mainInterpreter`. */
const MAIN_INTERPRETER_CONF = "openstack-cdktf-horizon";

/** Debian's Horizon (12 and 13 package it alike). */
const DEBIAN_HORIZON: HorizonRelease = {
  unit: "apache2",
  localSettings: "/etc/openstack-dashboard/local_settings.py",
  settingsSnippets: "/etc/openstack-dashboard/local_settings.d",
  manage: "/usr/share/openstack-dashboard/manage.py",
  // openstack-dashboard-apache's alias-only site (WSGIScriptAlias /horizon) runs Horizon
  // embedded in Apache's www-data processes.
  group: "www-data",
  apacheSite: "openstack-dashboard-alias-only",
};

/** Where each release keeps Horizon's files and how Apache runs it (Debian: in Apache's own processes; Ubuntu: a WSGI daemon). */
export const HORIZON_RELEASES: ByRelease<HorizonRelease> = {
  "debian-12-zed": DEBIAN_HORIZON,
  "debian-13-epoxy": {
    ...DEBIAN_HORIZON,
    // cryptography 43 (Debian 12's 38 was not yet a PyO3 module that refuses a second interpreter).
    mainInterpreter: true,
  },
  "ubuntu-2404-caracal": {
    unit: "apache2",
    localSettings: "/etc/openstack-dashboard/local_settings.py",
    manage: "/usr/share/openstack-dashboard/manage.py",
    // The package's conf-available/openstack-dashboard.conf: a WSGI daemon as horizon:horizon.
    group: "horizon",
  },
};

/** Horizon's packages. */
export const HORIZON_PACKAGES: PackagesByRelease = {
  // Django 3.2's PyMemcacheCache needs pymemcache; horizon itself only pulls python3-memcache.
  "debian-12-zed": ["openstack-dashboard-apache", "python3-pymemcache"],
  "debian-13-epoxy": ["openstack-dashboard-apache", "python3-pymemcache"],
  "ubuntu-2404-caracal": ["openstack-dashboard", "python3-pymemcache"],
};

/** Horizon's secrets, for the secret catalog. */
export const HORIZON_SECRETS: readonly SecretSpec[] = [
  { name: SECRET, kind: "password", roles: CONTROLLER_ONLY, description: "Django SECRET_KEY" },
];
const CACHE_BACKEND = "django.core.cache.backends.memcached.PyMemcacheCache";
const HOSTNAME =
  /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const STATIC_STAMP = "/etc/openstack-cdktf/horizon-static.sha256";

/** What horizon declares for the secret catalog and the release profiles (lib/cluster/components.ts). */
export const HORIZON_COMPONENT: ComponentDeclaration = {
  name: "horizon",
  needs: ["keystone"],
  secrets: HORIZON_SECRETS,
  packages: { horizon: HORIZON_PACKAGES },
  controllerPackages: HORIZON_PACKAGES,
};

/**
 * Why Horizon's offline compression failed about one deploy in a few, on one controller and
 * not the other ("An error occurred during rendering serial_console.html: Syntax error: Found
 * 'inline-blo' but expected one of ADD, ..., BAREWORD, ..."): django-compressor (4.0 in Debian
 * 12; threads since 3.0) compresses templates in a pool of 4 threads, and pyScss (1.4.0),
 * which compiles Horizon's SCSS, fills the class-level token table of its expression scanner
 * lazily, on the first parse in the process (`SassExpressionScanner.__init__`: `patterns = []`,
 * then one compiled regex appended at a time). A thread whose first parse starts while another
 * is filling the table scans with part of it, cannot match `inline-block` as a BAREWORD and
 * fails. Only the first parses of a process can hit it, hence the low rate, and the failing
 * template is one of the first compressed. Reproduced in the lab: 4 threads making their first
 * parse together (GIL switch interval shortened to widen the window) failed 39 of 40 fresh
 * processes with this message, 1 thread 0 of 40. Upstream: django-compressor#1291/#1304,
 * Debian #1069097.
 * Ruled out: hash randomization (with PYTHONHASHSEED fixed at 0 or 12345 the race fails alike),
 * a second compression at the same time (the package's postinst compresses while apt runs,
 * which has returned before this step compresses; Apache compresses nothing offline), and
 * collectstatic's `--clear` (it runs before, in the same shell).
 * Fix: `manage.py compress` gets a pool of one thread (5.3 s either way on a lab controller).
 * The guard is a settings snippet, written before the package because its postinst compresses
 * too, and kept in local_settings.py for releases without snippets.
 */
const SERIAL_COMPRESS = [
  "# Written by openstack-cdktf: `manage.py compress` with one thread. django-compressor",
  "# compresses templates in 4 threads, and a block shared by two templates is compressed by",
  "# both at once; pyScss is not thread-safe (django-compressor#1304, Debian #1069097).",
  "import sys as _osc_sys",
  "",
  'if _osc_sys.argv[1:2] == ["compress"]:',
  "    import concurrent.futures as _osc_futures",
  "",
  '    if not getattr(_osc_futures.ThreadPoolExecutor, "osc_one_worker", False):',
  "",
  "        class _OscOneWorkerPool(_osc_futures.ThreadPoolExecutor):",
  "            osc_one_worker = True",
  "",
  "            def __init__(self, max_workers=None, *args, **kwargs):",
  "                super().__init__(1, *args, **kwargs)",
  "",
  "        _osc_futures.ThreadPoolExecutor = _OscOneWorkerPool",
  "",
].join("\n");

/** Set while the step installs the dashboard: the package's own rebuilds of the static files wait. */
const DEFER_STATIC = "OSC_HORIZON_STATIC_LATER";

/**
 * The package rebuilds the static files (collectstatic, then compress) in its postinst and again
 * in its trigger, both with its example settings, about 30 s each on a lab controller; the step
 * rebuilds them with its own settings anyway. While the step installs the package, this snippet
 * (written before it) makes those two rebuilds return at once and removes the step's stamp, so
 * that the step rebuilds once, whatever happened to the run. Outside the step (an upgrade by
 * apt, a trigger from an xstatic package) the package rebuilds as it always does.
 */
const DEFERRED_STATIC = [
  "",
  "# Written by openstack-cdktf: while its horizon step installs this package, the package's",
  "# collectstatic and compress are left to the step, which runs them once with its settings.",
  "import os as _osc_os",
  "",
  `if _osc_os.environ.get("${DEFER_STATIC}") and _osc_sys.argv[1:2] in (["collectstatic"], ["compress"]):`,
  "    try:",
  `        _osc_os.remove("${STATIC_STAMP}")`,
  "    except FileNotFoundError:",
  "        pass",
  `    print("openstack-cdktf: manage.py " + _osc_sys.argv[1] + " left to the horizon step", file=_osc_sys.stderr)`,
  "    raise SystemExit(0)",
  "",
].join("\n");

/** A Python literal for a JSON-like value (strings as JSON strings, which Python reads alike). */
type PyValue = string | number | boolean | readonly PyValue[] | { readonly [key: string]: PyValue };

function py(value: PyValue): string {
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number" || typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(py).join(", ")}]`;
  const entries = Object.entries(value as Record<string, PyValue>);
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${py(v)}`).join(", ")}}`;
}

function assignments(settings: Record<string, PyValue>): string[] {
  return Object.entries(settings).map(([key, value]) => `${key} = ${py(value)}`);
}

/**
 * Horizon (the web dashboard) on every controller, served by Apache at `http://VIP/horizon/`.
 * `local_settings.py` is written whole: Keystone through the VIP, sessions in memcached on both
 * controllers (a controller's loss only logs out the sessions it held), a `SECRET_KEY` from the
 * secrets that is the same on both controllers (so a session survives a failover), and
 * `ALLOWED_HOSTS` limited to the given names and addresses (never `*`, the seed's mistake).
 *
 * Debian specifics: settings snippets in `local_settings.d/` run after `local_settings.py`, and
 * the package's own set `WEBROOT = "/"` and a per-process `LocMemCache` (which would break
 * sessions across Apache processes and controllers), so a last snippet restores both. Horizon
 * compresses its CSS and JavaScript offline for one WEBROOT; when the settings change, the step
 * collects and compresses the static files again, as the package's postinst does.
 *
 * The cache backend is Django's `PyMemcacheCache` (python3-pymemcache, installed with the
 * dashboard): it exists in Django 3.2 (Debian 12) and later, where `MemcachedCache` is gone.
 */
export class HorizonDashboard extends Construct {
  /** `http://VIP/horizon/`. */
  readonly url: string;
  /** Django's `ALLOWED_HOSTS` as written: the given entries checked and de-duplicated, names lowercased, IPv6 addresses bracketed. */
  readonly allowedHosts: readonly string[];
  /** One per controller. */
  readonly steps: readonly Step[];
  private readonly localSettings: string;
  private readonly lastSnippet: string;
  private readonly context: ControlPlaneContext;

  constructor(scope: Construct, id: string, props: HorizonDashboardProps) {
    // Its secrets join the stack's catalog (a stack of one's own has no other), before its steps use them.
    declareSecrets(scope, HORIZON_SECRETS);
    super(scope, id);
    const { context, keystone } = props;
    this.context = context;
    this.allowedHosts = allowedHostsOf(props.allowedHosts);
    this.url = Endpoint.of(context.clientAddress).url(undefined, WEBROOT);
    const caches = {
      default: {
        BACKEND: CACHE_BACKEND,
        LOCATION: context.cache.servers.split(","),
        // A dead memcached answers as a miss after `connect_timeout`, instead of an error page.
        OPTIONS: { ignore_exc: true, connect_timeout: 1, timeout: 2 },
      },
    };
    this.localSettings = [
      "# Written by openstack-cdktf: Horizon at /horizon/, Keystone and sessions behind the VIP.",
      SERIAL_COMPRESS,
      ...assignments({
        DEBUG: false,
        WEBROOT,
        ALLOWED_HOSTS: this.allowedHosts,
        SECRET_KEY: secretPlaceholder(SECRET),
        SESSION_ENGINE: "django.contrib.sessions.backends.cache",
        CACHES: caches,
        OPENSTACK_HOST: context.clientAddress,
        OPENSTACK_KEYSTONE_URL: keystone.authUrl,
        OPENSTACK_KEYSTONE_MULTIDOMAIN_SUPPORT: false,
        OPENSTACK_KEYSTONE_DEFAULT_DOMAIN: "Default",
        OPENSTACK_KEYSTONE_DEFAULT_ROLE: "member",
        OPENSTACK_API_VERSIONS: { identity: 3, image: 2, volume: 3 },
        TIME_ZONE: "UTC",
        // Warnings and errors to Apache's error log (wsgi.py sends stdout to stderr).
        LOGGING: {
          version: 1,
          disable_existing_loggers: false,
          handlers: { console: { class: "logging.StreamHandler" } },
          root: { handlers: ["console"], level: "WARNING" },
        },
      }),
      "",
    ].join("\n");
    this.lastSnippet = [
      '# Written by openstack-cdktf: runs after the package\'s snippets (WEBROOT = "/", LocMemCache)',
      "# and restores what local_settings.py says.",
      ...assignments({ WEBROOT, CACHES: caches }),
      "",
    ].join("\n");
    this.steps = context.controllers.map((host) => this.controllerStep(host));
  }

  private controllerStep(host: Host): Step {
    const release = host.release;
    const runs = forRelease("horizon", HORIZON_RELEASES, release);
    const group = runs.group;
    const files = [runs.localSettings];
    const script = host.script("horizon");
    if (runs.settingsSnippets) {
      // Before the package: its postinst and its trigger run collectstatic and compress too.
      const guard = path.posix.join(runs.settingsSnippets, "_0001_openstack_cdktf_compress.py");
      files.push(guard);
      script.writeFile(guard, SERIAL_COMPRESS + DEFERRED_STATIC, { changeTag: "horizon" });
      script.raw(`export ${DEFER_STATIC}=yes`);
    }
    script.aptInstall(packagesFor("HorizonDashboard", HORIZON_PACKAGES, release));
    if (runs.settingsSnippets) script.raw(`unset ${DEFER_STATIC}`);
    script.writeFile(runs.localSettings, this.localSettings, {
      group,
      mode: "0640",
      secrets: true,
      changeTag: "horizon",
    });
    if (runs.settingsSnippets) {
      const snippet = path.posix.join(runs.settingsSnippets, "_9999_openstack_cdktf.py");
      files.push(snippet);
      script.writeFile(snippet, this.lastSnippet, { group, mode: "0640", changeTag: "horizon" });
    }
    const addresses = listenAddresses(this.context, host);
    script
      .comment("Apache on the management address and the VIP only (the package's ports.conf: every address).")
      .writeFile(release.paths.apachePortsConf, apachePortsConf(addresses), {
        changeTag: "horizon",
      })
      .listen(runs.unit, addresses, 80);
    // The package enables Apache's default-ssl site without enabling mod_ssl, and Apache then
    // refuses to start. TLS is not configured here, so the site goes.
    script.raw(
      "if [ -e /etc/apache2/sites-enabled/default-ssl.conf ]; then osc_mark_changed horizon; a2dissite -q default-ssl; fi",
    );
    const site = runs.apacheSite;
    if (site) {
      script
        .comment(`Apache serves Horizon at ${WEBROOT} through the package's ${site} site.`)
        .raw(
          `if ! a2query -q -s ${quote([site])}; then osc_mark_changed horizon; a2ensite -q ${quote([site])}; fi`,
        );
    }
    if (runs.mainInterpreter) {
      script
        .comment("Horizon in Apache's main Python interpreter (HorizonRelease.mainInterpreter says why).")
        .writeFile(
          `/etc/apache2/conf-available/${MAIN_INTERPRETER_CONF}.conf`,
          [
            "# Written by openstack-cdktf: Horizon in each Apache process's main Python interpreter;",
            "# cryptography (a PyO3 module) loads into one interpreter per process only.",
            "<Directory /usr/share/openstack-dashboard>",
            "    WSGIApplicationGroup %{GLOBAL}",
            "</Directory>",
            "",
          ].join("\n"),
          { changeTag: "horizon" },
        )
        .raw(
          `if ! a2query -q -c ${MAIN_INTERPRETER_CONF}; then osc_mark_changed horizon; a2enconf -q ${MAIN_INTERPRETER_CONF}; fi`,
        );
    }
    const manage = ["python3", runs.manage];
    script
      .comment("Static files are compressed for one set of settings: again when they change.")
      .raw(`osc_static=$(sha256sum ${quote(files)} | sha256sum | cut -d' ' -f1)`)
      .raw(`if [ "$(cat ${STATIC_STAMP} 2>/dev/null || true)" != "$osc_static" ]; then`)
      .raw("  osc_mark_changed horizon")
      .raw(`  ${quote([...manage, "collectstatic", "--noinput", "--clear", "-v", "0"])}`)
      .raw(`  ${quote([...manage, "compress", "--force", "-v", "0"])}`)
      .raw(`  install -d -m 0700 ${path.posix.dirname(STATIC_STAMP)}`)
      .raw(`  printf '%s\\n' "$osc_static" >${STATIC_STAMP}`)
      .raw("fi")
      .restartIfChanged([runs.unit], "horizon")
      .waitForPort(host.address, 80, 60)
      .comment("The login page answers on this controller.")
      .run(...loginCheck(host.address, this.allowedHosts));
    return host.addStep("horizon", script, {
      owner: this,
      secrets: [SECRET],
      after: vipReady(this.context, host),
    });
  }
}

/** curl of the login page at ADDRESS, with a Host header Django accepts. */
function loginCheck(address: string, allowedHosts: readonly string[]): string[] {
  const endpoint = Endpoint.of(address);
  const header = allowedHosts.includes(endpoint.urlHost) ? [] : ["-H", `Host: ${allowedHosts[0]}`];
  const retry = ["--retry", "10", "--retry-connrefused", "--retry-delay", "2"];
  return [
    "curl",
    "-fsS",
    "-o",
    "/dev/null",
    ...retry,
    ...header,
    endpoint.url(undefined, `${WEBROOT}auth/login/`),
  ];
}

/** Checks and de-duplicates ALLOWED_HOSTS entries; IPv6 addresses are bracketed, as Django expects. */
function allowedHostsOf(entries: readonly string[]): string[] {
  if (entries.length === 0) {
    throw new Error("HorizonDashboard allowedHosts: got []: expected at least one name or address");
  }
  const out: string[] = [];
  for (const entry of entries) {
    let value: string;
    if (net.isIPv4(entry)) value = entry;
    else if (net.isIPv6(entry)) value = Endpoint.of(entry).urlHost;
    else if (HOSTNAME.test(entry)) value = entry.toLowerCase();
    else {
      throw new Error(
        `HorizonDashboard allowedHosts: got ${quoteValue(entry)}: expected a hostname or an IP address (no wildcards)`,
      );
    }
    if (!out.includes(value)) out.push(value);
  }
  return out;
}
