/**
 * Shared helpers for the test suite: temporary directories, example inventories, synthesis
 * into JSON or into an output directory, and running terraform, bash and the CLI.
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, LocalBackend, Testing } from "cdktf";
import * as YAML from "yaml";
import { Inventory, loadInventory, parseInventory } from "../lib/cluster/inventory";
import { OpenStackStack } from "../lib/cluster/openstack-stack";

export const REPO = path.resolve(__dirname, "..");
export const EXAMPLES_DIR = path.join(REPO, "examples");

/** Every example inventory, as absolute paths, sorted. */
export const EXAMPLES: readonly string[] = fs
  .readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => path.join(EXAMPLES_DIR, f));

export const SEED_EXAMPLE = path.join(EXAMPLES_DIR, "furyu-8-node.yaml");
export const LAB_SMALL_EXAMPLE = path.join(EXAMPLES_DIR, "lab-small.yaml");
/** The small layout on the other release (Debian 12 with Zed). */
export const LAB_SMALL_ZED_EXAMPLE = path.join(EXAMPLES_DIR, "lab-small-zed.yaml");

/** The parts of a synthesized stack the tests look at. */
export interface ProvisionerJson {
  readonly "remote-exec"?: { readonly inline?: readonly string[]; readonly script?: string };
  readonly file?: { readonly content: string; readonly destination: string };
}

export interface ResourceJson {
  readonly connection: Record<string, unknown>;
  readonly provisioner: readonly ProvisionerJson[];
  readonly triggers_replace?: Record<string, string>;
  readonly triggers?: Record<string, string>;
  readonly depends_on?: readonly string[];
}

export interface VariableJson {
  readonly type: string;
  readonly sensitive?: boolean;
  readonly nullable?: boolean;
  readonly description?: string;
}

export interface StackJson {
  readonly resource: Record<string, Record<string, ResourceJson>>;
  readonly variable?: Record<string, VariableJson>;
  readonly provider?: Record<string, readonly unknown[]>;
  readonly terraform?: {
    readonly required_providers?: Record<string, { readonly source: string; readonly version: string }>;
    readonly backend?: Record<string, unknown>;
  };
}

const createdDirs: string[] = [];

/** A fresh directory under the system's temporary folder; removed after the test file's tests. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `osc-test-${prefix}-`));
  createdDirs.push(dir);
  return dir;
}

// Each test file gets its own copy of this module, so this runs once per file, after its tests.
afterAll(() => {
  for (const dir of createdDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Generates an unencrypted ed25519 key pair in `dir`; returns the private key's path. */
export function sshKey(dir: string, name = "id_ed25519"): string {
  const file = path.join(dir, name);
  const result = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", file], {
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`ssh-keygen failed: ${result.error ?? result.stderr}`);
  return file;
}

/** An example's YAML as plain data, to modify before `parseInventory`. */
export function readYaml(file: string): Record<string, unknown> {
  return YAML.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
}

/** An example inventory with every host's SSH key replaced by `keyFile` (which must exist for `file()`). */
export function inventoryWithKey(file: string, keyFile: string): Inventory {
  const data = readYaml(file);
  data.ssh = { ...((data.ssh as Record<string, unknown> | undefined) ?? {}), privateKeyFile: keyFile };
  return parseInventory(data, file, path.dirname(file));
}

/** The example's inventory as `loadInventory` reads it. */
export function exampleInventory(file: string): Inventory {
  return loadInventory(file);
}

/** Builds the stack of an inventory in a testing app, without synthesizing it (scripts are rendered already). */
export function buildStack(inventory: Inventory): OpenStackStack {
  return new OpenStackStack(Testing.app({ outdir: tempDir("app") }), { inventory });
}

/** Builds the stack of an inventory in a testing app and returns it with its JSON (no metadata). */
export function synthJson(inventory: Inventory): { stack: OpenStackStack; json: StackJson } {
  const stack = buildStack(inventory);
  return { stack, json: JSON.parse(Testing.synth(stack)) as StackJson };
}

/**
 * Synthesizes an inventory's stack into `outdir` as `cdktf synth` does, with the state kept in the
 * stack's own folder (cdktf's default is a file in the current directory). Returns the stack folder.
 */
export function synthToDir(
  inventory: Inventory,
  outdir: string,
): { stack: OpenStackStack; stackDir: string } {
  const app = new App({ outdir });
  const stack = new OpenStackStack(app, { inventory });
  new LocalBackend(stack, { path: "terraform.tfstate" });
  app.synth();
  return { stack, stackDir: path.join(outdir, "stacks", inventory.cluster) };
}

/** Runs terraform offline and without any user configuration. */
export function terraform(
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
  input?: string,
): SpawnSyncReturns<string> {
  const result = spawnSync("terraform", [...args], {
    cwd,
    input,
    encoding: "utf8",
    env: {
      ...process.env,
      TF_CLI_CONFIG_FILE: "/dev/null",
      CHECKPOINT_DISABLE: "1",
      TF_IN_AUTOMATION: "1",
      TF_INPUT: "0",
      ...env,
    },
  });
  if (result.error) throw new Error(`cannot run terraform ${args.join(" ")}: ${result.error.message}`);
  return result;
}

/** Every file under `dir` (recursively), as paths relative to it, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(child);
      else out.push(child);
    }
  };
  walk("");
  return out.sort();
}

/** Runs the project's CLI the way `npx ts-node --transpile-only bin/cli.ts` does, without npm's own output. */
export function runCli(args: readonly string[], cwd = REPO, timeoutMs?: number): SpawnSyncReturns<string> {
  const tsNode = path.join(REPO, "node_modules", ".bin", "ts-node");
  const result = spawnSync(tsNode, ["--transpile-only", path.join(REPO, "bin", "cli.ts"), ...args], {
    cwd,
    encoding: "utf8",
    // A run that would never end (one did, under /proc) fails the test instead of hanging it.
    timeout: timeoutMs,
    env: { ...process.env, TS_NODE_PROJECT: path.join(REPO, "tsconfig.json") },
  });
  if (result.error) throw new Error(`cannot run the CLI: ${result.error.message}`);
  return result;
}

/**
 * Every remote-exec of a synthesized stack as its host runs it: a step's `script` file read from
 * the stack's folder, an `inline` list joined with newlines (as remote-exec joins it) with
 * Terraform's template escapes undone. Keyed `<logical id>-<n>`.
 */
export function remoteExecScripts(stackDir: string): Map<string, string> {
  const json = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")) as StackJson;
  const scripts = new Map<string, string>();
  for (const resources of Object.values(json.resource)) {
    for (const [id, resource] of Object.entries(resources)) {
      for (const [n, p] of (resource.provisioner ?? []).entries()) {
        const exec = p["remote-exec"];
        if (exec?.script) {
          const file = exec.script.replace(/^\$\{path\.module\}\//, "");
          scripts.set(`${id}-${n}`, fs.readFileSync(path.join(stackDir, file), "utf8"));
        } else if (exec?.inline) {
          const text = exec.inline
            .join("\n")
            .replace(/\$\$\{/g, "${")
            .replace(/%%\{/g, "%{");
          scripts.set(`${id}-${n}`, `${text}\n`);
        }
      }
    }
  }
  return scripts;
}

/** An INI file's keys by section (a repeated key keeps its last value). */
export function ini(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section = "";
  for (const line of text.split("\n")) {
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      section = head[1];
      out[section] = out[section] ?? {};
    } else if (line.includes(" = ")) {
      const i = line.indexOf(" = ");
      out[section][line.slice(0, i)] = line.slice(i + 3);
    }
  }
  return out;
}
