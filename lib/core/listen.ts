/**
 * Where daemons listen: the address lists the services bind, and the two ways a daemon is kept
 * off every other address when its own configuration cannot say so (a socket of ours on the
 * VIP for a daemon that takes one address, Apache's `Listen` lines in a package's site file).
 * Each helper declares what it binds (`ShellScript.listen`), which OSC-NET1 holds the files to;
 * the lab's `listeners` check (lab/checks/listeners.ts) fails on anything else on the hosts.
 */
import * as net from "net";
import { Endpoint } from "./endpoint";
import { ShellScript } from "./shell-script";
import { quote } from "./field-rules";

/** systemd's TCP relay (Debian 12's and Ubuntu 24.04's `systemd` package; /lib is /usr/lib on both). */
export const SOCKET_PROXYD = "/lib/systemd/systemd-socket-proxyd";

/** Apache's unit and daemon, on Debian and Ubuntu: what Apache's `Listen` lines are declared as. */
export const APACHE = "apache2";

/** The unit names of a VIP socket of ours: `openstack-cdktf-vip-NAME.socket` and `.service`. */
export function vipForwardUnit(name: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new Error(`VIP forward name: got ${quote(name)}: expected lowercase letters, digits and '-'`);
  }
  return `openstack-cdktf-vip-${name}`;
}

export interface VipForward {
  /** The daemon's name, for the units' names (`glance-api`). */
  readonly name: string;
  /** The VIP. */
  readonly vip: string;
  readonly port: number;
  /** Where the daemon listens: the host's management address, the same port. */
  readonly target: string;
}

/**
 * A daemon that binds one address (eventlet's servers: glance-api, neutron-server, swift-proxy,
 * the noVNC proxy) listens on the management address, so that each controller answers on its
 * own address; this socket takes its connections on the VIP, on whichever controller holds it
 * (`FreeBind`: the VIP is bound where it is not, yet), and `systemd-socket-proxyd` hands each
 * one to the daemon. The daemon sees the connections come from the controller itself.
 */
export function vipForwardUnits(forward: VipForward): { socket: string; service: string } {
  const unit = vipForwardUnit(forward.name);
  const vip = Endpoint.of(forward.vip).hostPort(forward.port);
  const target = Endpoint.of(forward.target).hostPort(forward.port);
  const socket = `# Written by openstack-cdktf: ${forward.name} binds one address, the management address
# (${target}); this socket takes its connections on the VIP and
# ${unit}.service relays them.
[Unit]
Description=${forward.name} on the VIP ${vip}, forwarded to ${target}

[Socket]
ListenStream=${vip}
# The VIP is on one controller at a time: bind it where it is not (yet).
FreeBind=true

[Install]
WantedBy=sockets.target
`;
  const service = `# Written by openstack-cdktf: connections to ${forward.name} on the VIP, relayed to the daemon.
[Unit]
Description=${forward.name} on the VIP ${vip}, forwarded to ${target}
Requires=${unit}.socket
After=${unit}.socket

[Service]
ExecStart=${SOCKET_PROXYD} --connections-max=4096 ${target}
DynamicUser=true
# Two sockets and two pipes per connection.
LimitNOFILE=65536
`;
  return { socket, service };
}

/**
 * Writes a VIP socket's units and starts the socket (enabled, for boot), declared on the VIP (the
 * daemon's own declaration, on `target`, is its caller's). A change stops the relay first:
 * systemd refuses to restart a socket whose service runs.
 */
export function vipForward(script: ShellScript, forward: VipForward): ShellScript {
  const unit = vipForwardUnit(forward.name);
  const tag = `vip_${forward.name.replace(/-/g, "_")}`;
  const units = vipForwardUnits(forward);
  return script
    .comment(`${forward.name} on the VIP: a socket of ours, relayed to its management address.`)
    .writeFile(`/etc/systemd/system/${unit}.socket`, units.socket, { changeTag: tag })
    .writeFile(`/etc/systemd/system/${unit}.service`, units.service, { changeTag: tag })
    .raw(`if osc_changed ${tag}; then`)
    .raw("  systemctl daemon-reload")
    .raw(`  systemctl stop ${unit}.service`)
    .raw("fi")
    .restartIfChanged([`${unit}.socket`], tag)
    .listen(`${unit}.socket`, forward.vip, forward.port);
}

/**
 * Apache's `Listen` lines for one port in a package's file (Ubuntu's API sites say `Listen 5000`:
 * every address): each line for the port becomes `Listen ADDRESS:PORT` for each address, the
 * rest of the file as the package has it (`replaceLines`, which the security checks read),
 * declared as Apache's. Fails when the file has no `Listen` for the port.
 */
export function apacheListen(
  script: ShellScript,
  file: string,
  port: number,
  addresses: readonly string[],
  changeTag: string,
): ShellScript {
  return script
    .comment(`${file}: port ${port} on ${addresses.join(" and ")} only.`)
    .replaceLines(
      file,
      {
        ere: `^[[:space:]]*Listen[[:space:]]+([^[:space:]]+:)?${port}[[:space:]]*$`,
        perl: `^\\s*Listen\\s+(\\S+:)?${port}\\s*$`,
      },
      addresses.map((a) => `Listen ${Endpoint.of(a).hostPort(port)}`),
      {
        changeTag,
        missing: `${file}: no "Listen ${port}" line: expected the package's site for port ${port}`,
      },
    )
    .listen(APACHE, addresses, port);
}

/**
 * An API that Apache serves from a package's site (Ubuntu): the site's `Listen PORT` on
 * `addresses` (`apacheListen`), and Apache's own ports.conf on them too (`apachePortsConf`),
 * written here as in Horizon's step: the step that restarts Apache first would otherwise start
 * it with the package's `Listen 80`, every address, until Horizon's step.
 */
export function apacheApi(
  script: ShellScript,
  site: { file: string; port: number; portsConf: string },
  addresses: readonly string[],
  changeTag: string,
): ShellScript {
  return apacheListen(script, site.file, site.port, addresses, changeTag)
    .comment("Apache's own ports on the same addresses (the package's ports.conf: every address).")
    .writeFile(site.portsConf, apachePortsConf(addresses), { changeTag })
    .listen(APACHE, addresses, 80);
}

/**
 * Apache's ports.conf: port 80 (and 443, should TLS be turned on) on these addresses only.
 * Declare `APACHE` on them at 80 beside it (443 is not listened on without TLS).
 */
export function apachePortsConf(addresses: readonly string[]): string {
  const listen = (port: number, indent = "") =>
    addresses.map((a) => `${indent}Listen ${Endpoint.of(a).hostPort(port)}`);
  return [
    "# Written by openstack-cdktf: Apache on the management address and the VIP only (the",
    "# package's ports.conf listens on every address).",
    ...listen(80),
    "",
    "<IfModule ssl_module>",
    ...listen(443, "\t"),
    "</IfModule>",
    "",
    "<IfModule mod_gnutls.c>",
    ...listen(443, "\t"),
    "</IfModule>",
    "",
  ].join("\n");
}

/** An IP address as an Erlang term: `{10,0,0,1}`, or eight 16-bit numbers for IPv6. */
export function erlangAddress(address: string): string {
  if (net.isIPv4(address)) return `{${address.split(".").map(Number).join(",")}}`;
  if (!net.isIPv6(address) || address.includes(".")) {
    throw new Error(`erlangAddress: got ${quote(address)}: expected an IPv4 or IPv6 address`);
  }
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return `{${groups.map((g) => parseInt(g, 16)).join(",")}}`;
}
