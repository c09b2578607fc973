/**
 * `api-keepalive`, per controller: every API the library serves must keep working for a client
 * that reuses its connection (Horizon, openstacksdk inside a service, Tempest), which the
 * `openstack` CLI, one request per process, never does. On one HTTP/1.1 connection (Python's
 * http.client, which reuses a connection unless the answer says it will close): `HEAD` of the
 * version document (an answer with no body) then `GET` of it, on the controller's own address;
 * and for Keystone a session that creates a project, deletes it (204) and asks again. Before
 * `Connection: close` on every uwsgi API (lib/services/control-plane-context.ts, uwsgiApi), the
 * request after a bodiless answer of Keystone or Nova was reset (`ConnectionResetError`).
 */
import { HostPlan } from "../plan";
import { ADMIN_PASSWORD_SECRET, API_SERVICES } from "./openstack";
import { bashCommand } from "./platform";
import { CheckContext, perHost } from "./types";

/** argv: address, JSON [[type, port, path], ...], the admin password file. One line per API. */
const PROBE = String.raw`
import http.client, json, sys, uuid
host, apis, secret = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]

def answer(conn, method, path, body=None, headers=None):
    conn.request(method, path, json.dumps(body) if body is not None else None,
                 {"Content-Type": "application/json", **(headers or {})})
    r = conn.getresponse()
    data = r.read()
    return r, data

def report(name, steps):
    try:
        print(name, "OK", steps())
    except Exception as e:
        print(name, "FAIL", f"{type(e).__name__}: {e}")

for kind, port, path in apis:
    def steps(port=port, path=path):
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            head, _ = answer(conn, "HEAD", path)
            get, _ = answer(conn, "GET", path)
            return f"HEAD {head.status} then GET {get.status} on one client"
        finally:
            conn.close()
    report(kind, steps)

def keystone_delete():
    password = open(secret).read().strip()
    conn = http.client.HTTPConnection(host, 5000, timeout=30)
    project = None
    try:
        auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
        r, _ = answer(conn, "POST", "/v3/auth/tokens", auth)
        token = {"X-Auth-Token": r.getheader("X-Subject-Token")}
        r, data = answer(conn, "POST", "/v3/projects",
                         {"project": {"name": "osc-keepalive-" + uuid.uuid4().hex[:8], "domain_id": "default"}}, token)
        if r.status != 201:
            raise RuntimeError(f"project create answered {r.status}")
        project = json.loads(data)["project"]["id"]
        r, _ = answer(conn, "DELETE", f"/v3/projects/{project}", None, token)
        deleted = r.status
        project = None if deleted == 204 else project
        r, _ = answer(conn, "GET", "/v3", None, token)
        return f"DELETE {deleted} then GET {r.status} on one client"
    finally:
        conn.close()
        if project:
            cleanup = http.client.HTTPConnection(host, 5000, timeout=30)
            answer(cleanup, "DELETE", f"/v3/projects/{project}", None, token)
            cleanup.close()

report("identity-delete", keystone_delete)
`;

/** Judges the probe's lines; exported for the unit test. */
export function judgeKeepalive(output: string, expected: readonly string[]): { ok: boolean; detail: string } {
  const lines = output.trim().split("\n").filter(Boolean);
  const seen = new Map(lines.map((l) => [l.split(" ")[0], l] as const));
  const missing = expected.filter((name) => !seen.has(name));
  const failed = lines.filter((l) => l.split(" ")[1] !== "OK" || !/ (2\d\d|300) on one client$/.test(l));
  const problems = [...failed, ...missing.map((m) => `${m}: no answer from the probe`)];
  return {
    ok: problems.length === 0,
    detail: problems.length ? problems.join("; ") : `connection reuse works: ${lines.join("; ")}`,
  };
}

export const apiKeepalive = perHost(
  "api-keepalive",
  async (host: HostPlan, ctx: CheckContext) => {
    const apis = API_SERVICES.map((s) => [s.type, s.port, s.path]);
    const r = await ctx.ssh(
      host,
      bashCommand(
        'exec python3 -c "$1" "$2" "$3" "$4"',
        PROBE,
        host.address,
        JSON.stringify(apis),
        ADMIN_PASSWORD_SECRET,
      ),
      120_000,
    );
    if (r.code !== 0)
      return { ok: false, detail: `probe exit ${r.code}: ${r.stderr.trim().split("\n").at(-1)}` };
    return judgeKeepalive(r.stdout, [...API_SERVICES.map((s) => s.type), "identity-delete"]);
  },
  (h) => h.roles.includes("controller"),
);
