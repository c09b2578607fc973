/**
 * `lab tempest`: the OpenStack project's own API test suite (Debian's `tempest` package) from
 * the lab machine against the deployed cloud, through the public endpoints on the VIP, as a
 * user's client would reach them. Installs Tempest on the machine (never on the cloud's hosts),
 * writes `tempest.conf` from the cloud's facts (./config.ts), runs the selection minus the
 * reasoned exclusions (./exclude.txt), prints passed / failed / skipped and the failures.
 *
 * The workspace (tempest.conf holds the admin password) is root-only in the lab's state dir
 * and removed by `lab down`; the console output and Tempest's own debug log go to the lab's
 * logs dir as `<cluster>-tempest-*.log`, where the secrets check searches them.
 */
import { execFileSync } from "child_process";
import { InvalidArgumentError, Option } from "commander";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { Inventory } from "../../lib/cluster/inventory";
import { secretVariableName } from "../../lib/core/secrets-file";
import { KEYSTONE_API } from "../../lib/services/keystone";
import { CACHE_DIR, LOG_DIR, logName, TEMPEST_DIR } from "../config";
import { secretsFile } from "../deploy";
import { run, runStreaming } from "../exec";
import { serviceAddress } from "../checks/platform";
import { labContext } from "../verify";
import { GuestImage, guestImage } from "../checks/guest-image";
import { ComputeRefs, computeRefs } from "./compute-refs";
import { serviceAvailability, tempestConf } from "./config";
import { AdminCredentials, gatherCloudFacts } from "./facts";
import { parseTempestOutput, tempestPassed, TempestSummary } from "./results";
import { tempestRunner } from "./runner";
import { ReleaseName, releaseProfile } from "../../lib/core/releases";

/** The exclusions of every release (lab limits). */
export const EXCLUDE_LIST = path.join(__dirname, "exclude.txt");

/** A release's own exclusions, beside EXCLUDE_LIST (none for a release without the file). */
export function releaseExcludeList(release: ReleaseName): string {
  return path.join(__dirname, `exclude-${release}.txt`);
}

/** The exclusions for a cloud of `release`: every release's, then its own. */
export function excludeLines(release: ReleaseName): string {
  const own = releaseExcludeList(release);
  return [EXCLUDE_LIST, ...(fs.existsSync(own) ? [own] : [])]
    .map((f) => fs.readFileSync(f, "utf8"))
    .join("\n");
}
/**
 * Tempest's named selections (stestr regexes over test ids with their [attributes]).
 *
 * `full`, the acceptance selection: every smoke test, and the identity, image and network API
 * suites (527 tests, about 31 minutes on a 2-core lab machine). It proves a release or a change
 * to a service before its issue resolves (`npm run test:e2e`, docs/lab.md "Contributing").
 *
 * `ci`, for CI's 35-minute budget: the smoke tests that boot no guest, in their IPv4 classes
 * (73 tests; 94 with the IPv6 classes took 415 s, the IPv6 classes 344 s of the 1523 s of
 * class wall). Tempest's server and scenario smoke tests boot the guest and reach it through a
 * floating IP, as `verify`'s vm-* checks do on the same cloud in the same run; the IPv6 classes
 * (`RoutersIpV6Test`, `PortsIpV6TestJSON`...) run their IPv4 parents' tests on IPv6 subnets,
 * which the lab's IPv4 cloud uses nowhere else. The full selection keeps both.
 *
 * `compute`: the compute and volume API suites and the basic scenarios (a server logged in to
 * and its metadata, the network's connectivity, the minimum of server, image, volume and
 * floating IP together), with validation: the guest-heavy half that `full` samples only by its
 * smoke tests. Run once per release before a change to Nova, Cinder or the guest resolves.
 */
export const TEMPEST_SELECTIONS = {
  full: String.raw`^(tempest\.api\.(identity|image|network)\.|.*\[.*\bsmoke\b.*\])`,
  ci: String.raw`^(?!tempest\.(scenario|api\.compute\.servers)\.)(?!.*\.\w*I[Pp][Vv]6\w*\.).*\[.*\bsmoke\b.*\]`,
  compute: String.raw`^tempest\.(api\.(compute|volume)\.|scenario\.test_(minimum_basic|server_basic_ops|network_basic_ops)\.)`,
} as const;
export type TempestSelection = keyof typeof TEMPEST_SELECTIONS;
export const DEFAULT_SELECTION: TempestSelection = "full";

/** The option that names a selection, for `lab tempest` (`--selection`) and `test:e2e` (`--tempest`). */
export function selectionOption(flags: string): Option {
  const names = Object.keys(TEMPEST_SELECTIONS).join(", ");
  return new Option(
    flags,
    `Tempest's selection: ${names} (default ${DEFAULT_SELECTION}; CI runs ci)`,
  ).argParser(tempestSelection);
}

