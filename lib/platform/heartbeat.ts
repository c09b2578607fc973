import { declareSecrets } from "../core/secret-catalog";
import * as net from "net";
import { Construct } from "constructs";
import { ComponentDeclaration } from "../core/component";
import { CONTROLLER_ONLY, SecretSpec } from "../core/secret-spec";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { IVirtualAddress, readyOn } from "./interfaces";
import { quote } from "../core/field-rules";
import { quote as shellQuote } from "shlex";

/** Heartbeat's secrets, for the secret catalog. */
export const HEARTBEAT_SECRETS: readonly SecretSpec[] = [
  {
    name: "heartbeat_auth_key",
    kind: "hex",
    roles: CONTROLLER_ONLY,
    description: "Heartbeat authkeys sha1 secret",
  },
];

/** What heartbeat declares for the secret catalog (lib/cluster/components.ts). */
export const HEARTBEAT_COMPONENT: ComponentDeclaration = {
  name: "heartbeat",
  secrets: HEARTBEAT_SECRETS,
};

/**
 * Debian's `ha_clustermsg` (resource-agents' /etc/ha.d/shellfuncs, a conffile) writes a message's
 * `>>>` line before it forks `cat` for the body, and Heartbeat's FIFO reader gives each read one
 * second (an alarm): a body that arrives after the alarm leaves a message of zero fields, which
 * Heartbeat drops (`msg2string: Message with zero fields`). The message that makes a starting
 * node take its resources (`ip-request-resp`, from `req_resource`) is one, so under a deploy's
 * load a start could end with Heartbeat believing it held the VIP that no controller held. This
 * definition, appended to the file, has `dd` gather the whole message and write it with one
 * write(2) (a few hundred bytes, under PIPE_BUF: it reaches the reader whole), whichever shell
 * runs it (bash's builtins write line by line).
 */
export const HA_CLUSTERMSG_ONE_WRITE = [
  "# openstack-cdktf: ha_clustermsg writes each message in one write (Heartbeat drops split ones)",
  "ha_clustermsg() {",
  '\t{ echo ">>>"; cat -; echo "<<<"; } | dd bs=65536 iflag=fullblock status=none >>"$HA_FIFO"',
  "}",
].join("\n");

/** Configures `Heartbeat`: the two controllers, the VIP they share, and how soon a silent peer is declared dead. */
export interface HeartbeatProps {
  /** Exactly two controllers; the first is preferred for the VIP at first start. */
  readonly controllers: readonly Host[];
  /** The virtual IP the services' clients use. */
  readonly vip: string;
  /** Prefix length of the management network, for the VIP's address. */
  readonly prefixLength: number;
  /** Seconds of silence before the peer is declared dead. @default 5 */
  readonly deadTime?: number;
}

/**
 * Heartbeat (v1 style `haresources`) moving the VIP between the two controllers, as in the
 * seed: unicast heartbeats to the peer over the management network, sha1-signed with a
 * generated key, and no automatic failback, so that a returning node does not take the VIP
 * back while it catches up. Heartbeat only moves the address: both MariaDB, RabbitMQ and the
 * API services run on both controllers all the time, so nothing has to be promoted.
 */
export class Heartbeat extends Construct implements IVirtualAddress {
  /** The `heartbeat` steps, one per controller, in the order of `controllers`. */
  readonly steps: readonly Step[];
  /** The VIP. */
  readonly address: string;
  private readonly controllers: readonly Host[];

