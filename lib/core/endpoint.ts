import * as net from "net";
import { quote } from "./field-rules";

/**
 * An address that clients reach a service at (a VIP, a controller, a broker), and the one place
 * that writes it into URLs and `host:port` pairs: IPv6 addresses are bracketed there, and only
 * there.
 */
export class Endpoint {
  /** `address` as clients use it: an IP address (or a hostname). */
  static of(address: string): Endpoint {
    return new Endpoint(address);
  }

  /**
   * @param address The address as given (an IP address or a hostname).
   */
  private constructor(readonly address: string) {
    if (address.length === 0 || /[\s/@[\]]/.test(address)) {
      throw new Error(`Endpoint: got ${quote(address)}: expected an IP address or a hostname`);
    }
  }

  /** The address as it stands in a URL's authority: `[fd00::1]` for IPv6, the address otherwise. */
  get urlHost(): string {
    return net.isIPv6(this.address) ? `[${this.address}]` : this.address;
  }

  /** `HOST:PORT`, e.g. `10.0.0.10:11211` or `[fd00::10]:11211`. */
  hostPort(port: number): string {
    return `${this.urlHost}:${port}`;
  }

  /** `http://HOST:PORT/path`; without a port, `http://HOST/path`. */
  url(port?: number, path = "", scheme = "http"): string {
    return `${scheme}://${port === undefined ? this.urlHost : this.hostPort(port)}${path}`;
  }

  /** The address as given (unbracketed). */
  toString(): string {
    return this.address;
  }
}
