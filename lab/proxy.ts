/**
 * The caching package proxy: squid started by the lab with its own configuration, listening on
 * the management bridge's address only. Its cache lives under CACHE_DIR and survives `down`, so
 * every package is downloaded once per machine. It only forwards to deb.debian.org (other
 * origins get 403; no CONNECT tunnels).
 *
 * Why squid and not apt-cacher-ng (which the lab ran before): the hosts' first `apt-get update`
 * asks for the same files at the same second, and apt-cacher-ng 3.7.4 can lose one of those
 * requests. Its `TFileItemRegistry::Create` moves a cached file that it judges stale out of the
 * way as `<file>.<unix-seconds>`; a second such move of the same file within the same second
 * fails with EEXIST ("Failure to move file … out of the way or cannot create …"), that request
 * gets no file item, and its client waits forever with no answer (seen once in 13 soak runs:
 * `controller2_base` hung 8 min in `apt-get update` on `dists/bookworm/InRelease`). squid with
 * `collapsed_forwarding on` sends one request upstream for concurrent misses of one URL and
 * hands the answer to every waiting client.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CACHE_DIR, MANAGEMENT, PROXY_ADDRESS, PROXY_PORT, STATE_DIR } from "./config";
import { run } from "./exec";
import { tcpOpen, waitForPort } from "./net-probe";
import { isAlive, LabState, procRef, saveState, signal } from "./state";

/** The user squid drops to (Debian's squid package creates it). */
const USER = "proxy";
export const PROXY_CACHE = path.join(CACHE_DIR, "squid");
const PROXY_DIR = path.join(STATE_DIR, "proxy");
const CONF_FILE = path.join(PROXY_DIR, "squid.conf");
const LOG_DIR = path.join(PROXY_DIR, "log");
const RUN_DIR = path.join(PROXY_DIR, "run");
/** Origin the hosts may reach through the proxy (their sources.list and debootstrap's mirror). */
export const PROXY_ORIGIN = "deb.debian.org";

export function squidConfig(): string {
  return `# Written by the openstack-cdktf lab (lab/proxy.ts); not the system's squid.
http_port ${PROXY_ADDRESS}:${PROXY_PORT}
icp_port 0
htcp_port 0
snmp_port 0
pid_filename ${path.join(RUN_DIR, "squid.pid")}
cache_effective_user ${USER}
cache_effective_group ${USER}
coredump_dir ${RUN_DIR}
access_log stdio:${path.join(LOG_DIR, "access.log")} squid
cache_log ${path.join(LOG_DIR, "cache.log")}
cache_store_log none
logfile_rotate 0
# On SIGTERM, close client connections after 1 s instead of 30 (lab down).
shutdown_lifetime 1 seconds

# Only the lab's hosts, only deb.debian.org, only plain HTTP on port 80.
acl lab_hosts src ${MANAGEMENT.cidr}
acl debian_archive dstdomain ${PROXY_ORIGIN}
acl port_80 port 80
acl CONNECT method CONNECT
http_access deny CONNECT
http_access deny !port_80
http_access allow lab_hosts debian_archive
http_access deny all

# Concurrent misses of one URL (every host's first apt-get update, every controller's
# packages) become one request upstream, answered to all of them.
collapsed_forwarding on

cache_mem 64 MB
maximum_object_size_in_memory 1 MB
maximum_object_size 1 GB
cache_dir ufs ${PROXY_CACHE} 20000 16 256
cache_replacement_policy heap LFUDA
# Packages and files addressed by their hash never change: keep them, never revalidate.
# Index files (InRelease, …) are revalidated: apt asks with Cache-Control: max-age=0.
refresh_pattern -i \\.(deb|udeb|dsc|diff\\.gz|tar\\.(gz|xz|bz2))$ 525600 100% 525600
refresh_pattern /by-hash/ 525600 100% 525600
refresh_pattern . 0 0% 0
`;
}

/** Starts the proxy unless the one we started earlier still runs. */
export async function ensureProxy(state: LabState): Promise<void> {
  if (isAlive(state.proxy) && (await tcpOpen(PROXY_ADDRESS, PROXY_PORT))) return;
  if (await tcpOpen(PROXY_ADDRESS, PROXY_PORT)) {
    throw new Error(
      `${PROXY_ADDRESS}:${PROXY_PORT} is served by a process the lab did not start; stop it first`,
    );
  }
  for (const dir of [PROXY_CACHE, LOG_DIR, RUN_DIR]) fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(CONF_FILE, squidConfig());
  run("chown", ["-R", `${USER}:${USER}`, PROXY_CACHE, LOG_DIR, RUN_DIR]);
  // A stale pid file (squid killed) makes squid refuse to start.
  fs.rmSync(path.join(RUN_DIR, "squid.pid"), { force: true });
  // Creates the cache's directories where they are missing (a no-op on a warm cache).
  run("squid", ["-N", "-z", "-f", CONF_FILE]);
  const out = fs.openSync(path.join(PROXY_DIR, "stdout.log"), "a");
  // -N: no daemon and no worker kids, so the pid we record is the proxy's own.
  const child = spawn("squid", ["-N", "-f", CONF_FILE], { detached: true, stdio: ["ignore", out, out] });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error("could not start squid");
  state.proxy = procRef(child.pid);
  saveState(state);
  child.unref();
  const ok = await waitForPort(PROXY_ADDRESS, PROXY_PORT, 30_000, () => !isAlive(state.proxy));
  if (!ok) {
    throw new Error(
      `squid did not listen on ${PROXY_ADDRESS}:${PROXY_PORT}; see ${PROXY_DIR}/stdout.log and ${LOG_DIR}/cache.log`,
    );
  }
}

export async function stopProxy(state: LabState): Promise<void> {
  if (signal(state.proxy, "SIGTERM")) {
    for (let i = 0; i < 100 && isAlive(state.proxy); i++) await new Promise((r) => setTimeout(r, 100));
    signal(state.proxy, "SIGKILL");
  }
  state.proxy = undefined;
  saveState(state);
}

export async function proxyStatus(state: LabState): Promise<string> {
  const listening = await tcpOpen(PROXY_ADDRESS, PROXY_PORT);
  const cache = fs.existsSync(PROXY_CACHE) ? run("du", ["-sh", PROXY_CACHE]).split("\t")[0] : "none";
  const who = isAlive(state.proxy) ? `pid ${state.proxy!.pid}` : "not running";
  return `proxy ${PROXY_ADDRESS}:${PROXY_PORT}: ${who}, ${listening ? "listening" : "not listening"}, cache ${cache} in ${PROXY_CACHE}`;
}
