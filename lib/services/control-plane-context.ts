import * as net from "net";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { Memcached } from "../platform/memcached";
import { MysqlHaPair } from "../platform/mysql-ha-pair";
import { RabbitMq } from "../platform/rabbitmq";

/** What every control-plane service needs from the cluster beneath it. */
export interface ControlPlaneContext {
  /** The hosts that run the API services (one or two). */
  readonly controllers: readonly Host[];
  /** The address clients and endpoints use: the VIP, or the single controller's address. */
  readonly clientAddress: string;
  /** The management network (CIDR). */
  readonly managementCidr: string;
  readonly database: MysqlHaPair;
  readonly messaging: RabbitMq;
  readonly cache: Memcached;
  /** @default "RegionOne" */
  readonly region?: string;
  /** uwsgi processes per API service; Debian's default of 8 to 16 per service does not fit small hosts. @default 2 */
  readonly apiWorkers?: number;
}

/** `http://ADDRESS:PORT`, with IPv6 addresses bracketed. */
export function endpointUrl(context: ControlPlaneContext, port: number, path = ""): string {
  const host = net.isIPv6(context.clientAddress) ? `[${context.clientAddress}]` : context.clientAddress;
  return `http://${host}:${port}${path}`;
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
