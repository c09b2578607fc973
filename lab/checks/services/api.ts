/**
 * `openstack-api`: through the VIP, with the openstack CLI on a controller that does not hold it
 * (as root with admin-openrc), every service's part (catalog.ts, VIA_VIP_ORDER) in one CLI
 * process; one result per part's check, on the VIP's name.
 */
import { controllers, serviceAddress } from "../platform";
import { Check, CheckResult, skip } from "../types";
import { API_SERVICES, VIA_VIP_ORDER } from "./catalog";
import { cliHost, Cloud, OscReply, runOsc, serviceHostName } from "./client";

export const openstackApi: Check = {
  name: "openstack-api",
  async run(ctx) {
    const c = controllers(ctx);
    const address = serviceAddress(ctx);
    if (c.length === 0 || !address) return [skip("openstack-api", "-", "no controller in the inventory")];
    const where = serviceHostName(ctx);
    const from = cliHost(ctx);
    const cloud: Cloud = { address, controllers: c.map((h) => h.name), apis: API_SERVICES };
    const parts = VIA_VIP_ORDER.flatMap((s) => (s.viaVip ? [s.viaVip(ctx, cloud)] : []));
    const result = (check: string, ok: boolean, detail: string): CheckResult => ({
      check,
      host: where,
      ok,
      detail: `${detail} [openstack CLI on ${from.name} via ${address}]`,
    });
    let reply: OscReply;
    try {
      reply = await runOsc(ctx, from, {
        files: Object.assign({}, ...parts.map((p) => p.files ?? {})),
        hash: parts.flatMap((p) => p.hash ?? []),
        commands: parts.flatMap((p) => p.commands),
      });
    } catch (err) {
      return [result(parts[0].checks[0].name, false, (err as Error).message)];
    }
    return parts
      .flatMap((p) => p.checks)
      .map((check) => {
        try {
          const r = check.judge(reply);
          return result(check.name, r.ok, r.detail);
        } catch (err) {
          return result(check.name, false, (err as Error).message);
        }
      });
  },
};
