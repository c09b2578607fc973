/**
 * A small fake of Keystone's v3 API on 127.0.0.1 (an ephemeral port), enough for
 * keystone-register.py through the real openstacksdk: version discovery, password tokens
 * with a catalog, and projects, users, roles, role assignments, services and endpoints.
 * It records every request, so a test can tell what a run read and what it changed.
 */
import { spawn, spawnSync } from "child_process";
import * as http from "http";
import { AddressInfo } from "net";

export interface RecordedRequest {
  readonly method: string;
  /** The path with its query string, e.g. `/v3/users?name=glance`. */
  readonly url: string;
  readonly body?: unknown;
}

type Item = Record<string, unknown> & { id: string };

/** Collection → the key of one item in request and response bodies, and the list filters it honours. */
const COLLECTIONS: Record<string, { singular: string; filters: readonly string[] }> = {
  projects: { singular: "project", filters: ["name", "domain_id"] },
  users: { singular: "user", filters: ["name", "domain_id"] },
  roles: { singular: "role", filters: ["name"] },
  services: { singular: "service", filters: ["name", "type"] },
  endpoints: { singular: "endpoint", filters: ["service_id", "region_id", "interface"] },
};

const DOMAIN = { id: "default", name: "Default" };

/** Another service in the tokens' catalog (a fake Nova or Neutron), on all three interfaces. */
export interface CatalogService {
  readonly type: string;
  readonly name: string;
  readonly url: string;
}

export class FakeKeystone {
  readonly requests: RecordedRequest[] = [];
  readonly store: Record<string, Item[]> = {};
  /** Role assignments, as `project/user/role` ids. */
  readonly assignments = new Set<string>();
  private readonly server: http.Server;
  private nextId = 1;
  private port = 0;

