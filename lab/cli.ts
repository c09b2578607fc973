/**
 * The lab: real Debian 12 hosts on this machine for any inventory.
 *   npm run lab -- up|deploy|verify|failover|status|save-logs|down [inventory]
 *   npm run lab -- stop-host|start-host <name> [inventory]
 *   npm run lab -- soak [inventory] --runs N [--interrupt kill|power|mixed] [--seed S] [--keep]
 *   npm run lab -- tempest [inventory] [--regex R]
 *   npm run lab -- critical-path <deploy log> [inventory]
 */
import { Command, InvalidArgumentError, Option } from "commander";
import * as path from "path";
import { loadInventory } from "../lib/cluster/inventory";
import { DEFAULT_INVENTORY } from "./config";
import * as fs from "fs";
import { criticalPath, describeCriticalPath, spansFromLog, stackDependencies } from "./critical-path";
import { deploy, stackDir } from "./deploy";
import { failover } from "./checks/failover";
import { routerFailover } from "./checks/router-failover";
import { saveHostLogs } from "./host-logs";
import { down, status, up } from "./lifecycle";
import { startHost, stopHost } from "./power";
import { INTERRUPT_MODES, InterruptMode, soak } from "./soak";
import { selectionOption, TempestSelection, tempest } from "./tempest/run";
import { labContext, verify } from "./verify";

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error("the lab needs root (namespaces, mounts, nspawn)");
}

