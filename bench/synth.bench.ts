/**
 * Synth and plan benchmark, at 2 controllers + 1 network host + N compute+storage hosts for each
 * N of `BENCH_SIZES` (default 1000 and 3000), after the seed's cluster.
 * - Synth: our stack beside cdktf's floor, an app with as many bare `terraform_data` resources,
 *   each with an SSH connection and a remote-exec that names a script file, writing the same
 *   script files (bytes) beside its JSON. Median of `BENCH_RUNS` runs each (default 3 up to
 *   1000 hosts, 1 above). Target: ratio <= 1.2.
 * - Plan: `terraform plan` of our synthesized stack beside Terraform's floor, as many bare
 *   resources with one-line scripts, both offline from an empty state (bench/plan.ts). Median of
 *   `BENCH_PLAN_RUNS` (default 3 up to 1000 hosts, 1 above). Target: ratio <= 1.5.
 *   `BENCH_PLAN=0` skips it.
 * - Size: cdk.tf.json bytes, scripts/ bytes, scripts/ bytes per host and the largest host's, at
 *   each size. Target: bytes per host at the largest size <= 1.1 x at the smallest (linear).
 * - Memory: the bench's peak resident memory after each size (Node's maxRSS: it only grows, so
 *   each figure is the peak up to that size) and terraform's own peak per plan.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { App, TerraformStack } from "cdktf";
import { Inventory, loadInventory, parseInventory } from "../lib/cluster/inventory";
import { OpenStackStack } from "../lib/cluster/openstack-stack";
import { TerraformData } from "../lib/core/terraform-data";
import { PlanFigures, planFloor, planStack } from "./plan";

const SIZES = (process.env.BENCH_SIZES ?? "1000,3000").split(",").map(Number);
const runsFor = (variable: string, hosts: number) => Number(process.env[variable] ?? (hosts > 1000 ? 1 : 3));

export function generatedInventory(computes: number): Inventory {
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

interface StepFigure {
  readonly host: string;
  readonly address: string;
  readonly id: string;
  readonly bytes: number;
  readonly script: string;
}

interface ClusterRun {
  readonly ms: number;
  readonly steps: readonly StepFigure[];
}

/** Builds and synthesizes the cluster into `outdir`. */
function synthCluster(inventory: Inventory, outdir: string): ClusterRun {
  const start = performance.now();
  const app = new App({ outdir, stackTraces: false }); // as bin/synthesize.ts does
  const stack = new OpenStackStack(app, { inventory });
  app.synth();
  const ms = performance.now() - start;
  const steps = stack.cluster.steps.map((s) => {
    const connection = s.resource.connection;
    return {
      host: s.logicalId.slice(0, s.logicalId.length - s.node.id.length - 1),
      address: String(connection && "host" in connection ? connection.host : ""),
      id: s.logicalId,
      bytes: Buffer.byteLength(s.scriptText),
      script: s.scriptText,
    };
  });
  return { ms, steps };
}

/**
 * cdktf's floor: one bare terraform_data resource per step, with an SSH connection and a
 * remote-exec naming a script file, and the same script bytes written beside the JSON; the same
 * App settings as ours, without cdktf's per-resource `terraform version` check (which alone costs
 * a child process per resource; see lib/core/terraform-data.ts).
 */
