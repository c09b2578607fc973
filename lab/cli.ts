/**
 * The lab: real Debian 12 hosts on this machine for any inventory.
 *   npm run lab -- up|deploy|verify|status|down [inventory]
 */
import { Command } from "commander";
import * as path from "path";
import { loadInventory } from "../lib/cluster/inventory";
import { DEFAULT_INVENTORY } from "./config";
import { deploy } from "./deploy";
import { down, status, up } from "./lifecycle";
import { verify } from "./verify";

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error("the lab needs root (namespaces, mounts, nspawn)");
}

/** Wraps a command: prints errors without a stack trace and sets the exit code. */
function action(fn: (inventoryFile: string) => Promise<boolean | void>) {
  return async (inventoryFile: string | undefined) => {
    try {
      requireRoot();
      const ok = await fn(path.resolve(inventoryFile ?? DEFAULT_INVENTORY));
      if (ok === false) process.exitCode = 1;
    } catch (err) {
      console.error(`lab: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  };
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
  .command("status")
  .description("hosts (pid, ssh, memory, disk), bridges and proxy")
  .argument(...inventoryArg)
  .action(action((file) => status(loadInventory(file))));
program
  .command("down")
  .description("stop everything the lab started and remove its network; keeps the caches")
  .argument(...inventoryArg)
  .action(action(() => down()));

program.parseAsync(process.argv);
