import * as net from "net";
import * as path from "path";
import { Construct } from "constructs";
import { join as quote } from "shlex";
import { secretPlaceholder } from "../core/ini-file";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { ControlPlaneContext } from "./control-plane-context";
import { KeystoneService } from "./keystone";

export interface HorizonDashboardProps {
  readonly context: ControlPlaneContext;
  readonly keystone: KeystoneService;
  /**
   * The names and addresses browsers may use to reach the dashboard (Django's `ALLOWED_HOSTS`):
   * typically the VIP, its name, and the controllers' names and addresses. `*` is refused.
   */
  readonly allowedHosts: readonly string[];
}

const WEBROOT = "/horizon/";
const SECRET = "horizon_secret_key";
const CACHE_BACKEND = "django.core.cache.backends.memcached.PyMemcacheCache";
const HOSTNAME =
  /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const STATIC_STAMP = "/etc/openstack-cdktf/horizon-static.sha256";

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
  readonly allowedHosts: readonly string[];
  /** One per controller. */
  readonly steps: readonly Step[];
  private readonly localSettings: string;
  private readonly lastSnippet: string;

  constructor(scope: Construct, id: string, props: HorizonDashboardProps) {
    super(scope, id);
    const { context, keystone } = props;
    this.allowedHosts = allowedHostsOf(props.allowedHosts);
    const vip = net.isIPv6(context.clientAddress) ? `[${context.clientAddress}]` : context.clientAddress;
    this.url = `http://${vip}${WEBROOT}`;
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
    const group = release.horizon.group;
    const files = [release.paths.horizonLocalSettings];
    const script = host
      .script("horizon")
      .aptInstall(release.packages.horizon)
      .writeFile(release.paths.horizonLocalSettings, this.localSettings, {
        group,
        mode: "0640",
        secrets: true,
        changeTag: "horizon",
      });
    if (release.paths.horizonSettingsSnippets) {
      const snippet = path.posix.join(release.paths.horizonSettingsSnippets, "_9999_openstack_cdktf.py");
      files.push(snippet);
      script.writeFile(snippet, this.lastSnippet, { group, mode: "0640", changeTag: "horizon" });
    }
    // The package enables Apache's default-ssl site without enabling mod_ssl, and Apache then
    // refuses to start. TLS is not configured here, so the site goes.
    script.raw(
      "if [ -e /etc/apache2/sites-enabled/default-ssl.conf ]; then a2dissite -q default-ssl; osc_mark_changed horizon; fi",
    );
    const site = release.horizon.apacheSite;
    if (site) {
      script
        .comment(`Apache serves Horizon at ${WEBROOT} through the package's ${site} site.`)
        .raw(
          `if ! a2query -q -s ${quote([site])}; then a2ensite -q ${quote([site])}; osc_mark_changed horizon; fi`,
        );
    }
    const manage = ["python3", release.paths.horizonManage];
    script
      .comment("Static files are compressed for one set of settings: again when they change.")
      .raw(`osc_static=$(sha256sum ${quote(files)} | sha256sum | cut -d' ' -f1)`)
      .raw(`if [ "$(cat ${STATIC_STAMP} 2>/dev/null || true)" != "$osc_static" ]; then`)
      .raw(`  ${quote([...manage, "collectstatic", "--noinput", "--clear", "-v", "0"])}`)
      .raw(`  ${quote([...manage, "compress", "--force", "-v", "0"])}`)
      .raw(`  install -d -m 0700 ${path.posix.dirname(STATIC_STAMP)}`)
      .raw(`  printf '%s\\n' "$osc_static" >${STATIC_STAMP}`)
      .raw("  osc_mark_changed horizon")
      .raw("fi")
      .restartIfChanged([release.units.horizon], "horizon")
      .waitForPort(host.address, 80, 60)
      .comment("The login page answers on this controller.")
      .run(...loginCheck(host.address, this.allowedHosts));
    return host.addStep("horizon", script, { secrets: [SECRET] });
  }
}

/** curl of the login page at ADDRESS, with a Host header Django accepts. */
function loginCheck(address: string, allowedHosts: readonly string[]): string[] {
  const host = net.isIPv6(address) ? `[${address}]` : address;
  const header = allowedHosts.includes(host) ? [] : ["-H", `Host: ${allowedHosts[0]}`];
  const retry = ["--retry", "10", "--retry-connrefused", "--retry-delay", "2"];
  return ["curl", "-fsS", "-o", "/dev/null", ...retry, ...header, `http://${host}${WEBROOT}auth/login/`];
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
    else if (net.isIPv6(entry)) value = `[${entry}]`;
    else if (HOSTNAME.test(entry)) value = entry.toLowerCase();
    else {
      throw new Error(
        `HorizonDashboard allowedHosts: got ${JSON.stringify(entry)}: expected a hostname or an IP address (no wildcards)`,
      );
    }
    if (!out.includes(value)) out.push(value);
  }
  return out;
}
