/**
 * The OpenStack control plane on the controllers, as a user sees it: on each controller the
 * services run, every API answers on the controller's own address and its Keystone issues a
 * token; through the VIP (with the openstack CLI on a controller, as root with admin-openrc):
 * a token, the catalog (identity, image, placement, compute, network, volumev3, each with public,
 * internal and admin endpoints on the VIP), nova-conductor and nova-scheduler up on every
 * controller, cinder-scheduler up on every controller, the network API answering, and an image
 * uploaded to Glance that becomes active and downloads back identical; Horizon's login page and a
 * real login as admin from a host that is no controller.
 *
 * The CLI commands run in one Python process per host (`openstackclient.shell`, the code behind
 * the `openstack` command, one fresh shell per command): a CLI start costs ~1.3 s here, a
 * command in a running process ~0.3 s. The admin password stays on the controllers (admin-openrc)
 * or reaches the login probe on stdin; no token, cookie or password is ever printed.
 */
import { ChildProcess } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import { releaseProfile } from "../../lib/core/releases";
import { sleep } from "../exec";
import { HostPlan } from "../plan";
import { sshSpawn } from "../ssh";
import { bashCommand, clientHost, controllers, holdersOf, remote, serviceAddress } from "./platform";
import { Check, CheckContext, CheckResult, perHost, skip } from "./types";

export const ADMIN_OPENRC = "/root/admin-openrc";
export const ADMIN_PASSWORD_SECRET = "/etc/openstack-cdktf/secrets/keystone_admin_password";
const ADMIN_USER = "admin";
const ADMIN_DOMAIN = "Default";
const HORIZON_PATH = "/horizon/";

/** The services the library registers in the catalog: type, port, path its version document answers on. */
export const API_SERVICES: readonly { type: string; port: number; path: string }[] = [
  { type: "identity", port: 5000, path: "/v3" },
  { type: "image", port: 9292, path: "/" },
  { type: "placement", port: 8778, path: "/" },
  { type: "compute", port: 8774, path: "/" },
  { type: "network", port: 9696, path: "/" },
  { type: "volumev3", port: 8776, path: "/" },
];
export const INTERFACES = ["public", "internal", "admin"] as const;
/** Per controller, in `openstack compute service list` / `volume service list`. */
export const CONTROLLER_COMPUTE_BINARIES = ["nova-conductor", "nova-scheduler"];
export const CONTROLLER_VOLUME_BINARIES = ["cinder-scheduler"];

/** The systemd units the library runs on a controller for the control plane (release profile). */
export function controlPlaneUnits(release: string): string[] {
  const u = releaseProfile(release).units;
  return [
    ...new Set([
      u.keystone,
      u.glance,
      u.placement,
      ...u.novaController,
      ...u.neutronServer,
      ...u.cinderController,
      u.horizon,
    ]),
  ];
}

function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

// ---------------------------------------------------------------------------------------------
// The CLI runner: one Python process, admin-openrc sourced, commands as JSON on stdin.

