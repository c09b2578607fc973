/**
 * `deploy`: what a user does with the library, against the lab's hosts: secrets, synth,
 * terraform init and apply. Output streams live and is kept in a log; the lines that the
 * generated scripts print on error (`FAILED step=<id> host=<name>`) are collected.
 */
import { ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Inventory } from "../lib/cluster/inventory";
import { labTfState, LOG_DIR, logName, REPO_ROOT, TF_STATE_DIR } from "./config";
import { ApplyTimeline, criticalPath, describeCriticalPath, stackDependencies } from "./critical-path";
import { runStreaming } from "./exec";

const TS_NODE = path.join(REPO_ROOT, "node_modules", ".bin", "ts-node");
const CLI = path.join(REPO_ROOT, "bin", "cli.ts");
const TF_ENV = { ...process.env, TF_IN_AUTOMATION: "1" };

export interface PhaseResult {
  readonly phase: string;
  readonly seconds: number;
  readonly code: number;
}

/** For the soak: watch the apply's output, and hold its process (to interrupt it). */
export interface ApplyHooks {
  readonly onSpawn?: (child: ChildProcess) => void;
  readonly onLine?: (line: string) => void;
}

export interface DeployOutcome {
  readonly ok: boolean;
  readonly phases: PhaseResult[];
  /** `FAILED step=… host=…` lines seen in terraform's output. */
  readonly failedSteps: string[];
  readonly log: string;
  /** Which phase failed, and where the full output is. */
  readonly detail: string;
}

export function stackDir(inv: Inventory): string {
  return path.join(REPO_ROOT, "cdktf.out", "stacks", inv.cluster);
}

export function secretsFile(inv: Inventory): string {
  return path.join(REPO_ROOT, "secrets", `${inv.cluster}.tfvars.json`);
}

function logFile(inv: Inventory, what: string): string {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  return path.join(LOG_DIR, `${logName(inv.cluster, what)}.log`);
}

/** Runs one phase, timing it, appending its output to `log` and collecting FAILED lines. */
async function phase(
  name: string,
  cmd: string,
  args: string[],
  log: string,
  failedSteps: string[],
  hooks: ApplyHooks = {},
): Promise<PhaseResult> {
  const start = performance.now();
  fs.appendFileSync(log, `\n### ${name}: ${cmd} ${args.join(" ")}\n`);
  console.log(`--- ${name}: ${cmd} ${args.join(" ")}`);
  const code = await runStreaming(
    cmd,
    args,
    (line) => {
      fs.appendFileSync(log, line + "\n");
      const at = line.indexOf("FAILED step=");
      if (at >= 0) failedSteps.push(line.slice(at).trim());
      hooks.onLine?.(line);
    },
    { env: TF_ENV, cwd: REPO_ROOT, onSpawn: hooks.onSpawn },
  );
  const seconds = (performance.now() - start) / 1000;
  console.log(`--- ${name}: exit ${code} after ${seconds.toFixed(1)} s`);
  return { phase: name, seconds, code };
}

export async function deploy(
  inv: Inventory,
  inventoryFile: string,
  applyHooks: ApplyHooks = {},
): Promise<DeployOutcome> {
  const log = logFile(inv, "deploy");
  const failedSteps: string[] = [];
  const phases: PhaseResult[] = [];
  const inventory = path.resolve(inventoryFile);
  const secrets = secretsFile(inv);
  const stack = stackDir(inv);
  fs.mkdirSync(TF_STATE_DIR, { recursive: true, mode: 0o700 });
  // `secrets init` keeps existing values and only adds missing ones, so it always runs.
  const steps: [string, string, string[]][] = [
    ["secrets", TS_NODE, ["--transpile-only", CLI, "secrets", "init", inventory, "--file", secrets]],
    ["synth", TS_NODE, ["--transpile-only", CLI, "synth", inventory]],
    // The lab's own state file (see config.ts), in place of the stack's local backend path.
    [
      "init",
      "terraform",
      [
        `-chdir=${stack}`,
        "init",
        "-input=false",
        "-no-color",
        "-reconfigure",
        `-backend-config=path=${labTfState(inv.cluster)}`,
      ],
    ],
    [
      "apply",
      "terraform",
      [`-chdir=${stack}`, "apply", "-auto-approve", "-input=false", "-no-color", `-var-file=${secrets}`],
    ],
  ];
  const timeline = new ApplyTimeline();
  const timed: ApplyHooks = {
    ...applyHooks,
    onLine: (line) => {
      timeline.onLine(line);
      applyHooks.onLine?.(line);
    },
  };
  for (const [name, cmd, args] of steps) {
    const result = await phase(name, cmd, args, log, failedSteps, name === "apply" ? timed : {});
    phases.push(result);
    if (result.code !== 0) break;
  }
  const ok = phases.length === steps.length && phases.every((p) => p.code === 0);
  printSummary(phases, failedSteps, log, ok);
  printCriticalPath(timeline, stack, log);
  const failed = phases.find((p) => p.code !== 0);
  const detail = failed ? `phase ${failed.phase} exited ${failed.code}; full log ${log}` : `full log ${log}`;
  return { ok, phases, failedSteps, log, detail };
}

