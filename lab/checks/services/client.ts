/**
 * How the checks talk to the OpenStack APIs: the openstack CLI as admin on a controller
 * (`runOsc`, one Python process for many commands), the API prober through the VIP for the
 * failover, and what the per-service check files share (constants from lib/, verdicts).
 *
 * The CLI commands run in one Python process per host (`openstackclient.shell`, the code behind
 * the `openstack` command, one fresh shell per command): a CLI start costs ~1.3 s here, a
 * command in a running process ~0.3 s. The admin password stays on the controllers (admin-openrc)
 * or reaches a probe on stdin; no token, cookie or password is ever printed.
 */
import { ApiDeclaration } from "../../../lib/core/component";
import { ADMIN_OPENRC } from "../../../lib/services/keystone";
import { secretSpec } from "../../../lib/cluster/components";
import { HOST_SECRETS_DIR } from "../../../lib/core/shell-script";
import { HostPlan } from "../../plan";
import { bashCommand, controllers, holdersOf, remote, serviceAddress } from "../platform";
import { ProbeEvent, Prober } from "../prober";
import { pythonProgram } from "../python";
import { Check, CheckContext } from "../types";
import { ReleaseProfile } from "../../../lib/core/releases";

export { ADMIN_OPENRC };
/** The admin's password on every controller (root-only, from the cluster's secrets). */
export const ADMIN_PASSWORD_SECRET = `${HOST_SECRETS_DIR}/${secretSpec("keystone_admin_password").name}`;
/** The admin KeystoneService bootstraps (`keystone-manage bootstrap`'s defaults, as in admin-openrc). */
export const ADMIN_USER = "admin";
export const ADMIN_DOMAIN = "Default";

/**
 * A service's API as the checks ask it: its catalog type and port (the service's `*_API` in
 * lib/services/), the path its version document answers on.
 */
export interface ApiSpec extends ApiDeclaration {
  readonly path: string;
  /** An authenticated GET that lists something (`{project}` = the token's project id): api-cold-start. */
  readonly listPath: string;
}

export type Verdict = { ok: boolean; detail: string };

export function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** `http://address` with an IPv6 address bracketed. */
export function httpBase(address: string): string {
  return `http://${address.includes(":") ? `[${address}]` : address}`;
}

/** Where the VIP results are reported: the VIP's name, or the single controller. */
export function serviceHostName(ctx: CheckContext): string {
  return ctx.inventory.management.vip ? ctx.inventory.management.vipName : controllers(ctx)[0].name;
}

/** Where the CLI runs: a controller that does not hold the VIP (a client over the network), else the first. */
export function cliHost(ctx: CheckContext): HostPlan {
  const c = controllers(ctx);
  const address = serviceAddress(ctx);
  const holders = address ? holdersOf(ctx, address) : [];
  return c.find((h) => !holders.includes(h)) ?? c[0];
}

// ---------------------------------------------------------------------------------------------
// The CLI runner (lab/checks/py/osc_runner.py): admin-openrc sourced, commands as JSON on stdin.

export interface OscCommand {
  readonly name: string;
  /** Arguments of `openstack`; `{dir}` is the runner's private temp dir. */
  readonly argv: readonly string[];
  /** Extra environment for this command (e.g. OS_AUTH_URL of one controller). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Repeat (1 s apart) until the JSON output has key = value, up to `seconds`; also stops when
   * the command fails, or when key has one of `stopOn` (a state it will not leave, e.g. error).
   */
  readonly until?: {
    readonly key: string;
    readonly value: string;
    readonly seconds: number;
    readonly stopOn?: readonly string[];
  };
}

export interface OscRequest {
  /** Random files to create in the temp dir: name -> bytes. */
  readonly files?: Readonly<Record<string, number>>;
  /** Files in the temp dir to hash at the end (after the commands). */
  readonly hash?: readonly string[];
  /** URLs to GET first (status code only). */
  readonly http?: readonly string[];
  readonly commands?: readonly OscCommand[];
}

export interface OscCommandResult {
  readonly name: string;
  readonly rc: number;
  readonly out: string;
  /** The last lines of stderr. */
  readonly err: string;
  readonly ms: number;
}

export interface OscReply {
  readonly commands: OscCommandResult[];
  readonly files: Record<string, { size: number; sha256: string; md5: string; sha512: string }>;
  readonly http: { url: string; code: number | string; ms: number }[];
}

