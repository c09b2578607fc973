/**
 * Keystone (lib/services/keystone.ts): through the VIP, a token for the admin (`os-token`) and
 * the catalog (`os-endpoints`): every service's public, internal and admin endpoints on the VIP.
 */
import { forRelease } from "../../../lib/core/releases/packages";
import { KEYSTONE_API, KEYSTONE_RELEASES } from "../../../lib/services/keystone";
import { ADMIN_USER, ApiSpec, command, hostPort, jsonOf, ServiceChecks, Verdict } from "./client";

export const INTERFACES = ["public", "internal", "admin"] as const;

export interface Endpoint {
  readonly "Service Type": string;
  readonly Interface: string;
  readonly URL: string;
  readonly Enabled: boolean;
  readonly Region?: string;
}

/**
 * Every service in `apis` has exactly one enabled public, internal and admin endpoint, each
 * `http://<address>:<port>…` with the service's port; no endpoint points elsewhere.
 */
export function judgeEndpoints(
  endpoints: readonly Endpoint[],
  address: string,
  apis: readonly ApiSpec[],
  region = "RegionOne",
): Verdict {
  const problems: string[] = [];
  for (const s of apis) {
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
  const known = new Set(apis.map((s) => s.type));
  for (const e of endpoints) {
    if (!known.has(e["Service Type"]) && !e.URL.startsWith(`http://${address}:`))
      problems.push(`${e["Service Type"]} ${e.Interface} is ${e.URL}, not on ${address}`);
  }
  return {
    ok: problems.length === 0,
    detail: problems.length
      ? problems.join("; ")
      : `${apis.map((s) => `${s.type} :${s.port}`).join(", ")}: public, internal and admin on ${address}, enabled (${endpoints.length} endpoints)`,
  };
}

export const keystone: ServiceChecks = {
  name: "keystone",
  api: { ...KEYSTONE_API, path: "/v3", listPath: "/v3/projects" },
  units: (release) => forRelease("keystone", KEYSTONE_RELEASES, release).units,
  viaVip: (_ctx, cloud) => ({
    commands: [
      { name: "token", argv: ["token", "issue", "-f", "json", "-c", "expires", "-c", "project_id"] },
      { name: "endpoints", argv: ["endpoint", "list", "-f", "json"] },
    ],
    checks: [
      {
        name: "os-token",
        judge: (reply) => {
          const c = command(reply, "token");
          const t = jsonOf<{ expires?: string }>(c, "token issue");
          return {
            ok: Boolean(t.expires),
            detail: `token issued for ${ADMIN_USER} (expires ${t.expires}, ${c.ms} ms)`,
          };
        },
      },
      {
        name: "os-endpoints",
        judge: (reply) =>
          judgeEndpoints(
            jsonOf<Endpoint[]>(command(reply, "endpoints"), "endpoint list"),
            cloud.address,
            cloud.apis,
          ),
      },
    ],
  }),
};
