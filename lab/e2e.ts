/**
 * End-to-end test: up, deploy, failover (destructive: a Heartbeat switchover, then a power cut
 * of the active controller, brought back; MariaDB writes and the OpenStack APIs through the VIP
 * measured; then every check of `verify`), Tempest (the upstream API test suite from the lab
 * machine, lab/tempest/: the `full` selection by default, `--tempest ci` in CI), a second
 * apply that must change nothing, the secrets search once more (the second apply's log is
 * new), down. `verify` runs once, after the failovers: it proves the deploy and the recovery
 * together (CI's budget has no room for a second whole verify).
 *   npm run test:e2e [-- inventory] [--keep] [--tempest full|ci|compute]
 * On failure it names the e2e step and the generated scripts' `FAILED step=… host=…` lines,
 * and keeps each host's /var/log in the lab's log directory (lab/host-logs.ts); with --keep the hosts stay up for a look (then `npm run lab -- down`). A step during which the
 * machine itself was paused (its wall clock jumped past its monotonic clock) says so beside its
 * result (lab/machine-pause.ts).
 */
import { Command } from "commander";
import * as path from "path";
import { loadInventory } from "../lib/cluster/inventory";
import { DEFAULT_INVENTORY } from "./config";
import { failover } from "./checks/failover";
import { deploy, secondApplyChangesNothing } from "./deploy";
import { saveHostLogs } from "./host-logs";
import { down, up } from "./lifecycle";
import { PauseWatch } from "./machine-pause";
import { secretsLeakCheck } from "./checks/secrets";
import { selectionOption, TempestSelection, tempest } from "./tempest/run";
import { labContext, runChecks } from "./verify";

interface StepOutcome {
  readonly ok: boolean;
  readonly detail?: string;
  readonly failedSteps?: readonly string[];
  /** Measured figures to repeat in the summary. */
  readonly figures?: readonly string[];
}

interface E2eOptions {
  readonly keep?: boolean;
  readonly tempest?: TempestSelection;
}

async function main(inventoryArg: string | undefined, opts: E2eOptions): Promise<number> {
  const file = path.resolve(inventoryArg ?? DEFAULT_INVENTORY);
  const inv = loadInventory(file);
  const steps: [string, () => Promise<StepOutcome>][] = [
    ["up", async () => (await up(inv, file), { ok: true })],
    ["deploy", async () => deploy(inv, file)],
    // The failovers end with the whole of `verify` (every check, on the cloud that has lost a
    // controller twice): one verify proves the deploy and the recovery, and a broken deploy
    // fails here in minutes, before Tempest's half hour.
    [
      "failover",
      async () => {
        const r = await failover(inv);
        return { ok: r.ok, detail: r.skipped ?? r.problems.join("\n    "), figures: r.figures };
      },
    ],
    // Tempest on the cloud after the failovers; then the stack must still be exactly what
    // Terraform applied.
    [
      "tempest",
      async () => {
        const r = await tempest(inv, { selection: opts.tempest });
        return { ok: r.ok, detail: r.detail, figures: [`tempest: ${r.detail.split("\n")[0]}`] };
      },
    ],
    ["second-apply", async () => secondApplyChangesNothing(inv, file)],
    // The second apply wrote a new log: no secret value may be in it either.
    [
      "secrets",
      async () => {
        const failed = await runChecks(labContext(inv), [secretsLeakCheck], "secrets after the second apply");
        return {
          ok: failed.length === 0,
          detail: failed.map((f) => `${f.check} host=${f.host}: ${f.detail}`).join("\n    "),
        };
      },
    ],
  ];
  const timings: string[] = [];
  const figures: string[] = [];
  let failure: { step: string; outcome: StepOutcome } | undefined;
  for (const [name, fn] of steps) {
    console.log(`\n=== e2e: ${name} (${path.relative(process.cwd(), file)})`);
    const start = performance.now();
    const pause = new PauseWatch();
    let outcome: StepOutcome;
    try {
      outcome = await fn();
    } catch (err) {
      outcome = { ok: false, detail: (err as Error).message };
    }
    figures.push(...(outcome.figures ?? []));
    const paused = pause.note(name);
    if (paused) {
      console.log(`machine: ${paused}`);
      figures.push(`machine: ${paused}`);
    }
    timings.push(
      `${name.padEnd(13)} ${((performance.now() - start) / 1000).toFixed(1).padStart(7)} s  ${outcome.ok ? "ok" : "FAILED"}`,
    );
    if (!outcome.ok) {
      failure = { step: name, outcome };
      break;
    }
  }

  const keep = opts.keep === true;
  // The hosts' own logs, before down removes them: what the services wrote explains a failure.
  if (failure) {
    const saved = saveHostLogs(inv.cluster);
    if (saved.dir) console.log(`\nhosts' /var/log saved in ${saved.dir}`);
    for (const p of saved.problems) console.log(`  not saved: ${p}`);
  }
  if (!keep) {
    console.log("\n=== e2e: down");
    try {
      await down();
    } catch (err) {
      console.error(`down failed: ${(err as Error).message}`);
      failure ??= { step: "down", outcome: { ok: false, detail: (err as Error).message } };
    }
  }

  console.log("\n=== e2e summary");
  for (const t of timings) console.log(`  ${t}`);
  if (figures.length > 0) console.log("figures:");
  for (const f of figures) console.log(`  ${f}`);
  if (!failure) {
    console.log(`e2e PASSED${keep ? " (hosts kept up: npm run lab -- down)" : ""}`);
    return 0;
  }
  console.log(`e2e FAILED at step ${failure.step}`);
  if (failure.outcome.detail) console.log(`  ${failure.outcome.detail}`);
  for (const line of new Set(failure.outcome.failedSteps ?? [])) console.log(`  ${line}`);
  console.log(
    keep
      ? "hosts kept up for inspection; `npm run lab -- down` when done"
      : "hosts removed (use --keep to keep them)",
  );
  return 1;
}

new Command("test:e2e")
  .argument("[inventory]", "inventory file (default examples/lab-small.yaml)")
  .option("--keep", "leave the hosts up afterwards (always, pass or fail)")
  .addOption(selectionOption("--tempest <selection>"))
  .action(async (inventory: string | undefined, opts: E2eOptions) => {
    if (process.getuid?.() !== 0) {
      console.error("test:e2e needs root (the lab uses namespaces, mounts and nspawn)");
      process.exitCode = 1;
      return;
    }
    process.exitCode = await main(inventory, opts);
  })
  .parseAsync(process.argv);
