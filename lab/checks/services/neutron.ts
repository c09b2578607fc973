/** Neutron (lib/services/neutron.ts): through the VIP, the network API answers `network list`. */
import { forRelease } from "../../../lib/core/releases/packages";
import { NEUTRON_API, NEUTRON_RELEASES } from "../../../lib/services/neutron";
import { command, jsonOf, ServiceChecks } from "./client";

export const neutron: ServiceChecks = {
  name: "neutron",
  api: { ...NEUTRON_API, path: "/", listPath: "/v2.0/networks" },
  units: (release) => forRelease("neutron", NEUTRON_RELEASES, release).units,
  viaVip: () => ({
    commands: [{ name: "network", argv: ["network", "list", "-f", "json"] }],
    checks: [
      {
        name: "os-network",
        judge: (reply) => {
          const c = command(reply, "network");
          const nets = jsonOf<unknown[]>(c, "network list");
          return {
            ok: Array.isArray(nets),
            detail: `network list answered: ${nets.length} networks (${c.ms} ms)`,
          };
        },
      },
    ],
  }),
};
