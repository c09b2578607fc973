/**
 * One systemd-nspawn container per host: an overlay of the cached base with the host's own
 * identity on top, booted in the host's network namespace. Stopped by the pids recorded at
 * start, never by name.
 */
import { spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { HOSTS_DIR } from "./config";
import { run, sleep, tryRun } from "./exec";
import { HostPlan } from "./plan";
import { recordHostKey } from "./ssh";
import { HostState, isAlive, LabState, ProcRef, procRef, saveState, signal } from "./state";

export function hostDir(name: string): string {
  return path.join(HOSTS_DIR, name);
}

function mountedUnder(dir: string): string[] {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  return fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(prefix)))
    .map((m) => m.replace(/\\040/g, " "));
}

/** Unmounts everything under the host's dir; throws if something stays mounted. */
function unmountUnder(dir: string): void {
  for (const m of mountedUnder(dir).sort().reverse()) {
    if (tryRun("umount", [m]).code !== 0) run("umount", ["-l", m]);
  }
  const left = mountedUnder(dir);
  if (left.length > 0) throw new Error(`still mounted, not removing ${dir}: ${left.join(", ")}`);
}

/** Unmounts everything under the host's dir, then removes the dir (never while mounted). */
export function removeHostDir(dir: string): void {
  unmountUnder(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** removeHostDir for many hosts, deleting in parallel (a deployed controller's disk is GiBs of small files). */
export async function removeHostDirs(dirs: Iterable<string>): Promise<void> {
  const list = [...dirs];
  for (const dir of list) unmountUnder(dir);
  await Promise.all(list.map((dir) => fs.promises.rm(dir, { recursive: true, force: true })));
}

/**
 * Mounts the host's overlay (lower = base, upper = the host's disk) unless it is mounted
 * already; returns the root. Recorded in the state before it is mounted.
 */
export function mountOverlay(name: string, base: string, state: LabState): string {
  const dir = hostDir(name);
  const [upper, work, root] = ["upper", "work", "root"].map((d) => path.join(dir, d));
  if (mountedUnder(dir).includes(root)) return root;
  for (const d of [upper, work, root]) fs.mkdirSync(d, { recursive: true });
  state.hosts[name].mounted = true;
  saveState(state);
  run("mount", [
    "-t",
    "overlay",
    "overlay",
    "-o",
    `lowerdir=${base},upperdir=${upper},workdir=${work}`,
    root,
  ]);
  return root;
}

/** The Debian installer's /etc/hosts: the lab adds nothing a real server would not have. */
function etcHosts(name: string): string {
  return `127.0.0.1\tlocalhost
127.0.1.1\t${name}

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
`;
}

/** Mounts the host's overlay and gives it a name, a machine-id, host keys and the lab key. */
export function prepareRoot(host: HostPlan, base: string, authorizedKey: string, state: LabState): string {
  const dir = hostDir(host.name);
  removeHostDir(dir);
  const root = mountOverlay(host.name, base, state);

  const etc = path.join(root, "etc");
  fs.writeFileSync(path.join(etc, "hostname"), `${host.name}\n`);
  fs.writeFileSync(path.join(etc, "hosts"), etcHosts(host.name));
  fs.writeFileSync(path.join(etc, "machine-id"), randomBytes(16).toString("hex") + "\n");
  run("ssh-keygen", ["-A", "-f", root]);
  const sshDir = path.join(root, "root", ".ssh");
  fs.mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(sshDir, 0o700);
  fs.writeFileSync(path.join(sshDir, "authorized_keys"), `${authorizedKey}\n`, { mode: 0o600 });
  recordHostKey(host.address, fs.readFileSync(path.join(etc, "ssh", "ssh_host_ed25519_key.pub"), "utf8"));
  keepRootUserManager(root);
  dpkgWithoutFsync(root);
  return root;
}

/** Where dpkgWithoutFsync writes dpkg's option. */
export const DPKG_UNSAFE_IO = "etc/dpkg/dpkg.cfg.d/openstack-cdktf-lab-unsafe-io";

/**
 * dpkg without its fsync per unpacked file (`force-unsafe-io`, as Debian's container images
 * ship it). A lab host's disk is this machine's page cache and its power cut kills processes,
 * not this kernel, so the syncs protect nothing here, while four hosts installing at once wait
 * on them: `apt-get install python3-nova python3-neutron` in a chroot took 521 s with them and
 * 288 s without, for the same CPU time (209 and 230 CPU-s). The deploy's scripts are unchanged;
 * a server keeps dpkg's default.
 */
export function dpkgWithoutFsync(root: string): void {
  const file = path.join(root, DPKG_UNSAFE_IO);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, "# Written by the openstack-cdktf lab (lab/containers.ts).\nforce-unsafe-io\n");
}

/**
 * Lingers root, so that its systemd user manager (which pam_systemd starts at a login) runs
 * from boot and is never stopped. In a container on this
 * machine's hybrid cgroups, systemd sees no "cgroup empty" event for it: a stop, 10 s after the
 * last SSH session ends, then hangs for its whole 2 min stop timeout, and every SSH login in
 * that window waits for it (a lab check's `ssh … true` was killed at 20 s; a deploy step sat
 * 87 s before its first line). Servers with the unified cgroup hierarchy are not affected.
 */
export function keepRootUserManager(root: string): void {
  const linger = path.join(root, "var", "lib", "systemd", "linger");
  fs.mkdirSync(linger, { recursive: true });
  fs.writeFileSync(path.join(linger, "root"), "");
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

function pidNamespace(pid: number | "self"): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return fs
    .readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .map(Number);
}

/** The container's init: the child of nspawn that sits in a new pid namespace. */
function leaderOf(nspawn: ProcRef): ProcRef | undefined {
  const own = pidNamespace("self");
  for (const pid of allPids()) {
    if (isAlive(nspawn) && parentOf(pid) === nspawn.pid && pidNamespace(pid) !== own) {
      try {
        return procRef(pid);
      } catch {
        // exited between the scan and the read
      }
    }
  }
  return undefined;
}

async function findLeader(nspawn: ProcRef): Promise<ProcRef | undefined> {
  for (let i = 0; i < 100 && isAlive(nspawn); i++) {
    const leader = leaderOf(nspawn);
    if (leader) return leader;
    await sleep(100);
  }
  return undefined;
}

/** Boots the host's container in the background; its console goes to console.log. */
export async function boot(host: HostPlan, root: string, state: LabState): Promise<void> {
  const hs = state.hosts[host.name];
  const console_ = fs.openSync(path.join(hostDir(host.name), "console.log"), "a");
  const args = [
    "-D",
    root,
    "-b",
    "--register=no",
    "--keep-unit",
    `--network-namespace-path=/run/netns/${host.netns}`,
    "-M",
    host.name,
    // Heartbeat must add the VIP; nspawn does not grant CAP_NET_ADMIN with a namespace path.
    "--capability=CAP_NET_ADMIN",
    "--resolv-conf=off",
    "--link-journal=no",
  ];
  // detached: its own session (setsid), so the lab's terminal signals do not reach it.
  const child = spawn("systemd-nspawn", args, {
    detached: true,
    stdio: ["ignore", console_, console_],
    // /proc/sys/net writable, as on a server (e.g. net.ipv4.ip_nonlocal_bind for services that
    // bind the VIP): nspawn does that only for --private-network, not for a namespace path.
    // It is the host's own namespace, so nothing outside the host is affected.
    env: { ...process.env, SYSTEMD_NSPAWN_API_VFS_WRITABLE: "network" },
  });
  fs.closeSync(console_);
  if (child.pid === undefined) throw new Error(`${host.name}: systemd-nspawn did not start`);
  hs.nspawn = procRef(child.pid);
  saveState(state);
  child.unref();
  hs.leader = await findLeader(hs.nspawn);
  saveState(state);
  if (!hs.leader)
    throw new Error(`${host.name}: container did not start; see ${hostDir(host.name)}/console.log`);
}

/**
 * Pulls the plug: SIGKILL to the container's init, which takes every process of the host with
 * it at once (no shutdown, no service stops, no goodbye packets); `onDead` runs as soon as it is
 * gone (the caller unplugs the network there); then nspawn, which exits by itself, is waited
 * for. Only the recorded processes are signalled.
 */
export async function powerOff(hs: HostState, onDead: () => void = () => undefined): Promise<void> {
  if (!hs.leader && hs.nspawn && isAlive(hs.nspawn)) hs.leader = leaderOf(hs.nspawn);
  signal(hs.leader, "SIGKILL");
  for (let i = 0; i < 100 && isAlive(hs.leader); i += 1) await sleep(i < 50 ? 10 : 100);
  if (isAlive(hs.leader)) throw new Error(`${hs.name}: the container's init did not die`);
  // Its processes are gone with their init; what it left on the wire goes now, not after nspawn.
  onDead();
  // nspawn exits by itself once its container is gone; give it a moment, then insist.
  for (let i = 0; i < 50 && isAlive(hs.nspawn); i++) await sleep(100);
  signal(hs.nspawn, "SIGKILL");
  for (let i = 0; i < 50 && (isAlive(hs.nspawn) || isAlive(hs.leader)); i++) await sleep(100);
  if (isAlive(hs.nspawn) || isAlive(hs.leader))
    throw new Error(`${hs.name}: container processes did not exit`);
}

/** True while the host's recorded container runs. */
export function isRunning(hs: HostState | undefined): boolean {
  return !!hs && (isAlive(hs.nspawn) || isAlive(hs.leader));
}

/** Sum of the PSS of every process in the container's pid namespace, in KiB. */
export function containerPssKiB(hs: HostState): number | undefined {
  if (!hs.leader || !isAlive(hs.leader)) return undefined;
  const ns = pidNamespace(hs.leader.pid);
  let total = 0;
  for (const pid of allPids()) {
    if (pidNamespace(pid) !== ns) continue;
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
      if (m) total += Number(m[1]);
    } catch {
      // the process exited while we looked
    }
  }
  return total;
}
