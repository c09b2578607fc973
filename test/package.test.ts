/**
 * The library as a platform team uses it: `npm pack`, install the tarball into a fresh cdktf
 * app (beside cdktf, constructs and the null provider at the versions this repo uses), copy in
 * the example app (examples/own-stack: one controller with the database, Keystone and Glance),
 * compile its TypeScript against the package's types, run its jest test (cdktf's matchers and
 * the snapshot committed beside it: the packed library synthesizes what lib/ does), synthesize
 * it, then `terraform validate` it with no SSH key on the machine and shellcheck its scripts.
 * Any file the package needs at run time but does not ship (the shell prelude, the Python
 * helper) makes the synth fail here.
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { SECRET_CATALOG } from "../lib/cluster/components";
import { remoteExecScripts, REPO, tempDir, terraform } from "./support";

function run(
  cmd: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, [...args], { cwd, encoding: "utf8", env: { ...process.env, ...env } });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}): exit ${r.status}\n${r.stdout}${r.stderr}`);
  return r;
}

const version = (name: string): string =>
  (
    JSON.parse(fs.readFileSync(path.join(REPO, "node_modules", name, "package.json"), "utf8")) as {
      version: string;
    }
  ).version;

const EXAMPLE = path.join(REPO, "examples", "own-stack");

describe("the packed library in a user's cdktf app", () => {
  const work = tempDir("package");
  // No SSH key anywhere: synth, validate and the tests need none (a CI runner's machine).
  const emptyHome = tempDir("package-home");
  const appDir = path.join(work, "app");
  let stackDir = "";

  beforeAll(() => {
    // `npm pack` runs the build (prepack): dist/ is what the tarball holds.
    const packed = run("npm", ["pack", "--silent", "--pack-destination", work], REPO)
      .stdout.trim()
      .split("\n")
      .pop();
    const tarball = path.join(work, packed ?? "");
    fs.mkdirSync(appDir);
    fs.writeFileSync(path.join(appDir, "package.json"), JSON.stringify({ name: "user-app", private: true }));
    run(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        tarball,
        `cdktf@${version("cdktf")}`,
        `constructs@${version("constructs")}`,
        `@cdktf/provider-null@${version("@cdktf/provider-null")}`,
      ],
      appDir,
    );
    for (const file of ["main.ts", "main.test.ts", "__snapshots__/main.test.ts.snap"]) {
      fs.mkdirSync(path.dirname(path.join(appDir, file)), { recursive: true });
      fs.copyFileSync(path.join(EXAMPLE, file), path.join(appDir, file));
    }
    // The app's TypeScript is checked against the package's declarations (its "types").
    run(
      path.join(REPO, "node_modules", ".bin", "tsc"),
      [
        "--strict",
        "--target",
        "ES2022",
        "--module",
        "commonjs",
        "--moduleResolution",
        "node",
        "--skipLibCheck",
        // Node's types, as a cdktf app has them (the template's devDependencies).
        "--typeRoots",
        path.join(REPO, "node_modules", "@types"),
        "--types",
        "node",
        "main.ts",
      ],
      appDir,
    );
    run("node", ["main.js"], appDir, { HOME: emptyHome });
    stackDir = path.join(appDir, "cdktf.out", "stacks", "identity");
  }, 240_000);

  it("ships the compiled library, its run-time assets and the CLI, and nothing of the sources or tests", () => {
    const installed = path.join(appDir, "node_modules", "openstack-cdktf");
    for (const file of [
      "dist/lib/index.js",
      "dist/lib/index.d.ts",
      "dist/lib/core/prelude.sh",
      "dist/lib/services/keystone-register.py",
      "dist/lib/services/day-one.py",
      "dist/bin/cli.js",
    ]) {
      expect({ file, shipped: fs.existsSync(path.join(installed, file)) }).toEqual({ file, shipped: true });
    }
    for (const absent of ["lib", "test", "lab", "dist/test", "dist/lab"]) {
      expect({ absent, shipped: fs.existsSync(path.join(installed, absent)) }).toEqual({
        absent,
        shipped: false,
      });
    }
    // The root's curated names, and the rest behind the internal subpath.
    const names = run(
      "node",
      [
        "-e",
        'const a = require("openstack-cdktf"), b = require("openstack-cdktf/internal"); console.log(typeof a.Host, typeof a.hclString, typeof b.hclString)',
      ],
      appDir,
    ).stdout;
    expect(names.trim()).toBe("function undefined function");
    const cli = run("node", [path.join(installed, "dist/bin/cli.js"), "--help"], appDir).stdout;
    expect(cli).toContain("Usage: openstack-cdktf");
  });

  it("passes the example app's own jest test: cdktf's matchers, and the snapshot committed beside it", () => {
    const config = {
      testEnvironment: "node",
      testMatch: ["<rootDir>/main.test.ts"],
      transform: {
        "^.+\\.ts$": [
          path.join(REPO, "node_modules", "ts-jest"),
          { diagnostics: false, isolatedModules: true },
        ],
      },
    };
    const jest = spawnSync(
      path.join(REPO, "node_modules", ".bin", "jest"),
      ["--ci", "--rootDir", appDir, "--config", JSON.stringify(config)],
      { cwd: appDir, encoding: "utf8", env: { ...process.env, HOME: emptyHome } },
    );
    expect(jest.stderr).toContain("Tests:       3 passed, 3 total");
    expect(jest.stderr).toContain("Snapshots:   1 passed, 1 total");
    expect(jest.status).toBe(0);
  }, 120_000);

  it("synthesizes a stack with the host's base, database and Keystone steps", () => {
    const json = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")) as {
      resource: { terraform_data: Record<string, unknown> };
    };
    const steps = Object.keys(json.resource.terraform_data);
    for (const id of ["ctl1_base", "ctl1_mysql", "ctl1_keystone", "ctl1_glance", "ctl1_converged"])
      expect(steps).toContain(id);
  });

  it("declares only the secret variables its steps use, and delivers exactly those", () => {
    const json = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")) as {
      variable: Record<string, { sensitive: boolean }>;
      resource: { terraform_data: Record<string, { triggers_replace?: { inputs?: string } }> };
    };
    // Besides the secrets, the hosts' SSH key (read from its file at apply unless given).
    const declared = Object.keys(json.variable)
      .filter((name) => name !== "ssh_private_key")
      .sort();
    const inputs = JSON.stringify(json.resource.terraform_data.ctl1_secrets.triggers_replace ?? {});
    const delivered = [...new Set([...inputs.matchAll(/var\.(secret_\w+)/g)].map((m) => m[1]))].sort();
    expect(declared).toEqual(delivered);
    expect(declared.length).toBeLessThan(SECRET_CATALOG.length);
    expect(declared).toContain("secret_keystone_admin_password");
    expect(declared).not.toContain("secret_nova_db_password");
    for (const v of Object.values(json.variable)) expect(v.sensitive).toBe(true);
  });

  it("passes terraform validate with no SSH key on the machine", () => {
    const env = { HOME: emptyHome };
    const init = terraform(["init", "-backend=false", "-input=false", "-no-color"], stackDir, env);
    expect(init.status).toBe(0);
    const validate = JSON.parse(terraform(["validate", "-json", "-no-color"], stackDir, env).stdout) as {
      valid: boolean;
      diagnostics: unknown[];
    };
    expect(validate).toMatchObject({ valid: true, diagnostics: [] });
  });

  it("renders scripts that pass shellcheck", () => {
    const dir = tempDir("package-scripts");
    const files: string[] = [];
    // Each remote-exec as the host runs it, the step's files read from beside the JSON.
    for (const [id, script] of remoteExecScripts(stackDir)) {
      const file = path.join(dir, `${id}.sh`);
      fs.writeFileSync(file, script);
      files.push(file);
    }
    expect(files.length).toBeGreaterThanOrEqual(4);
    const check = spawnSync("shellcheck", ["--shell=bash", "--format=gcc", "--severity=style", ...files], {
      encoding: "utf8",
    });
    expect(check.error).toBeUndefined();
    expect(check.stdout).toBe("");
    expect(check.status).toBe(0);
  });
});
