/**
 * The caching package proxy: apt-cacher-ng started by the lab with its own configuration,
 * listening on the management bridge's address only. Its cache lives under CACHE_DIR and
 * survives `down`, so every package is downloaded once per machine. It only forwards to
 * deb.debian.org (ForceManaged: other origins are refused; no CONNECT tunnels).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CACHE_DIR, PROXY_ADDRESS, PROXY_PORT, STATE_DIR } from "./config";
import { run } from "./exec";
import { tcpOpen, waitForPort } from "./net-probe";
import { isAlive, LabState, procRef, saveState, signal } from "./state";

const USER = "apt-cacher-ng";
export const PROXY_CACHE = path.join(CACHE_DIR, "apt-cacher-ng");
const PROXY_DIR = path.join(STATE_DIR, "proxy");
const CONF_DIR = path.join(PROXY_DIR, "conf");
const LOG_DIR = path.join(PROXY_DIR, "log");
const RUN_DIR = path.join(PROXY_DIR, "run");

function config(): string {
  return `# Written by the openstack-cdktf lab (lab/proxy.ts); not the system's apt-cacher-ng.
CacheDir: ${PROXY_CACHE}
LogDir: ${LOG_DIR}
SupportDir: /usr/lib/apt-cacher-ng
Port: ${PROXY_PORT}
BindAddress: ${PROXY_ADDRESS}
SocketPath: ${path.join(RUN_DIR, "socket")}
PidFile: ${path.join(RUN_DIR, "pid")}
ForeGround: 1
# Only the Debian archive below is served; requests for any other origin are refused.
ForceManaged: 1
Remap-debrep: deb.debian.org/debian ; http://deb.debian.org/debian/
Remap-secdeb: deb.debian.org/debian-security security.debian.org/debian-security ; http://deb.debian.org/debian-security/
ReportPage: acng-report.html
ExThreshold: 4
`;
}

function chownTo(dir: string): void {
  run("chown", ["-R", `${USER}:${USER}`, dir]);
}

/** Starts the proxy unless the one we started earlier still runs. */
export async function ensureProxy(state: LabState): Promise<void> {
  if (isAlive(state.proxy) && (await tcpOpen(PROXY_ADDRESS, PROXY_PORT))) return;
  if (await tcpOpen(PROXY_ADDRESS, PROXY_PORT)) {
    throw new Error(
      `${PROXY_ADDRESS}:${PROXY_PORT} is served by a process the lab did not start; stop it first`,
    );
  }
  for (const dir of [PROXY_CACHE, CONF_DIR, LOG_DIR, RUN_DIR]) fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(CONF_DIR, "acng.conf"), config());
  chownTo(PROXY_CACHE);
  chownTo(LOG_DIR);
  chownTo(RUN_DIR);
  const out = fs.openSync(path.join(PROXY_DIR, "stdout.log"), "a");
  // setpriv execs apt-cacher-ng in place, so the pid we record is the proxy's own.
  const child = spawn(
    "setpriv",
    ["--reuid", USER, "--regid", USER, "--init-groups", "--", "apt-cacher-ng", "-c", CONF_DIR],
    { detached: true, stdio: ["ignore", out, out] },
  );
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error("could not start apt-cacher-ng");
  state.proxy = procRef(child.pid);
  saveState(state);
  child.unref();
  const ok = await waitForPort(PROXY_ADDRESS, PROXY_PORT, 15_000, () => !isAlive(state.proxy));
  if (!ok) {
    throw new Error(
      `apt-cacher-ng did not listen on ${PROXY_ADDRESS}:${PROXY_PORT}; see ${PROXY_DIR}/stdout.log and ${LOG_DIR}`,
    );
  }
}

export async function stopProxy(state: LabState): Promise<void> {
  if (signal(state.proxy, "SIGTERM")) {
    for (let i = 0; i < 50 && isAlive(state.proxy); i++) await new Promise((r) => setTimeout(r, 100));
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