  /**
   * A Keystone as `keystone-manage bootstrap` leaves it: the admin user, project and role.
   * `services` join the identity service in the tokens' catalog.
   */
  constructor(
    private readonly adminPassword: string,
    private readonly services: readonly CatalogService[] = [],
  ) {
    for (const name of Object.keys(COLLECTIONS)) this.store[name] = [];
    this.store.projects.push({ id: "p-admin", name: "admin", domain_id: "default", enabled: true });
    this.store.users.push({ id: "u-admin", name: "admin", domain_id: "default", enabled: true });
    this.store.roles.push({ id: "r-admin", name: "admin", domain_id: null });
    this.assignments.add("p-admin/u-admin/r-admin");
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  /** Starts listening on 127.0.0.1; resolves to the `OS_AUTH_URL` (`http://127.0.0.1:PORT/v3`). */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return `${this.root}/v3`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get root(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The recorded requests that change something: every POST, PATCH, PUT and DELETE but logins. */
  writes(): RecordedRequest[] {
    return this.requests.filter(
      (r) => ["POST", "PATCH", "PUT", "DELETE"].includes(r.method) && r.url !== "/v3/auth/tokens",
    );
  }

  /** Password logins, as the user names they were for. */
  logins(): string[] {
    return this.requests
      .filter((r) => r.method === "POST" && r.url === "/v3/auth/tokens")
      .map((r) => (r.body as LoginBody).auth.identity.password.user.name);
  }

  /** Forgets the requests recorded so far (the store stays). */
  clearRequests(): void {
    this.requests.splice(0);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = raw;
      }
      const method = req.method ?? "GET";
      const url = req.url ?? "/";
      this.requests.push({ method, url, body });
      const reply = (status: number, data?: unknown, headers: Record<string, string> = {}): void => {
        const text = data === undefined ? "" : JSON.stringify(data);
        res.writeHead(status, {
          ...headers,
          ...(text ? { "Content-Type": "application/json" } : {}),
          "Content-Length": Buffer.byteLength(text),
        });
        res.end(method === "HEAD" ? undefined : text);
      };
      try {
        this.route(method, url, body, reply);
      } catch (e) {
        reply(500, { error: { code: 500, message: String(e) } });
      }
    });
  }

  private version(): Record<string, unknown> {
    return {
      id: "v3.14",
      status: "stable",
      updated: "2020-04-07T00:00:00Z",
      links: [{ rel: "self", href: `${this.root}/v3/` }],
      "media-types": [{ base: "application/json", type: "application/vnd.openstack.identity-v3+json" }],
    };
  }

  private route(
    method: string,
    url: string,
    body: unknown,
    reply: (status: number, data?: unknown, headers?: Record<string, string>) => void,
  ): void {
    const parsed = new URL(url, this.root);
    const parts = parsed.pathname.split("/").filter((p) => p !== "");
    const notFound = (): void => reply(404, { error: { code: 404, message: `no ${parsed.pathname}` } });
    if (parts.length === 0) return reply(300, { versions: { values: [this.version()] } });
    if (parts[0] !== "v3") return notFound();
    if (parts.length === 1) return reply(200, { version: this.version() });
    if (parts[1] === "auth" && parts[2] === "tokens" && method === "POST") return this.login(body, reply);

    // /v3/projects/{p}/users/{u}/roles/{r}: a role assignment.
    if (parts.length === 7 && parts[1] === "projects" && parts[3] === "users" && parts[5] === "roles") {
      const key = `${parts[2]}/${parts[4]}/${parts[6]}`;
      if (method === "PUT") {
        this.assignments.add(key);
        return reply(204);
      }
      if (method === "HEAD" || method === "GET") return this.assignments.has(key) ? reply(204) : notFound();
      return reply(405);
    }

    const spec = COLLECTIONS[parts[1]];
    if (!spec || parts.length > 3) return notFound();
    const items = this.store[parts[1]];
    const publicView = (item: Item): Record<string, unknown> => {
      const view: Record<string, unknown> = {
        ...item,
        links: { self: `${this.root}/v3/${parts[1]}/${item.id}` },
      };
      delete view.password;
      return view;
    };
    if (parts.length === 2) {
      if (method === "GET") {
        const selected = items.filter((item) =>
          spec.filters.every((f) => !parsed.searchParams.has(f) || item[f] === parsed.searchParams.get(f)),
        );
        return reply(200, {
          [parts[1]]: selected.map(publicView),
          links: { self: `${this.root}${url}`, next: null, previous: null },
        });
      }
      if (method === "POST") {
        const fields = (body as Record<string, Record<string, unknown>>)[spec.singular];
        const item: Item = { enabled: true, ...fields, id: `${spec.singular}-${this.nextId++}` };
        if (parts[1] === "endpoints") item.region = item.region_id;
        items.push(item);
        return reply(201, { [spec.singular]: publicView(item) });
      }
      return reply(405);
    }
    const item = items.find((i) => i.id === parts[2]);
    if (!item) return notFound();
    if (method === "GET") return reply(200, { [spec.singular]: publicView(item) });
    if (method === "PATCH") {
      Object.assign(item, (body as Record<string, Record<string, unknown>>)[spec.singular]);
      return reply(200, { [spec.singular]: publicView(item) });
    }
    if (method === "DELETE") {
      items.splice(items.indexOf(item), 1);
      return reply(204);
    }
    return reply(405);
  }

  private login(body: unknown, reply: (status: number, data?: unknown, h?: Record<string, string>) => void) {
    const credentials = (body as LoginBody).auth.identity.password.user;
    const user = this.store.users.find((u) => u.name === credentials.name);
    const expected = user?.name === "admin" ? this.adminPassword : user?.password;
    if (!user || expected === undefined || credentials.password !== expected) {
      return reply(401, {
        error: { code: 401, message: "The request you have made requires authentication." },
      });
    }
    const projectName = (body as LoginBody).auth.scope?.project?.name ?? "admin";
    const project = this.store.projects.find((p) => p.name === projectName) ?? this.store.projects[0];
    const v3 = `${this.root}/v3`;
    const entry = (type: string, name: string, url: string) => ({
      id: `s-${name}`,
      type,
      name,
      endpoints: ["public", "internal", "admin"].map((i) => ({
        id: `e-${name}-${i}`,
        interface: i,
        region: "RegionOne",
        region_id: "RegionOne",
        url,
      })),
    });
    const token = {
      methods: ["password"],
      user: { id: user.id, name: user.name, domain: DOMAIN, password_expires_at: null },
      project: { id: project.id, name: project.name, domain: DOMAIN },
      roles: [{ id: "r-admin", name: "admin" }],
      issued_at: "2026-01-01T00:00:00.000000Z",
      expires_at: "2099-01-01T00:00:00.000000Z",
      catalog: [entry("identity", "keystone", v3), ...this.services.map((s) => entry(s.type, s.name, s.url))],
    };
    reply(201, { token }, { "X-Subject-Token": `token-${user.name}` });
  }
}

interface LoginBody {
  auth: {
    identity: { password: { user: { name: string; password: string } } };
    scope?: { project?: { name?: string } };
  };
}

/** Runs a program without blocking the event loop (the fake server answers meanwhile). */
export function runAsync(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60000,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** A python3 that has openstacksdk, as the controllers have (python3-openstackclient brings it). */
export function pythonWithOpenstack(): string {
  for (const candidate of ["/usr/bin/python3", "python3"]) {
    const probe = spawnSync(candidate, ["-c", "import openstack"], { encoding: "utf8" });
    if (!probe.error && probe.status === 0) return candidate;
  }
  throw new Error(
    "no python3 with openstacksdk: install it with `apt-get install python3-openstacksdk` " +
      "(CI's tempest package brings it); this test is never skipped",
  );
}
