/**
 * `soak`: N fresh deploys in a row (down, up, deploy, verify, second apply), each timed per
 * phase, with the `FAILED step=` lines of every failure, and a table at the end: runs passed,
 * the spread of each phase, failures per step. A step that fails one run in a few shows here
 * before it fails a user's first deploy.
 *
 * With `--interrupt kill|power|mixed`, each run's first apply is cut in the middle of a step
 * chosen at random (seeded, printed, repeatable with `--seed`): `kill` SIGKILLs Terraform (its
 * script may go on running on the host, orphaned), `power` pulls the plug on the step's host
 * and boots it again; `mixed` alternates, starting with kill. The apply is then run again and
 * must converge to a cloud that passes `verify` and a second apply that changes nothing.
 */
import { ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Inventory } from "../lib/cluster/inventory";
import { LOG_DIR, logName } from "./config";
import { ApplyHooks, deploy, DeployOutcome, secondApplyChangesNothing, stackDir } from "./deploy";
import { sleep } from "./exec";
import { down, up } from "./lifecycle";
import { startHost, stopHost } from "./power";
import { verify } from "./verify";

export type InterruptMode = "none" | "kill" | "power" | "mixed";
export const INTERRUPT_MODES: readonly InterruptMode[] = ["none", "kill", "power", "mixed"];

export interface SoakOptions {
  readonly runs: number;
  readonly interrupt: InterruptMode;
  readonly seed: number;
  /** Leave the last run's hosts up. */
  readonly keep: boolean;
}

/** How long a power-cut host stays off before it is booted again. */
const POWER_OFF_SECONDS = 5;
/** An interrupted apply must end by itself within this after the cut (and the host's return). */
const INTERRUPTED_APPLY_LIMIT_MS = 15 * 60_000;
/** Without an earlier deploy's timings, a step is cut this long (at most) after it starts. */
const DEFAULT_CUT_WINDOW_S = 20;

interface PhaseTime {
  readonly phase: string;
  readonly seconds: number;
  readonly ok: boolean;
}

export interface RunReport {
  readonly run: number;
  ok: boolean;
  readonly phases: PhaseTime[];
  /** `FAILED step=…` lines, and failures that are not a step's (verify checks, second apply). */
  readonly failures: string[];
  interruption?: string;
}

/** mulberry32: a small seeded generator, so that a soak's cuts can be repeated. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** "1m5s" / "34s" / "0s" (Terraform's "Creation complete after …") in seconds. */
export function terraformDuration(text: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!m) return NaN;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/**
 * Each step's duration in the newest deploy log of this cluster that completed and ran it (a
 * resumed apply runs only some steps; the full deploy before it has the others).
 */