  constructor(scope: Construct, id: string, props: HeartbeatProps) {
    // Its secrets join the stack's catalog (a stack of one's own has no other), before its steps use them.
    declareSecrets(scope, HEARTBEAT_SECRETS);
    super(scope, id);
    if (props.controllers.length !== 2) {
      throw new Error(`Heartbeat controllers: got ${props.controllers.length}: expected exactly 2`);
    }
    if (net.isIP(props.vip) === 0) {
      throw new Error(`Heartbeat vip: got ${quote(props.vip)}: expected an IP address`);
    }
    this.address = props.vip;
    this.controllers = props.controllers;
    const [first] = props.controllers;
    const deadTime = props.deadTime ?? 5;
    const haresources = `${first.hostName} IPaddr2::${props.vip}/${props.prefixLength}/${first.managementInterface}\n`;
    this.steps = props.controllers.map((host, index) => {
      const peer = props.controllers[1 - index];
      const haCf = [
        "# Written by openstack-cdktf.",
        "logfacility daemon",
        "keepalive 1",
        `deadtime ${deadTime}`,
        `warntime ${Math.max(1, deadTime - 2)}`,
        "initdead 20",
        "udpport 694",
        `ucast ${host.managementInterface} ${peer.address}`,
        "auto_failback off",
        ...props.controllers.map((c) => `node ${c.hostName}`),
        "",
      ].join("\n");
      const script = host
        .script("heartbeat")
        .comment("Services bind to the VIP on both controllers, before it arrives.")
        .writeFile(
          "/etc/sysctl.d/60-openstack-cdktf-vip.conf",
          "net.ipv4.ip_nonlocal_bind = 1\nnet.ipv6.ip_nonlocal_bind = 1\n",
          {
            changeTag: "sysctl",
          },
        )
        .ifChanged("sysctl", "sysctl -q -p /etc/sysctl.d/60-openstack-cdktf-vip.conf")
        .aptInstall(host.release.packages.heartbeat)
        .writeFile("/etc/ha.d/ha.cf", haCf, { changeTag: "heartbeat" })
        .writeFile("/etc/ha.d/authkeys", "auth 1\n1 sha1 {{secret:heartbeat_auth_key}}\n", {
          mode: "0600",
          secrets: true,
          changeTag: "heartbeat",
        })
        .writeFile("/etc/ha.d/haresources", haresources, { changeTag: "heartbeat" })
        .raw(appendOnce("/etc/ha.d/shellfuncs", HA_CLUSTERMSG_ONE_WRITE))
        .restartIfChanged(["heartbeat"], "heartbeat")
        .comment("The services that follow reach the database and the broker through the VIP.")
        .raw(waitForVip(props.vip, 60));
      // No listener declared: ucast receives on 0.0.0.0:694/udp bound to the management interface
      // (SO_BINDTODEVICE, the lab's listeners check allows it), which no address names.
      return host.addStep("heartbeat", script, { owner: this, secrets: ["heartbeat_auth_key"] });
    });
  }

  /** On a controller, its own Heartbeat step (which allows binding to the VIP there). */
  readyFor(host: Host): readonly Step[] {
    return readyOn(this.controllers, this.steps, host);
  }
}

/** Shell that appends a block to a file unless the block's first line is there already. */
function appendOnce(file: string, block: string): string {
  return [
    `if ! grep -qxF ${shellQuote(block.split("\n")[0])} ${file}; then`,
    `  cat >>${file} <<'OSC_BLOCK'`,
    "",
    block,
    "OSC_BLOCK",
    "fi",
  ].join("\n");
}

/**
 * Shell that waits until some host answers on the VIP: Heartbeat acquires it a dozen seconds
 * after its start (up to `initdead` when the peer is silent), and a start that did not take it
 * fails here, in one line, rather than as the next service's unreachable database.
 */
function waitForVip(vip: string, seconds: number): string {
  return [
    `osc_vip_deadline=$((\${EPOCHREALTIME//[!0-9]/} + ${seconds} * 1000000))`,
    `until ping -q -n -c 1 -W 1 ${vip} >/dev/null 2>&1; do`,
    '  if [ "${EPOCHREALTIME//[!0-9]/}" -ge "$osc_vip_deadline" ]; then',
    `    echo "heartbeat: no controller answers on the VIP ${vip} after ${seconds} s (resources Heartbeat says it holds here: $(cl_status rscstatus 2>/dev/null || echo 'unknown, not running'))" >&2`,
    "    exit 1",
    "  fi",
    "done",
  ].join("\n");
}
