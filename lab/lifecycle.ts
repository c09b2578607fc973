/** `up`, `down` and `status`: bring the lab's hosts to life, report on them, and remove them. */
import * as fs from "fs";
import * as path from "path";
import { Inventory } from "../lib/cluster/inventory";
import { releaseProfile } from "../lib/core/releases";
import {
  HOST_PACKAGES,
  HOSTS_DIR,
  MANAGEMENT,
  NETWORKS,
  STATE_DIR,
  TEMPEST_DIR,
  TF_STATE_DIR,
} from "./config";
import { boot, containerPssKiB, hostDir, powerOff, prepareRoot, removeHostDirs } from "./containers";
import { since, sleep, tryRun } from "./exec";
import { waitForPort } from "./net-probe";
import { createHostNetwork, ensureBridges, presentLabNetwork, removeLabNetwork } from "./network";
import { ensurePackages } from "./packages";
import { HostPlan, planHosts } from "./plan";
import { ensureProxy, proxyStatus, stopProxy } from "./proxy";
import { baseRootfsPath, ensureBaseRootfs, labSuite } from "./rootfs";
import { ensureLabKey, ssh } from "./ssh";
import { clearState, isAlive, LabState, loadState, saveState } from "./state";

/** Beyond this the 2-core, 24 GiB machine the lab is sized for runs short of memory in a deploy. */
const MAX_COMFORTABLE_HOSTS = 8;
const BOOT_TIMEOUT_MS = 180_000;

const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

function duKiB(dir: string): number {
  const r = tryRun("du", ["-sxk", dir]);
  return r.code === 0 ? Number(r.stdout.split("\t")[0]) : 0;
}

function running(state: LabState): string[] {
  return Object.values(state.hosts)
    .filter((h) => isAlive(h.nspawn) || isAlive(h.leader))
    .map((h) => h.name);
}

/** Waits for sshd to answer with the lab key; returns seconds from `start`. */
export async function waitForSsh(host: HostPlan, start: number, alive: () => boolean): Promise<number> {
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  while (Date.now() < deadline && alive()) {
    if (await waitForPort(host.address, 22, 2000, () => !alive())) {
      const r = await ssh(host, "true", 10_000);
      if (r.code === 0) return (performance.now() - start) / 1000;
    }
    await sleep(500);
  }
  const why = alive() ? `no SSH within ${BOOT_TIMEOUT_MS / 1000} s` : "the container exited";
  throw new Error(`${host.name}: ${why}; see ${hostDir(host.name)}/console.log`);
}

/**
 * A real compute server has /dev/kvm. A container gets the node created inside (binding the
 * host's would let the container's udev change it, see LAB.md); 0666 because no udev runs in
 * the container to give it to group kvm later.
 */
export async function addKvmNode(host: HostPlan): Promise<void> {
  if (!fs.existsSync("/dev/kvm")) return;
  const r = await ssh(host, "test -e /dev/kvm || mknod -m 0666 /dev/kvm c 10 232");
  if (r.code !== 0) console.warn(`${host.name}: could not create /dev/kvm: ${r.stderr.trim()}`);
}

export async function up(inv: Inventory, inventoryFile: string): Promise<void> {
  try {
    await bringUp(inv, inventoryFile);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n(what was started is recorded; \`lab down\` removes it)`);
  }
}

async function bringUp(inv: Inventory, inventoryFile: string): Promise<void> {
  const t0 = performance.now();
  const hosts = planHosts(inv);
  if (hosts.length > MAX_COMFORTABLE_HOSTS) {
    console.warn(
      `warning: ${hosts.length} hosts; the lab is sized for ${MAX_COMFORTABLE_HOSTS} on 2 cores and 24 GiB`,
    );
  }
  let state = loadState();
  const live = running(state);
  if (live.length > 0) {
    throw new Error(
      `a lab is already up (${live.join(", ")} from ${state.inventory}); run \`lab down\` first`,
    );
  }
  // Leftovers of a crashed run (dead containers, namespaces, mounts) go first; the proxy may stay.
  await teardown(state, { keepProxy: true });
  const suite = labSuite(releaseProfile(inv.release));
  state = { ...loadState(), inventory: path.resolve(inventoryFile), cluster: inv.cluster, suite, hosts: {} };
  saveState(state);
  // Fresh hosts: a Terraform state from earlier lab hosts would make apply skip every step.
  fs.rmSync(TF_STATE_DIR, { recursive: true, force: true });
  fs.rmSync(TEMPEST_DIR, { recursive: true, force: true });

  ensurePackages(HOST_PACKAGES);
  const keys = new Map<string, string>();
  for (const h of hosts) if (!keys.has(h.keyFile)) keys.set(h.keyFile, ensureLabKey(h.keyFile));

  let t = performance.now();
  const base = ensureBaseRootfs(suite);
  console.log(`base root filesystem ${base.built ? "built" : "cached"}: ${base.dir} (${since(t)})`);

  t = performance.now();
  ensureBridges(state);
  await ensureProxy(state);
  console.log(`bridges ${NETWORKS.map((n) => n.bridge).join(", ")} and proxy ready (${since(t)})`);

  t = performance.now();
  for (const host of hosts) {
    state.hosts[host.name] = {
      name: host.name,
      index: host.index,
      address: host.address,
      netns: host.netns,
      veths: host.links.map((l) => l.veth),
      dir: hostDir(host.name),
    };
    saveState(state);
    createHostNetwork(host);
  }
  const roots = hosts.map((host) => prepareRoot(host, base.dir, keys.get(host.keyFile)!, state));
  console.log(`${hosts.length} namespaces and overlays ready (${since(t)})`);

  const bootStart = performance.now();
  for (const [i, host] of hosts.entries()) await boot(host, roots[i], state);
  const seconds = await Promise.all(
    hosts.map(async (host) => {
      const hs = state.hosts[host.name];
      const s = await waitForSsh(host, bootStart, () => isAlive(hs.leader));
      if (host.compute) await addKvmNode(host);
      console.log(`  ${host.name} ${host.address}: sshd up after ${s.toFixed(1)} s`);
      return s;
    }),
  );
  console.log(`${hosts.length} hosts booted, all with SSH after ${Math.max(...seconds).toFixed(1)} s`);
  const pss = Object.values(state.hosts).map((h) => containerPssKiB(h) ?? 0);
  console.log(`memory (PSS, idle): ${mib(pss.reduce((a, b) => a + b, 0))} for ${hosts.length} hosts`);
  console.log(`lab up in ${since(t0)}; next: npm run lab -- deploy ${inventoryFile}`);
}