/** The selection's name, checked (commander's option parser for `--tempest` and `--selection`). */
export function tempestSelection(name: string): TempestSelection {
  if (!Object.hasOwn(TEMPEST_SELECTIONS, name))
    throw new InvalidArgumentError(
      `tempest selection: got ${JSON.stringify(name)}, expected one of ${Object.keys(TEMPEST_SELECTIONS).join(", ")}`,
    );
  return name as TempestSelection;
}
/**
 * Test durations of earlier runs (stestr's `times.dbm`: test ids and seconds, nothing else), kept
 * so that stestr can balance the workers: without them it deals test classes out round-robin,
 * and one worker got most of the slow network classes (22 min instead of ~12). After each run a
 * test's figure is its share of its class's wall time, fixtures included (./times.py balance).
 */
const TIMES_CACHE = path.join(CACHE_DIR, "tempest-times");

/**
 * Where a selection's durations are kept: a class's share per test depends on which of its tests
 * ran, so each named selection keeps its own (`full` where it always was); a run of a hand-written
 * regex starts from the full selection's and records nothing.
 */
function timesCache(selection: TempestSelection | undefined): string {
  return selection === undefined || selection === "full" ? TIMES_CACHE : `${TIMES_CACHE}-${selection}`;
}
const TIMES_FILES = ["times.dbm.dat", "times.dbm.dir", "times.dbm.bak"];
/**
 * Durations from a full run of the default selection, committed, for a machine whose cache has
 * none (CI's first run): ids the cache already has keep the cache's figure. Refresh with
 * `python3 lab/tempest/times.py export <cache>/times.dbm lab/tempest/times-seed.json`.
 */
export const TIMES_SEED = path.join(__dirname, "times-seed.json");
const TIMES_PY = path.join(__dirname, "times.py");

function copyTimes(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const f of TIMES_FILES) {
    if (fs.existsSync(path.join(from, f))) fs.copyFileSync(path.join(from, f), path.join(to, f));
  }
}
/**
 * Tempest's workers for a lab of `hosts` hosts. Four while the lab has at most four hosts: much
 * of a worker's time is spent waiting for servers, routers and ports to settle. Two
 * above that: every lab host shares the machine's cores, and with eight hosts four workers kept
 * the CPU at 100 % and Neutron's HA router creates queued for 10-48 s, against Tempest's 60 s
 * HTTP timeout (lab/README.md, "Tempest").
 */
export function tempestWorkers(hosts: number): number {
  return hosts <= 4 ? 4 : 2;
}

export interface TempestOutcome {
  readonly ok: boolean;
  readonly summary?: TempestSummary;
  readonly detail: string;
  readonly log: string;
}

function adminCredentials(inv: Inventory): AdminCredentials {
  const file = secretsFile(inv);
  const values = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  const password = values[secretVariableName("keystone_admin_password")];
  if (typeof password !== "string" || password === "") {
    throw new Error(`${file}: no ${secretVariableName("keystone_admin_password")}; run \`lab deploy\` first`);
  }
  return { username: "admin", password, projectName: "admin", domainName: "Default" };
}

/** Keystone's public v3 URL: the VIP, as the library registers it (lib/services/control-plane-context.ts). */
function identityUrl(inv: Inventory): string {
  const address = serviceAddress(labContext(inv));
  if (!address) throw new Error("inventory: no controller to run Tempest against");
  return `http://${net.isIPv6(address) ? `[${address}]` : address}:${KEYSTONE_API.port}/v3`;
}

/**
 * Upstream Tempest's subnet delete (./upstream/sitecustomize.py): Debian's package sleeps 10 s
 * before each one, about 35 minutes of the default selection's worker time.
 */
export const UPSTREAM_DIR = path.join(__dirname, "upstream");

/** What `tempest run` gets in its environment beyond the runner's: ./upstream first on Python's path. */
export const TEMPEST_RUN_ENV: Readonly<Record<string, string>> = { PYTHONPATH: UPSTREAM_DIR };

