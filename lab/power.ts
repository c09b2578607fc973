/**
 * Power control for one host of a running lab: `stop-host` pulls the plug (every process of the
 * container dies at once, its network goes with it), `start-host` boots it again on the same
 * disk (its overlay) with the same addresses and MACs, and waits for sshd.
 */
import * as fs from "fs";
import { Inventory } from "../lib/cluster/inventory";
import { boot, isRunning, mountOverlay, powerOff } from "./containers";
import { addKvmNode, waitForSsh } from "./lifecycle";
import { createHostNetwork, deleteHostNetwork } from "./network";
import { HostPlan, planHosts } from "./plan";
import { baseRootfsPath } from "./rootfs";
import { HostState, isAlive, LabState, loadState, saveState } from "./state";

interface Target {
  readonly plan: HostPlan;
  readonly hs: HostState;
  readonly state: LabState;
}

/** The host as the running lab recorded it; refuses hosts of another lab or none. */
function target(inv: Inventory, name: string): Target {
  const state = loadState();
  if (state.cluster !== inv.cluster) {
    throw new Error(
      state.cluster
        ? `the lab that is up is cluster ${state.cluster} (${state.inventory}), not ${inv.cluster}`
        : "no lab is up (npm run lab -- up)",
    );
  }
  const plan = planHosts(inv).find((h) => h.name === name);
  const hs = state.hosts[name];
  if (!plan || !hs) {
    throw new Error(`host ${JSON.stringify(name)}: expected one of ${Object.keys(state.hosts).join(", ")}`);
  }
  return { plan, hs, state };
}

/**
 * Powers a host off like a power cut: SIGKILL to its init (nothing shuts down cleanly), then
 * its namespace and veths are removed, so that none of its addresses (a VIP it held included)
 * answers any more. Returns the seconds it took.
 */
export async function stopHost(inv: Inventory, name: string): Promise<number> {
  const start = performance.now();
  const { plan, hs, state } = target(inv, name);
  const wasRunning = isRunning(hs);
  let unplugged = 0;
  await powerOff(hs, () => {
    deleteHostNetwork(plan);
    unplugged = performance.now();
  });
  hs.nspawn = undefined;
  hs.leader = undefined;
  saveState(state);
  const seconds = (performance.now() - start) / 1000;
  const detail = `processes gone and network removed after ${((unplugged - start) / 1000).toFixed(2)} s; nspawn exited after ${seconds.toFixed(1)} s`;
  console.log(`${name}: ${wasRunning ? `powered off (${detail})` : "was not running; network removed"}`);
  return seconds;
}

/**
 * Boots a powered-off host again on its own disk: a fresh namespace with its addresses and MACs,
 * the overlay (still mounted, or mounted again), nspawn; waits for sshd. Returns the seconds
 * from the call to sshd answering.
 */
export async function startHost(inv: Inventory, name: string): Promise<number> {
  const start = performance.now();
  const { plan, hs, state } = target(inv, name);
  if (isRunning(hs)) throw new Error(`${name} is running (init pid ${hs.leader?.pid}); stop-host it first`);
  const base = baseRootfsPath(state.suite ?? "bookworm");
  if (!fs.existsSync(base)) throw new Error(`base root filesystem ${base} is gone; the lab must be rebuilt`);
  createHostNetwork(plan);
  const root = mountOverlay(name, base, state);
  await boot(plan, root, state);
  const seconds = await waitForSsh(plan, start, () => isAlive(hs.leader));
  // /dev is a fresh tmpfs at each boot; a real compute server gets /dev/kvm from udev again.
  if (plan.compute) await addKvmNode(plan);
  console.log(`${name}: booted, sshd up after ${seconds.toFixed(1)} s`);
  return seconds;
}
