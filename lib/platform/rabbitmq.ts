import { declareSecrets } from "../core/secret-catalog";
import * as net from "net";
import { Construct } from "constructs";
import { ComponentDeclaration } from "../core/component";
import { secretPlaceholder } from "../core/ini-file";
import { ALL_ROLES, SecretSpec } from "../core/secret-spec";
import { Step } from "../core/step";
import { Endpoint } from "../core/endpoint";
import { erlangAddress } from "../core/listen";
import { Host } from "../hosts/host";
import { ClientAddress } from "./client-address";
import { IMessageBus, IVirtualAddress, readyOn } from "./interfaces";
import { quote } from "../core/field-rules";

/** Configures `RabbitMq`: its controllers, the address clients use, and the user services log in as. */
export interface RabbitMqProps {
  /** The controllers; each runs an independent broker. */
  readonly controllers: readonly Host[];
  /**
   * The address clients use: the Heartbeat VIP with two controllers.
   * @default the `vip`'s address, else the first controller's
   */
  readonly clientAddress?: string;
  /**
   * What brings `clientAddress` up when it is a virtual address (a `Heartbeat`): the brokers
   * listen on it after its step on their host. Required for an address no controller has.
   * @default none
   */
  readonly vip?: IVirtualAddress;
  /**
   * The cluster's client address, built once (`ClientAddress`); replaces `clientAddress` and `vip`.
   * @default from `clientAddress` and `vip`
   */
  readonly client?: ClientAddress;
  /** @default "openstack" */
  readonly user?: string;
}

const SECRET = "rabbitmq_password";
/** RabbitMQ's secrets, for the secret catalog: every host's services talk over it. */
export const RABBITMQ_SECRETS: readonly SecretSpec[] = [
  { name: SECRET, kind: "password", roles: ALL_ROLES, description: "RabbitMQ openstack user" },
];
const PORT = 5672;
/** Erlang's distribution (the broker's default: AMQP's port + 20000), on `inet_dist_use_interface`. */
const DIST_PORT = 25672;
/** epmd's socket unit (Erlang's port mapper, erlang-base), its port, and our drop-in for it. */
const EPMD_SOCKET = "epmd.socket";
const EPMD_PORT = 4369;
const EPMD_DROP_IN = "/etc/systemd/system/epmd.socket.d/openstack-cdktf.conf";

/**
 * Where epmd listens: loopback, where the broker registers, and the management address, where
 * `rabbitmqctl` asks for the broker by its host name (which /etc/hosts gives as that address).
 */
export function epmdAddresses(address: string): string[] {
  return [net.isIPv6(address) ? "::1" : "127.0.0.1", address];
}

/** epmd's socket on `epmdAddresses`; erlang-base's socket unit listens on every address. */
export function epmdDropIn(address: string): string {
  return [
    "# Written by openstack-cdktf: epmd on loopback (the broker registers there) and the management",
    "# address (rabbitmqctl finds the broker by its host name) only, not every address.",
    "[Socket]",
    "ListenStream=",
    ...epmdAddresses(address).map((a) => `ListenStream=${Endpoint.of(a).hostPort(EPMD_PORT)}`),
    "",
  ].join("\n");
}

/**
 * rabbitmq-env.conf: Erlang's distribution (:25672, how `rabbitmqctl` talks to the broker) on
 * the management address only (its default is every address), and an epmd that Erlang starts
 * itself, should the socket unit be down, on the same addresses as the unit's.
 */
export function rabbitmqEnv(address: string): string {
  const ipv6 = net.isIPv6(address);
  // Over IPv6, the distribution (the broker's and the CLI's) needs inet6_tcp.
  const proto = ipv6 ? "-proto_dist inet6_tcp " : "";
  return [
    "# Written by openstack-cdktf: Erlang's distribution (rabbitmqctl talks to the broker over it)",
    "# on the management address only, not every address; epmd, if Erlang starts it, the same.",
    `SERVER_ADDITIONAL_ERL_ARGS="${proto}-kernel inet_dist_use_interface ${erlangAddress(address)}"`,
    ...(ipv6 ? ['CTL_ERL_ARGS="-proto_dist inet6_tcp"'] : []),
    `ERL_EPMD_ADDRESS=${epmdAddresses(address).join(",")}`,
    "",
  ].join("\n");
}

/** What rabbitmq declares for the secret catalog (lib/cluster/components.ts). */
export const RABBITMQ_COMPONENT: ComponentDeclaration = {
  name: "rabbitmq",
  secrets: RABBITMQ_SECRETS,
};

/**
 * RabbitMQ on each controller, as independent brokers behind the VIP (not a cluster). Why: a
 * two-node RabbitMQ cluster cannot tell a dead peer from a partition (pause_minority stops
 * both, autoheal restarts one and drops its queues), while OpenStack's RPC queues are
 * transient and re-declared on reconnect. Every client uses the VIP, so all services always
 * meet on the same broker; when the VIP moves, they reconnect to the other one. Messages in
 * flight at that moment are lost, as they would be with unmirrored queues in a cluster.
 */
