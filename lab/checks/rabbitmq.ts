/**
 * RabbitMQ on the controllers: each broker lets the service user (password from the host's
 * secret file) connect, declare a queue, publish and get the message back, from another host;
 * `guest` is refused with an authentication error (not merely unreachable) and is gone from the
 * user list; AMQP listens on the management address and the VIP only. The same through the VIP.
 */
import { secretSpec } from "../../lib/cluster/components";
import { HOST_SECRETS_DIR } from "../../lib/core/shell-script";
import { HostPlan } from "../plan";
import {
  bashCommand,
  clientHost,
  controllers,
  ensureHostPackages,
  listeners,
  remote,
  serviceAddress,
} from "./platform";
import { Check, CheckContext, CheckResult, skip } from "./types";

export const RABBIT_SECRET = `${HOST_SECRETS_DIR}/${secretSpec("rabbitmq_password").name}`;
const SERVICE_USER = "openstack";

/** Reads the password from stdin, tries the service user and guest; prints one line each. */
const PROBE = `
import sys, time, uuid
import pika
from pika import exceptions as ex

host = sys.argv[1]
password = sys.stdin.readline().rstrip("\\n")

def connect(user, pw):
    return pika.BlockingConnection(pika.ConnectionParameters(
        host=host, port=5672, virtual_host="/", credentials=pika.PlainCredentials(user, pw),
        connection_attempts=1, socket_timeout=5, blocked_connection_timeout=5))

def auth_refused(e):
    return isinstance(e, (ex.ProbableAuthenticationError, ex.AuthenticationError)) or "ACCESS_REFUSED" in repr(e)

try:
    conn = connect("${SERVICE_USER}", password)
    ch = conn.channel()
    queue = ch.queue_declare(queue="", exclusive=True).method.queue
    body = uuid.uuid4().hex
    ch.basic_publish(exchange="", routing_key=queue, body=body)
    got = None
    for _ in range(50):
        method, _props, data = ch.basic_get(queue=queue, auto_ack=True)
        if method:
            got = data.decode()
            break
        time.sleep(0.1)
    try:
        server = conn._impl.server_properties.get("cluster_name", b"")
        server = server.decode() if isinstance(server, bytes) else str(server)
    except Exception:
        server = ""
    print("service", "ok" if got == body else "published-but-not-received", server)
    conn.close()
except Exception as e:
    print("service", "error", type(e).__name__, str(e)[:160].replace("\\n", " "))

try:
    connect("guest", "guest").close()
    print("guest connected")
except Exception as e:
    print("guest", "auth-refused" if auth_refused(e) else "error", type(e).__name__)
`;

interface ProbeResult {
  readonly service: string[];
  readonly guest: string[];
}

async function probe(
  ctx: CheckContext,
  from: HostPlan,
  address: string,
  password: string,
): Promise<ProbeResult> {
  const out = await remote(ctx, from, bashCommand('exec python3 -c "$1" "$2"', PROBE, address), {
    input: `${password}\n`,
    timeoutMs: 60_000,
  });
  const lines = out.split("\n").map((l) => l.trim().split(/\s+/));
  return {
    service: lines.find((l) => l[0] === "service")?.slice(1) ?? ["no-output"],
    guest: lines.find((l) => l[0] === "guest")?.slice(1) ?? ["no-output"],
  };
}

function judge(p: ProbeResult, where: string): { ok: boolean; detail: string } {
  const serviceOk = p.service[0] === "ok";
  const guestOk = p.guest[0] === "auth-refused";
  const parts = [
    serviceOk
      ? `${SERVICE_USER} connected, published and got the message back via ${where}${p.service[1] ? ` (broker ${p.service[1]})` : ""}`
      : `${SERVICE_USER} via ${where}: ${p.service.join(" ")}`,
    guestOk ? "guest refused (authentication)" : `guest: ${p.guest.join(" ")}`,
  ];
  return { ok: serviceOk && guestOk, detail: parts.join("; ") };
}

export const rabbitmq: Check = {
  name: "rabbitmq",
  async run(ctx) {
    const c = controllers(ctx);
    if (c.length === 0) return [skip("rabbitmq", "-", "no controller in the inventory")];
    const client = clientHost(ctx);
    const vip = ctx.inventory.management.vip;
    try {
      await ensureHostPackages(ctx, client, ["python3-pika"]);
    } catch (err) {
      return [{ check: "rabbitmq", host: client.name, ok: false, detail: (err as Error).message }];
    }
    const results: CheckResult[] = [];
    let vipPassword: string | undefined;
    for (const host of c) {
      try {
        const active = (await ctx.ssh(host, "systemctl is-active rabbitmq-server")).stdout.trim();
        if (active !== "active") throw new Error(`rabbitmq-server is ${active || "not installed"}`);
        const password = (await remote(ctx, host, `cat ${RABBIT_SECRET}`)).trim();
        if (!password) throw new Error(`${RABBIT_SECRET} is empty`);
        vipPassword ??= password;
        const users = (await remote(ctx, host, "rabbitmqctl --silent list_users"))
          .split("\n")
          .map((l) => l.split(/\s+/)[0])
          .filter(Boolean);
        const perms = (await remote(ctx, host, `rabbitmqctl --silent list_user_permissions ${SERVICE_USER}`))
          .split("\n")
          .map((l) => l.trim().split(/\s+/));
        const want = [`tcp ${host.address}`, ...(vip ? [`tcp ${vip}`] : [])];
        const got = await listeners(ctx, host, 5672);
        const verdict = judge(
          await probe(ctx, client, host.address, password),
          `${host.address}:5672 from ${client.name}`,
        );
        const problems = [
          ...(users.includes("guest") ? ["user guest still exists"] : []),
          ...(users.includes(SERVICE_USER) ? [] : [`no user ${SERVICE_USER}`]),
          ...(perms.some((p) => p[0] === "/" && p[1] === ".*" && p[2] === ".*" && p[3] === ".*")
            ? []
            : [`${SERVICE_USER} lacks .* .* .* on vhost /`]),
          ...want.filter((w) => !got.includes(w)).map((w) => `AMQP not on ${w.split(" ")[1]}`),
          ...got.filter((g) => !want.includes(g)).map((g) => `AMQP also on ${g.split(" ")[1]}`),
        ];
        results.push({
          check: "rabbitmq",
          host: host.name,
          ok: verdict.ok && problems.length === 0,
          detail: [
            verdict.detail,
            ...(problems.length
              ? problems
              : [`users: ${users.join(", ")}; AMQP on ${want.map((w) => w.split(" ")[1]).join(", ")} only`]),
          ].join("; "),
        });
      } catch (err) {
        results.push({ check: "rabbitmq", host: host.name, ok: false, detail: (err as Error).message });
      }
    }
    const address = serviceAddress(ctx);
    if (vip && address && vipPassword) {
      try {
        const verdict = judge(
          await probe(ctx, client, address, vipPassword),
          `the VIP ${address} from ${client.name}`,
        );
        results.push({ check: "rabbitmq-vip", host: ctx.inventory.management.vipName, ...verdict });
      } catch (err) {
        results.push({
          check: "rabbitmq-vip",
          host: ctx.inventory.management.vipName,
          ok: false,
          detail: (err as Error).message,
        });
      }
    }
    return results;
  },
};

export const rabbitmqChecks: readonly Check[] = [rabbitmq];
