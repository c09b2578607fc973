/**
 * `api-cold-start`, on a controller that does not hold the VIP (so no client of the cloud
 * notices): restart every control-plane unit, as a reboot or a package upgrade does, then send
 * each API 8 authenticated requests at once with a fresh token (cold caches everywhere), on the
 * controller's own address. Every request must be answered. Before the eventlet-patched APIs ran
 * one thread per uwsgi process (lib/services/control-plane-context.ts, uwsgiApi), 3 of 4
 * concurrent first requests to neutron-api hung for good (`greenlet.error: cannot switch to a
 * different thread`); the CLI, one request at a time, never sees it; Tempest's 2 workers did.
 */
import { HostPlan } from "../plan";
import { ADMIN_PASSWORD_SECRET, controlPlaneUnits } from "./openstack";
import { bashCommand, controllers, holdersOf, remote, serviceAddress } from "./platform";
import { Check, CheckContext, CheckResult, skip } from "./types";

const NAME = "api-cold-start";
const CONCURRENT = 8;

/** type, port, an authenticated GET path ({project} = the token's project id). */
export const COLD_START_REQUESTS: readonly [string, number, string][] = [
  ["identity", 5000, "/v3/projects"],
  ["image", 9292, "/v2/images"],
  ["placement", 8778, "/resource_providers"],
  ["compute", 8774, "/v2.1/servers"],
  ["network", 9696, "/v2.0/networks"],
  ["volumev3", 8776, "/v3/{project}/volumes"],
];

/** argv: address, JSON requests, concurrency, the admin password file. One line per API. */
const PROBE = String.raw`
import concurrent.futures, http.client, json, socket, sys, time
host, requests, n, secret = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

def wait_port(port, seconds=180):
    end = time.time() + seconds
    while time.time() < end:
        try:
            socket.create_connection((host, port), 2).close()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"port {port} closed after {seconds} s")

for _, port, _ in requests:
    wait_port(port)
wait_port(5000)
password = open(secret).read().strip()
auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
    "name": "admin", "domain": {"id": "default"}, "password": password}}},
    "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
token, project = None, None
for _ in range(120):  # Keystone's own workers load after its port opens
    try:
        c = http.client.HTTPConnection(host, 5000, timeout=30)
        c.request("POST", "/v3/auth/tokens", json.dumps(auth), {"Content-Type": "application/json"})
        r = c.getresponse()
        body = r.read()
        if r.status == 201:
            token, project = r.getheader("X-Subject-Token"), json.loads(body)["token"]["project"]["id"]
            break
    except OSError:
        pass
    time.sleep(1)
if not token:
    raise SystemExit("no token from Keystone after the restart")

def one(port, path):
    t0 = time.time()
    try:
        c = http.client.HTTPConnection(host, port, timeout=60)
        c.request("GET", path.replace("{project}", project), headers={"X-Auth-Token": token})
        r = c.getresponse()
        r.read()
        return r.status, time.time() - t0
    except Exception as e:
        return type(e).__name__, time.time() - t0

with concurrent.futures.ThreadPoolExecutor(len(requests) * n) as pool:
    futures = {kind: [pool.submit(one, port, path) for _ in range(n)] for kind, port, path in requests}
    for kind, fs in futures.items():
        answers = [f.result() for f in fs]
        good = [s for s, _ in answers if isinstance(s, int) and 200 <= s < 300]
        worst = max(t for _, t in answers)
        bad = sorted({str(s) for s, _ in answers if not (isinstance(s, int) and 200 <= s < 300)})
        print(kind, len(good), len(answers), f"{worst:.1f}", ",".join(bad) or "-")
`;

/** Judges the probe's lines (`type good total worst-seconds bad-answers`); exported for the unit test. */
export function judgeColdStart(output: string, expected: readonly string[]): { ok: boolean; detail: string } {
  const rows = output
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" "));
  const seen = new Map(rows.map((r) => [r[0], r] as const));
  const problems: string[] = [];
  for (const kind of expected) {
    const row = seen.get(kind);
    if (!row || row.length !== 5) problems.push(`${kind}: no answer from the probe`);
    else if (row[1] !== row[2] || Number(row[2]) === 0)
      problems.push(`${kind}: ${row[1]} of ${row[2]} concurrent requests answered 2xx (others: ${row[4]})`);
  }
  return {
    ok: problems.length === 0,
    detail: problems.length
      ? problems.join("; ")
      : `after a restart, ${expected.length} APIs each answered ${CONCURRENT} concurrent requests: ${rows.map((r) => `${r[0]} ≤${r[3]} s`).join(", ")}`,
  };
}

async function coldStart(ctx: CheckContext, host: HostPlan): Promise<{ ok: boolean; detail: string }> {
  const units = controlPlaneUnits(ctx.inventory.release);
  await remote(ctx, host, bashCommand('systemctl restart "$@"', ...units), { timeoutMs: 180_000 });
  const r = await ctx.ssh(
    host,
    bashCommand(
      'exec python3 -c "$1" "$2" "$3" "$4" "$5"',
      PROBE,
      host.address,
      JSON.stringify(COLD_START_REQUESTS),
      String(CONCURRENT),
      ADMIN_PASSWORD_SECRET,
    ),
    420_000,
  );
  if (r.code !== 0)
    return { ok: false, detail: `probe exit ${r.code}: ${r.stderr.trim().split("\n").at(-1)}` };
  return judgeColdStart(
    r.stdout,
    COLD_START_REQUESTS.map(([kind]) => kind),
  );
}

export const apiColdStart: Check = {
  name: NAME,
  async run(ctx: CheckContext): Promise<CheckResult[]> {
    const all = controllers(ctx);
    if (all.length < 2)
      return [skip(NAME, "-", "one controller: restarting it would be seen by every client")];
    const address = serviceAddress(ctx);
    const holders = address ? holdersOf(ctx, address).map((h) => h.name) : [];
    const standby = all.find((h) => !holders.includes(h.name) && h.address !== address);
    if (!standby) return [{ check: NAME, host: "-", ok: false, detail: `every controller holds ${address}` }];
    try {
      return [{ check: NAME, host: standby.name, ...(await coldStart(ctx, standby)) }];
    } catch (err) {
      return [{ check: NAME, host: standby.name, ok: false, detail: (err as Error).message }];
    }
  },
};
