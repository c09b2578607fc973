import { Endpoint } from "../core/endpoint";
import { ShellScript } from "../core/shell-script";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { ICache, IDatabase, IMessageBus } from "../platform/interfaces";

/**
 * What every control-plane service needs from the cluster beneath it: hosts, addresses, and the
 * database, message bus and cache as interfaces (MysqlHaPair, RabbitMq and Memcached implement
 * them; an existing Galera cluster or broker can stand in).
 */
export interface ControlPlaneContext {
  /** The hosts that run the API services (one or two). */
  readonly controllers: readonly Host[];
  /** The address clients and endpoints use: the VIP, or the single controller's address. */
  readonly clientAddress: string;
  /** The management network (CIDR). */
  readonly managementCidr: string;
  readonly database: IDatabase;
  readonly messaging: IMessageBus;
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
  /** The client address (VIP), for URLs. */
  readonly endpoint: Endpoint;
  readonly region: string;
  readonly apiWorkers: number;
}

/** Resolves the context's defaults (region, API workers); a resolved context is returned as it is. */
export function resolveControlPlane(context: ControlPlaneContext): ResolvedControlPlane {
  if ("endpoint" in context && context.endpoint instanceof Endpoint) return context as ResolvedControlPlane;
  return {
    ...context,
    endpoint: Endpoint.of(context.clientAddress),
    region: context.region ?? DEFAULT_REGION,
    apiWorkers: context.apiWorkers ?? DEFAULT_API_WORKERS,
  };
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
 * An API under uwsgi: its processes, one thread each, and `Connection: close` on every answer.
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
export function uwsgiApi(script: ShellScript, ini: string, processes: number, changeTag: string): void {
  script
    .setIniKey(ini, "uwsgi", "processes", String(processes), changeTag)
    .setIniKey(ini, "uwsgi", "threads", "1", changeTag)
    .setIniKey(ini, "uwsgi", "add-header", "Connection: close", changeTag);
}
