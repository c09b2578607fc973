/**
 * `terraform validate` over the stack of every example (those that use terraform_data, which
 * needs no provider download). Keys must exist for `file()`: `~` paths find a key in a temporary
 * HOME, other paths are replaced by a temporary key.
 */
import * as fs from "fs";
import * as path from "path";
import { Inventory } from "../lib/cluster/inventory";
import {
  EXAMPLES,
  exampleInventory,
  inventoryWithKey,
  SEED_EXAMPLE,
  sshKey,
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

  it("fails when a key file is missing (validation evaluates file())", () => {
    const { stackDir } = synthToDir(
      exampleInventory(SEED_EXAMPLE),
      path.join(tempDir("validate-nokey"), "out"),
    );
    const emptyHome = tempDir("empty-home");
    const result = validate(stackDir, { HOME: emptyHome });
    expect(result.valid).toBe(false);
    expect(result.diagnostics.map((d) => d.detail ?? "").join("\n")).toContain(
      `no file exists at "${path.join(emptyHome, ".ssh", "id_ed25519")}"`,
    );
  });
});
