import { Endpoint } from "../core/endpoint";
import { managementNetworkProblem, quote } from "../core/field-rules";
import { ShellScript } from "../core/shell-script";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { ClientAddress } from "../platform/client-address";
import { ICache, IDatabase, IMessageBus, IVirtualAddress } from "../platform/interfaces";

/**
 * What every control-plane service needs from the cluster beneath it: hosts, addresses, and the
 * database, message bus and cache as interfaces (MysqlHaPair, RabbitMq and Memcached implement
 * them; an existing Galera cluster or broker can stand in).
 */
export interface ControlPlaneContext {
  /** The hosts that run the API services (one or two). */
  readonly controllers: readonly Host[];
  /**
   * The address clients and endpoints use: the VIP, or the single controller's address. The APIs
   * listen on it and on each controller's own address (`listenAddresses`), nowhere else.
   */
  readonly clientAddress: string;
  /**
   * What brings `clientAddress` up when it is a virtual address (a `Heartbeat`): the APIs bind
   * to it after its step on their host. @default none (an address no controller has is bound
   * all the same: the host must allow it, as Heartbeat's `ip_nonlocal_bind` does)
   */
  readonly vip?: IVirtualAddress;
  /**
   * The client address as the cluster built it once (`ClientAddress`): what `clientAddress` and
   * `vip` say, without working it out again. @default from `clientAddress` and `vip`
   */
  readonly client?: ClientAddress;
  /** The management network (CIDR). */
  readonly managementCidr: string;
  /** The SQL server the services keep their databases in (a `MysqlHaPair`, or an existing Galera cluster). */
  readonly database: IDatabase;
  /** The message bus services talk over, their `transport_url` (a `RabbitMq`, or an existing broker). */
  readonly messaging: IMessageBus;
  /** The memcached servers tokens and sessions are cached in (`Memcached`, or existing servers). */
  readonly cache: ICache;
  /** @default "RegionOne" */
  readonly region?: string;
  /** uwsgi processes per API service; Debian's default of 8 to 16 per service does not fit small hosts. @default 2 */
  readonly apiWorkers?: number;
}

export const DEFAULT_REGION = "RegionOne";
export const DEFAULT_API_WORKERS = 2;

/** A context with its defaults resolved, once, and its client address as an `Endpoint`. */
export interface ResolvedControlPlane extends ControlPlaneContext {
  readonly client: ClientAddress;
  /** The client address (VIP), for URLs. */
  readonly endpoint: Endpoint;
  readonly region: string;
  readonly apiWorkers: number;
}

/** Resolves the context's defaults (region, API workers); a resolved context is returned as it is. */
export function resolveControlPlane(context: ControlPlaneContext): ResolvedControlPlane {
  if ("endpoint" in context && context.endpoint instanceof Endpoint) return context as ResolvedControlPlane;
  // Swift's rsync and the services' own allow lists admit the management network only.
  const network = managementNetworkProblem(
    "ControlPlaneContext",
    context.managementCidr,
    context.controllers,
  );
  if (network) throw new Error(network);
  const client = clientOf(context);
  return {
    ...context,
    client,
    endpoint: client.endpoint,
    region: context.region ?? DEFAULT_REGION,
    apiWorkers: context.apiWorkers ?? DEFAULT_API_WORKERS,
  };
}

/**
 * The VIP the controllers' APIs listen on besides their own addresses: the client address when
 * it is no controller's own (with `ha: single` it is the controller's address: none).
 */
export function serviceVip(context: ControlPlaneContext): string | undefined {
  return clientOf(context).vip;
}

/**
 * The context's client address: the one the cluster built, or (for a context written by hand)
 * one made from `clientAddress` and `vip`.
 */
export function clientOf(context: ControlPlaneContext): ClientAddress {
  if (context.client) {
    if (context.client.address !== context.clientAddress) {
      throw new Error(
        `ControlPlaneContext client: got ${quote(context.client.address)}: expected the client address ${context.clientAddress}`,
      );
    }
    return context.client;
  }
  // A hand-written context names the VIP by address only: it is a VIP when no controller has it.
  const address = context.clientAddress;
  const isVip = !context.controllers.some((h) => h.address === address);
  return ClientAddress.of(address, isVip, context.vip);
}

/**
 * The addresses a controller's APIs listen on: its management address (each controller answers
 * on its own: the steps' waits, health checks, an operator) and the VIP, nothing else. Debian's
 * uwsgi, Apache and the eventlet servers default to every address.
 */
export function listenAddresses(context: ControlPlaneContext, host: Host): string[] {
  return clientOf(context).listenAddresses(host);
}

/** The steps after which a controller may bind the VIP (its Heartbeat step). */
export function vipReady(context: ControlPlaneContext, host: Host): readonly Step[] {
  return clientOf(context).readyFor(host);
}