export function stepDurations(cluster: string, logDir = LOG_DIR): Map<string, number> {
  const durations = new Map<string, number>();
  if (!fs.existsSync(logDir)) return durations;
  const logs = fs
    .readdirSync(logDir)
    .filter((f) => f.startsWith(`${cluster}-deploy-`) && f.endsWith(".log"))
    .sort()
    .reverse();
  for (const file of logs) {
    const text = fs.readFileSync(path.join(logDir, file), "utf8");
    if (!text.includes("Apply complete!")) continue;
    for (const m of text.matchAll(/^\S+\.(\S+): Creation complete after (\S+) \[id=/gm)) {
      if (!durations.has(m[1])) durations.set(m[1], terraformDuration(m[2]));
    }
  }
  return durations;
}

/** The steps of the synthesized stack with the address each one connects to. */
function stackSteps(inv: Inventory): Map<string, string> {
  const json = JSON.parse(fs.readFileSync(path.join(stackDir(inv), "cdk.tf.json"), "utf8")) as {
    resource?: Record<string, Record<string, { connection?: { host?: string } }>>;
  };
  const steps = new Map<string, string>();
  for (const type of ["terraform_data", "null_resource"]) {
    for (const [id, body] of Object.entries(json.resource?.[type] ?? {})) {
      if (body.connection?.host) steps.set(id, body.connection.host);
    }
  }
  return steps;
}

/**
 * Cuts one apply in the middle of one step: picks the step when the apply starts (among steps
 * that took at least 2 s in the last complete deploy, so that there is a middle), waits for
 * it to start, then for a random fraction of its usual duration, then kills Terraform or
 * power-cuts the step's host.
 */
class Interrupter {
  private child?: ChildProcess;
  private target?: { step: string; host: string; delayS: number; usualS?: number };
  private readonly inFlight = new Set<string>();
  private timer?: NodeJS.Timeout;
  private limit?: NodeJS.Timeout;
  /** Resolves when the cut (and, for a power cut, the host's return) is done. */
  done?: Promise<string>;
  /** The apply did not end by itself within the limit after the cut, and was killed. */
  overdue = false;
  private ended = false;

  constructor(
    private readonly inv: Inventory,
    private readonly mode: "kill" | "power",
    private readonly random: () => number,
  ) {}

  hooks(): ApplyHooks {
    return {
      onSpawn: (child) => {
        this.child = child;
        this.choose();
      },
      onLine: (line) => this.watch(line),
    };
  }

  private choose(): void {
    const steps = stackSteps(this.inv);
    const durations = stepDurations(this.inv.cluster);
    const long = [...steps.keys()].filter((id) => (durations.get(id) ?? 0) >= 2);
    const pool = long.length > 0 ? long : [...steps.keys()];
    const step = pool[Math.floor(this.random() * pool.length)];
    const address = steps.get(step);
    const host = this.inv.hosts.find((h) => h.address === address)?.name;
    if (!host) throw new Error(`soak: step ${step} connects to ${address}, which is no inventory host`);
    const usualS = durations.get(step);
    const delayS = (usualS ?? DEFAULT_CUT_WINDOW_S) * (0.05 + 0.9 * this.random());
    this.target = { step, host, delayS, usualS };
    console.log(
      `soak: will ${this.mode === "kill" ? "kill Terraform" : `power-cut ${host}`} ${delayS.toFixed(1)} s into ${step}` +
        (usualS !== undefined ? ` (took ${usualS} s last time)` : ""),
    );
  }

  private watch(line: string): void {
    const m = /^\S+\.(\S+): (Creating\.\.\.|Creation complete|Still creating)/.exec(line);
    if (!m) return;
    if (m[2] === "Creating...") this.inFlight.add(m[1]);
    else if (m[2] === "Creation complete") this.inFlight.delete(m[1]);
    if (m[2] === "Creating..." && this.target && m[1] === this.target.step && !this.timer) {
      this.timer = setTimeout(() => (this.done = this.cut()), this.target.delayS * 1000);
    }
  }

  private async cut(): Promise<string> {
    const what = await this.cutNow();
    if (this.ended) return what;
    this.limit = setTimeout(() => {
      this.overdue = true;
      this.child?.kill("SIGKILL");
    }, INTERRUPTED_APPLY_LIMIT_MS);
    return what;
  }

  private async cutNow(): Promise<string> {
    const target = this.target!;
    const running = [...this.inFlight].sort().join(", ") || "none";
    const where = `${target.delayS.toFixed(1)} s into ${target.step}; steps in flight: ${running}`;
    if (this.mode === "kill") {
      this.child?.kill("SIGKILL");
      console.log(`soak: killed Terraform ${where}`);
      return `kill ${where}`;
    }
    console.log(`soak: power cut of ${target.host} ${where}`);
    await stopHost(this.inv, target.host);
    await sleep(POWER_OFF_SECONDS * 1000);
    await startHost(this.inv, target.host);
    return `power-cut ${target.host} ${where}`;
  }

  /** The apply ended: no cut any more (if it had not happened yet), no time limit. */
  cancel(): void {
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.limit) clearTimeout(this.limit);
  }
}

async function timed<T>(
  report: RunReport,
  phase: string,
  fn: () => Promise<T>,
  ok: (value: T) => boolean,
): Promise<T> {
  console.log(`\n=== soak run ${report.run}: ${phase}`);
  const start = performance.now();
  let value: T;
  try {
    value = await fn();
  } catch (err) {
    report.phases.push({ phase, seconds: (performance.now() - start) / 1000, ok: false });
    throw err;
  }
  const passed = ok(value);
  report.phases.push({ phase, seconds: (performance.now() - start) / 1000, ok: passed });
  return value;
}

function stepFailures(outcome: DeployOutcome): string[] {
  return [...new Set(outcome.failedSteps)];
}

/** The first apply, cut as the mode says; resolves once Terraform has ended. */
async function interruptedDeploy(
  inv: Inventory,
  file: string,
  report: RunReport,
  interrupter: Interrupter,
): Promise<DeployOutcome> {
  const outcome = await deploy(inv, file, interrupter.hooks());
  interrupter.cancel();
  if (interrupter.done) report.interruption = await interrupter.done;
  if (interrupter.overdue) {
    report.failures.push(`apply did not end within ${INTERRUPTED_APPLY_LIMIT_MS / 60_000} min of the cut`);
  }
  return outcome;
}

