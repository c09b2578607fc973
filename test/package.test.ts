/**
 * The library as a platform team uses it: `npm pack`, install the tarball into a fresh cdktf
 * app (beside cdktf, constructs and the null provider at the versions this repo uses), compile
 * the app's TypeScript against the package's types, synthesize a stack holding one host with
 * the database and Keystone, then `terraform validate` it and shellcheck its scripts. Any file
 * the package needs at run time but does not ship (the shell prelude, the Python helper) makes
 * the synth fail here.
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { SECRET_CATALOG } from "../lib/cluster/components";
import { remoteExecScripts, REPO, sshKey, tempDir, terraform } from "./support";

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

/** A user's app: one controller with its base system, the database, the broker, the cache and Keystone. */
const app = (keyFile: string): string => `
import { App, LocalBackend, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import {
  BaseSystem, DEBIAN_12_ZED, Host, KeystoneService, Memcached, MysqlHaPair, RabbitMq,
} from "openstack-cdktf";

class IdentityStack extends TerraformStack {
  constructor(scope: Construct, id: string, keyFile: string) {
    super(scope, id);
    new LocalBackend(this, { path: "terraform.tfstate" });
    const host = new Host(this, "ctl", {
      name: "ctl1", address: "10.0.0.5", release: DEBIAN_12_ZED, privateKeyFile: keyFile,
    });
    new BaseSystem(host, "base_system", {
      members: [{ name: "ctl1", address: "10.0.0.5" }], timeServers: [], serveTimeTo: ["10.0.0.0/24"],
    });
    const controllers = [host];
    const clientAddress = "10.0.0.5";
    const managementCidr = "10.0.0.0/24";
    new KeystoneService(this, "keystone", {
      context: {
        controllers, clientAddress, managementCidr,
        database: new MysqlHaPair(this, "database", { controllers, clientAddress, managementCidr }),
        messaging: new RabbitMq(this, "messaging", { controllers, clientAddress }),
        cache: new Memcached(this, "cache", { controllers }),
      },
    });
  }
}

const app = new App({ outdir: "cdktf.out" });
new IdentityStack(app, "identity", ${JSON.stringify(keyFile)});
app.synth();
`;

describe("the packed library in a user's cdktf app", () => {
  const work = tempDir("package");
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
    fs.writeFileSync(path.join(appDir, "main.ts"), app(sshKey(tempDir("package-key"))));
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
        "main.ts",
      ],
      appDir,
    );
    run("node", ["main.js"], appDir);
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

  it("synthesizes a stack with the host's base, database and Keystone steps", () => {
    const json = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")) as {
      resource: { terraform_data: Record<string, unknown> };
    };
    const steps = Object.keys(json.resource.terraform_data);
    for (const id of ["ctl1_base", "ctl1_mysql", "ctl1_keystone", "ctl1_converged"])
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

  it("passes terraform validate", () => {
    const init = terraform(["init", "-backend=false", "-input=false", "-no-color"], stackDir);
    expect(init.status).toBe(0);
    const validate = JSON.parse(terraform(["validate", "-json", "-no-color"], stackDir).stdout) as {
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