/** Sources admin-openrc (which must be there), then runs helper `file` with `args`. */
function withOpenrc(file: string, ...args: string[]): string {
  return bashCommand(
    `[ -r ${ADMIN_OPENRC} ] || { echo "no ${ADMIN_OPENRC}" >&2; exit 3; }
. ${ADMIN_OPENRC}
script=$1
shift
exec python3 -c "$script" "$@"`,
    pythonProgram(file),
    ...args,
  );
}

/** Runs CLI commands (and HTTP GETs) on a controller as admin, in one process. */
export async function runOsc(
  ctx: CheckContext,
  host: HostPlan,
  request: OscRequest,
  timeoutMs = 240_000,
): Promise<OscReply> {
  const out = await remote(ctx, host, withOpenrc("osc_runner.py"), {
    input: JSON.stringify(request),
    timeoutMs,
  });
  const line = out.split("\n").find((l) => l.startsWith("OSC-RESULT "));
  if (!line) throw new Error(`${host.name}: the CLI runner printed no result`);
  return JSON.parse(line.slice("OSC-RESULT ".length)) as OscReply;
}

export function command(reply: OscReply, name: string): OscCommandResult {
  const c = reply.commands.find((x) => x.name === name);
  if (!c) throw new Error(`no result for ${name}`);
  return c;
}

/** Parses a command's JSON output; throws naming the command and its error when it failed. */
export function jsonOf<T>(c: OscCommandResult, what: string): T {
  if (c.rc !== 0) throw new Error(`\`openstack ${what}\` failed (exit ${c.rc}): ${oneLine(c.err)}`);
  try {
    return JSON.parse(c.out) as T;
  } catch {
    throw new Error(`\`openstack ${what}\`: output is not JSON`);
  }
}

export function oneLine(text: string): string {
  return text.trim().split("\n").join(" | ") || "no message";
}

/** What went wrong with the named commands of a reply, one line each (empty: all ended well). */
export function failedCommands(reply: OscReply, names: readonly string[]): string[] {
  return names.flatMap((n) => {
    const c = command(reply, n);
    return c.rc === 0 ? [] : [`\`openstack ${n.replace("-", " ")}\` failed: ${oneLine(c.err)}`];
  });
}

/** A transfer rate, `12.3 MiB/s`. */
export function rate(bytes: number, ms: number): string {
  return `${(bytes / 1024 / 1024 / (ms / 1000)).toFixed(1)} MiB/s`;
}

// ---------------------------------------------------------------------------------------------
// For the failover: the API prober (lab/checks/py/api_prober.py) through the VIP.

/**
 * On a controller with admin-openrc: every `intervalSeconds` a new attempt of `openstack token
 * issue` + `openstack image list` through the VIP, killed after `limitSeconds`, at most
 * `maxInFlight` at once; its lines are the MySQL writer's format.
 */
export function apiProber(
  host: HostPlan,
  log?: string,
  intervalSeconds = 1,
  limitSeconds = 20,
  maxInFlight = 4,
): Prober {
  return new Prober(
    host,
    withOpenrc("api_prober.py", String(intervalSeconds), String(limitSeconds), String(maxInFlight)),
    {
      name: `the API prober on ${host.name}`,
      log,
      logPrefix: host.name,
      stopGraceMs: 20_000,
      stderrInError: "last-line",
    },
  );
}

/**
 * When API calls through the VIP worked again after `trigger`: the earliest end of a successful
 * attempt begun at or after the trigger and after the last failed attempt began (attempts
 * overlap, so one begun later may end first). Undefined when none has succeeded yet.
 */
export function recovery(
  events: readonly ProbeEvent[],
  trigger: number,
  until: number,
): { recoveredMs: number | undefined; failed: number; lastError?: string } {
  const window = events.filter((e) => e.end > trigger && e.start <= until);
  const failures = window.filter((e) => !e.ok).sort((a, b) => a.start - b.start);
  const last = failures[failures.length - 1];
  const ends = window
    .filter((e) => e.ok && e.start >= trigger && (!last || e.start > last.start))
    .map((e) => e.end);
  return {
    recoveredMs: ends.length ? Math.min(...ends) - trigger : undefined,
    failed: failures.length,
    lastError: last?.info,
  };
}

// ---------------------------------------------------------------------------------------------
// `openstack compute service list` / `volume service list` (nova, cinder, the failover).

export interface ServiceRow {
  readonly Binary: string;
  readonly Host: string;
  readonly Status: string;
  readonly State: string;
  readonly "Updated At"?: string | null;
}

