import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import {
  componentSecrets,
  initSecretsFile,
  SECRET_CATALOG,
  secretCatalog,
  secretSpec,
} from "../lib/cluster/components";
import { SecretKind } from "../lib/core/secret-catalog";
import { GLANCE_SECRETS } from "../lib/services/glance";
import { NOVA_SECRETS } from "../lib/services/nova";
import {
  defaultSecretsFile,
  generateSecret,
  SecretsFileError,
  secretValueProblem,
  secretVariableName,
} from "../lib/core/secrets-file";
import { synthesizeInventory, validateInventory } from "../bin/synthesize";
import {
  inventoryWithKey,
  LAB_SMALL_EXAMPLE,
  listFiles,
  REPO,
  runCli,
  sshKey,
  StackJson,
  synthToDir,
  tempDir,
  terraform,
} from "./support";

const FORMATS: Record<SecretKind, RegExp> = {
  password: /^[A-Za-z0-9]{32}$/,
  fernet: /^[A-Za-z0-9_-]{43}=$/,
  cookie: /^[A-Z]{20}$/,
  hex: /^[0-9a-f]{40}$/,
  // "AQ" = type 1 (AES); "AAAA" = no nanoseconds; "ABAA" = length 16; then 16 key bytes.
  cephx: /^AQ[A-Za-z0-9+/]{6}AAAAABAA[A-Za-z0-9+/]{21}[AQgw]==$/,
};

function readSecrets(file: string): Record<string, string> {
  return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string>;
}

describe("the secret catalog", () => {
  it("names each secret once, in lowercase, for at least one role", () => {
    const names = SECRET_CATALOG.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const spec of SECRET_CATALOG) {
      expect(spec.name).toMatch(/^[a-z0-9_]+$/);
      expect(spec.roles.length).toBeGreaterThan(0);
      expect(secretSpec(spec.name)).toBe(spec);
    }
    expect(() => secretSpec("no_such_secret")).toThrow(
      'secret: got "no_such_secret": expected a name from SECRET_CATALOG',
    );
  });

  it("is assembled from what each component declares next to its code", () => {
    expect(secretCatalog()).toEqual(componentSecrets());
    expect([...SECRET_CATALOG]).toEqual([...secretCatalog()]);
    expect(GLANCE_SECRETS.map((s) => [s.name, s.roles])).toEqual([
      ["glance_db_password", ["controller"]],
      ["glance_keystone_password", ["controller"]],
    ]);
    for (const spec of [...GLANCE_SECRETS, ...NOVA_SECRETS]) expect(secretSpec(spec.name)).toBe(spec);
    expect(secretSpec("metadata_proxy_secret").roles).toEqual(["controller", "network"]);
  });
});

describe("generateSecret", () => {
  it.each(Object.keys(FORMATS) as SecretKind[])(
    "makes %s values of the right length and alphabet",
    (kind) => {
      const values = Array.from({ length: 50 }, () => generateSecret(kind));
      for (const v of values) expect(v).toMatch(FORMATS[kind]);
      expect(new Set(values).size).toBe(values.length);
    },
  );

  it("makes Fernet keys of 32 random bytes", () => {
    const key = generateSecret("fernet");
    expect(Buffer.from(key, "base64url")).toHaveLength(32);
  });
});

