import { Endpoint } from "../core/endpoint";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { quote } from "../core/field-rules";

/**
 * The wiring between constructs, in the style of the AWS CDK: a service takes these interfaces,
 * not the constructs that implement them here (MysqlHaPair, RabbitMq, Memcached, Heartbeat), so
 * that an existing Galera cluster, broker or cache can be plugged in. Each one says which steps
 * a consumer must wait for, so that ordering never depends on the order of construction: a
 * consumer passes them as `after` to `Host.addStep`.
 */

/** What a service gets from `IDatabase.database()`. */
export interface DatabaseHandle {
  /** SQLAlchemy URL through the client address; the password is a `{{secret:…}}` placeholder. */
  readonly url: string;
  /** The step that creates the schema and user; depend on it. */
  readonly step: Step;
}

/** A SQL server that services keep their schemas in. */
export interface IDatabase {
  /** Where clients connect (the VIP with two controllers). */
  readonly endpoint: Endpoint;
  /** The port clients connect to. */
  readonly port: number;
  /**
   * Makes a schema and a user with rights on it exist (once per name), with the password from the
   * secret `secretName`. Returns the connection URL and the step to wait for.
   */
  database(name: string, user: string, secretName: string): DatabaseHandle;
}

/** The message queue services talk over (oslo.messaging). */
export interface IMessageBus {
  /** oslo.messaging's `transport_url`; the password is a `{{secret:…}}` placeholder. */
  readonly transportUrl: string;
  /** The secrets `transportUrl` refers to. */
  readonly secrets: readonly string[];
  /** The steps after which a consumer on `host` may connect. */
  readyFor(host: Host): readonly Step[];
}

/** The cache services keep tokens and sessions in. */
export interface ICache {
  /** `host:port,host:port`, for `memcached_servers` and the like. */
  readonly servers: string;
  /** The steps after which a consumer on `host` may connect. */
  readyFor(host: Host): readonly Step[];
}

/** A virtual address that moves between hosts (Heartbeat's VIP). */
export interface IVirtualAddress {
  /** The virtual IP address itself. */
  readonly address: string;
  /**
   * The steps after which a server on `host` may bind to `address` (it may not be there yet:
   * Heartbeat allows binding to a non-local address). Constructs that listen on the address
   * take this as `vip`, so the VIP comes first whatever the order of construction.
   */
  readyFor(host: Host): readonly Step[];
}

/** The steps of `steps` (one per host of `hosts`) that a consumer on `host` waits for: its own host's, or all. */
export function readyOn(hosts: readonly Host[], steps: readonly Step[], host: Host): readonly Step[] {
  const index = hosts.indexOf(host);
  return index >= 0 ? [steps[index]] : steps;
}

/**
 * @deprecated the cluster builds a `ClientAddress` once and hands it over; this remains for
 * constructs built from the older `clientAddress` and `vip` props (`ClientAddress.resolve`).
 * Checks a server's client address: a controller's own address, or a virtual address whose
 * provider (`vip`) is given, so that the server binds to it only after it may.
 */
export function checkClientAddress(
  what: string,
  controllers: readonly Host[],
  clientAddress: string | undefined,
  vip: IVirtualAddress | undefined,
): string {
  const address = clientAddress ?? vip?.address ?? controllers[0].address;
  if (vip && vip.address !== address) {
    throw new Error(`${what} vip: got ${quote(vip.address)}: expected the client address ${address}`);
  }
  if (!vip && !controllers.some((h) => h.address === address)) {
    throw new Error(
      `${what} clientAddress: got ${address}, which is no controller's own address: expected \`vip\`, the construct that brings it up (a Heartbeat), so that ${what} binds to it after it`,
    );
  }
  return address;
}
