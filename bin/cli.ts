#!/usr/bin/env node
/**
 * Command line: `synth` an inventory's stack, `secrets init` its secrets file, `validate` it,
 * `check` its security, print one step's `script`, draw its `diagram`.
 */
import * as path from "path";
import { Command } from "commander";
import { loadInventory } from "../lib/cluster/inventory";
import { initSecretsFile } from "../lib/cluster/components";
import { printable } from "../lib/core/field-rules";
import { defaultSecretsFile } from "../lib/core/secrets-file";
import { formatFinding, SECURITY_RULES } from "../lib/security";
import { clusterDiagram } from "./diagram";
import {
  checkInventory,
  DEFAULT_INVENTORY,
  defaultInventory,
  errorLines,
  inventoryStack,
  stepScript,
  synthesizeInventory,
  validateInventory,
} from "./synthesize";

const INVENTORY_HELP = `inventory YAML file (default: OPENSTACK_INVENTORY, else ${DEFAULT_INVENTORY} in this repository)`;
const SECRETS_OPTION = "-s, --secrets <file>";
const SECRETS_OPTION_HELP = "secrets file to check (default: secrets/<cluster>.tfvars.json, where it exists)";

const program = new Command("openstack-cdktf")
  .description("Build a highly available OpenStack cloud from one inventory")
  .option("--debug", "on an unexpected error, print its stack trace too")
  .showHelpAfterError();

program
  .command("synth")
  .description("validate the inventory and write its Terraform JSON stack")
  .argument("[inventory]", INVENTORY_HELP)
  .option("-o, --out <dir>", "output directory", "cdktf.out")
  .option(SECRETS_OPTION, SECRETS_OPTION_HELP)
  .action((given: string | undefined, options: { out: string; secrets?: string }) => {
    const inventory = given ?? defaultInventory();
    const result = synthesizeInventory(inventory, options.out, options.secrets);
    console.log(`${result.summary}\nwrote ${printable(result.stackFile)}`);
  });

program
  .command("validate")
  .description("check the inventory and build its stack in memory, as synth does; writes nothing")
  .argument("<inventory>", "inventory YAML file")
  .option(SECRETS_OPTION, SECRETS_OPTION_HELP)
  .action((inventory: string, options: { secrets?: string }) => {
    const inv = validateInventory(inventory, options.secrets).cluster.inventory;
    console.log(
      `${printable(inventory)}: valid: cluster ${inv.cluster}, ${inv.hosts.length} hosts, ${inv.release}`,
    );
  });

program
  .command("check")
  .description(
    "run the security checks on the inventory's stack: every finding, suppressed ones with their reason; writes nothing",
  )
  .argument("[inventory]", INVENTORY_HELP)
  .action((given: string | undefined) => {
    const inventory = given ?? defaultInventory();
    const { cluster, findings } = checkInventory(inventory);
    for (const finding of findings) console.log(formatFinding(finding));
    const open = findings.filter((f) => !f.suppressed).length;
    console.log(
      `${cluster}: ${SECURITY_RULES.length} rules, ${open} unsuppressed finding${open === 1 ? "" : "s"}, ${findings.length - open} suppressed`,
    );
    if (open > 0) process.exitCode = 1;
  });

program
  .command("script")
  .description("print one step's script exactly as its host will run it (for debugging a failed step)")
  .argument("<step-id>", "the step's logical id, as in FAILED step=… (e.g. controller1_keystone)")
  .argument("[inventory]", INVENTORY_HELP)
  .action((stepId: string, given: string | undefined) => {
    const inventory = given ?? defaultInventory();
    process.stdout.write(stepScript(inventory, stepId));
  });

program
  .command("diagram")
  .description(
    "print the cluster as Mermaid flowchart source: hosts, roles, what runs where, networks and the VIP",
  )
  .argument("[inventory]", INVENTORY_HELP)
  .action((given: string | undefined) => {
    const inventory = given ?? defaultInventory();
    process.stdout.write(clusterDiagram(inventoryStack(inventory)));
  });

const secrets = program.command("secrets").description("the cluster's passwords and keys");
secrets
  .command("init")
  .description("create or complete the secrets file (mode 0600, outside git); keeps existing values")
  .argument("[inventory]", INVENTORY_HELP)
  .option("-f, --file <path>", "secrets file (default: secrets/<cluster>.tfvars.json)")
  .action((given: string | undefined, options: { file?: string }) => {
    const inventory = given ?? defaultInventory();
    const inv = loadInventory(inventory);
    const file = path.resolve(options.file ?? defaultSecretsFile(inv.cluster));
    const result = initSecretsFile(file);
    const removed = result.removed.length ? `, ${result.removed.length} obsolete removed` : "";
    console.log(
      `${printable(result.file)}: ${result.added.length} generated, ${result.kept.length} kept${removed}`,
    );
  });

try {
  program.parse();
} catch (err) {
  for (const line of errorLines(err, program.opts<{ debug?: boolean }>().debug === true)) console.error(line);
  process.exit(1);
}
