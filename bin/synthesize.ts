import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AnnotationMetadataEntryType, App, TerraformStack } from "cdktf";
import { Inventory, InventoryError, loadInventory } from "../lib/cluster/inventory";
import { OpenStackStack } from "../lib/cluster/openstack-stack";
import { printable } from "../lib/core/field-rules";
import { makeDirs } from "../lib/core/make-dirs";
import { defaultSecretsFile, SecretsFileError } from "../lib/core/secrets-file";
import { checkSecretsFile } from "../lib/cluster/components";
import { StepIdCollisionError } from "../lib/core/step";
import { invokeAspects } from "cdktf/lib/synthesize/synthesizer";
import { SecurityCheckError, SecurityChecks, SecurityFinding } from "../lib/security";

export const DEFAULT_INVENTORY = "examples/furyu-8-node.yaml";

/**
 * The inventory a command was not given: OPENSTACK_INVENTORY, else the seed's example, which
 * only this repository has (the package ships none): elsewhere, one line asking for a file.
 */
export function defaultInventory(): string {
  const fromEnv = process.env.OPENSTACK_INVENTORY;
  if (fromEnv) return fromEnv;
  if (fs.existsSync(DEFAULT_INVENTORY)) return DEFAULT_INVENTORY;
  throw new InventoryError(
    `inventory: got none: expected an inventory file as the argument, or OPENSTACK_INVENTORY (the default, ${DEFAULT_INVENTORY}, is the repository's example and is not in ${printable(process.cwd())})`,
  );
}

export interface SynthResult {
  readonly stackFile: string;
  readonly summary: string;
}

/**
 * Validates the inventory, builds its stack and checks it in memory (the security checks too),
 * then writes it. Everything that can fail comes before the first file is written, so a bad
 * inventory or an unsuppressed security finding (SecurityCheckError, one line per finding)
 * writes nothing and an earlier output directory is left as it was (one that did not exist is
 * not left behind).
 */
export function synthesizeInventory(file: string, outdir?: string, secretsFile?: string): SynthResult {
  const inventory = loadInventory(file);
  const secrets = checkSecrets(inventory, secretsFile);
  // As App resolves it: the option, else cdktf's CLI's variable, else its default.
  const dir = outdir ?? process.env.CDKTF_OUTDIR ?? "cdktf.out";
  // What this makes (the first new folder on the way, else App's stacks/) is removed again on failure.
  const stacksDir = path.join(dir, "stacks");
  let created = fs.existsSync(stacksDir) ? undefined : stacksDir;
  try {
    created = makeDirs(dir) ?? created;
    // Stack traces cost a captured call stack per construct and are of no use in our output.
    const app = new App({ stackTraces: false, outdir: dir });
    const { stack, findings } = buildCheckedStack(app, inventory, file);
    app.synth();
    const stackFile = path.join(app.outdir, "stacks", inventory.cluster, "cdk.tf.json");
    const suppressed = findings.length;
    const security = `security checks: no findings${suppressed ? `, ${suppressed} suppressed (npm run cli -- check)` : ""}`;
    const checked = secrets ? `\nsecrets: ${printable(secrets)}: every value valid for its kind` : "";
    return { stackFile, summary: `${summarize(stack)}\n${security}${checked}` };
  } catch (err) {
    if (created) fs.rmSync(created, { recursive: true, force: true });
    if (err instanceof InventoryError || err instanceof SecurityCheckError) throw err;
    // Left: the file system's errors (a folder that cannot be made or written).
    throw new InventoryError(`${dir}: cannot write the stack: ${firstLine(err)}`);
  }
}

/**
 * Everything `synthesizeInventory` checks, without writing: the inventory, then its stack built
 * and checked in memory. Returns the stack (its app's folder is a scratch one, already removed).
 */
export function validateInventory(file: string, secretsFile?: string): OpenStackStack {
  const inventory = loadInventory(file);
  checkSecrets(inventory, secretsFile);
  return withScratchApp((app) => buildCheckedStack(app, inventory, file).stack);
}

/**
 * Checks the secrets file that `synth` and `validate` are given, else the cluster's default one
 * (secrets/<cluster>.tfvars.json) where it exists (before `secrets init` there is none). Returns
 * the file checked, or undefined; throws `SecretsFileError` naming the key, never the value.
 */
export function checkSecrets(inventory: Inventory, secretsFile?: string): string | undefined {
  const file = path.resolve(secretsFile ?? defaultSecretsFile(inventory.cluster));
  if (secretsFile === undefined && !fs.existsSync(file)) return undefined;
  checkSecretsFile(file);
  return file;
}

/** The inventory's stack, built in memory (no checks beyond the inventory's): writes nothing. */
export function inventoryStack(file: string): OpenStackStack {
  const inventory = loadInventory(file);
  return withScratchApp((app) => buildStack(app, inventory, file));
}

/** What the security checks find on an inventory's stack, suppressed ones too; writes nothing. */
export function checkInventory(file: string): { cluster: string; findings: SecurityFinding[] } {
  const inventory = loadInventory(file);
  const stack = withScratchApp((app) => buildStack(app, inventory, file));
  return { cluster: inventory.cluster, findings: stackFindings(stack) };
}

/**
 * One step's script exactly as its host runs it (head, prelude, body), built in memory: nothing
 * is written. Throws `InventoryError` naming the step when the inventory has no such step.
 */