export async function tempest(
  inv: Inventory,
  opts: { selection?: TempestSelection; regex?: string; workers?: number } = {},
): Promise<TempestOutcome> {
  const runner = tempestRunner(releaseProfile(inv.release));
  console.log(`tempest: ${runner.description}`);
  const admin = adminCredentials(inv);
  const facts = await gatherCloudFacts(identityUrl(inv), admin);
  // Server tests boot the lab's guest with the day-one flavor.
  let compute: ComputeRefs | undefined;
  let image: GuestImage | undefined;
  if (serviceAvailability(facts).nova) {
    if (!inv.dayOne)
      throw new Error("tempest: nova-compute is up but the inventory has no dayOne flavor to boot with");
    image = guestImage();
    compute = await computeRefs(identityUrl(inv), admin, inv.dayOne.flavor.name, image);
  }

  // A fresh workspace per run: nothing of an earlier cloud's config or results is reused.
  fs.rmSync(TEMPEST_DIR, { recursive: true, force: true });
  fs.mkdirSync(path.join(TEMPEST_DIR, "etc"), { recursive: true, mode: 0o700 });
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const now = new Date();
  const log = path.join(LOG_DIR, `${logName(inv.cluster, "tempest", now)}.log`);
  const debugLog = `${logName(inv.cluster, "tempest-debug", now)}.log`;
  // Tempest appends to its debug log; created here so that it is root-only like the rest.
  fs.closeSync(fs.openSync(path.join(LOG_DIR, debugLog), "a", 0o600));
  // Scenario tests upload the guest themselves: a copy in the workspace, which Tempest's tree sees.
  let scenarioImage: GuestImage | undefined;
  if (image) {
    scenarioImage = { ...image, file: path.join(TEMPEST_DIR, path.basename(image.file)) };
    fs.copyFileSync(image.file, scenarioImage.file);
  }
  const conf = path.join(TEMPEST_DIR, "etc", "tempest.conf");
  fs.writeFileSync(
    conf,
    tempestConf(
      facts,
      admin,
      {
        logDir: LOG_DIR,
        logFile: debugLog,
        lockDir: path.join(TEMPEST_DIR, "lock"),
      },
      compute,
      scenarioImage,
    ),
    { mode: 0o600 },
  );

  const excludeList = path.join(TEMPEST_DIR, "exclude.txt");
  fs.writeFileSync(excludeList, excludeLines(inv.release), { mode: 0o600 });
  const repo = path.join(TEMPEST_DIR, ".stestr");
  const inRunner = (cmd: string, args: readonly string[]) => {
    const c = runner.command(cmd, args);
    return run(c.cmd, c.args, { cwd: c.cwd, env: c.env });
  };
  inRunner("stestr", ["init"]);
  // A hand-written regex runs with the selection's durations (the full one's without one).
  const selection = opts.regex === undefined ? (opts.selection ?? DEFAULT_SELECTION) : opts.selection;
  const cache = timesCache(selection);
  copyTimes(fs.existsSync(cache) ? cache : TIMES_CACHE, repo);
  console.log(
    inRunner("/usr/bin/python3", [TIMES_PY, "import", TIMES_SEED, path.join(repo, "times.dbm")]).trim(),
  );

  const regex = opts.regex ?? TEMPEST_SELECTIONS[selection ?? DEFAULT_SELECTION];
  console.log(`tempest selection: ${opts.regex === undefined ? selection : "--regex"}`);
  const workers = opts.workers ?? tempestWorkers(inv.hosts.length);
  const args = [
    "run",
    "--config-file",
    conf,
    "--concurrency",
    String(workers),
    "--regex",
    regex,
    "--exclude-list",
    excludeList,
  ];
  console.log(`tempest ${args.map((a) => (/^[\w./=-]+$/.test(a) ? a : `'${a}'`)).join(" ")}`);
  console.log(`  console log: ${log}`);
  const out = fs.openSync(log, "w", 0o600);
  let code: number;
  try {
    const c = runner.command("tempest", args, { ...TEMPEST_RUN_ENV });
    code = await runStreaming(c.cmd, c.args, (line) => fs.writeSync(out, `${line}\n`), {
      cwd: c.cwd,
      env: c.env,
    });
  } finally {
    fs.closeSync(out);
  }
  // The run's class wall times, fixtures included, replace stestr's test-only durations.
  // Not a check: a run whose stream cannot be read keeps the durations stestr recorded.
  try {
    // The run's subunit v2 stream (stestr keeps v1 in its repository; `last --subunit` gives v2).
    const stream = path.join(TEMPEST_DIR, "last.subunit");
    const fd = fs.openSync(stream, "w", 0o600);
    try {
      const c = runner.command("stestr", ["last", "--subunit"]);
      execFileSync(c.cmd, c.args, { cwd: c.cwd, env: c.env, stdio: ["ignore", fd, "pipe"] });
    } finally {
      fs.closeSync(fd);
    }
    const balance = [TIMES_PY, "balance", stream, path.join(repo, "times.dbm")];
    console.log(inRunner("/usr/bin/python3", balance).trim());
  } catch (err) {
    console.log(`tempest times: class wall times not recorded: ${(err as Error).message}`);
  }
  if (opts.regex === undefined) copyTimes(repo, cache);
  const summary = parseTempestOutput(fs.readFileSync(log, "utf8"));
  const ok = tempestPassed(summary) && code === 0;
  const detail = summary
    ? `${summary.ran} tests in ${summary.seconds.toFixed(0)} s: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped` +
      (summary.unexpectedSuccess ? `, ${summary.unexpectedSuccess} passed unexpectedly` : "") +
      (summary.failures.length ? `\n  failed: ${summary.failures.join("\n  failed: ")}` : "")
    : `tempest printed no totals (exit ${code}); see ${log}`;
  return { ok, summary, detail, log };
}
