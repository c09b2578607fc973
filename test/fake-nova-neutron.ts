/**
 * A small fake of Nova's flavors and Neutron's networks, subnets, routers and ports on
 * 127.0.0.1 (an ephemeral port), enough for day-one.py through the real openstacksdk: version
 * discovery under `/compute` and `/network`, list filters, creation, a router's gateway and
 * its interfaces (each a port, as Neutron makes them). It records every request, so a test can
 * tell what a run read and what it changed. Tokens come from FakeKeystone; they are not checked.
 */
import * as http from "http";
import { AddressInfo } from "net";
import { CatalogService, RecordedRequest } from "./fake-keystone";

type Item = Record<string, unknown> & { id: string };

/** Neutron's collections (under /network/v2.0) → the key of one item in bodies. */
const NEUTRON: Record<string, string> = {
  networks: "network",
  subnets: "subnet",
  routers: "router",
  ports: "port",
};

/** The admin project of FakeKeystone's tokens: what Neutron gives a new item. */
const ADMIN_PROJECT = "p-admin";

export class FakeNovaNeutron {
  readonly requests: RecordedRequest[] = [];
  readonly store: Record<string, Item[]> = { flavors: [], networks: [], subnets: [], routers: [], ports: [] };
  private readonly server: http.Server;
  private nextId = 1;
  private port = 0;

  constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get root(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The catalog entries, as the services register them (Nova with its version, Neutron without). */
  get catalog(): CatalogService[] {
    return [
      { type: "compute", name: "nova", url: `${this.root}/compute/v2.1` },
      { type: "network", name: "neutron", url: `${this.root}/network` },
    ];
  }

  /** The requests that change something, as `METHOD path` without the query. */
  writes(): string[] {
    return this.requests
      .filter((r) => r.method !== "GET" && r.method !== "HEAD")
      .map((r) => `${r.method} ${r.url.replace(/\?.*$/, "")}`);
  }

  clearRequests(): void {
    this.requests.splice(0);
  }

  /** Adds an item as if someone had made it before the run; returns it. */
  add(collection: string, fields: Record<string, unknown>): Item {
    const item: Item = {
      ...this.defaults(collection, fields),
      ...fields,
      id: `${collection}-${this.nextId++}`,
    };
    this.store[collection].push(item);
    return item;
  }

  private defaults(collection: string, fields: Record<string, unknown>): Record<string, unknown> {
    const owned = { project_id: ADMIN_PROJECT, tenant_id: ADMIN_PROJECT };
    switch (collection) {
      case "flavors":
        return { "os-flavor-access:is_public": true, "OS-FLV-EXT-DATA:ephemeral": 0, swap: "" };
      case "networks":
        return {
          ...owned,
          status: "ACTIVE",
          admin_state_up: true,
          shared: false,
          "router:external": false,
          // Neutron's tenant_network_types (vxlan) when no provider attributes are given.
          "provider:network_type": "vxlan",
          "provider:physical_network": null,
          "provider:segmentation_id": fields["provider:network_type"] ? null : this.nextId,
          subnets: [],
        };
      case "subnets":
        return { ...owned, ip_version: 4, enable_dhcp: true, allocation_pools: [], dns_nameservers: [] };
      case "routers":
        return { ...owned, status: "ACTIVE", admin_state_up: true, external_gateway_info: null };
      default:
        return { ...owned, status: "DOWN", admin_state_up: true, fixed_ips: [] };
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const body = raw ? (JSON.parse(raw) as Record<string, Record<string, unknown>>) : undefined;
      const method = req.method ?? "GET";
      const url = req.url ?? "/";
      this.requests.push({ method, url, body });
      const reply = (status: number, data?: unknown): void => {
        const text = data === undefined ? "" : JSON.stringify(data);
        res.writeHead(status, {
          ...(text ? { "Content-Type": "application/json" } : {}),
          "Content-Length": Buffer.byteLength(text),
        });
        res.end(text);
      };
      try {
        this.route(method, new URL(url, this.root), body, reply);
      } catch (e) {
        reply(500, { error: { code: 500, message: String(e) } });
      }
    });
  }

