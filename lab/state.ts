/**
 * What the lab created, recorded on disk before it is created, so that `down` can undo a
 * crashed run. Processes are recorded with their start time: a recycled PID is never killed.
 */
import * as fs from "fs";
import { STATE_DIR, STATE_FILE } from "./config";
import type { LabSuite } from "./rootfs";

/** A process the lab started: pid plus the kernel's start time (field 22 of /proc/PID/stat). */
export interface ProcRef {
  readonly pid: number;
  readonly startTime: string;
}

export interface HostState {
  readonly name: string;
  readonly index: number;
  readonly address: string;
  readonly netns: string;
  readonly veths: string[];
  /** Directory holding upper/, work/, root/ and console.log. */
  readonly dir: string;
  mounted?: boolean;
  nspawn?: ProcRef;
  /** The container's PID 1 (its pid namespace dies with it). */
  leader?: ProcRef;
}

export interface LabState {
  inventory?: string;
  cluster?: string;
  /** The Debian suite of the hosts' base root filesystem (bookworm when not recorded: labs from before trixie). */
  suite?: LabSuite;
  bridges: string[];
  proxy?: ProcRef;
  hosts: Record<string, HostState>;
}

export function emptyState(): LabState {
  return { bridges: [], hosts: {} };
}

export function loadState(): LabState {
  if (!fs.existsSync(STATE_FILE)) return emptyState();
  try {
    return { ...emptyState(), ...(JSON.parse(fs.readFileSync(STATE_FILE, "utf8")) as LabState) };
  } catch (err) {
    // A torn write must not stop `down`: it sweeps by name prefix anyway.
    console.warn(`warning: ${STATE_FILE} unreadable (${(err as Error).message}); cleaning up by name only`);
    return emptyState();
  }
}

/** Written whole to a temp file and renamed, so a crash never leaves half a file. */
export function saveState(state: LabState): void {
  // 0755: squid, as user proxy, reads its config and writes its logs below; state.json itself is 0600.
  fs.mkdirSync(STATE_DIR, { recursive: true, mode: 0o755 });
  const tmp = `${STATE_FILE}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  fs.renameSync(tmp, STATE_FILE);
}

export function clearState(): void {
  fs.rmSync(STATE_FILE, { force: true });
}

function readStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19]; // field 22 overall
  } catch {
    return undefined;
  }
}

export function procRef(pid: number): ProcRef {
  const startTime = readStartTime(pid);
  if (startTime === undefined) throw new Error(`process ${pid} vanished before it could be recorded`);
  return { pid, startTime };
}

/** True only if the very process we recorded still runs (same pid and same start time). */
export function isAlive(ref: ProcRef | undefined): boolean {
  return ref !== undefined && readStartTime(ref.pid) === ref.startTime;
}

/** Signals a recorded process if, and only if, it is still the one we started. */
export function signal(ref: ProcRef | undefined, sig: NodeJS.Signals): boolean {
  if (!ref || !isAlive(ref)) return false;
  try {
    process.kill(ref.pid, sig);
    return true;
  } catch {
    return false;
  }
}