export class RabbitMq extends Construct implements IMessageBus {
  /** The `rabbitmq` steps, one per controller, in the order of `controllers`. */
  readonly steps: readonly Step[];
  /** The RabbitMQ user services log in as (in `transportUrl`), with the password from the secret `rabbitmq_password`. */
  readonly user: string;
  /** Where clients connect. */
  readonly endpoint: Endpoint;
  readonly secrets: readonly string[] = [SECRET];
  private readonly controllers: readonly Host[];

  constructor(scope: Construct, id: string, props: RabbitMqProps) {
    // Its secrets join the stack's catalog (a stack of one's own has no other), before its steps use them.
    declareSecrets(scope, RABBITMQ_SECRETS);
    super(scope, id);
    this.user = props.user ?? "openstack";
    if (!/^[a-z][a-z0-9_-]*$/.test(this.user)) {
      throw new Error(`RabbitMq user: got ${quote(this.user)}: expected a lowercase name`);
    }
    const client =
      props.client ?? ClientAddress.resolve("RabbitMq", props.controllers, props.clientAddress, props.vip);
    const clientAddress = client.address;
    this.endpoint = client.endpoint;
    this.controllers = props.controllers;
    this.steps = props.controllers.map((host) => {
      const listeners = [host.address, ...(clientAddress !== host.address ? [clientAddress] : [])];
      const conf = [
        "# Written by openstack-cdktf: AMQP on the management address and the VIP only.",
        ...listeners.map((address, i) => `listeners.tcp.${i + 1} = ${address}:${PORT}`),
        "loopback_users.guest = true",
        "",
      ].join("\n");
      const pw = secretPlaceholder(SECRET);
      const user = this.user;
      const script = host
        .script("rabbitmq")
        .aptInstall(host.release.packages.rabbitmq)
        .writeFile("/etc/rabbitmq/rabbitmq.conf", conf, { changeTag: "rabbitmq" })
        .writeFile("/etc/rabbitmq/rabbitmq-env.conf", rabbitmqEnv(host.address), { changeTag: "rabbitmq" })
        .writeFile(EPMD_DROP_IN, epmdDropIn(host.address), { changeTag: "epmd" })
        .comment(
          "A new epmd socket: the broker (registered with the running epmd) and epmd stop first;\n" +
            "systemd refuses to restart a socket whose service runs.",
        )
        .raw("if osc_changed epmd; then")
        .raw("  systemctl daemon-reload")
        .raw(`  systemctl stop ${host.release.units.rabbitmq} epmd.service ${EPMD_SOCKET}`)
        .raw("fi")
        .restartIfChanged([EPMD_SOCKET], "epmd")
        .restartIfChanged([host.release.units.rabbitmq], "rabbitmq")
        .listen(host.release.units.rabbitmq, listeners, PORT)
        .listen(host.release.units.rabbitmq, host.address, DIST_PORT)
        .listen(EPMD_SOCKET, epmdAddresses(host.address), EPMD_PORT)
        .run("rabbitmqctl", "await_startup", "--timeout", "120")
        .comment(`The ${user} user; its password goes through stdin, never the command line.`)
        .raw(`if ! rabbitmqctl --silent list_users | awk '{print $1}' | grep -qx ${user}; then`)
        .raw(`  osc_fill_secrets <<<'${pw}' | rabbitmqctl add_user ${user}`)
        .raw(
          `elif ! osc_fill_secrets <<<'${pw}' | rabbitmqctl authenticate_user ${user} >/dev/null 2>&1; then`,
        )
        .raw(`  osc_fill_secrets <<<'${pw}' | rabbitmqctl change_password ${user}`)
        .raw("fi")
        .raw(
          `if [ "$(rabbitmqctl --silent list_user_permissions ${user} | awk '$1 == "/" {print $2 $3 $4}')" != '.*.*.*' ]; then`,
        )
        .raw(`  rabbitmqctl set_permissions -p / ${user} '.*' '.*' '.*'`)
        .raw("fi")
        .raw(
          "if rabbitmqctl --silent list_users | awk '{print $1}' | grep -qx guest; then rabbitmqctl delete_user guest; fi",
        );
      return host.addStep("rabbitmq", script, {
        owner: this,
        secrets: [SECRET],
        after: client.readyFor(host),
      });
    });
  }

  /** oslo.messaging's `transport_url`; the password is a `{{secret:…}}` placeholder. */
  get transportUrl(): string {
    return `rabbit://${this.user}:${secretPlaceholder(SECRET)}@${this.endpoint.hostPort(PORT)}/`;
  }

  /** On a controller, its own broker; elsewhere, all of them. */
  readyFor(host: Host): readonly Step[] {
    return readyOn(this.controllers, this.steps, host);
  }
}
