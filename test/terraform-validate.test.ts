/**
 * `terraform validate` over the stack of every example (those that use terraform_data, which
 * needs no provider download), and `validate` and `plan` with no key on disk (a key is read at
 * apply only). The examples' keys are found anyway: `~` paths in a temporary HOME, other paths
 * replaced by a temporary key.
 */
import * as fs from "fs";
import * as path from "path";
import { App, TerraformStack } from "cdktf";
import { Inventory } from "../lib/cluster/inventory";
import { DEBIAN_12_ZED } from "../lib/core/releases";
import { Host } from "../lib/hosts/host";
import {
  EXAMPLES,
  exampleInventory,
  inventoryWithKey,
  SEED_EXAMPLE,
  sshKey,
  StackJson,
  synthToDir,
  tempDir,
  terraform,
} from "./support";

interface Validation {
  readonly valid: boolean;
  readonly error_count: number;
  readonly warning_count: number;
  readonly diagnostics: readonly { severity: string; summary: string; detail?: string }[];
}

const home = tempDir("home");
fs.mkdirSync(path.join(home, ".ssh"), { mode: 0o700 });
const homeKey = sshKey(path.join(home, ".ssh"));
const otherKey = sshKey(tempDir("key"));

/** The example's inventory with a key that exists: in HOME for `~` paths, else a temporary key. */
function prepared(file: string): { inventory: Inventory; usesHome: boolean } {
  const inventory = exampleInventory(file);
  const keys = new Set(inventory.hosts.map((h) => h.ssh.privateKeyFile));
  if ([...keys].every((k) => k?.startsWith("~/"))) {
    for (const k of keys) {
      const wanted = path.join(home, (k as string).slice(2));
      if (!fs.existsSync(wanted)) {
        fs.mkdirSync(path.dirname(wanted), { recursive: true });
        fs.copyFileSync(homeKey, wanted);
      }
    }
    return { inventory, usesHome: true };
  }
  return { inventory: inventoryWithKey(file, otherKey), usesHome: false };
}

function validate(stackDir: string, env: Record<string, string>): Validation {
  const init = terraform(["init", "-backend=false", "-input=false", "-no-color"], stackDir, env);
  if (init.status !== 0)
    throw new Error(`terraform init failed in ${stackDir}:\n${init.stdout}${init.stderr}`);
  const result = terraform(["validate", "-json", "-no-color"], stackDir, env);
  return JSON.parse(result.stdout) as Validation;
}

const examples = EXAMPLES.map((file) => ({ file, ...prepared(file) })).filter(
  (e) => e.inventory.resource === "terraform_data",
);

describe("terraform validate", () => {
  it("covers every example (all use terraform_data)", () => {
    expect(examples.map((e) => e.file)).toEqual(EXAMPLES);
    // The seed's ~/.ssh/id_ed25519 is found through HOME; the labs' relative path is replaced.
    expect(examples.map((e) => e.usesHome)).toEqual(EXAMPLES.map((f) => f === SEED_EXAMPLE));
  });

  it.each(examples.map((e) => [path.basename(e.file), e] as const))(
    "accepts the stack of %s",
    (_name, example) => {
      const { stackDir } = synthToDir(example.inventory, path.join(tempDir("validate"), "out"));
      const result = validate(stackDir, { HOME: home });
      expect(result.diagnostics).toEqual([]);
      expect(result.valid).toBe(true);
    },
  );

  it("validates and plans with no key file at all (a CI runner): a key is read at apply only", () => {
    const { stackDir } = synthToDir(
      exampleInventory(SEED_EXAMPLE),
      path.join(tempDir("validate-nokey"), "out"),
    );
    const json = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")) as StackJson;
    const emptyHome = tempDir("empty-home");
    const result = validate(stackDir, { HOME: emptyHome });
    expect(result.diagnostics).toEqual([]);
    expect(result.valid).toBe(true);
    // Placeholders for the secrets (a plan hashes them into triggers); ssh_private_key not given.
    const vars = Object.keys(json.variable ?? {}).filter((name) => name.startsWith("secret_"));
    fs.writeFileSync(
      path.join(stackDir, "ci.auto.tfvars.json"),
      JSON.stringify(Object.fromEntries(vars.map((name) => [name, `placeholder-${name}`]))),
    );
    expect(terraform(["init", "-input=false", "-no-color"], stackDir, { HOME: emptyHome }).status).toBe(0);
    const plan = terraform(["plan", "-input=false", "-lock=false", "-refresh=false", "-no-color"], stackDir, {
      HOME: emptyHome,
    });
    expect([plan.status, plan.stderr]).toEqual([0, ""]);
    expect(plan.stdout).toContain(`Plan: ${Object.keys(json.resource.terraform_data).length} to add`);
  });

  it("at apply, reads the key file (a missing one is named) or takes the key from TF_VAR_ssh_private_key", () => {
    // One host at 127.0.0.1: the key is read (and parsed) before any connection is made.
    const outdir = path.join(tempDir("apply-nokey"), "out");
    const app = new App({ outdir, stackTraces: false });
    const stack = new TerraformStack(app, "keys");
    const host = new Host(stack, "h", {
      name: "h1",
      address: "127.0.0.1",
      release: DEBIAN_12_ZED,
      privateKeyFile: "~/.ssh/absent_key",
      timeout: "5s",
    });
    host.addStep("probe", host.script("probe").raw("true"));
    app.synth();
    const dir = path.join(outdir, "stacks", "keys");
    const emptyHome = tempDir("apply-home");
    expect(terraform(["init", "-input=false", "-no-color"], dir, { HOME: emptyHome }).status).toBe(0);
    const apply = (env: Record<string, string>) =>
      terraform(["apply", "-auto-approve", "-input=false", "-no-color"], dir, { HOME: emptyHome, ...env });
    const missing = apply({});
    expect(missing.status).toBe(1);
    // Terraform wraps its message: compared with its line breaks as spaces.
    expect(missing.stderr.replace(/\s+/g, " ")).toContain(
      `no file exists at "${path.join(emptyHome, ".ssh", "absent_key")}"`,
    );
    const given = apply({ TF_VAR_ssh_private_key: "not a key" });
    expect(given.status).toBe(1);
    expect(given.stderr.replace(/\s+/g, " ")).toContain("Failed to read ssh private key: no key found");
  });
});
