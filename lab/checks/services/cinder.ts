/**
 * Cinder (lib/services/cinder.ts): through the VIP, cinder-scheduler up on every controller
 * (openstack-api's os-volume-services); and `cinder-volume-services`: cinder-volume up on every
 * backend of every storage host that has backends (the inventory's `volumeBackends`).
 */
import { Inventory } from "../../../lib/cluster/inventory";
import { CINDER_API, cinderRelease } from "../../../lib/services/cinder";
import { controllers } from "../platform";
import { Check, CheckResult, skip } from "../types";
import {
  cliHost,
  command,
  controllerServices,
  jsonOf,
  runOsc,
  serviceHostName,
  serviceList,
  ServiceChecks,
  ServiceRow,
  Verdict,
} from "./client";

/** Per controller, in `openstack volume service list`. */
export const CONTROLLER_VOLUME_BINARIES = ["cinder-scheduler"];
export const VOLUME_BINARY = "cinder-volume";

/**
 * cinder-volume's service hosts the inventory makes: `<host>@<backend>` for each backend of
 * each host (one cinder-volume per host, one service per backend it enables).
 */
export function volumeServiceHosts(inventory: Pick<Inventory, "hosts">): string[] {
  return inventory.hosts.flatMap((h) => h.volumeBackends.map((b) => `${h.name}@${b.name}`));
}

/**
 * cinder-volume enabled and up on each of `expected` (`host@backend`, exactly); any other
 * service that is down fails too (a backend renamed or a host gone leaves its row behind, down).
 */
export function judgeVolumeServices(rows: readonly ServiceRow[], expected: readonly string[]): Verdict {
  if (!Array.isArray(rows)) return { ok: false, detail: "`volume service list` gave no list" };
  const problems: string[] = [];
  const fine: string[] = [];
  for (const host of expected) {
    const row = rows.find((r) => r.Binary === VOLUME_BINARY && r.Host === host);
    if (!row) problems.push(`${VOLUME_BINARY} on ${host}: not listed`);
    else if (row.State !== "up" || row.Status !== "enabled")
      problems.push(`${VOLUME_BINARY} on ${host}: ${row.Status} ${row.State}`);
    else fine.push(host);
  }
  const others = rows.filter((r) => !(r.Binary === VOLUME_BINARY && expected.includes(r.Host)));
  const down = others.filter((r) => r.State !== "up").map((r) => `${r.Binary}@${r.Host} ${r.State}`);
  if (down.length) problems.push(`also down: ${down.join(", ")}`);
  const extra = others
    .filter((r) => r.Binary === VOLUME_BINARY && r.State === "up")
    .map((r) => `${r.Binary}@${r.Host}`);
  return {
    ok: problems.length === 0,
    detail:
      (problems.length ? problems.join("; ") : `${VOLUME_BINARY} enabled and up on ${fine.join(", ")}`) +
      (extra.length ? `; also up, not in the inventory: ${extra.join(", ")}` : ""),
  };
}

export const cinderVolumeServices: Check = {
  name: "cinder-volume-services",
  async run(ctx): Promise<CheckResult[]> {
    const name = "cinder-volume-services";
    const expected = volumeServiceHosts(ctx.inventory);
    if (expected.length === 0)
      return [skip(name, "-", "no host has volumeBackends in the inventory: no cinder-volume")];
    if (controllers(ctx).length === 0) return [skip(name, "-", "no controller in the inventory")];
    const from = cliHost(ctx);
    let v: Verdict;
    try {
      const reply = await runOsc(ctx, from, { commands: [serviceList("volume")] });
      v = judgeVolumeServices(
        jsonOf<ServiceRow[]>(command(reply, "volume"), "volume service list"),
        expected,
      );
    } catch (err) {
      v = { ok: false, detail: (err as Error).message };
    }
    return [
      {
        check: name,
        host: serviceHostName(ctx),
        ok: v.ok,
        detail: `${v.detail} [openstack CLI on ${from.name}]`,
      },
    ];
  },
};

export const cinder: ServiceChecks = {
  name: "cinder",
  api: { ...CINDER_API, path: "/", listPath: "/v3/{project}/volumes" },
  units: (release) => cinderRelease(release).units,
  viaVip: controllerServices("volume", "os-volume-services", CONTROLLER_VOLUME_BINARIES),
  checks: [cinderVolumeServices],
};