function printSummary(phases: PhaseResult[], failedSteps: string[], log: string, ok: boolean): void {
  console.log(`\ndeploy ${ok ? "succeeded" : "FAILED"}; timings:`);
  for (const p of phases)
    console.log(`  ${p.phase.padEnd(8)} ${p.seconds.toFixed(1).padStart(7)} s  exit ${p.code}`);
  for (const line of new Set(failedSteps)) console.log(`  ${line}`);
  console.log(`full log: ${log}`);
}

/** The apply's critical path (lab/critical-path.ts), on the console and in the log. */
function printCriticalPath(timeline: ApplyTimeline, stack: string, log: string): void {
  const spans = timeline.spans();
  if (spans.length === 0) return;
  const cp = criticalPath(spans, stackDependencies(path.join(stack, "cdk.tf.json")));
  if (!cp) return;
  const lines = describeCriticalPath(cp);
  console.log(lines.join("\n"));
  fs.appendFileSync(log, `\n${lines.join("\n")}\n`);
}

/**
 * The idempotence check: after a successful deploy, a fresh synth and `terraform plan
 * -detailed-exitcode` must find nothing to do (exit 0), and a second apply must report
 * "0 added, 0 changed, 0 destroyed".
 */
export async function secondApplyChangesNothing(
  inv: Inventory,
  inventoryFile: string,
): Promise<{ ok: boolean; detail: string }> {
  const log = logFile(inv, "reapply");
  const failedSteps: string[] = [];
  const stack = stackDir(inv);
  const vars = `-var-file=${secretsFile(inv)}`;
  const synth = await phase(
    "synth",
    TS_NODE,
    ["--transpile-only", CLI, "synth", path.resolve(inventoryFile)],
    log,
    failedSteps,
  );
  if (synth.code !== 0) return { ok: false, detail: `synth failed (exit ${synth.code}); log ${log}` };
  const plan = await phase(
    "plan",
    "terraform",
    [`-chdir=${stack}`, "plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock=false", vars],
    log,
    failedSteps,
  );
  if (plan.code !== 0) {
    const changes = fs
      .readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => /^\s*# \S+ (will|must) be /.test(l));
    const what =
      plan.code === 2
        ? `plan wants changes:\n    ${changes.join("\n    ")}`
        : `plan failed (exit ${plan.code})`;
    return { ok: false, detail: `${what}\n  log ${log}` };
  }
  let applied = "";
  const start = performance.now();
  fs.appendFileSync(log, "\n### apply (second)\n");
  const code = await runStreaming(
    "terraform",
    [`-chdir=${stack}`, "apply", "-auto-approve", "-input=false", "-no-color", vars],
    (line) => {
      fs.appendFileSync(log, line + "\n");
      if (line.includes("Apply complete!")) applied = line.trim();
    },
    { env: TF_ENV, cwd: REPO_ROOT },
  );
  const seconds = ((performance.now() - start) / 1000).toFixed(1);
  const ok = code === 0 && applied.includes("0 added, 0 changed, 0 destroyed");
  return {
    ok,
    detail: `plan: no changes; second apply (${seconds} s): ${applied || `exit ${code}`}; log ${log}`,
  };
}
