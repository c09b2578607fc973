/**
 * Horizon (lib/services/horizon.ts): `horizon-login`, a real login as admin from a host that is
 * no controller (lab/checks/py/horizon_login.py), and `horizon-compress-pool`, the thread pool
 * `manage.py compress` gets on each controller (lab/checks/py/horizon_compress_pool.py).
 */
import { forRelease } from "../../../lib/core/releases/packages";
import { HORIZON_RELEASES, HORIZON_WEBROOT } from "../../../lib/services/horizon";
import { clientHost, controllers, remote, serviceAddress } from "../platform";
import { pythonCommand } from "../python";
import { Check, perHost, skip } from "../types";
import {
  ADMIN_DOMAIN,
  ADMIN_PASSWORD_SECRET,
  ADMIN_USER,
  httpBase,
  serviceHostName,
  ServiceChecks,
  Verdict,
} from "./client";

/** Parses the login probe's `STEP name ok|fail detail` lines; all steps must be ok. */
export function judgeHorizon(output: string): Verdict {
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
    detail: `${get("root")}; login page with CSRF token and cookie; ${get("login")}; ${get("landing")}; ${HORIZON_WEBROOT}project/ and ${HORIZON_WEBROOT}admin/ 200 logged in; logged out`,
  };
}

export const horizonLogin: Check = {
  name: "horizon-login",
  async run(ctx) {
    const c = controllers(ctx);
    const address = serviceAddress(ctx);
    if (c.length === 0 || !address) return [skip("horizon-login", "-", "no controller in the inventory")];
    const client = clientHost(ctx);
    const base = `${httpBase(address)}${HORIZON_WEBROOT}`;
    const where = serviceHostName(ctx);
    try {
      const password = (await remote(ctx, c[0], `cat ${ADMIN_PASSWORD_SECRET}`)).trim();
      if (!password) throw new Error(`${c[0].name}: ${ADMIN_PASSWORD_SECRET} is empty`);
      const out = await remote(
        ctx,
        client,
        pythonCommand("horizon_login.py", [base, ADMIN_USER, ADMIN_DOMAIN]),
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

export const horizonCompressPool = perHost(
  "horizon-compress-pool",
  async (host, ctx) => {
    const r = await ctx.ssh(host, pythonCommand("horizon_compress_pool.py", [], "-W ignore"), 60_000);
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

export const horizon: ServiceChecks = {
  name: "horizon",
  units: (release) => [forRelease("horizon", HORIZON_RELEASES, release).unit],
  checks: [horizonLogin, horizonCompressPool],
};