async function soakRun(
  inv: Inventory,
  file: string,
  run: number,
  mode: "none" | "kill" | "power",
  random: () => number,
): Promise<RunReport> {
  const report: RunReport = { run, ok: false, phases: [], failures: [] };
  try {
    await timed(
      report,
      "down",
      () => down(),
      () => true,
    );
    await timed(
      report,
      "up",
      () => up(inv, file),
      () => true,
    );
    if (mode !== "none") {
      const interrupter = new Interrupter(inv, mode, random);
      const first = await timed(
        report,
        "cut-apply",
        () => interruptedDeploy(inv, file, report, interrupter),
        () => true,
      );
      // Steps that failed because of the cut are expected; they are listed, not counted.
      if (!report.interruption) report.interruption = "the apply ended before the cut";
      if (first.failedSteps.length > 0)
        report.interruption += `; cut steps: ${stepFailures(first).join(" | ")}`;
    }
    const deployed = await timed(
      report,
      mode === "none" ? "deploy" : "resume",
      () => deploy(inv, file),
      (d) => d.ok,
    );
    if (!deployed.ok) {
      report.failures.push(...stepFailures(deployed));
      if (deployed.failedSteps.length === 0) report.failures.push(`deploy: ${deployed.detail}`);
      return report;
    }
    const failed = await timed(
      report,
      "verify",
      () => verify(inv),
      (f) => f.length === 0,
    );
    report.failures.push(...failed.map((f) => `verify ${f.check} host=${f.host}: ${f.detail}`));
    const second = await timed(
      report,
      "second-apply",
      () => secondApplyChangesNothing(inv, file),
      (r) => r.ok,
    );
    if (!second.ok) report.failures.push(`second-apply: ${second.detail}`);
    report.ok = report.failures.length === 0;
  } catch (err) {
    report.failures.push(`${report.phases.at(-1)?.phase ?? "soak"}: ${(err as Error).message}`);
  }
  return report;
}

/** The step id of a `FAILED step=<id> …` line, or the phase of another failure. */
export function failureKey(failure: string): string {
  const step = /FAILED step=(\S+)/.exec(failure);
  if (step) return step[1];
  const check = /^verify (\S+)/.exec(failure);
  if (check) return `verify:${check[1]}`;
  return failure.split(":")[0];
}

export function soakTable(reports: readonly RunReport[], header: string): string {
  const phases = [...new Set(reports.flatMap((r) => r.phases.map((p) => p.phase)))];
  const out: string[] = [header, ""];
  const cols = ["run", "result", ...phases];
  out.push(cols.map((c) => c.padStart(c === "run" ? 3 : 12)).join(" "));
  for (const r of reports) {
    const cells = phases.map((name) => {
      const p = r.phases.find((x) => x.phase === name);
      return (p ? `${p.seconds.toFixed(1)}${p.ok ? "" : "!"}` : "-").padStart(12);
    });
    out.push([String(r.run).padStart(3), (r.ok ? "pass" : "FAIL").padStart(12), ...cells].join(" "));
  }
  out.push("", "per phase, seconds (min / median / max):");
  for (const name of phases) {
    const s = reports
      .flatMap((r) => r.phases.filter((p) => p.phase === name).map((p) => p.seconds))
      .sort((a, b) => a - b);
    if (s.length === 0) continue;
    const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    out.push(
      `  ${name.padEnd(13)} ${s[0].toFixed(1)} / ${median.toFixed(1)} / ${s[s.length - 1].toFixed(1)}`,
    );
  }
  const interruptions = reports.filter((r) => r.interruption);
  if (interruptions.length > 0) {
    out.push("", "interruptions:");
    for (const r of interruptions) out.push(`  run ${r.run}: ${r.interruption}`);
  }
  const perStep = new Map<string, number>();
  for (const r of reports)
    for (const key of new Set(r.failures.map(failureKey))) perStep.set(key, (perStep.get(key) ?? 0) + 1);
  out.push("", "failures per step (runs):");
  if (perStep.size === 0) out.push("  none");
  for (const [key, n] of [...perStep].sort((a, b) => b[1] - a[1])) out.push(`  ${key}: ${n}`);
  for (const r of reports.filter((x) => x.failures.length > 0)) {
    out.push(`  run ${r.run}:`);
    for (const f of r.failures) out.push(`    ${f}`);
  }
  const passed = reports.filter((r) => r.ok).length;
  out.push("", `passed ${passed}/${reports.length}`);
  return out.join("\n");
}

export async function soak(inv: Inventory, file: string, opts: SoakOptions): Promise<boolean> {
  const random = seededRandom(opts.seed);
  const header = `soak of ${path.basename(file)}: ${opts.runs} runs, interrupt ${opts.interrupt}, seed ${opts.seed}`;
  console.log(header);
  const reports: RunReport[] = [];
  for (let run = 1; run <= opts.runs; run++) {
    const mode = opts.interrupt === "mixed" ? (run % 2 === 1 ? "kill" : "power") : opts.interrupt;
    const report = await soakRun(inv, file, run, mode, random);
    reports.push(report);
    console.log(`\n=== soak run ${run}/${opts.runs}: ${report.ok ? "passed" : "FAILED"}`);
    for (const p of report.phases)
      console.log(`  ${p.phase.padEnd(13)} ${p.seconds.toFixed(1).padStart(7)} s${p.ok ? "" : "  FAILED"}`);
    if (report.interruption) console.log(`  interruption: ${report.interruption}`);
    for (const f of report.failures) console.log(`  ${f}`);
  }
  if (!opts.keep) await down();
  const table = soakTable(reports, header);
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const summary = path.join(LOG_DIR, `${logName(inv.cluster, "soak")}.txt`);
  fs.writeFileSync(summary, table + "\n");
  console.log(`\n${table}\n(summary kept in ${summary})`);
  return reports.every((r) => r.ok);
}
