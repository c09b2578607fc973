import { Endpoint } from "../core/endpoint";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { checkClientAddress, IVirtualAddress } from "./interfaces";

/**
 * The one address clients reach the controllers at, built once where the cluster is composed
 * and handed to every server that listens on it (database, broker, APIs): the address, whether
 * it is a virtual address, and the steps after which a server on a controller may bind it.
 */
export class ClientAddress {
  /** A controller's own address (`ha: single`): nothing to wait for, nothing extra to bind. */
  static ofController(host: Host): ClientAddress {
    return new ClientAddress(host.address, false, undefined);
  }

  /** A virtual address and what brings it up (a `Heartbeat`): servers bind it after its step. */
  static ofVip(vip: IVirtualAddress): ClientAddress {
    return new ClientAddress(vip.address, true, vip);
  }

  /**
   * An address as a context written by hand gives it: `isVip` when no controller has it, and
   * what to wait for before binding it. Prefer `ofController` and `ofVip`.
   */
  static of(address: string, isVip: boolean, waitFor?: IVirtualAddress): ClientAddress {
    return new ClientAddress(address, isVip, waitFor);
  }

  /**
   * From the older props (`clientAddress`, `vip`) of a construct built on its own: a
   * controller's own address, or a virtual address whose provider is given.
   */
  static resolve(
    what: string,
    controllers: readonly Host[],
    clientAddress: string | undefined,
    vip: IVirtualAddress | undefined,
  ): ClientAddress {
    const address = checkClientAddress(what, controllers, clientAddress, vip);
    const own = controllers.some((h) => h.address === address);
    // A provider given for a controller's own address changes nothing but the wait.
    return new ClientAddress(address, !own, vip);
  }

  /** Where clients connect, for URLs and `host:port`. */
  readonly endpoint: Endpoint;

  private constructor(
    /** The address clients use: the VIP, or a controller's own address. */
    readonly address: string,
    /** Whether the address is a virtual one (no controller's own), which servers bind besides their own. */
    readonly isVip: boolean,
    private readonly waitFor: IVirtualAddress | undefined,
  ) {
    this.endpoint = Endpoint.of(address);
  }

  /** The virtual address, or undefined when clients use a controller's own address. */
  get vip(): string | undefined {
    return this.isVip ? this.address : undefined;
  }

  /** The steps after which a server on `host` may bind the address (its Heartbeat step). */
  readyFor(host: Host): readonly Step[] {
    return this.waitFor?.readyFor(host) ?? [];
  }

  /**
   * Where a controller's servers listen: its own address (the steps' waits, health checks, an
   * operator) and the VIP, nothing else.
   */
  listenAddresses(host: Host): string[] {
    return this.isVip ? [host.address, this.address] : [host.address];
  }
}