/** `Updated At` (UTC, no zone) as epoch ms, or NaN. */
export function updatedAtMs(row: ServiceRow): number {
  const at = row["Updated At"];
  if (!at) return NaN;
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(at) ? at : `${at}Z`);
}

/**
 * Each binary is enabled and up on each host (`Host` is the host name, or `name@backend`).
 * With `since`, its last report must also be at or after `since` (epoch ms; services reported
 * before a power cut stay `up` for service_down_time, 60 s by default).
 */
export function judgeServices(
  rows: readonly ServiceRow[],
  binaries: readonly string[],
  hosts: readonly string[],
  since?: number,
): { ok: boolean; detail: string; missing: string[] } {
  const missing: string[] = [];
  const fine: string[] = [];
  for (const host of hosts) {
    for (const binary of binaries) {
      const row = rows.find((r) => r.Binary === binary && (r.Host === host || r.Host.startsWith(`${host}@`)));
      if (!row) missing.push(`${binary} on ${host}: not listed`);
      else if (row.State !== "up" || row.Status !== "enabled")
        missing.push(`${binary} on ${host}: ${row.Status} ${row.State}`);
      else if (since !== undefined && !(updatedAtMs(row) >= since - 1000))
        missing.push(
          `${binary} on ${host}: last report ${row["Updated At"] ?? "never"}, before the power-on`,
        );
      else fine.push(`${binary}@${host}`);
    }
  }
  const others = rows
    .filter(
      (r) => !binaries.includes(r.Binary) || !hosts.some((h) => r.Host === h || r.Host.startsWith(`${h}@`)),
    )
    .map((r) => `${r.Binary}@${r.Host} ${r.State}`);
  return {
    ok: missing.length === 0,
    missing,
    detail:
      (missing.length ? missing.join("; ") : `${fine.join(", ")} enabled and up`) +
      (others.length ? `; also listed: ${others.join(", ")}` : ""),
  };
}

// ---------------------------------------------------------------------------------------------
// What a service's check file (keystone.ts, glance.ts, …) gives the shared checks.

/** A service's part of `openstack-api`: commands for the one CLI process, checks judged from the reply. */
export interface ViaVip {
  /** Random files to create first: name -> bytes. */
  readonly files?: Readonly<Record<string, number>>;
  /** Files to hash after the commands. */
  readonly hash?: readonly string[];
  readonly commands: readonly OscCommand[];
  /** In verify's order; a judge that throws fails its check with the message. */
  readonly checks: readonly { readonly name: string; judge(reply: OscReply): Verdict }[];
}

/** What openstack-api tells each service's part. */
export interface Cloud {
  /** The VIP, or the single controller's address. */
  readonly address: string;
  /** The controllers' names. */
  readonly controllers: readonly string[];
  /** Every registered service's API (catalog.ts). */
  readonly apis: readonly ApiSpec[];
}

export interface ServiceChecks {
  /** As its file in lib/services/. */
  readonly name: string;
  /** Its API (control-plane, the catalog in os-endpoints, api-keepalive, api-cold-start). */
  readonly api?: ApiSpec;
  /** Its systemd units on a controller (control-plane, api-cold-start, the failover). */
  units(release: ReleaseProfile): readonly string[];
  /** Its part of openstack-api, through the VIP. */
  viaVip?(ctx: CheckContext, cloud: Cloud): ViaVip;
  /** Checks of its own, run after openstack-api. */
  readonly checks?: readonly Check[];
}

/**
 * A part of openstack-api: `openstack <kind> service list` through the VIP must show each of
 * `binaries` enabled and up on every controller (nova.ts, cinder.ts).
 */
export function controllerServices(
  kind: "compute" | "volume",
  check: string,
  binaries: readonly string[],
): NonNullable<ServiceChecks["viaVip"]> {
  return (_ctx, cloud) => ({
    commands: [serviceList(kind)],
    checks: [
      {
        name: check,
        judge: (reply) =>
          judgeServices(
            jsonOf<ServiceRow[]>(command(reply, kind), `${kind} service list`),
            binaries,
            cloud.controllers,
          ),
      },
    ],
  });
}

/** `openstack compute|volume service list -f json`, named after its kind. */
export function serviceList(kind: "compute" | "volume"): OscCommand {
  return { name: kind, argv: [kind, "service", "list", "-f", "json"] };
}
