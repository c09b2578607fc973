/**
 * `control-plane`, per controller: its control-plane units active, admin-openrc 0600 root, every
 * API (and Horizon's login page) answering on the controller's own address, and a token from its
 * own Keystone. And for the failover: the wait for a returned controller's services.
 */
import { HORIZON_WEBROOT } from "../../../lib/services/horizon";
import { ADMIN_OPENRC, KEYSTONE_API } from "../../../lib/services/keystone";
import { HostPlan } from "../../plan";
import { controllers } from "../platform";
import { poll } from "../poll";
import { Check, CheckContext, CheckResult, skip } from "../types";
import { API_SERVICES, controlPlaneUnits } from "./catalog";
import { CONTROLLER_VOLUME_BINARIES } from "./cinder";
import {
  command,
  hostPort,
  httpBase,
  jsonOf,
  judgeServices,
  oneLine,
  runOsc,
  serviceList,
  ServiceRow,
} from "./client";
import { CONTROLLER_COMPUTE_BINARIES } from "./nova";

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
      `${httpBase(host.address)}${HORIZON_WEBROOT}auth/login/`,
    ];
    const reply = await runOsc(ctx, host, {
      http: urls,
      commands: [
        {
          name: "token",
          argv: ["token", "issue", "-f", "json", "-c", "expires"],
          env: { OS_AUTH_URL: `http://${hostPort(host.address, KEYSTONE_API.port)}/v3` },
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
  const units = controlPlaneUnits(ctx.inventory.release);
  let unitsAt: number | undefined;
  let last = "";
  const { value } = await poll(
    `${host.name}'s control plane`,
    timeoutMs,
    async () => {
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
      if (unitsAt === undefined) return undefined;
      try {
        const reply = await runOsc(ctx, from, {
          commands: [serviceList("compute"), serviceList("volume")],
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
      return undefined;
    },
    {
      intervalMs: 2000,
      retryErrors: false,
      timeoutMessage: () =>
        `${host.name}'s control plane not back within ${timeoutMs / 1000} s${unitsAt === undefined ? " (units)" : ""}: ${last}`,
    },
  );
  return value;
}