/** `http://ADDRESS:PORT`, with IPv6 addresses bracketed (`Endpoint.url` on the client address). */
export function endpointUrl(context: ControlPlaneContext, port: number, path = ""): string {
  return Endpoint.of(context.clientAddress).url(port, path);
}

/**
 * One step per controller: the first (which creates or upgrades the schema) after
 * `firstDependsOn`, every other one after the first. Returns the steps, the first one first.
 */
export function stepsOnControllers(
  controllers: readonly Host[],
  firstDependsOn: Step[],
  build: (host: Host, first: boolean, dependsOn: Step[]) => Step,
): Step[] {
  const [first, ...others] = controllers;
  const firstStep = build(first, true, firstDependsOn);
  return [firstStep, ...others.map((host) => build(host, false, [firstStep]))];
}

/**
 * An API under uwsgi on `addresses` only: Debian's init script (/etc/init.d/UNIT, from
 * openstack-pkg-tools, UNIT being the ini file's name without `-uwsgi.ini`) starts uwsgi with
 * `--http-socket :PORT`, every address, and reads /etc/default/UNIT after it has set
 * `DAEMON_ARGS`; that file sets them again with a socket per address (`UWSGI_PORT` and
 * `UWSGI_INI_PATH` are the init script's own).
 */
export function uwsgiDefaults(addresses: readonly string[]): string {
  const sockets = addresses.map((a) => `--http-socket ${Endpoint.of(a).urlHost}:\${UWSGI_PORT}`);
  return [
    "# Written by openstack-cdktf: the API on the management address and the VIP only; read by",
    "# the init script after it set DAEMON_ARGS (--http-socket :PORT: every address).",
    `DAEMON_ARGS="${sockets.join(" ")} --ini \${UWSGI_INI_PATH}"`,
    "",
  ].join("\n");
}

/** The unit (and init script, and /etc/default file) of a Debian uwsgi ini file: `/etc/nova/nova-api-uwsgi.ini` → `nova-api`. */
export function uwsgiUnit(ini: string): string {
  const match = /\/([a-z][a-z0-9-]*)-uwsgi\.ini$/.exec(ini);
  if (!match) throw new Error(`uwsgi ini: got ${quote(ini)}: expected /etc/SERVICE/UNIT-uwsgi.ini`);
  return match[1];
}

/**
 * An API under uwsgi: its sockets on `addresses` (`uwsgiDefaults`), declared at `port` (the
 * package's ini file's, which the init script passes as `UWSGI_PORT`), its processes, one thread
 * each, and `Connection: close` on every answer.
 * Why the header: Debian's uwsgi ini files drop `Content-Length` (`rem-header`), and uwsgi's `--http-socket`
 * closes the connection after each answer. Glance's, Cinder's, Neutron's and Placement's files
 * say so (`add-header = Connection: close`); Keystone's and Nova's do not. A keep-alive client
 * (Horizon, openstacksdk in a service, Tempest) reads an answer with a body to its end and sees
 * the close, but after a bodiless one (204, HEAD, 304) it keeps the connection, and its next
 * request on it is reset (`ConnectionResetError: [Errno 104]`, seen from Tempest after DELETEs).
 *
 * One thread per process, as upstream's devstack (the set-up OpenStack's own CI tests) runs every
 * API; Debian ships `threads = 32` for all but nova-api, and two defects show on a cold start
 * (seen here: 8 concurrent first requests per API on a freshly restarted controller):
 * - Neutron's and Nova's APIs monkey-patch eventlet when they load (`neutron.cmd.eventlet`,
 *   `nova.api.openstack` importing `nova.monkey_patch`); their green locks belong to one OS
 *   thread, and a request that meets a lock held in another uwsgi thread dies with
 *   `greenlet.error: cannot switch to a different thread` while the others wait forever: 3 of 4
 *   concurrent requests to neutron-api hung, and that worker stayed wedged. (Neutron's API has
 *   since left uwsgi for upstream's eventlet neutron-server: lib/services/neutron.ts says why.)
 * - Keystone builds its policy enforcer lazily and publishes it before its rules are registered
 *   (keystone/common/rbac_enforcer/enforcer.py, `_enforcer`): 3 of 8 concurrent first requests
 *   got 403 (`'Enforcer' object has no attribute '_warning_emitted'`) or a dropped connection.
 * Concurrency comes from `processes` (the context's `apiWorkers`).
 */
export function uwsgiApi(
  script: ShellScript,
  ini: string,
  processes: number,
  changeTag: string,
  addresses: readonly string[],
  port: number,
): void {
  const unit = uwsgiUnit(ini);
  script
    .setIniKey(ini, "uwsgi", "processes", String(processes), changeTag)
    .setIniKey(ini, "uwsgi", "threads", "1", changeTag)
    .setIniKey(ini, "uwsgi", "add-header", "Connection: close", changeTag)
    .writeFile(`/etc/default/${unit}`, uwsgiDefaults(addresses), { changeTag })
    .listen(unit, addresses, port);
}
