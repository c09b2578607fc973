/**
 * `api-keepalive`, per controller: every API the library serves must keep working for a client
 * that reuses its connection (Horizon, openstacksdk inside a service, Tempest), which the
 * `openstack` CLI, one request per process, never does. On one HTTP/1.1 connection (Python's
 * http.client, which reuses a connection unless the answer says it will close): `HEAD` of the
 * version document (an answer with no body) then `GET` of it, on the controller's own address;
 * and for Keystone a session that creates a project, deletes it (204) and asks again. Before
 * `Connection: close` on every uwsgi API (lib/services/control-plane-context.ts, uwsgiApi), the
 * request after a bodiless answer of Keystone or Nova was reset (`ConnectionResetError`).
 * The probe: lab/checks/py/api_keepalive.py.
 */
import { HostPlan } from "../../plan";
import { pythonCommand } from "../python";
import { CheckContext, perHost } from "../types";
import { API_SERVICES } from "./catalog";
import { ADMIN_PASSWORD_SECRET } from "./client";

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
      pythonCommand("api_keepalive.py", [host.address, JSON.stringify(apis), ADMIN_PASSWORD_SECRET]),
      120_000,
    );
    if (r.code !== 0)
      return { ok: false, detail: `probe exit ${r.code}: ${r.stderr.trim().split("\n").at(-1)}` };
    return judgeKeepalive(r.stdout, [...API_SERVICES.map((s) => s.type), "identity-delete"]);
  },
  (h) => h.roles.includes("controller"),
);
