/**
 * `terraform plan` of a synthesized stack beside Terraform's own floor: the same number of bare
 * `terraform_data` resources, each with an SSH connection and a one-line inline script, no
 * dependencies. Both plan offline (terraform_data needs no provider), from an empty state.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface PlanFigures {
  readonly seconds: number;
  readonly maxRssMiB: number;
  /** Bytes of cdk.tf.json (or main.tf.json for the floor). */
  readonly jsonBytes: number;
}

/**
 * The floor's connections read `~/.ssh/id_ed25519` with a plain `file()`, which Terraform
 * evaluates at plan time (ours read it at apply only): a HOME of our own holds a placeholder, so
 * the floor's plan never touches the user's keys and never fails for want of one.
 */
function benchHome(): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "osc-bench-home-"));
  fs.mkdirSync(path.join(home, ".ssh"), { mode: 0o700 });
  fs.writeFileSync(path.join(home, ".ssh", "id_ed25519"), "placeholder, not a key\n", { mode: 0o600 });
  return home;
}

const TF_ENV = {
  ...process.env,
  HOME: benchHome(),
  TF_IN_AUTOMATION: "1",
  TF_CLI_CONFIG_FILE: "/dev/null",
  CHECKPOINT_DISABLE: "1",
};

function terraform(dir: string, args: string[]): { seconds: number; maxRssKiB: number } {
  // GNU time reports the peak resident memory of terraform itself.
  const result = spawnSync(
    "/usr/bin/time",
    ["-f", "osc-bench %e %M", "terraform", `-chdir=${dir}`, ...args],
    {
      encoding: "utf8",
      env: TF_ENV,
      maxBuffer: 512 * 2 ** 20,
    },
  );
  const figures = /osc-bench ([\d.]+) (\d+)/.exec(result.stderr);
  if (result.status !== 0 || !figures) {
    throw new Error(
      `terraform ${args[0]} in ${dir} failed (exit ${result.status}): ${result.stderr.slice(-2000)}`,
    );
  }
  return { seconds: Number(figures[1]), maxRssKiB: Number(figures[2]) };
}

/**
 * Plans the stack in `dir` `runs` times with a placeholder for every declared variable (nothing
 * is applied); the median time and the largest peak memory.
 */
export function planStack(dir: string, runs: number, jsonFile = "cdk.tf.json"): PlanFigures {
  const json = JSON.parse(fs.readFileSync(path.join(dir, jsonFile), "utf8")) as {
    variable?: Record<string, unknown>;
  };
  // Placeholders, not secrets: the plan only hashes them into triggers.
  const vars = Object.fromEntries(Object.keys(json.variable ?? {}).map((name) => [name, `bench-${name}`]));
  fs.writeFileSync(path.join(dir, "bench.auto.tfvars.json"), JSON.stringify(vars));
  terraform(dir, ["init", "-input=false", "-no-color"]);
  const plans = Array.from({ length: runs }, () =>
    terraform(dir, ["plan", "-input=false", "-lock=false", "-refresh=false", "-no-color"]),
  );
  const seconds = plans.map((p) => p.seconds).sort((a, b) => a - b);
  return {
    seconds: seconds[Math.floor(seconds.length / 2)],
    maxRssMiB: Math.max(...plans.map((p) => p.maxRssKiB)) / 1024,
    jsonBytes: fs.statSync(path.join(dir, jsonFile)).size,
  };
}

/** Terraform's floor: one bare terraform_data resource per host given, with a one-line script. */
export function planFloor(dir: string, hosts: readonly string[], runs: number): PlanFigures {
  fs.mkdirSync(dir, { recursive: true });
  const resources: Record<string, unknown> = {};
  hosts.forEach((host, i) => {
    resources[`r${i}`] = {
      triggers_replace: { script: String(i) },
      connection: {
        type: "ssh",
        host,
        user: "root",
        private_key: '${file(pathexpand("~/.ssh/id_ed25519"))}',
      },
      provisioner: [{ "remote-exec": { inline: ["true"] } }],
    };
  });
  fs.writeFileSync(
    path.join(dir, "main.tf.json"),
    JSON.stringify({ resource: { terraform_data: resources } }),
  );
  return planStack(dir, runs, "main.tf.json");
}
