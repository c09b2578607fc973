/**
 * Synth and plan benchmark.
 * - Synth: the seed's cluster and a generated 2-controller + 1000-compute cluster, each beside
 *   cdktf's own floor — the same number of bare `terraform_data` resources with a remote-exec
 *   provisioner and an SSH connection, carrying the same scripts, synthesized in the same run.
 *   Prints steps, milliseconds (median of several runs) and the ratio. Targets: ratio <= 1.5;
 *   the 1000-node cluster under 10 s.
 * - Plan: `terraform plan` of the synthesized 1000-compute stack beside Terraform's floor (as
 *   many bare resources with one-line scripts), in the same run (bench/plan.ts). Prints seconds,
 *   peak memory, JSON size and the ratio. Target: ratio <= 2. `BENCH_PLAN=0` skips it.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { App, DataResource, TerraformStack } from "cdktf";
import { Inventory, loadInventory, parseInventory } from "../lib/cluster/inventory";
import { OpenStackStack } from "../lib/cluster/openstack-stack";
import { escapeTemplate } from "../lib/core/hcl";
import { PlanFigures, planFloor, planStack } from "./plan";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PLAN_RUNS = Number(process.env.BENCH_PLAN_RUNS ?? 3);

function generatedInventory(computes: number): Inventory {
  const hosts = [
    { name: "controller1", address: "10.20.0.11", roles: ["controller"] },
    { name: "controller2", address: "10.20.0.12", roles: ["controller"] },
    { name: "network1", address: "10.20.0.13", roles: ["network"], tunnelAddress: "10.30.0.13" },
  ];
  for (let i = 0; i < computes; i++) {
    const address = `10.20.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
    const tunnelAddress = `10.30.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
    hosts.push({ name: `compute${i + 1}`, address, roles: ["compute", "storage"], tunnelAddress });
  }
  return parseInventory({
    cluster: `bench${computes}`,
    release: "debian-12-zed",
    networks: {
      management: { cidr: "10.20.0.0/16", vip: "10.20.0.10" },
      provider: { interface: "eth1", physnet: "provider" },
      tunnel: { cidr: "10.30.0.0/16", interface: "eth2" },
    },
    hosts,
  });
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "osc-bench-"));
}

interface ClusterRun {
  readonly ms: number;
  /** What the floor rebuilds bare: each step's host address and script. */
  readonly steps: readonly { address: string; script: string }[];
}

/** Builds and synthesizes the cluster; keeps the output when `keep` is given. */
function synthCluster(inventory: Inventory, keep?: string): ClusterRun {
  const outdir = keep ?? tempDir();
  const start = performance.now();
  const app = new App({ outdir, stackTraces: false }); // as bin/synthesize.ts does
  const stack = new OpenStackStack(app, { inventory });
  app.synth();
  const ms = performance.now() - start;
  const steps = stack.cluster.steps.map((s) => ({
    address: String(
      s.resource.connection && "host" in s.resource.connection ? s.resource.connection.host : "",
    ),
    script: escapeTemplate(s.scriptText),
  }));
  if (!keep) fs.rmSync(outdir, { recursive: true, force: true });
  return { ms, steps };
}

/**
 * cdktf's floor: one bare terraform_data resource per step, with the same script in a
 * remote-exec provisioner and an SSH connection, built with the same App settings as ours and
 * without cdktf's per-resource `terraform version` check (which alone costs a child process
 * per resource; see lib/core/terraform-data.ts).
 */
function synthFloor(steps: ClusterRun["steps"]): number {
  const outdir = tempDir();
  const start = performance.now();
  const app = new App({ outdir, stackTraces: false, skipValidation: true });
  const stack = new TerraformStack(app, "floor");
  steps.forEach((step, i) => {
    const resource = new DataResource(stack, `r${i}`, {
      triggersReplace: { script: String(i) },
      connection: { type: "ssh", host: step.address, user: "root", privateKey: '${file("key")}' },
      provisioners: [{ type: "remote-exec", inline: [step.script] }],
    });
    resource.overrideLogicalId(`host${i}_step`);
  });
  app.synth();
  const ms = performance.now() - start;
  fs.rmSync(outdir, { recursive: true, force: true });
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function bench(label: string, makeInventory: () => Inventory): { ms: number; ratio: number } {
  const clusterTimes: number[] = [];
  const floorTimes: number[] = [];
  let steps = 0;
  for (let run = 0; run < RUNS; run++) {
    // The inventory is parsed inside the timing too: validation is part of what a user waits for.
    const start = performance.now();
    const inventory = makeInventory();
    const parseMs = performance.now() - start;
    const result = synthCluster(inventory);
    steps = result.steps.length;
    clusterTimes.push(parseMs + result.ms);
    floorTimes.push(synthFloor(result.steps));
  }
  const ms = median(clusterTimes);
  const floor = median(floorTimes);
  const ratio = ms / floor;
  console.log(
    `${label.padEnd(34)} steps ${String(steps).padStart(5)}  ours ${ms.toFixed(0).padStart(6)} ms  ` +
      `floor ${floor.toFixed(0).padStart(6)} ms  ratio ${ratio.toFixed(2)}`,
  );
  return { ms, ratio };
}

/** terraform plan of the 1000-compute stack beside Terraform's floor (about a minute). */
function benchPlan(inventory: Inventory): void {
  const dir = tempDir();
  try {
    const run = synthCluster(inventory, dir);
    const ours = planStack(path.join(dir, "stacks", inventory.cluster), PLAN_RUNS);
    const floor = planFloor(
      path.join(dir, "floor"),
      run.steps.map((s) => s.address),
      PLAN_RUNS,
    );
    const ratio = ours.seconds / floor.seconds;
    const line = (label: string, f: PlanFigures) =>
      `${label.padEnd(34)} steps ${String(run.steps.length).padStart(5)}  ${f.seconds.toFixed(1).padStart(6)} s  ` +
      `rss ${f.maxRssMiB.toFixed(0).padStart(4)} MiB  json ${(f.jsonBytes / 2 ** 20).toFixed(1).padStart(5)} MiB`;
    console.log(
      `plan: terraform plan -refresh=false from an empty state, ${run.steps.length} resources, median of ${PLAN_RUNS} runs`,
    );
    console.log(line("  ours (2 + 1000 computes)", ours));
    console.log(line("  floor (bare, one-line scripts)", floor));
    console.log(`  plan ratio ${ratio.toFixed(2)}; target (ratio <= 2): ${ratio <= 2 ? "met" : "NOT met"}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  console.log(`synth benchmark: median of ${RUNS} runs, node ${process.version}`);
  const seedFile = path.join(__dirname, "..", "examples", "furyu-8-node.yaml");
  bench("seed (furyu-8-node.yaml)", () => loadInventory(seedFile));
  const big = bench("2 controllers + 1000 computes", () => generatedInventory(1000));
  const ok = big.ratio <= 1.5 && big.ms < 10_000;
  console.log(`targets (ratio <= 1.5, 1000 nodes < 10000 ms): ${ok ? "met" : "NOT met"}`);
  if (process.env.BENCH_PLAN !== "0") benchPlan(generatedInventory(1000));
  const heap = process.memoryUsage();
  console.log(
    `peak-ish memory: rss ${(heap.rss / 2 ** 20).toFixed(0)} MiB, heap ${(heap.heapUsed / 2 ** 20).toFixed(0)} MiB`,
  );
}

main();
