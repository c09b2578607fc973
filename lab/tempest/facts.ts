/**
 * What the deployed cloud says about itself, asked over its public APIs from the lab machine
 * (where Tempest runs): the catalog, which daemons report up, Neutron's extensions and external networks,
 * Glance's import methods, whether Horizon answers. `tempest.conf` is written from these facts
 * (./config.ts), never by hand, so that a service joins the Tempest run when it is deployed.
 */
import { HORIZON_WEBROOT } from "../../lib/services/horizon";

export interface AdminCredentials {
  readonly username: string;
  readonly password: string;
  readonly projectName: string;
  readonly domainName: string;
}

export interface CatalogEndpoint {
  readonly interface: string;
  readonly region: string;
  readonly url: string;
}

/** An external network: floating IPs come from it (Nova's API names it as a "pool"). */
export interface ExternalNetwork {
  readonly id: string;
  readonly name: string;
}

export interface CloudFacts {
  /** Keystone's v3 URL the facts were asked from. */
  readonly identityUrl: string;
  readonly region: string;
  /** Service type -> its public URL, from the token's catalog. */
  readonly publicUrls: Readonly<Record<string, string>>;
  /** Binaries in `os-services` whose state is up (Nova's and Cinder's). */
  readonly computeServicesUp: readonly string[];
  readonly volumeServicesUp: readonly string[];
  /** Neutron: extension aliases, external networks (by id). */
  readonly networkExtensions: readonly string[];
  readonly externalNetworks: readonly ExternalNetwork[];
  /** Glance's `/v2/info/import` methods. */
  readonly imageImportMethods: readonly string[];
  /** Horizon's base URL when its login page answers 200. */
  readonly dashboardUrl?: string;
  /** The compute API's microversions (Nova's version document), when the catalog has it. */
  readonly computeMicroversions?: Microversions;
  /** The block storage API's (Cinder's v3 version document), when the catalog has it. */
  readonly volumeMicroversions?: Microversions;
}

const TIMEOUT_MS = 30_000;

/** `GET url` as JSON; `ok` the statuses expected (a version list answers 300 Multiple Choices). */
async function getJson(url: string, token: string, ok: readonly number[] = [200]): Promise<unknown> {
  const r = await fetch(url, {
    headers: { "X-Auth-Token": token, Accept: "application/json" },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (!ok.includes(r.status))
    throw new Error(`GET ${url}: answered ${r.status}, expected ${ok.join(" or ")}`);
  return r.json();
}

interface TokenReply {
  token: { catalog?: { type: string; endpoints: CatalogEndpoint[] }[] };
}

/** A project-scoped admin token and the public URL of every service in its catalog. */
export async function login(
  identityUrl: string,
  admin: AdminCredentials,
): Promise<{ token: string; publicUrls: Record<string, string>; region: string }> {
  const body = {
    auth: {
      identity: {
        methods: ["password"],
        password: {
          user: { name: admin.username, domain: { name: admin.domainName }, password: admin.password },
        },
      },
      scope: { project: { name: admin.projectName, domain: { name: admin.domainName } } },
    },
  };
  const r = await fetch(`${identityUrl}/auth/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  // The reply's body never holds the password; the token stays in this process.
  if (r.status !== 201)
    throw new Error(`POST ${identityUrl}/auth/tokens: answered ${r.status}, expected 201`);
  const token = r.headers.get("X-Subject-Token");
  if (!token) throw new Error(`POST ${identityUrl}/auth/tokens: no X-Subject-Token header`);
  const reply = (await r.json()) as TokenReply;
  const publicUrls: Record<string, string> = {};
  const regions = new Set<string>();
  for (const service of reply.token.catalog ?? []) {
    const endpoint = service.endpoints.find((e) => e.interface === "public");
    if (!endpoint) continue;
    publicUrls[service.type] = endpoint.url.replace(/\/+$/, "");
    regions.add(endpoint.region);
  }
  if (regions.size !== 1) {
    throw new Error(
      `catalog: public endpoints in regions ${JSON.stringify([...regions])}: expected exactly one`,
    );
  }
  return { token, publicUrls, region: [...regions][0] };
}

/** The oldest and newest microversion an API serves: `2.1` to `2.96`. */
export interface Microversions {
  readonly min: string;
  readonly max: string;
}

/**
 * The range the API at `url` serves, from the version list at its root (`GET /` of the
 * endpoint's origin: the `CURRENT` version's `min_version` and `version`). The versioned URL
 * itself does not do for Cinder, whose catalog URL holds the project.
 */
async function microversions(url: string | undefined, token: string): Promise<Microversions | undefined> {
  if (!url) return undefined;
  const root = `${new URL(url).origin}/`;
  const reply = (await getJson(root, token, [200, 300])) as {
    versions?: { status?: string; min_version?: string; version?: string }[];
  };
  const current = (reply.versions ?? []).find((v) => v.status === "CURRENT");
  if (!current?.min_version || !current.version) {
    throw new Error(`GET ${root}: no CURRENT version with min_version and version in its version list`);
  }
  return { min: current.min_version, max: current.version };
}

async function servicesUp(url: string | undefined, token: string): Promise<string[]> {
  if (!url) return [];
  const reply = (await getJson(`${url}/os-services`, token)) as {
    services: { binary: string; state: string; status: string }[];
  };
  return [...new Set(reply.services.filter((s) => s.state === "up").map((s) => s.binary))].sort();
}

async function dashboard(identityUrl: string): Promise<string | undefined> {
  const base = `${new URL(identityUrl).origin.replace(/:\d+$/, "")}${HORIZON_WEBROOT}`;
  try {
    const r = await fetch(`${base}auth/login/`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    await r.arrayBuffer();
    return r.status === 200 ? base : undefined;
  } catch {
    return undefined;
  }
}

export async function gatherCloudFacts(identityUrl: string, admin: AdminCredentials): Promise<CloudFacts> {
  const { token, publicUrls, region } = await login(identityUrl, admin);
  const network = publicUrls["network"];
  const image = publicUrls["image"];
  const [
    computeServicesUp,
    volumeServicesUp,
    extensions,
    networks,
    imports,
    dashboardUrl,
    computeMv,
    volumeMv,
  ] = await Promise.all([
    servicesUp(publicUrls["compute"], token),
    servicesUp(publicUrls["volumev3"], token),
    network
      ? (getJson(`${network}/v2.0/extensions`, token) as Promise<{ extensions: { alias: string }[] }>)
      : { extensions: [] },
    network
      ? (getJson(`${network}/v2.0/networks?router:external=true&fields=id&fields=name`, token) as Promise<{
          networks: ExternalNetwork[];
        }>)
      : { networks: [] },
    image
      ? (getJson(`${image}/v2/info/import`, token) as Promise<{ "import-methods": { value: string[] } }>)
      : { "import-methods": { value: [] } },
    dashboard(identityUrl),
    microversions(publicUrls["compute"], token),
    microversions(publicUrls["volumev3"], token),
  ]);
  return {
    identityUrl,
    region,
    publicUrls,
    computeServicesUp,
    volumeServicesUp,
    networkExtensions: extensions.extensions.map((e) => e.alias).sort(),
    externalNetworks: networks.networks
      .map((n) => ({ id: n.id, name: n.name }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    imageImportMethods: [...imports["import-methods"].value].sort(),
    dashboardUrl,
    computeMicroversions: computeMv,
    volumeMicroversions: volumeMv,
  };
}
