/**
 * memcached on the controllers answers on the management address and on no other address:
 * asked from another host at the controller's address (must answer `VERSION`), at the VIP
 * (must not), and on the controller itself at 127.0.0.1 (must not); no UDP listener either.
 */
import { clientHost, controllers, holdersOf, listeners, tcpAsk } from "./platform";
import { Check, perHost, skip } from "./types";

const PORT = 11211;

const perController = perHost(
  "memcached",
  async (host, ctx) => {
    const client = clientHost(ctx) === host ? ctx.hosts.find((h) => h !== host)! : clientHost(ctx);
    const vip = ctx.inventory.management.vip;
    const own = await tcpAsk(ctx, client, host.address, PORT, "version");
    const problems: string[] = [];
    if (!own.answer?.startsWith("VERSION "))
      problems.push(`${host.address}:${PORT} from ${client.name}: ${own.answer ?? own.reason}`);
    const loop = await tcpAsk(ctx, host, "127.0.0.1", PORT, "version");
    if (loop.answer !== undefined) problems.push(`answers on 127.0.0.1: ${loop.answer}`);
    let vipNote = "";
    // The VIP reaches only the controller holding it: asked there, on behalf of that one.
    if (vip && holdersOf(ctx, vip).includes(host)) {
      const viaVip = await tcpAsk(ctx, client, vip, PORT, "version");
      if (viaVip.answer !== undefined) problems.push(`answers on the VIP ${vip}: ${viaVip.answer}`);
      vipNote = `, not on the VIP it holds (${viaVip.reason})`;
    }
    const want = [`tcp ${host.address}`];
    const got = await listeners(ctx, host, PORT);
    problems.push(...got.filter((g) => !want.includes(g)).map((g) => `also listening: ${g}`));
    return {
      ok: problems.length === 0,
      detail: problems.length
        ? problems.join("; ")
        : `${own.answer} on ${host.address} (asked from ${client.name}); not on 127.0.0.1 (${loop.reason})${vipNote}; only listener tcp ${host.address}:${PORT}`,
    };
  },
  (h) => h.roles.includes("controller"),
);

export const memcached: Check = {
  name: "memcached",
  run: async (ctx) =>
    controllers(ctx).length === 0
      ? [skip("memcached", "-", "no controller in the inventory")]
      : perController.run(ctx),
};

export const memcachedChecks: readonly Check[] = [memcached];