async function guarded(fn: () => Promise<unknown>): Promise<void> {
  try {
    requireRoot();
    if ((await fn()) === false) process.exitCode = 1;
  } catch (err) {
    console.error(`lab: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}

/** Wraps a command: prints errors without a stack trace and sets the exit code. */
function action(fn: (inventoryFile: string) => Promise<boolean | void>) {
  return (inventoryFile: string | undefined) =>
    guarded(() => fn(path.resolve(inventoryFile ?? DEFAULT_INVENTORY)));
}

/** The same for commands that name one host first. */
function hostAction(fn: (name: string, inventoryFile: string) => Promise<unknown>) {
  return (name: string, inventoryFile: string | undefined) =>
    guarded(() => fn(name, path.resolve(inventoryFile ?? DEFAULT_INVENTORY)));
}

const program = new Command("lab").description("multi-host lab: systemd-nspawn containers on this machine");
const inventoryArg = [
  "[inventory]",
  `inventory file (default ${path.relative(process.cwd(), DEFAULT_INVENTORY)})`,
] as const;

program
  .command("up")
  .description("boot one bare Debian 12 host per inventory host, with bridges and the package proxy")
  .argument(...inventoryArg)
  .action(action((file) => up(loadInventory(file), file)));
program
  .command("deploy")
  .description("secrets init (keeps existing values), synth, terraform init and apply onto the lab's hosts")
  .argument(...inventoryArg)
  .action(action(async (file) => (await deploy(loadInventory(file), file)).ok));
program
  .command("verify")
  .description("run the checks against the hosts; exit 1 on any failure")
  .argument(...inventoryArg)
  .action(action(async (file) => (await verify(loadInventory(file))).length === 0));
program
  .command("failover")
  .description(
    "destructive: fail the controllers over (Heartbeat stop, then a power cut), bring them back, check no row is lost",
  )
  .argument(...inventoryArg)
  .action(action(async (file) => (await failover(loadInventory(file))).ok));
program
  .command("router-failover")
  .description(
    "destructive: with two or more network hosts, power off the one holding a test router's gateway; the floating IP must answer again",
  )
  .argument(...inventoryArg)
  .action(
    action(async (file) => {
      const results = await routerFailover.run(labContext(loadInventory(file)));
      for (const r of results)
        console.log(`${r.skipped ? "SKIP" : r.ok ? "PASS" : "FAIL"} ${r.check} ${r.detail}`);
      return results.every((r) => r.ok);
    }),
  );
function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > max) {
      throw new InvalidArgumentError(
        `${name}: got ${JSON.stringify(value)}: expected a whole number from 1 to ${max}`,
      );
    }
    return n;
  };
}
program
  .command("soak")
  .description(
    "N fresh deploys in a row (down, up, deploy, verify, second apply): time per phase, FAILED lines, passed/N, failures per step",
  )
  .argument(...inventoryArg)
  .requiredOption("--runs <n>", "how many fresh deploys", positiveInt("--runs", 100))
  .addOption(
    new Option("--interrupt <how>", "cut each run's first apply mid-step, then apply again")
      .choices(INTERRUPT_MODES)
      .default("none"),
  )
  .option(
    "--seed <n>",
    "seed of the random cuts (printed; repeat a soak with it)",
    positiveInt("--seed", 2 ** 32 - 1),
  )
  .option("--keep", "leave the last run's hosts up")
  .action(
    (
      inventoryFile: string | undefined,
      opts: { runs: number; interrupt: InterruptMode; seed?: number; keep?: boolean },
    ) =>
      guarded(async () => {
        const file = path.resolve(inventoryFile ?? DEFAULT_INVENTORY);
        const seed = opts.seed ?? 1 + Math.floor(Math.random() * (2 ** 32 - 2));
        return soak(loadInventory(file), file, {
          runs: opts.runs,
          interrupt: opts.interrupt,
          seed,
          keep: opts.keep === true,
        });
      }),
  );
program
  .command("tempest")
  .description(
    "Tempest from this machine against the deployed cloud (tempest.conf from the cloud's facts, lab/tempest/exclude.txt); exit 1 on any failure",
  )
  .argument(...inventoryArg)
  .addOption(selectionOption("--selection <name>"))
  .option("--regex <r>", "which tests, as a stestr regex (instead of --selection)")
  .option(
    "--workers <n>",
    "Tempest's workers (default: 4 for up to 4 hosts, else 2)",
    positiveInt("--workers", 16),
  )
  .action(
    (
      inventoryFile: string | undefined,
      opts: { selection?: TempestSelection; regex?: string; workers?: number },
    ) =>
      guarded(async () => {
        if (opts.selection !== undefined && opts.regex !== undefined)
          throw new Error("tempest: --selection and --regex: give one, not both");
        const r = await tempest(loadInventory(path.resolve(inventoryFile ?? DEFAULT_INVENTORY)), opts);
        console.log(`\ntempest ${r.ok ? "PASSED" : "FAILED"}: ${r.detail}`);
        return r.ok;
      }),
  );
program
  .command("stop-host")
  .description("power one host off like a power cut (its processes killed at once, its network removed)")
  .argument("<name>", "host name from the inventory")
  .argument(...inventoryArg)
  .action(hostAction((name, file) => stopHost(loadInventory(file), name)));
program
  .command("start-host")
  .description("boot a powered-off host again on its own disk, with its addresses; waits for sshd")
  .argument("<name>", "host name from the inventory")
  .argument(...inventoryArg)
  .action(hostAction((name, file) => startHost(loadInventory(file), name)));
program
  .command("status")
  .description("hosts (pid, ssh, memory, disk), bridges and proxy")
  .argument(...inventoryArg)
  .action(action((file) => status(loadInventory(file))));
program
  .command("save-logs")
  .description("copy every host's /var/log into the lab's log directory (e2e does it when it fails)")
  .argument(...inventoryArg)
  .action(
    action(async (file) => {
      const saved = saveHostLogs(loadInventory(file).cluster);
      console.log(saved.dir ? `hosts' /var/log saved in ${saved.dir}` : "no lab host to save logs from");
      for (const p of saved.problems) console.error(`not saved: ${p}`);
      return saved.problems.length === 0;
    }),
  );
program
  .command("critical-path")
  .description(
    "the critical path of a saved deploy log (durations from Terraform's lines; deploy prints it measured)",
  )
  .argument("<log>", "a deploy log from the lab's log directory")
  .argument(...inventoryArg)
  .action((log: string, inventoryFile: string | undefined) => {
    const inv = loadInventory(path.resolve(inventoryFile ?? DEFAULT_INVENTORY));
    const deps = stackDependencies(path.join(stackDir(inv), "cdk.tf.json"));
    const cp = criticalPath(spansFromLog(fs.readFileSync(log, "utf8"), deps), deps);
    console.log(cp ? describeCriticalPath(cp).join("\n") : `no completed step in ${log}`);
  });
program
  .command("down")
  .description("stop everything the lab started and remove its network; keeps the caches")
  .argument(...inventoryArg)
  .action(action(() => down()));

program.parseAsync(process.argv);