export interface OscCommand {
  readonly name: string;
  /** Arguments of `openstack`; `{dir}` is the runner's private temp dir. */
  readonly argv: readonly string[];
  /** Extra environment for this command (e.g. OS_AUTH_URL of one controller). */
  readonly env?: Readonly<Record<string, string>>;
  /** Repeat (1 s apart) until the JSON output has key = value, up to `seconds`. */
  readonly until?: { readonly key: string; readonly value: string; readonly seconds: number };
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

const RUNNER = String.raw`
import contextlib, hashlib, io, json, os, shutil, sys, tempfile, time, urllib.error, urllib.request

req = json.load(sys.stdin)
work = tempfile.mkdtemp(prefix="osc-check-")
res = {"commands": [], "files": {}, "http": []}

def osc(argv, env):
    from openstackclient import shell
    saved = dict(os.environ)
    os.environ.update(env)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = shell.OpenStackShell().run(argv)
            except SystemExit as e:
                rc = e.code if isinstance(e.code, int) else 1
            except Exception as e:
                rc = 1
                print(type(e).__name__, str(e)[:300], file=sys.stderr)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    lines = [l for l in err.getvalue().splitlines() if l.strip()]
    return rc, out.getvalue(), "\n".join(lines[-3:])[-600:]

try:
    for name, size in req.get("files", {}).items():
        with open(os.path.join(work, name), "wb") as f:
            f.write(os.urandom(size))
    for url in req.get("http", []):
        t0 = time.time()
        try:
            with urllib.request.urlopen(url, timeout=20) as r:
                code = r.status
        except urllib.error.HTTPError as e:
            code = e.code
        except Exception as e:
            code = (type(e).__name__ + ": " + str(e))[:160]
        res["http"].append({"url": url, "code": code, "ms": int((time.time() - t0) * 1000)})
    for c in req.get("commands", []):
        argv = [a.replace("{dir}", work) for a in c["argv"]]
        until = c.get("until")
        t0 = time.time()
        while True:
            rc, out, err = osc(argv, c.get("env", {}))
            if not until or rc != 0:
                break
            try:
                done = str(json.loads(out).get(until["key"])) == until["value"]
            except ValueError:
                done = False
            if done or time.time() - t0 > until["seconds"]:
                break
            time.sleep(1)
        res["commands"].append({"name": c["name"], "rc": rc, "out": out, "err": err,
                                "ms": int((time.time() - t0) * 1000)})
    for name in req.get("hash", []):
        p = os.path.join(work, name)
        if os.path.exists(p):
            with open(p, "rb") as f:
                data = f.read()
            res["files"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                                  "md5": hashlib.md5(data).hexdigest(),
                                  "sha512": hashlib.sha512(data).hexdigest()}
finally:
    shutil.rmtree(work, ignore_errors=True)
print("\nOSC-RESULT " + json.dumps(res))
`;

/** Sources admin-openrc (which must be there), then runs the Python script $1 with the rest. */
function withOpenrc(script: string, ...args: string[]): string {
  return bashCommand(
    `[ -r ${ADMIN_OPENRC} ] || { echo "no ${ADMIN_OPENRC}" >&2; exit 3; }
. ${ADMIN_OPENRC}
script=$1
shift
exec python3 -c "$script" "$@"`,
    script,
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
  const out = await remote(ctx, host, withOpenrc(RUNNER), { input: JSON.stringify(request), timeoutMs });
  const line = out.split("\n").find((l) => l.startsWith("OSC-RESULT "));
  if (!line) throw new Error(`${host.name}: the CLI runner printed no result`);
  return JSON.parse(line.slice("OSC-RESULT ".length)) as OscReply;
}

function command(reply: OscReply, name: string): OscCommandResult {
  const c = reply.commands.find((x) => x.name === name);
  if (!c) throw new Error(`no result for ${name}`);
  return c;
}

/** Parses a command's JSON output; throws naming the command and its error when it failed. */
function jsonOf<T>(c: OscCommandResult, what: string): T {
  if (c.rc !== 0) throw new Error(`\`openstack ${what}\` failed (exit ${c.rc}): ${oneLine(c.err)}`);
  try {
    return JSON.parse(c.out) as T;
  } catch {
    throw new Error(`\`openstack ${what}\`: output is not JSON`);
  }
}

function oneLine(text: string): string {
  return text.trim().split("\n").join(" | ") || "no message";
}

// ---------------------------------------------------------------------------------------------
// Judgements (pure: unit-tested).

export interface Endpoint {
  readonly "Service Type": string;
  readonly Interface: string;
  readonly URL: string;
  readonly Enabled: boolean;
  readonly Region?: string;
}

/**
 * Every registered service type has exactly one enabled public, internal and admin endpoint,
 * each `http://<address>:<port>…` with the service's port; no endpoint points elsewhere.
 */
export function judgeEndpoints(
  endpoints: readonly Endpoint[],
  address: string,
  region = "RegionOne",
): { ok: boolean; detail: string } {
  const problems: string[] = [];
  for (const s of API_SERVICES) {
    for (const iface of INTERFACES) {
      const found = endpoints.filter((e) => e["Service Type"] === s.type && e.Interface === iface);
      const want = `http://${hostPort(address, s.port)}`;
      if (found.length === 0) problems.push(`no ${s.type} ${iface} endpoint`);
      else if (found.length > 1) problems.push(`${found.length} ${s.type} ${iface} endpoints`);
      for (const e of found) {
        if (e.URL !== want && !e.URL.startsWith(`${want}/`))
          problems.push(`${s.type} ${iface} is ${e.URL}, expected ${want}…`);
        if (!e.Enabled) problems.push(`${s.type} ${iface} disabled`);
        if (e.Region !== undefined && e.Region !== region)
          problems.push(`${s.type} ${iface} in region ${e.Region}`);
      }
    }
  }
  const known = new Set(API_SERVICES.map((s) => s.type));
  for (const e of endpoints) {
    if (!known.has(e["Service Type"]) && !e.URL.startsWith(`http://${address}:`))
      problems.push(`${e["Service Type"]} ${e.Interface} is ${e.URL}, not on ${address}`);
  }
  return {
    ok: problems.length === 0,
    detail: problems.length
      ? problems.join("; ")
      : `${API_SERVICES.map((s) => `${s.type} :${s.port}`).join(", ")}: public, internal and admin on ${address}, enabled (${endpoints.length} endpoints)`,
  };
}

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

/** Parses the login probe's `STEP name ok|fail detail` lines; all steps must be ok. */
export function judgeHorizon(output: string): { ok: boolean; detail: string } {
  const steps = output
    .split("\n")
    .map((l) => /^STEP (\S+) (ok|fail) ?(.*)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null);
  const failed = steps.find((m) => m[2] === "fail");
  const names = steps.map((m) => m[1]);
  const need = ["root", "login-page", "login", "landing", "project", "admin", "logout"];
  const absent = need.filter((n) => !names.includes(n));
  if (failed) return { ok: false, detail: `${failed[1]}: ${failed[3]}` };
  if (absent.length > 0) return { ok: false, detail: `the login probe stopped before: ${absent.join(", ")}` };
  const get = (n: string) => steps.find((m) => m[1] === n)?.[3] ?? "";
  return {
    ok: true,
    detail: `${get("root")}; login page with CSRF token and cookie; ${get("login")}; ${get("landing")}; /horizon/project/ and /horizon/admin/ 200 logged in; logged out`,
  };
}

// ---------------------------------------------------------------------------------------------
// Per controller: units, APIs on its own address, a token from its own Keystone.

async function controllerPlane(ctx: CheckContext, host: HostPlan): Promise<CheckResult> {
  const name = "control-plane";
  try {
    const units = controlPlaneUnits(ctx.inventory.release);
    const problems: string[] = [];
    const states = (
      await ctx.ssh(host, `systemctl is-active ${units.join(" ")}; stat -c '%a %U' ${ADMIN_OPENRC}`, 30_000)
    ).stdout
      .trim()
      .split("\n");
    units.forEach((u, i) => {
      if (states[i] !== "active") problems.push(`${u} is ${states[i] || "unknown"}`);
    });
    const openrc = states[units.length] ?? "";
    if (openrc !== "600 root") problems.push(`${ADMIN_OPENRC} is ${openrc || "missing"}, expected 600 root`);
    const urls = [
      ...API_SERVICES.map((s) => `http://${hostPort(host.address, s.port)}${s.path}`),
      `http://${host.address.includes(":") ? `[${host.address}]` : host.address}${HORIZON_PATH}auth/login/`,
    ];
    const reply = await runOsc(ctx, host, {
      http: urls,
      commands: [
        {
          name: "token",
          argv: ["token", "issue", "-f", "json", "-c", "expires"],
          env: { OS_AUTH_URL: `http://${hostPort(host.address, 5000)}/v3` },
        },
      ],
    });
    for (const h of reply.http) {
      const ok = h.code === 200 || h.code === 300;
      if (!ok) problems.push(`GET ${h.url}: ${h.code}`);
    }
    const token = command(reply, "token");
    if (token.rc !== 0) problems.push(`its own Keystone issues no token: ${oneLine(token.err)}`);
    return {
      check: name,
      host: host.name,
      ok: problems.length === 0,
      detail: problems.length
        ? problems.join("; ")
        : `${units.length} units active; ${reply.http.map((h) => `${new URL(h.url).port || "80"} ${h.code}`).join(", ")} on ${host.address}; token from its own Keystone (${token.ms} ms)`,
    };
  } catch (err) {
    return { check: name, host: host.name, ok: false, detail: (err as Error).message };
  }
}

export const controlPlane: Check = {
  name: "control-plane",
  async run(ctx) {
    const c = controllers(ctx);
    if (c.length === 0) return [skip("control-plane", "-", "no controller in the inventory")];
    return Promise.all(c.map((h) => controllerPlane(ctx, h)));
  },
};

// ---------------------------------------------------------------------------------------------
// Through the VIP: token, catalog, services, networks, an image round trip.

/** Where the CLI runs: a controller that does not hold the VIP (a client over the network), else the first. */
export function cliHost(ctx: CheckContext): HostPlan {
  const c = controllers(ctx);
  const address = serviceAddress(ctx);
  const holders = address ? holdersOf(ctx, address) : [];
  return c.find((h) => !holders.includes(h)) ?? c[0];
}

export const openstackApi: Check = {
  name: "openstack-api",
  async run(ctx) {
    const c = controllers(ctx);
    const address = serviceAddress(ctx);
    if (c.length === 0 || !address) return [skip("openstack-api", "-", "no controller in the inventory")];
    const where = ctx.inventory.management.vip ? ctx.inventory.management.vipName : c[0].name;
    const from = cliHost(ctx);
    const names = c.map((h) => h.name);
    const image = `osc-check-${randomBytes(4).toString("hex")}`;
    const size = 1024 * 1024 + 17;
    const result = (check: string, ok: boolean, detail: string): CheckResult => ({
      check,
      host: where,
      ok,
      detail: `${detail} [openstack CLI on ${from.name} via ${address}]`,
    });
    let reply: OscReply;
    try {
      reply = await runOsc(ctx, from, {
        files: { "upload.img": size },
        hash: ["upload.img", "download.img"],
        commands: [
          { name: "token", argv: ["token", "issue", "-f", "json", "-c", "expires", "-c", "project_id"] },
          { name: "endpoints", argv: ["endpoint", "list", "-f", "json"] },
          { name: "compute", argv: ["compute", "service", "list", "-f", "json"] },
          { name: "volume", argv: ["volume", "service", "list", "-f", "json"] },
          { name: "network", argv: ["network", "list", "-f", "json"] },
          {
            name: "image-create",
            argv: [
              "image", "create", "--file", "{dir}/upload.img", "--disk-format", "raw",
              "--container-format", "bare", "--private", "-f", "json", "-c", "id", image,
            ], // prettier-ignore
          },
          {
            name: "image-show",
            argv: ["image", "show", "-f", "json", image],
            until: { key: "status", value: "active", seconds: 60 },
          },
          { name: "image-save", argv: ["image", "save", "--file", "{dir}/download.img", image] },
          { name: "image-delete", argv: ["image", "delete", image] },
          { name: "image-list", argv: ["image", "list", "-f", "json"] },
        ],
      });
    } catch (err) {
      return [result("os-token", false, (err as Error).message)];
    }
    const results: CheckResult[] = [];
    const judge = (check: string, fn: () => { ok: boolean; detail: string }) => {
      try {
        const r = fn();
        results.push(result(check, r.ok, r.detail));
      } catch (err) {
        results.push(result(check, false, (err as Error).message));
      }
    };
    judge("os-token", () => {
      const c0 = command(reply, "token");
      const t = jsonOf<{ expires?: string }>(c0, "token issue");
      return {
        ok: Boolean(t.expires),
        detail: `token issued for ${ADMIN_USER} (expires ${t.expires}, ${c0.ms} ms)`,
      };
    });
    judge("os-endpoints", () =>
      judgeEndpoints(jsonOf<Endpoint[]>(command(reply, "endpoints"), "endpoint list"), address),
    );
    judge("os-compute-services", () =>
      judgeServices(
        jsonOf<ServiceRow[]>(command(reply, "compute"), "compute service list"),
        CONTROLLER_COMPUTE_BINARIES,
        names,
      ),
    );
    judge("os-volume-services", () =>
      judgeServices(
        jsonOf<ServiceRow[]>(command(reply, "volume"), "volume service list"),
        CONTROLLER_VOLUME_BINARIES,
        names,
      ),
    );
    judge("os-network", () => {
      const c0 = command(reply, "network");
      const nets = jsonOf<unknown[]>(c0, "network list");
      return {
        ok: Array.isArray(nets),
        detail: `network list answered: ${nets.length} networks (${c0.ms} ms)`,
      };
    });
    judge("os-image", () => {
      const created = command(reply, "image-create");
      if (created.rc !== 0) throw new Error(`\`openstack image create\` failed: ${oneLine(created.err)}`);
      const shown = jsonOf<{ status?: string; checksum?: string; size?: number; os_hash_value?: string }>(
        command(reply, "image-show"),
        "image show",
      );
      const up = reply.files["upload.img"];
      const down = reply.files["download.img"];
      const save = command(reply, "image-save");
      const del = command(reply, "image-delete");
      const listed = jsonOf<{ Name: string }[]>(command(reply, "image-list"), "image list");
      const problems: string[] = [];
      if (shown.status !== "active") problems.push(`status ${shown.status} after 60 s, expected active`);
      if (Number(shown.size) !== size) problems.push(`Glance says size ${shown.size}, uploaded ${size}`);
      if (shown.checksum !== up?.md5) problems.push(`Glance's checksum differs from the uploaded file's MD5`);
      if (shown.os_hash_value && shown.os_hash_value !== up?.sha512)
        problems.push(`Glance's os_hash_value differs from the uploaded file's SHA-512`);
      if (save.rc !== 0) problems.push(`\`openstack image save\` failed: ${oneLine(save.err)}`);
      else if (!down) problems.push("no downloaded file");
      else if (down.sha256 !== up?.sha256)
        problems.push(`downloaded ${down.size} bytes differ from the uploaded ${up?.size}`);
      if (del.rc !== 0) problems.push(`\`openstack image delete\` failed: ${oneLine(del.err)}`);
      if (listed.some((i) => i.Name === image)) problems.push(`${image} still listed after delete`);
      const holder = ctx.inventory.management.vip
        ? holdersOf(ctx, ctx.inventory.management.vip)[0]?.name
        : undefined;
      return {
        ok: problems.length === 0,
        detail: problems.length
          ? `${image}: ${problems.join("; ")}`
          : `${image} (${size} bytes) uploaded, active after ${command(reply, "image-show").ms} ms, checksum and os_hash_value match, downloaded back identical (SHA-256), deleted${holder ? `; data was on ${holder}` : ""}`,
      };
    });
    return results;
  },
};

// ---------------------------------------------------------------------------------------------
// Horizon: a real login as admin from a host that is no controller.

const HORIZON_PROBE = String.raw`
import http.cookiejar, sys, time, urllib.error, urllib.parse, urllib.request
from html.parser import HTMLParser

base, username, domain = sys.argv[1], sys.argv[2], sys.argv[3]
password = sys.stdin.readline().rstrip("\n")
login_url = urllib.parse.urljoin(base, "auth/login/")
jar = http.cookiejar.CookieJar()

class Keep(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), Keep)

def fetch(url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    t0 = time.time()
    try:
        with opener.open(req, timeout=60) as r:
            status, hdrs, body = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, body = e.code, e.headers, e.read()
    return status, hdrs.get("Location", ""), body.decode("utf-8", "replace"), int((time.time() - t0) * 1000)

def step(name, ok, detail):
    print("STEP", name, "ok" if ok else "fail", detail.replace("\n", " ")[:300], flush=True)
    if not ok:
        sys.exit(0)

def cookie(name):
    return any(c.name == name for c in jar)

class Form(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields, self.select = {}, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""
        elif tag == "select" and a.get("name"):
            self.select = a["name"]
            self.fields.setdefault(self.select, "")
        elif tag == "option" and self.select:
            if not self.fields[self.select] or "selected" in a:
                self.fields[self.select] = a.get("value") or ""
    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None

status, location, body, ms = fetch(base)
step("root", status == 200 or (status == 302 and "auth/login" in location),
     "GET %s: %s%s (%d ms)" % (base, status, " -> " + location if location else "", ms))
status, location, body, ms = fetch(login_url)
form = Form()
form.feed(body)
step("login-page", status == 200 and "csrfmiddlewaretoken" in form.fields and "password" in form.fields and cookie("csrftoken"),
     "GET %s: %s, form fields %s, csrftoken cookie %s (%d ms)" % (login_url, status, ",".join(sorted(form.fields)), "set" if cookie("csrftoken") else "missing", ms))
fields = dict(form.fields)
fields["username"], fields["password"] = username, password
if "domain" in fields:
    fields["domain"] = domain
status, location, body, ms = fetch(login_url, urllib.parse.urlencode(fields).encode(),
                                   {"Referer": login_url, "Content-Type": "application/x-www-form-urlencoded"})
refused = "Invalid credentials" in body or "An error occurred authenticating" in body
step("login", status == 302 and "auth/login" not in location and cookie("sessionid"),
     "POST auth/login/ as %s (region %s%s): %s%s, sessionid cookie %s%s (%d ms)" % (
         username, fields.get("region", "-"), ", domain " + domain if "domain" in fields else "", status,
         " -> " + location if location else "", "set" if cookie("sessionid") else "missing",
         " (the form says: invalid credentials)" if refused else "", ms))
url = urllib.parse.urljoin(login_url, location)
chain = []
for _ in range(5):
    status, location, body, ms = fetch(url)
    chain.append("%s %s" % (urllib.parse.urlparse(url).path, status))
    if status not in (301, 302) or not location:
        break
    url = urllib.parse.urljoin(url, location)
step("landing", status == 200 and "auth/logout" in body,
     "then " + " -> ".join(chain) + ("" if "auth/logout" in body else " (no sign-out link: not logged in)"))
for panel in ("project/", "admin/"):
    u = urllib.parse.urljoin(base, panel)
    status, location, body, ms = fetch(u)
    step(panel.rstrip("/"), status == 200 and "auth/logout" in body,
         "GET %s: %s%s, %s (%d ms)" % (u, status, " -> " + location if location else "",
                                       "logged in" if "auth/logout" in body else "not logged in", ms))
status, location, body, ms = fetch(urllib.parse.urljoin(base, "auth/logout/"))
step("logout", status in (200, 302), "GET auth/logout/: %s" % status)
`;

export const horizonLogin: Check = {
  name: "horizon-login",
  async run(ctx) {
    const c = controllers(ctx);
    const address = serviceAddress(ctx);
    if (c.length === 0 || !address) return [skip("horizon-login", "-", "no controller in the inventory")];
    const client = clientHost(ctx);
    const base = `http://${address.includes(":") ? `[${address}]` : address}${HORIZON_PATH}`;
    const where = ctx.inventory.management.vip ? ctx.inventory.management.vipName : c[0].name;
    try {
      const password = (await remote(ctx, c[0], `cat ${ADMIN_PASSWORD_SECRET}`)).trim();
      if (!password) throw new Error(`${c[0].name}: ${ADMIN_PASSWORD_SECRET} is empty`);
      const out = await remote(
        ctx,
        client,
        bashCommand('exec python3 -c "$1" "$2" "$3" "$4"', HORIZON_PROBE, base, ADMIN_USER, ADMIN_DOMAIN),
        { input: `${password}\n`, timeoutMs: 180_000 },
      );
      const verdict = judgeHorizon(out);
      return [
        {
          check: "horizon-login",
          host: where,
          ok: verdict.ok,
          detail: `from ${client.name}: ${verdict.detail}`,
        },
      ];
    } catch (err) {
      return [{ check: "horizon-login", host: where, ok: false, detail: (err as Error).message }];
    }
  },
};

// The pool `manage.py compress` gets once Horizon's settings are loaded as that command loads
// them: 1 with the library's guard (pyScss is not thread-safe; see lib/services/horizon.ts).
const COMPRESS_POOL_PROBE = `
import os, sys
sys.argv = ["/usr/share/openstack-dashboard/manage.py", "compress"]
sys.path.insert(0, "/usr/share/openstack-dashboard")
os.environ["DJANGO_SETTINGS_MODULE"] = "openstack_dashboard.settings"
import django
django.setup()
import concurrent.futures
print(concurrent.futures.ThreadPoolExecutor(max_workers=4)._max_workers)
`;

export const horizonCompressPool = perHost(
  "horizon-compress-pool",
  async (host, ctx) => {
    const r = await ctx.ssh(host, bashCommand('exec python3 -W ignore -c "$1"', COMPRESS_POOL_PROBE), 60_000);
    const workers = r.stdout.trim();
    return {
      ok: r.code === 0 && workers === "1",
      detail:
        r.code === 0
          ? `manage.py compress gets a pool of ${workers} thread(s) (expected 1)`
          : `probe exit ${r.code}: ${r.stderr.trim().split("\n").at(-1)}`,
    };
  },
  (h) => h.roles.includes("controller"),
);

export const openstackChecks: readonly Check[] = [
  controlPlane,
  openstackApi,
  horizonLogin,
  horizonCompressPool,
];

// ---------------------------------------------------------------------------------------------
// For the failover: a prober on a controller and the wait for a returned controller's services.

/**
 * The API prober (runs on a controller with admin-openrc): every $1 s a new attempt,
 * `openstack token issue` then `openstack image list` through the VIP, each in a forked child (a
 * fresh shell, a fresh token) killed after $2 s. Attempts overlap (at most $3 at once): one
 * hanging on a dead VIP holder does not hold back the next, and a slow control plane (a
 * controller booting next to it on the lab's shared CPUs) is not buried under a queue of them. Prints `start end seq OK|ERR info` lines (the MySQL writer's format) as attempts end;
 * EOF on stdin stops it.
 */
const PROBER = String.raw`
import contextlib, io, os, select, signal, sys, time
from openstackclient import shell

def osc(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = shell.OpenStackShell().run(argv)
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else 1
        except Exception as e:
            rc = 1
            print(type(e).__name__, e, file=sys.stderr)
    lines = [l.strip() for l in err.getvalue().splitlines() if l.strip()]
    return rc, out.getvalue(), (lines[-1] if lines else "exit %s" % rc)[:200]

def attempt():
    rc, out, err = osc(["token", "issue", "-f", "value", "-c", "expires"])
    if rc != 0:
        return "ERR token issue: " + err
    rc, out, err = osc(["image", "list", "-f", "value", "-c", "ID"])
    if rc != 0:
        return "ERR image list: " + err
    return "OK %d-images" % len(out.split())

ms = lambda: int(time.time() * 1000)
interval, limit, busy = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
osc(["--version"])
running = {}
seq = 0
next_start = time.time()
open_in = True

def finish(fd, msg):
    pid, n, t0 = running.pop(fd)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    os.close(fd)
    if msg is not None:
        print(t0, ms(), n, (msg or "ERR attempt died").replace("\n", " "), flush=True)

while open_in or running:
    if open_in and time.time() >= next_start and len(running) < busy:
        seq += 1
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                msg = attempt()
            except BaseException as e:
                msg = "ERR %s" % type(e).__name__
            os.write(w, msg.encode()[:400])
            os._exit(0)
        os.close(w)
        running[r] = (pid, seq, ms())
        next_start = time.time() + interval
    for fd, (pid, n, t0) in list(running.items()):
        if ms() - t0 > limit * 1000:
            finish(fd, "ERR no answer within %g s" % limit)
    wait = max(0.0, min(next_start - time.time(), 0.2)) if open_in else 0.2
    ready, _, _ = select.select(list(running) + ([sys.stdin] if open_in else []), [], [], wait)
    for x in ready:
        if x is sys.stdin:
            if not sys.stdin.readline():
                open_in = False
                for fd in list(running):
                    finish(fd, None)
        elif x in running:
            finish(x, os.read(x, 500).decode())
`;

/** One prober attempt, in the MySQL writer's line format (lab/checks/failover.ts parses both). */
export interface ApiEvent {
  readonly seq: number;
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
  readonly info: string;
}

export class ApiProber {
  readonly events: ApiEvent[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<number>;
  private stderr = "";

  constructor(
    readonly host: HostPlan,
    parse: (line: string) => ApiEvent | undefined,
    readonly log?: string,
    intervalSeconds = 1,
    limitSeconds = 20,
    maxInFlight = 4,
  ) {
    this.child = sshSpawn(
      host,
      withOpenrc(PROBER, String(intervalSeconds), String(limitSeconds), String(maxInFlight)),
    );
    let rest = "";
    this.child.stdout!.setEncoding("utf8");
    this.child.stdout!.on("data", (chunk: string) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) {
        const e = parse(l);
        if (e) this.events.push(e);
        if (log) fs.appendFileSync(log, `${Date.now()} ${host.name} ${l}\n`);
      }
    });
    this.child.stderr!.on("data", (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-2000)));
    this.exited = new Promise((resolve) => this.child.on("close", (code) => resolve(code ?? 1)));
    this.child.stdin!.on("error", () => undefined);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitFor(pred: (events: ApiEvent[]) => boolean, timeoutMs: number, what: string): Promise<number> {
    const start = Date.now();
    while (Date.now() - start < timeoutMs) {
      if (pred(this.events)) return Date.now() - start;
      if (!this.running)
        throw new Error(
          `the API prober on ${this.host.name} stopped (${this.stderr.trim().split("\n").pop() || "no message"})`,
        );
      await sleep(100);
    }
    const last = this.events[this.events.length - 1];
    throw new Error(
      `${what}: not within ${timeoutMs / 1000} s (last attempt: ${last ? `${last.ok ? "OK" : "ERR"} ${last.info}` : "none"})`,
    );
  }

  async stop(): Promise<void> {
    this.child.stdin!.end();
    const code = await Promise.race([this.exited, sleep(20_000).then(() => undefined)]);
    if (code === undefined && this.child.pid !== undefined) this.child.kill("SIGKILL");
  }
}

/**
 * When API calls through the VIP worked again after `trigger`: the earliest end of a successful
 * attempt begun at or after the trigger and after the last failed attempt began (attempts
 * overlap, so one begun later may end first). Undefined when none has succeeded yet.
 */
export function recovery(
  events: readonly ApiEvent[],
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

/**
 * A controller back from a power cut: its control-plane units active, and (asked through the
 * VIP from `from`) nova-conductor, nova-scheduler and cinder-scheduler up on every controller,
 * the returned one having reported after `since`. Returns when (epoch ms) the units were active
 * and when the services were seen up.
 */
export async function controlPlaneBack(
  ctx: CheckContext,
  host: HostPlan,
  from: HostPlan,
  since: number,
  timeoutMs: number,
): Promise<{ unitsAt: number; servicesAt: number }> {
  const start = Date.now();
  const units = controlPlaneUnits(ctx.inventory.release);
  let unitsAt: number | undefined;
  let last = "";
  while (Date.now() - start < timeoutMs) {
    if (unitsAt === undefined) {
      const r = await ctx.ssh(host, `systemctl is-active ${units.join(" ")}`, 20_000);
      const states = r.stdout.trim().split("\n");
      if (states.length === units.length && states.every((s) => s === "active")) unitsAt = Date.now();
      else
        last = units
          .map((u, i) => `${u} ${states[i] ?? "?"}`)
          .filter((s) => !s.endsWith(" active"))
          .join(", ");
    }
    if (unitsAt !== undefined) {
      try {
        const reply = await runOsc(ctx, from, {
          commands: [
            { name: "compute", argv: ["compute", "service", "list", "-f", "json"] },
            { name: "volume", argv: ["volume", "service", "list", "-f", "json"] },
          ],
        });
        const names = controllers(ctx).map((h) => h.name);
        const fresh = (rows: ServiceRow[], binaries: string[]) => [
          ...judgeServices(rows, binaries, names).missing,
          ...judgeServices(rows, binaries, [host.name], since).missing,
        ];
        const missing = [
          ...fresh(
            jsonOf<ServiceRow[]>(command(reply, "compute"), "compute service list"),
            CONTROLLER_COMPUTE_BINARIES,
          ),
          ...fresh(
            jsonOf<ServiceRow[]>(command(reply, "volume"), "volume service list"),
            CONTROLLER_VOLUME_BINARIES,
          ),
        ];
        if (missing.length === 0) return { unitsAt, servicesAt: Date.now() };
        last = missing.join("; ");
      } catch (err) {
        last = (err as Error).message;
      }
    }
    await sleep(2000);
  }
  throw new Error(
    `${host.name}'s control plane not back within ${timeoutMs / 1000} s${unitsAt === undefined ? " (units)" : ""}: ${last}`,
  );
}
