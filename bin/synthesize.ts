import * as path from "path";
import { App } from "cdktf";
import { InventoryError, loadInventory } from "../lib/cluster/inventory";
import { OpenStackStack } from "../lib/cluster/openstack-stack";

export const DEFAULT_INVENTORY = "examples/furyu-8-node.yaml";

export interface SynthResult {
  readonly stackFile: string;
  readonly summary: string;
}

/**
 * Validates the inventory, then synthesizes its stack. Validation comes first so that a bad
 * inventory writes nothing and an earlier output directory is left as it was.
 */
export function synthesizeInventory(file: string, outdir?: string): SynthResult {
  const inventory = loadInventory(file);
  // Stack traces cost a captured call stack per construct and are of no use in our output.
  const app = new App({ stackTraces: false, ...(outdir ? { outdir } : {}) });
  const stack = new OpenStackStack(app, { inventory });
  app.synth();
  const stackFile = path.join(app.outdir, "stacks", inventory.cluster, "cdk.tf.json");
  return { stackFile, summary: summarize(stack) };
}

/**
 * One step's script exactly as its host runs it (head, prelude, body), built in memory: nothing
 * is written. Throws `InventoryError` naming the step when the inventory has no such step.
 */
export function stepScript(file: string, stepId: string): string {
  const inventory = loadInventory(file);
  const stack = new OpenStackStack(new App({ stackTraces: false }), { inventory });
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