/**
 * Stops and removes what the state records, then sweeps anything left with the lab's names.
 * Hosts are powered off, not shut down: their disks are deleted next, and a clean shutdown of
 * a deployed controller (MariaDB, RabbitMQ, a dozen API services) took the 20 s grace it had.
 */
async function teardown(state: LabState, opts: { keepProxy: boolean }): Promise<void> {
  const t = performance.now();
  await Promise.all(Object.values(state.hosts).map((h) => powerOff(h)));
  const off = since(t);
  for (const h of Object.values(state.hosts)) {
    h.nspawn = undefined;
    h.leader = undefined;
  }
  saveState(state);
  if (!opts.keepProxy) await stopProxy(state);
  const dirs = new Set([
    ...Object.values(state.hosts).map((h) => h.dir),
    ...(fs.existsSync(HOSTS_DIR) ? fs.readdirSync(HOSTS_DIR).map((d) => path.join(HOSTS_DIR, d)) : []),
  ]);
  const t2 = performance.now();
  await removeHostDirs(dirs);
  if (dirs.size > 0) console.log(`hosts powered off in ${off}, ${dirs.size} disks removed in ${since(t2)}`);
  state.hosts = {};
  saveState(state);
  if (!opts.keepProxy) removeLabNetwork(state);
  else {
    // Keep the bridges (the proxy listens on one); remove only the hosts' namespaces and veths.
    removeLabNetwork({ ...state, bridges: [] });
  }
}

export async function down(): Promise<void> {
  const state = loadState();
  await teardown(state, { keepProxy: false });
  fs.rmSync(TF_STATE_DIR, { recursive: true, force: true });
  fs.rmSync(TEMPEST_DIR, { recursive: true, force: true });
  clearState();
  const left = presentLabNetwork();
  const leftovers = [...left.netns, ...left.veths, ...left.bridges];
  if (leftovers.length > 0) throw new Error(`still present after down: ${leftovers.join(", ")}`);
  console.log(`lab down: containers, proxy, namespaces, veths and bridges removed; caches kept`);
}

export async function status(inv: Inventory): Promise<boolean> {
  const hosts = planHosts(inv);
  const state = loadState();
  if (state.inventory) console.log(`lab state: ${state.inventory} (cluster ${state.cluster})`);
  const net = presentLabNetwork();
  const addr = tryRun("ip", ["-br", "addr", "show", "dev", MANAGEMENT.bridge]).stdout.trim();
  console.log(
    `bridges present: ${net.bridges.join(", ") || "none"}${addr ? `  (${addr.replace(/\s+/g, " ")})` : ""}`,
  );
  console.log(await proxyStatus(state));
  let allUp = true;
  let totalPss = 0;
  let totalDisk = 0;
  const rows = await Promise.all(
    hosts.map(async (host) => {
      const hs = state.hosts[host.name];
      const alive = !!hs && isAlive(hs.leader);
      const sshOk = alive && (await ssh(host, "true", 10_000)).code === 0;
      const pss = hs ? (containerPssKiB(hs) ?? 0) : 0;
      const disk = hs && fs.existsSync(path.join(hs.dir, "upper")) ? duKiB(path.join(hs.dir, "upper")) : 0;
      return { host, alive, sshOk, pss, disk, pid: hs?.leader?.pid };
    }),
  );
  for (const r of rows) {
    allUp &&= r.alive && r.sshOk;
    totalPss += r.pss;
    totalDisk += r.disk;
    const what = r.alive ? `up (init pid ${r.pid}), ssh ${r.sshOk ? "answers" : "DOES NOT answer"}` : "down";
    console.log(
      `  ${r.host.name.padEnd(12)} ${r.host.address.padEnd(12)} ${what}, PSS ${mib(r.pss)}, disk ${mib(r.disk)}`,
    );
  }
  const base = baseRootfsPath(state.suite ?? "bookworm");
  const baseDisk = fs.existsSync(base) ? mib(duKiB(base)) : "not built";
  console.log(
    `total: PSS ${mib(totalPss)}, host overlays ${mib(totalDisk)}, base ${baseDisk}; state in ${STATE_DIR}`,
  );
  return allUp;
}