function synthFloor(steps: ClusterRun["steps"]): number {
  const outdir = tempDir();
  const start = performance.now();
  const app = new App({ outdir, stackTraces: false, skipValidation: true });
  const stack = new TerraformStack(app, "floor");
  steps.forEach((step, i) => {
    const resource = new TerraformData(stack, `r${i}`, {
      triggersReplace: { script: String(i) },
      connection: { type: "ssh", host: step.address, user: "root", privateKey: '${file("key")}' },
      provisioners: [{ type: "remote-exec", script: `\${path.module}/scripts/r${i}.sh` }],
    });
    resource.overrideLogicalId(`host${i}_step`);
  });
  app.synth();
  const scripts = path.join(outdir, "stacks", "floor", "scripts");
  fs.mkdirSync(scripts, { recursive: true });
  steps.forEach((step, i) => fs.writeFileSync(path.join(scripts, `r${i}.sh`), step.script));
  const ms = performance.now() - start;
  fs.rmSync(outdir, { recursive: true, force: true });
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function dirBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const peakRssMiB = () => process.resourceUsage().maxRSS / 1024;

interface SizeFigures {
  readonly label: string;
  readonly hosts: number;
  readonly synthRatio: number;
  readonly planRatio?: number;
  readonly scriptBytesPerHost: number;
}

/** Synth (ours and the floor), sizes, then plan (ours and the floor), for one inventory. */
function bench(label: string, makeInventory: () => Inventory, plan: boolean): SizeFigures {
  const hostsCount = makeInventory().hosts.length;
  const runs = runsFor("BENCH_RUNS", hostsCount);
  const ours: number[] = [];
  const floor: number[] = [];
  const dir = tempDir();
  let kept: ClusterRun | undefined;
  let cluster = "";
  try {
    for (let run = 0; run < runs; run++) {
      kept = undefined; // let the last run's steps go before the next run
      // The inventory is parsed inside the timing too: validation is part of what a user waits for.
      const start = performance.now();
      const inventory = makeInventory();
      cluster = inventory.cluster;
      const parseMs = performance.now() - start;
      fs.rmSync(dir, { recursive: true, force: true });
      const result = synthCluster(inventory, dir);
      ours.push(parseMs + result.ms);
      floor.push(synthFloor(result.steps));
      kept = result;
    }
    if (!kept) throw new Error("no run");
    const steps = kept.steps;
    const stackDir = path.join(dir, "stacks", cluster);
    const jsonBytes = fs.statSync(path.join(stackDir, "cdk.tf.json")).size;
    const scriptBytes = dirBytes(path.join(stackDir, "scripts"));
    const perHost = new Map<string, number>();
    for (const s of steps) perHost.set(s.host, (perHost.get(s.host) ?? 0) + s.bytes);
    const [bigHost, bigHostBytes] = [...perHost].sort((a, b) => b[1] - a[1])[0];
    const bigSteps = [...steps].sort((a, b) => b.bytes - a.bytes).slice(0, 3);
    const ms = median(ours);
    const floorMs = median(floor);
    const synthRatio = ms / floorMs;
    console.log(`\n${label}: ${hostsCount} hosts, ${steps.length} steps`);
    console.log(
      `  synth  ours ${(ms / 1000).toFixed(2)} s  floor ${(floorMs / 1000).toFixed(2)} s  ratio ${synthRatio.toFixed(2)} (median of ${runs}; target <= 1.2: ${synthRatio <= 1.2 ? "met" : "NOT met"})`,
    );
    console.log(
      `  bytes  cdk.tf.json ${mib(jsonBytes)}  scripts/ ${mib(scriptBytes)}  scripts/ per host ${(scriptBytes / hostsCount / 1024).toFixed(1)} KiB  largest host ${bigHost} ${(bigHostBytes / 1024).toFixed(1)} KiB`,
    );
    console.log(
      `  largest scripts: ${bigSteps.map((s) => `${s.id} ${(s.bytes / 1024).toFixed(1)} KiB`).join(", ")}`,
    );
    console.log(`  peak rss of the bench so far ${peakRssMiB().toFixed(0)} MiB`);
    let planRatio: number | undefined;
    if (plan) {
      const planRuns = runsFor("BENCH_PLAN_RUNS", hostsCount);
      const oursPlan = planStack(stackDir, planRuns);
      const floorPlan = planFloor(
        path.join(dir, "floor"),
        steps.map((s) => s.address),
        planRuns,
      );
      planRatio = oursPlan.seconds / floorPlan.seconds;
      const line = (name: string, f: PlanFigures) =>
        `  plan   ${name.padEnd(6)} ${f.seconds.toFixed(1).padStart(6)} s  terraform rss ${f.maxRssMiB.toFixed(0).padStart(5)} MiB  json ${mib(f.jsonBytes)}`;
      console.log(line("ours", oursPlan));
      console.log(line("floor", floorPlan));
      console.log(
        `  plan   ratio ${planRatio.toFixed(2)} (terraform plan -refresh=false, empty state, median of ${planRuns}; target <= 1.5: ${planRatio <= 1.5 ? "met" : "NOT met"})`,
      );
    }
    return { label, hosts: hostsCount, synthRatio, planRatio, scriptBytesPerHost: scriptBytes / hostsCount };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  console.log(
    `synth + plan benchmark, node ${process.version}, sizes ${SIZES.join(", ")} compute+storage hosts`,
  );
  const plan = process.env.BENCH_PLAN !== "0";
  const seedFile = path.join(__dirname, "..", "examples", "furyu-8-node.yaml");
  bench("seed (furyu-8-node.yaml)", () => loadInventory(seedFile), false);
  const figures = SIZES.map((n) =>
    bench(`2 controllers + ${n} compute+storage`, () => generatedInventory(n), plan),
  );
  console.log("\nsummary");
  for (const f of figures) {
    console.log(
      `  ${String(f.hosts).padStart(5)} hosts: synth ratio ${f.synthRatio.toFixed(2)}` +
        (f.planRatio === undefined ? "" : `, plan ratio ${f.planRatio.toFixed(2)}`) +
        `, scripts/ per host ${(f.scriptBytesPerHost / 1024).toFixed(1)} KiB`,
    );
  }
  if (figures.length > 1) {
    const growth = figures[figures.length - 1].scriptBytesPerHost / figures[0].scriptBytesPerHost;
    console.log(
      `  scripts/ per host, ${figures[figures.length - 1].hosts} vs ${figures[0].hosts} hosts: x${growth.toFixed(2)} (linear growth: <= 1.1: ${growth <= 1.1 ? "met" : "NOT met"})`,
    );
  }
}

main();
