/**
 * Where `lab tempest` runs Tempest: Debian's own `tempest` package of the cloud's Debian release.
 * Debian 12 (Zed) uses the lab machine's own (tempest 33, the machine runs Debian 12); Debian 13
 * (Epoxy) uses trixie's tempest 43, which Debian 12 cannot install: it runs in a trixie tree of
 * its own, built once per machine from the lab's base trixie root filesystem (as the hosts' are)
 * and entered with systemd-nspawn, sharing the machine's network (Tempest reaches the VIP as the
 * machine does) and binding the workspace, the logs dir and lab/tempest at their own paths.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ReleaseProfile } from "../../lib/core/releases";
import { buildIntoCache } from "../cache-build";
import { CACHE_DIR, LOG_DIR, TEMPEST_DIR } from "../config";
import { run } from "../exec";
import { ensurePackages } from "../packages";
import { ensureBaseRootfs, LabSuite, labSuite } from "../rootfs";

/** Tempest, its test runner and the subunit tools `times.py balance` reads the run's stream with. */
const TEMPEST_PACKAGES = ["tempest", "python3-stestr", "python3-subunit"];
/** lab/tempest: the exclusions, the durations' seed, times.py and ./upstream. */
const LAB_TEMPEST_DIR = __dirname;
/** The lab machine's own Debian suite (`VERSION_CODENAME`): its Tempest needs no tree of its own. */
function machineSuite(): string {
  return /^VERSION_CODENAME=(.*)$/m.exec(fs.readFileSync("/etc/os-release", "utf8"))?.[1] ?? "";
}
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** A command as the runner starts it, with the environment to start it with. */
export interface RunnerCommand {
  readonly cmd: string;
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
  /** The working directory on the machine's side (nspawn sets the tree's). */
  readonly cwd?: string;
}

export interface TempestRunner {
  /** What runs Tempest, for the log: `tempest 43.0.0 (trixie, in /var/cache/...)`. */
  readonly description: string;
  /** `cmd args` in TEMPEST_DIR with Debian's python3, `env` added to a clean environment. */
  command(cmd: string, args: readonly string[], env?: Record<string, string>): RunnerCommand;
}

/** The machine's environment without the caller's Python set-up (pyenv, PYTHONPATH) or proxies. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(PYTHON|PYENV|VIRTUAL_ENV)|^(https?|no|all)_proxy$/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, PATH, PYTHON: "/usr/bin/python3" };
}

/** The machine's own Tempest (Debian 12's package, installed when missing). */
function machineRunner(): TempestRunner {
  ensurePackages(TEMPEST_PACKAGES);
  const version = run("dpkg-query", ["-W", "-f=${Version}", "tempest"]).trim();
  return {
    description: `tempest ${version} (${machineSuite()}, the lab machine's)`,
    command: (cmd, args, env = {}) => ({
      cmd,
      args: [...args],
      env: { ...cleanEnv(), ...env },
      cwd: TEMPEST_DIR,
    }),
  };
}

/** The tree of `suite` with Tempest installed, built once per machine (from the base tree). */
function tempestTree(suite: LabSuite): string {
  const base = ensureBaseRootfs(suite).dir;
  const key = createHash("sha256")
    .update(JSON.stringify({ base: path.basename(base), TEMPEST_PACKAGES }))
    .digest("hex")
    .slice(0, 12);
  const dir = path.join(CACHE_DIR, "rootfs", `tempest-${suite}-${key}`);
  if (fs.existsSync(path.join(dir, "usr", "bin", "tempest"))) return dir;
  buildIntoCache(dir, `Tempest's ${suite} tree`, (tmp) => {
    run("cp", ["-a", base, tmp]);
    // The base has no name server (lab hosts resolve from /etc/hosts): the machine's, for apt.
    const resolv = path.join(tmp, "etc", "resolv.conf");
    const own = fs.readFileSync(resolv);
    fs.copyFileSync("/etc/resolv.conf", resolv);
    try {
      const env = { ...cleanEnv(), DEBIAN_FRONTEND: "noninteractive" };
      run("chroot", [tmp, "apt-get", "update", "-q"], { env });
      run("chroot", [tmp, "apt-get", "install", "-y", "-q", "--no-install-recommends", ...TEMPEST_PACKAGES], {
        env,
      });
      run("chroot", [tmp, "apt-get", "clean"], { env });
    } finally {
      fs.writeFileSync(resolv, own);
    }
  });
  return dir;
}

/** Tempest of `suite` in its own tree, through systemd-nspawn (no registration, the machine's network). */
function treeRunner(suite: LabSuite): TempestRunner {
  ensurePackages(["systemd-container"]);
  const tree = tempestTree(suite);
  const version = run("chroot", [tree, "dpkg-query", "-W", "-f=${Version}", "tempest"]).trim();
  return {
    description: `tempest ${version} (${suite}, in ${tree})`,
    command: (cmd, args, env = {}) => ({
      cmd: "systemd-nspawn",
      args: [
        "--quiet",
        // As the lab's hosts: no machined registration, no scope of its own (lab/containers.ts).
        "--register=no",
        "--keep-unit",
        "--as-pid2",
        "--console=pipe",
        `--directory=${tree}`,
        // Read-only: each run starts from the tree as built.
        "--volatile=overlay",
        `--bind=${TEMPEST_DIR}`,
        `--bind=${LOG_DIR}`,
        `--bind-ro=${LAB_TEMPEST_DIR}`,
        `--chdir=${TEMPEST_DIR}`,
        `--setenv=PATH=${PATH}`,
        "--setenv=PYTHON=/usr/bin/python3",
        ...Object.entries(env).map(([k, v]) => `--setenv=${k}=${v}`),
        "--",
        cmd,
        ...args,
      ],
      env: cleanEnv(),
    }),
  };
}

/** The runner for a cloud of `release`: its own Debian suite's Tempest. */
export function tempestRunner(release: ReleaseProfile): TempestRunner {
  const suite = labSuite(release);
  return suite === machineSuite() ? machineRunner() : treeRunner(suite);
}