  private route(
    method: string,
    url: URL,
    body: Record<string, Record<string, unknown>> | undefined,
    reply: (status: number, data?: unknown) => void,
  ): void {
    const parts = url.pathname.split("/").filter((p) => p !== "");
    const notFound = () => reply(404, { NeutronError: { type: "NotFound", message: `no ${url.pathname}` } });
    const [service, version, collection, id, action] = parts;
    const link = (href: string) => [{ rel: "self", href }];
    if (service === "compute") {
      const nova = {
        id: "v2.1",
        status: "CURRENT",
        version: "2.93",
        min_version: "2.1",
        updated: "2013-07-23T11:33:21Z",
        links: link(`${this.root}/compute/v2.1/`),
      };
      if (!version) return reply(300, { versions: [nova] });
      if (version !== "v2.1") return notFound();
      if (!collection) return reply(200, { version: nova });
      if (collection !== "flavors") return notFound();
      if (method === "GET" && (id === undefined || id === "detail")) {
        return reply(200, { flavors: this.store.flavors });
      }
      if (method === "POST" && id === undefined && body) {
        const fields = { ...body.flavor };
        delete fields.id;
        return reply(200, { flavor: this.add("flavors", fields) });
      }
      if (method === "GET") {
        const flavor = this.store.flavors.find((f) => f.id === id);
        return flavor ? reply(200, { flavor }) : notFound();
      }
      return reply(405);
    }
    if (service !== "network") return notFound();
    const neutron = { id: "v2.0", status: "CURRENT", links: link(`${this.root}/network/v2.0/`) };
    if (!version) return reply(200, { versions: [neutron] });
    if (version !== "v2.0") return notFound();
    const singular = NEUTRON[collection];
    if (!singular) return notFound();
    const items = this.store[collection];
    if (id === undefined) {
      if (method === "GET") {
        // Every filter names a field of the items; paging and field selection are not filters.
        const filters = [...url.searchParams].filter(([k]) => !["limit", "marker", "fields"].includes(k));
        const selected = items.filter((item) =>
          filters.every(([k, v]) => k in item && String(item[k]).toLowerCase() === v.toLowerCase()),
        );
        return reply(200, { [collection]: selected });
      }
      if (method === "POST" && body) {
        const item = this.add(collection, body[singular]);
        if (collection === "subnets") {
          const network = this.store.networks.find((n) => n.id === item.network_id);
          if (!network) return reply(400, { NeutronError: { message: "no such network" } });
          (network.subnets as string[]).push(item.id);
        }
        return reply(201, { [singular]: item });
      }
      return reply(405);
    }
    const item = items.find((i) => i.id === id);
    if (!item) return notFound();
    if (collection === "routers" && method === "PUT" && action === "add_router_interface") {
      return reply(200, this.addInterface(item, String(body?.subnet_id)));
    }
    if (action !== undefined) return notFound();
    if (method === "GET") return reply(200, { [singular]: item });
    if (method === "PUT" && body) {
      const fields = body[singular];
      if (collection === "routers" && fields.external_gateway_info) {
        this.setGateway(item, String((fields.external_gateway_info as { network_id: string }).network_id));
      }
      Object.assign(item, { ...fields, external_gateway_info: item.external_gateway_info });
      return reply(200, { [singular]: item });
    }
    return reply(405);
  }

  /** A gateway port on the external network's first subnet, as the L3 plugin makes it. */
  private setGateway(router: Item, networkId: string): void {
    const subnet = this.store.subnets.find((s) => s.network_id === networkId);
    const pool = (subnet?.allocation_pools as { start: string }[] | undefined)?.[0];
    const fixedIps = subnet ? [{ subnet_id: subnet.id, ip_address: pool?.start ?? "" }] : [];
    this.add("ports", {
      network_id: networkId,
      device_id: router.id,
      device_owner: "network:router_gateway",
      fixed_ips: fixedIps,
    });
    router.external_gateway_info = { network_id: networkId, enable_snat: true, external_fixed_ips: fixedIps };
  }

  /** An interface port holding the subnet's gateway address. */
  private addInterface(router: Item, subnetId: string): Record<string, unknown> {
    const subnet = this.store.subnets.find((s) => s.id === subnetId);
    if (!subnet) throw new Error(`no subnet ${subnetId}`);
    const port = this.add("ports", {
      network_id: subnet.network_id,
      device_id: router.id,
      device_owner: "network:router_interface",
      fixed_ips: [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip }],
    });
    return {
      id: router.id,
      subnet_id: subnet.id,
      subnet_ids: [subnet.id],
      port_id: port.id,
      network_id: subnet.network_id,
      project_id: ADMIN_PROJECT,
      tenant_id: ADMIN_PROJECT,
    };
  }
}