describe("initSecretsFile", () => {
  it("creates a mode 0600 file with every catalog secret as secret_<name>, strong and distinct", () => {
    const file = path.join(tempDir("secrets"), "deep", "er", "cluster.tfvars.json");
    const result = initSecretsFile(file);
    expect(result.file).toBe(file);
    expect(result.kept).toEqual([]);
    expect(result.added).toEqual(SECRET_CATALOG.map((s) => s.name));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const values = readSecrets(file);
    expect(Object.keys(values).sort()).toEqual(SECRET_CATALOG.map((s) => `secret_${s.name}`).sort());
    for (const spec of SECRET_CATALOG) {
      expect(values[secretVariableName(spec.name)]).toMatch(FORMATS[spec.kind]);
    }
    expect(new Set(Object.values(values)).size).toBe(SECRET_CATALOG.length);
    // Written whole under a temporary name: nothing else is left in the folder.
    expect(fs.readdirSync(path.dirname(file))).toEqual(["cluster.tfvars.json"]);
    // A second file gets different values.
    const other = path.join(path.dirname(file), "other.tfvars.json");
    initSecretsFile(other);
    const otherValues = Object.values(readSecrets(other));
    expect(otherValues.filter((v) => Object.values(values).includes(v))).toEqual([]);
  });

  it("drops secret_* entries the catalog no longer has and leaves other keys alone", () => {
    const file = path.join(tempDir("secrets-obsolete"), "c.tfvars.json");
    initSecretsFile(file);
    const first = readSecrets(file);
    fs.writeFileSync(file, JSON.stringify({ ...first, secret_retired_password: "old", region: "RegionOne" }));
    const result = initSecretsFile(file);
    expect(result.removed).toEqual(["retired_password"]);
    expect(result.added).toEqual([]);
    const second = readSecrets(file);
    expect(second.secret_retired_password).toBeUndefined();
    expect(second.region).toBe("RegionOne");
    expect(initSecretsFile(file).removed).toEqual([]);
  });

  it("keeps existing values, adds the missing ones, and makes the file 0600 again", () => {
    const file = path.join(tempDir("secrets-rerun"), "c.tfvars.json");
    initSecretsFile(file);
    const first = readSecrets(file);
    const { secret_nova_db_password: removed, ...rest } = first;
    expect(removed).toBeDefined();
    fs.writeFileSync(
      file,
      JSON.stringify({ ...rest, secret_keystone_admin_password: "chosen-by-the-operator" }),
    );
    fs.chmodSync(file, 0o644);

    const result = initSecretsFile(file);
    expect(result.added).toEqual(["nova_db_password"]);
    expect(result.kept).toHaveLength(SECRET_CATALOG.length - 1);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const second = readSecrets(file);
    expect(second.secret_keystone_admin_password).toBe("chosen-by-the-operator");
    for (const [key, value] of Object.entries(rest)) {
      if (key !== "secret_keystone_admin_password") expect(second[key]).toBe(value);
    }
    expect(second.secret_nova_db_password).toMatch(FORMATS.password);
    expect(second.secret_nova_db_password).not.toBe(removed);

    // A third run changes nothing.
    const again = initSecretsFile(file);
    expect(again.added).toEqual([]);
    expect(readSecrets(file)).toEqual(second);
  });

  it.each([
    ["HCL", "secret_x = 1\n", "not valid JSON: expected a secrets file"],
    [
      "a missing comma",
      '{"secret_a": "x"\n"secret_b": "y"}',
      "not valid JSON (at position 17): expected a secrets file",
    ],
  ])("refuses a file that is not JSON (%s), and leaves it alone", (_name, content, message) => {
    const file = path.join(tempDir("secrets-bad"), "c.tfvars.json");
    fs.writeFileSync(file, content);
    expect(() => initSecretsFile(file)).toThrow(`${file}: ${message}`);
    expect(fs.readFileSync(file, "utf8")).toBe(content);
  });

  it("quotes no part of a secret when it refuses a file", () => {
    const canary = "CANARYVALUEabcdefghijklmnopqrstu";
    const shapes = [
      `{"secret_a": "${canary}", x}`,
      `{"secret_a": x"${canary}"}`,
      `{"secret_a": "${canary}" "secret_b": "${canary}"}`,
      `x${canary}`,
      `["${canary}"]`,
      `"${canary}"`,
    ];
    const leaks: string[] = [];
    for (const content of shapes) {
      const file = path.join(tempDir("secrets-quote"), "c.tfvars.json");
      fs.writeFileSync(file, content);
      let message = "";
      try {
        initSecretsFile(file);
      } catch (err) {
        message = (err as Error).message.slice(file.length);
      }
      expect(message).toMatch(/^: /);
      // No run of 6 characters of the secret appears in the message.
      for (let i = 0; i + 6 <= canary.length; i++) {
        if (message.includes(canary.slice(i, i + 6))) leaks.push(`${content} -> ${message}`);
      }
    }
    expect([...new Set(leaks)]).toEqual([]);
  });

  it.each([
    ["an array", "[]", "got an array: expected a JSON object of secrets"],
    ["a string", '"value"', "got string: expected a JSON object of secrets"],
    ["null", "null", "got null: expected a JSON object of secrets"],
    ["a number value", '{"secret_a": 1}', "secret_a: got number: expected a non-empty string"],
    ["an empty value", '{"secret_a": ""}', "secret_a: got string: expected a non-empty string"],
  ])("refuses %s", (_name, content, message) => {
    const file = path.join(tempDir("secrets-shape"), "c.tfvars.json");
    fs.writeFileSync(file, content);
    expect(() => initSecretsFile(file)).toThrow(`${file}: ${message}`);
    expect(fs.readFileSync(file, "utf8")).toBe(content);
  });

  it.each([
    ["a quote, which ends SQL's and the shell's quoted string", "operator's-password-1"],
    ["a newline, which adds a line to a config file", "operator-password\n[DEFAULT]x=1"],
    ["a shell expansion", "${HOME}-operator-password"],
    ["URL delimiters, which move the host in a database URL", "p@ss/w#rd?x=1-operator"],
    ["a space", "operator password one"],
    ["a letter outside ASCII", "pässwordpässwordpässword"],
    ["too few characters", "short-pass"],
    ["too many characters", "a".repeat(129)],
  ])("refuses a kept password with %s, names the key, quotes nothing, writes nothing", (_what, value) => {
    const file = path.join(tempDir("secrets-value"), "c.tfvars.json");
    initSecretsFile(file);
    const content = JSON.stringify({ ...readSecrets(file), secret_nova_db_password: value });
    fs.writeFileSync(file, content);
    let error: unknown;
    try {
      initSecretsFile(file);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SecretsFileError);
    const message = (error as Error).message;
    expect(message).toBe(
      `${file}: secret_nova_db_password: got a value (${value.length} characters) outside the rule: expected 16 to 128 letters, digits, '.', '_', '~' or '-' (a password lands unescaped in SQL, the shell, config files and URLs)`,
    );
    expect(fs.readFileSync(file, "utf8")).toBe(content);
  });

  it("takes every value it generates, and refuses each kind's malformed values", () => {
    for (const spec of SECRET_CATALOG) {
      for (let i = 0; i < 20; i++)
        expect(secretValueProblem(spec.kind, generateSecret(spec.kind))).toBeUndefined();
    }
    const cephx = generateSecret("cephx");
    const wrongType = Buffer.from(cephx, "base64");
    wrongType.writeUInt16LE(2, 0);
    const malformed: [SecretKind, string][] = [
      ["fernet", generateSecret("fernet").slice(1)],
      ["fernet", generateSecret("fernet").replace(/^./, "+")],
      ["cookie", "SHORTCOOKIE"],
      ["cookie", "COOKIE-WITH-DASHES-X"],
      ["hex", generateSecret("hex").toUpperCase().replace(/^./, "G")],
      ["cephx", cephx.slice(0, -4)],
      ["cephx", wrongType.toString("base64")],
    ];
    for (const [kind, value] of malformed)
      expect([kind, secretValueProblem(kind, value)]).toEqual([kind, expect.any(String)]);
  });

  it("synth and validate check the secrets file they are given, before anything is written", () => {
    const dir = tempDir("secrets-synth");
    const file = path.join(dir, "c.tfvars.json");
    initSecretsFile(file);
    expect(() => validateInventory(LAB_SMALL_EXAMPLE, file)).not.toThrow();
    fs.writeFileSync(file, JSON.stringify({ ...readSecrets(file), secret_rabbitmq_password: "it's" }));
    const out = path.join(dir, "out");
    expect(() => synthesizeInventory(LAB_SMALL_EXAMPLE, out, file)).toThrow(
      new SecretsFileError(
        `${file}: secret_rabbitmq_password: got a value (4 characters) outside the rule: expected 16 to 128 letters, digits, '.', '_', '~' or '-' (a password lands unescaped in SQL, the shell, config files and URLs)`,
      ),
    );
    expect(fs.existsSync(out)).toBe(false);
    expect(() => validateInventory(LAB_SMALL_EXAMPLE, path.join(dir, "none.json"))).toThrow(
      `${path.join(dir, "none.json")}: cannot read the secrets file (ENOENT)`,
    );
  });

  it("cdktf's app (bin/app.ts) checks the file OPENSTACK_SECRETS names: one line, exit 1, nothing written", () => {
    const dir = tempDir("secrets-app");
    const file = path.join(dir, "c.tfvars.json");
    initSecretsFile(file);
    fs.writeFileSync(file, JSON.stringify({ ...readSecrets(file), secret_keystone_db_password: "short" }));
    const out = path.join(dir, "out");
    const result = spawnSync(
      path.join(REPO, "node_modules", ".bin", "ts-node"),
      ["--transpile-only", path.join(REPO, "bin", "app.ts"), LAB_SMALL_EXAMPLE],
      {
        cwd: dir,
        encoding: "utf8",
        env: {
          ...process.env,
          OPENSTACK_SECRETS: file,
          CDKTF_OUTDIR: out,
          TS_NODE_PROJECT: path.join(REPO, "tsconfig.json"),
        },
      },
    );
    expect([result.status, result.stdout, result.stderr]).toEqual([
      1,
      "",
      `error: ${file}: secret_keystone_db_password: got a value (5 characters) outside the rule: expected 16 to 128 letters, digits, '.', '_', '~' or '-' (a password lands unescaped in SQL, the shell, config files and URLs)\n`,
    ]);
    expect(fs.existsSync(out)).toBe(false);
  });

  it("secrets init without an inventory, outside the repository (a package user's app): one line asking for one", () => {
    const dir = tempDir("secrets-noinv");
    const result = runCli(["secrets", "init"], dir);
    expect([result.status, result.stdout, result.stderr]).toEqual([
      1,
      "",
      `error: inventory: got none: expected an inventory file as the argument, or OPENSTACK_INVENTORY (the default, examples/furyu-8-node.yaml, is the repository's example and is not in ${dir})\n`,
    ]);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("keeps the default file under secrets/, which git ignores", () => {
    expect(defaultSecretsFile("furyu", "/project")).toBe("/project/secrets/furyu.tfvars.json");
    const gitignore = fs.readFileSync(path.join(__dirname, "..", ".gitignore"), "utf8").split("\n");
    expect(gitignore).toContain("secrets/");
  });
});

describe("secret values never reach the plan or the files Terraform writes (canary)", () => {
  const work = tempDir("canary");
  const outdir = path.join(work, "out");
  const varFile = path.join(work, "secrets.tfvars.json");
  const canaries = new Map<string, string>();
  let stackDir = "";
  let json: StackJson;
  let output = "";
  let planStatus: number | null = null;

  beforeAll(() => {
    const key = sshKey(work);
    const inventory = inventoryWithKey(LAB_SMALL_EXAMPLE, key);
    stackDir = synthToDir(inventory, outdir).stackDir;
    json = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")) as StackJson;
    const vars: Record<string, string> = {};
    for (const spec of SECRET_CATALOG) {
      const value = `CANARY-${spec.name}-${randomBytes(8).toString("hex")}`;
      canaries.set(spec.name, value);
      vars[secretVariableName(spec.name)] = value;
    }
    fs.writeFileSync(varFile, JSON.stringify(vars), { mode: 0o600 });
    const init = terraform(["init", "-input=false", "-no-color"], stackDir);
    const plan = terraform(["plan", "-input=false", "-no-color", `-var-file=${varFile}`], stackDir);
    output = [init.stdout, init.stderr, plan.stdout, plan.stderr].join("\n");
    planStatus = plan.status;
    if (init.status !== 0 || plan.status !== 0) {
      throw new Error(`terraform failed:\n${output}`);
    }
  });

  it("plans every step", () => {
    expect(planStatus).toBe(0);
    const steps = Object.keys(json.resource.terraform_data).length;
    expect(output).toContain(`Plan: ${steps} to add, 0 to change, 0 to destroy.`);
    // The secrets steps' input hashes are shown only as sensitive.
    expect(output).toContain("(sensitive value)");
  });

  it("declares every secret as a sensitive, non-null string variable", () => {
    const expected = SECRET_CATALOG.map((s) => secretVariableName(s.name)).sort();
    expect(Object.keys(json.variable ?? {}).sort()).toEqual([...expected, "ssh_private_key"].sort());
    for (const name of expected) {
      expect(json.variable?.[name]).toMatchObject({ type: "string", sensitive: true, nullable: false });
    }
  });

  it("no canary, nor its base64, is in the plan's output", () => {
    for (const [name, value] of canaries) {
      expect({ name, found: output.includes(value) }).toEqual({ name, found: false });
      expect({ name, found: output.includes(Buffer.from(value).toString("base64")) }).toEqual({
        name,
        found: false,
      });
    }
  });

  it("no canary, nor its base64, is in any file under the output folder", () => {
    const files = listFiles(outdir);
    // The folder holds the stack, the manifest and what terraform init wrote.
    expect(files).toEqual(
      expect.arrayContaining(["manifest.json", path.join("stacks", "labsmall", "cdk.tf.json")]),
    );
    expect(files.some((f) => f.includes(".terraform"))).toBe(true);
    const needles = [...canaries.entries()].flatMap(([name, value]) => [
      { name, form: "plain", bytes: Buffer.from(value) },
      { name, form: "base64", bytes: Buffer.from(Buffer.from(value).toString("base64")) },
      { name, form: "base64url", bytes: Buffer.from(Buffer.from(value).toString("base64url")) },
    ]);
    const found: string[] = [];
    for (const rel of files) {
      const content = fs.readFileSync(path.join(outdir, rel));
      for (const n of needles) if (content.includes(n.bytes)) found.push(`${rel}: ${n.name} (${n.form})`);
    }
    expect(found).toEqual([]);
  });

  it("the canaries were really used (the variables file holds them)", () => {
    const content = fs.readFileSync(varFile, "utf8");
    // One canary per secret of the catalog: an empty map would make the leak check vacuous.
    expect(canaries.size).toBe(SECRET_CATALOG.length);
    for (const value of canaries.values()) expect(content).toContain(value);
  });
});