export function stepScript(file: string, stepId: string): string {
  const inventory = loadInventory(file);
  const stack = withScratchApp((app) => buildStack(app, inventory, file));
  const steps = stack.cluster.steps;
  const step = steps.find((s) => s.logicalId === stepId);
  if (!step) {
    const prefix = stepId.split("_")[0];
    const near = steps.filter((s) => s.logicalId.startsWith(`${prefix}_`)).map((s) => s.logicalId);
    throw new InventoryError(
      `step ${JSON.stringify(stepId)}: not a step of cluster ${inventory.cluster} (${file}); expected one of ` +
        (near.length ? near.join(", ") : `${steps.length} steps such as ${steps[0].logicalId}`),
    );
  }
  return step.scriptText;
}

/**
 * An App for building in memory. cdktf's App makes its output folder (and `stacks/` in it) when
 * it is created, so this one gets a fresh temporary folder, removed afterwards; nothing is
 * synthesized into it.
 */
function withScratchApp<T>(build: (app: App) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openstack-cdktf-"));
  try {
    return build(new App({ stackTraces: false, outdir: dir }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The inventory's stack in `app`, with any error of its construction as one `InventoryError`
 * line: two hosts whose steps' Terraform ids collide name the field; anything else the
 * inventory's checks let through is still one line, never a stack trace.
 */
function buildStack(app: App, inventory: Inventory, file: string): OpenStackStack {
  try {
    return new OpenStackStack(app, { inventory });
  } catch (err) {
    throw stackError(err, inventory, file);
  }
}

/**
 * What the stack's security Aspect finds, suppressed findings too: the stack's aspects run here,
 * in memory. The Aspect keeps what its rules found, so `app.synth()` does not run them again.
 */
function stackFindings(stack: OpenStackStack): SecurityFinding[] {
  invokeAspects(stack);
  return SecurityChecks.of(stack)?.findingsUnder(stack) ?? [];
}

/**
 * `buildStack`, then what `app.synth()` checks before it writes, in memory: the security checks
 * (the stack's Aspect, run here first, for one line per finding, and the findings are returned,
 * suppressed ones included), the constructs' validations, error annotations, and the stack's
 * Terraform JSON (every token resolved).
 */
function buildCheckedStack(
  app: App,
  inventory: Inventory,
  file: string,
): { stack: OpenStackStack; findings: SecurityFinding[] } {
  const stack = buildStack(app, inventory, file);
  const findings = stackFindings(stack);
  const open = findings.filter((f) => !f.suppressed);
  if (open.length > 0) throw new SecurityCheckError(open);
  try {
    stack.runAllValidations();
    const error = firstErrorAnnotation(stack);
    if (error) throw new Error(error);
    stack.toTerraform();
  } catch (err) {
    throw stackError(err, inventory, file);
  }
  return { stack, findings };
}

function firstErrorAnnotation(stack: TerraformStack): string | undefined {
  for (const construct of stack.node.findAll()) {
    const error = construct.node.metadata.find((m) => m.type === AnnotationMetadataEntryType.ERROR);
    if (error) return `${construct.node.path}: ${String(error.data)}`;
  }
  return undefined;
}

function stackError(err: unknown, inventory: Inventory, file: string): InventoryError {
  if (err instanceof InventoryError) return err;
  if (err instanceof StepIdCollisionError && err.hostName !== err.otherHostName) {
    const i = inventory.hosts.findIndex((h) => h.name === err.hostName);
    const j = inventory.hosts.findIndex((h) => h.name === err.otherHostName);
    return new InventoryError(
      `${file}: hosts[${i}].name: got ${JSON.stringify(err.hostName)}: expected a name whose steps' ids ` +
        `differ from hosts[${j}]'s (${JSON.stringify(err.otherHostName)}): both make the step id ${err.logicalId}`,
    );
  }
  return new InventoryError(`${file}: got an inventory the stack cannot be built from: ${firstLine(err)}`);
}

/** An error's first line, control characters escaped. */
function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return JSON.stringify(message.split("\n")[0]).slice(1, -1);
}

function summarize(stack: OpenStackStack): string {
  const cluster = stack.cluster;
  const inv = cluster.inventory;
  const steps = cluster.steps;
  const width = Math.max(4, ...cluster.hosts.map((h) => h.hostName.length));
  const lines = [
    `cluster ${inv.cluster}: ${inv.release}, ha ${inv.ha}` +
      (inv.management.vip ? `, VIP ${inv.management.vip} (${inv.management.vipName})` : ""),
    `${"host".padEnd(width)}  ${"address".padEnd(15)}  ${"roles".padEnd(24)}  steps`,
  ];
  for (const host of cluster.hosts) {
    const hostSteps = host.steps;
    lines.push(
      `${host.hostName.padEnd(width)}  ${host.address.padEnd(15)}  ${host.roles.join(",").padEnd(24)}  ` +
        hostSteps.map((s) => s.node.id).join(", "),
    );
  }
  lines.push(`${cluster.hosts.length} hosts, ${steps.length} steps`);
  return lines.join("\n");
}

/**
 * What the CLI prints for an error, one line per problem and never a stack trace unless asked:
 * an inventory's or a secrets file's problem is one line (a newline in it belongs to a value,
 * and is escaped), a SecurityCheckError one line per finding; anything else is a bug of ours,
 * said as such, with its stack only when `debug`.
 */
export function errorLines(err: unknown, debug: boolean): string[] {
  if (err instanceof InventoryError || err instanceof SecretsFileError)
    return [`error: ${printable(err.message)}`];
  if (err instanceof SecurityCheckError)
    return err.message.split("\n").map((line) => `error: ${printable(line)}`);
  const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
  return [
    `error: ${printable(message)} (unexpected: please report it with the command that gave it; --debug prints the stack)`,
    ...(debug && err instanceof Error && err.stack ? [err.stack] : []),
  ];
}
