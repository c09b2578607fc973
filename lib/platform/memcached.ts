import { Construct } from "constructs";
import { Step } from "../core/step";
import { Endpoint } from "../core/endpoint";
import { Host } from "../hosts/host";
import { ICache, readyOn } from "./interfaces";
import { quote } from "../core/field-rules";

const PORT = 11211;

/** Configures `Memcached`: the controllers it runs on and its memory and connection limits. */
export interface MemcachedProps {
  /** The controllers; each runs memcached on its management address. */
  readonly controllers: readonly Host[];
  /** Cache size in MiB. @default 64 */
  readonly memoryMb?: number;
  /** @default 1024 */
  readonly maxConnections?: number;
}

/**
 * memcached on each controller, listening on the management address only (the seed's
 * 0.0.0.0 exposed an unauthenticated cache). Clients hash keys over all servers, so losing one
 * controller only loses its share of the cache.
 */
export class Memcached extends Construct implements ICache {
  /** The `memcached` steps, one per controller, in the order of `controllers`. */
  readonly steps: readonly Step[];
  /** For services' `memcached_servers` / Django's cache LOCATION: `host:11211,host:11211`. */
  readonly servers: string;
  private readonly controllers: readonly Host[];

  constructor(scope: Construct, id: string, props: MemcachedProps) {
    super(scope, id);
    const memory = props.memoryMb ?? 64;
    if (!Number.isInteger(memory) || memory < 16) {
      throw new Error(
        `Memcached memoryMb: got ${quote(memory)}: expected a whole number of MiB, at least 16`,
      );
    }
    this.controllers = props.controllers;
    this.servers = props.controllers.map((h) => Endpoint.of(h.address).hostPort(PORT)).join(",");
    this.steps = props.controllers.map((host) => {
      const release = host.release;
      const conf = [
        "# Written by openstack-cdktf: management address only, no UDP.",
        "logfile /var/log/memcached.log",
        `-m ${memory}`,
        `-p ${PORT}`,
        "-U 0",
        "-u memcache",
        `-l ${host.address}`,
        `-c ${props.maxConnections ?? 1024}`,
        "-P /var/run/memcached/memcached.pid",
        "",
      ].join("\n");
      const script = host
        .script("memcached")
        .aptInstall(release.packages.memcached)
        .writeFile(release.paths.memcachedConf, conf, { changeTag: "memcached" })
        .restartIfChanged([release.units.memcached], "memcached")
        .listen(release.units.memcached, host.address, PORT)
        .waitForPort(host.address, PORT, 30);
      return host.addStep("memcached", script, { owner: this });
    });
  }

  /** On a controller, its own memcached; elsewhere, all of them. */
  readyFor(host: Host): readonly Step[] {
    return readyOn(this.controllers, this.steps, host);
  }
}
