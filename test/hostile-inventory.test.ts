/**
 * Hostile values in every field of the inventory: each is refused with one line that names the
 * field, or (a key file's path, which any text may be) lands escaped in Terraform's JSON. A
 * field of the schema without a row here fails the test that enumerates them. Then the YAML's
 * own attacks (alias bombs, cycles, size), the names that collide only once the stack is built,
 * and the CLI's one-line errors for them.
 */
import * as fs from "fs";
import * as path from "path";
import { TerraformStack, Testing } from "cdktf";
import * as YAML from "yaml";
import { z } from "zod";
import { InventoryError, loadInventory, parseInventory } from "../lib/cluster/inventory";
import { inventorySchema } from "../lib/cluster/inventory-schema";
import { CLUSTER_PART_IDS } from "../lib/cluster/part-ids";
import { DEBIAN_12_ZED } from "../lib/core/releases";
import { BaseSystem } from "../lib/hosts/base-system";
import { Host, HostSteps } from "../lib/hosts/host";
import { errorLines, validateInventory } from "../bin/synthesize";
import {
  LAB_SMALL_EXAMPLE,
  REPO as REPO_ROOT,
  SEED_EXAMPLE,
  buildStack,
  runCli,
  synthJson,
  tempDir,
} from "./support";
import {
  BASE_DIR,
  HOSTILE,
  HOST_KEY,
  ROWS,
  escapedLiteral,
  messageProblem,
  refusal,
  schemaFields,
  setAt,
  valid,
} from "./hostile-rows";

describe("every field of the inventory against hostile values", () => {
  it("has a row for every field of the schema, and no row for a field it does not have", () => {
    const fields = schemaFields(inventorySchema);
    expect(fields.length).toBeGreaterThan(70);
    expect(fields.filter((f) => !(f in ROWS))).toEqual([]);
    expect(Object.keys(ROWS).filter((f) => !fields.includes(f))).toEqual([]);
  });

  it("the field enumeration is live (a new field without a row would be found)", () => {
    const wider = inventorySchema.extend({ newField: z.string().optional() });
    expect(schemaFields(wider).filter((f) => !(f in ROWS))).toEqual(["newField"]);
  });

  it.each(Object.entries(ROWS))("%s", (_field, row) => {
    const base = row.base ?? valid;
    expect(refusal(base())).toBeUndefined();
    if (row.ok !== undefined) expect(refusal(setAt(base(), row.at, row.ok))).toBeUndefined();
    const taken = new Set<unknown>((row.takes ?? []).map((name) => HOSTILE[name]));
    const refused = [...Object.values(HOSTILE).filter((v) => !taken.has(v)), ...(row.bad ?? [])];
    const problems = refused.flatMap((value) => {
      const problem = messageProblem(refusal(setAt(base(), row.at, value)), [
        row.at,
        ...(row.alsoNames ?? []),
      ]);
      return problem ? [`${JSON.stringify(value)?.slice(0, 40)}: ${problem}`] : [];
    });
    expect(problems).toEqual([]);
  });

  it.each(Object.entries(ROWS).filter(([, row]) => row.takes))(
    "%s takes any path, and it reaches Terraform's JSON escaped",
    (_field, row) => {
      for (const name of row.takes ?? []) {
        const value = HOSTILE[name];
        const inventory = parseInventory(setAt((row.base ?? valid)(), row.at, value), "inventory", BASE_DIR);
        const { json } = synthJson(inventory);
        const connection = json.resource.terraform_data.cmp1_base.connection as Record<string, unknown>;
        const file = value.startsWith("~") || path.isAbsolute(value) ? value : path.resolve(BASE_DIR, value);
        const variable = row.lands === "bastion_private_key" ? "ssh_bastion_private_key" : "ssh_private_key";
        expect(connection[row.lands ?? "private_key"]).toBe(
          `\${var.${variable} != null ? var.${variable} : file(pathexpand(${escapedLiteral(file)}))}`,
        );
      }
    },
  );
});

describe("names that collide only in the built stack", () => {
  /** Ids of the constructs beside a host's own (a Host under the cluster, an owner's HostSteps). */
  function idsBesideHosts(file: string): Set<string> {
    const stack = buildStack(loadInventory(file));
    const names = new Set(stack.cluster.hosts.map((h) => h.hostName));
    const ids = new Set<string>();
    for (const construct of stack.node.findAll()) {
      const children = construct.node.children;
      if (!children.some((c) => c instanceof Host || c instanceof HostSteps)) continue;
      for (const child of children) if (!names.has(child.node.id)) ids.add(child.node.id);
    }
    return ids;
  }

  it("CLUSTER_PART_IDS is every construct id a host's name could meet (the seed's and the lab's clusters)", () => {
    const ids = new Set([...idsBesideHosts(SEED_EXAMPLE), ...idsBesideHosts(LAB_SMALL_EXAMPLE)]);
    expect([...ids].sort()).toEqual([...CLUSTER_PART_IDS].sort());
  });

  it("two hosts whose steps' ids collide: the loader cannot see it, validate names both", () => {
    const d = valid();
    d.hosts[1].name = "ctl1-db"; // ctl1's db_keystone and ctl1-db's keystone: ctl1_db_keystone
    const file = path.join(tempDir("collide"), "collide.yaml");
    fs.writeFileSync(file, YAML.stringify(d));
    expect(loadInventory(file).hosts[1].name).toBe("ctl1-db");
    expect(() => validateInventory(file)).toThrow(
      new InventoryError(
        `${file}: hosts[1].name: got "ctl1-db": expected a name whose steps' ids differ from hosts[0]'s ("ctl1"): both make the step id ctl1_db_keystone`,
      ),
    );
  });
});

describe("YAML's own limits", () => {
  const dir = tempDir("yaml");
  let count = 0;
  function write(content: string | Buffer): string {
    const file = path.join(dir, `inventory-${++count}.yaml`);
    fs.writeFileSync(file, content);
    return file;
  }
  function loadError(file: string): string {
    try {
      loadInventory(file);
    } catch (err) {
      expect(err).toBeInstanceOf(InventoryError);
      return (err as Error).message;
    }
    throw new Error(`${file} loaded`);
  }

  /** A billion laughs: each level nine aliases of the one before. */
  const bomb = [
    'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    ..."bcdefghi".split("").map((c, i) => {
      const prev = "abcdefghi"[i];
      return `${c}: &${c} [${Array(9).fill(`*${prev}`).join(", ")}]`;
    }),
  ].join("\n");

  it.each([
    [
      "an alias bomb",
      bomb,
      ': got YAML aliases that expand too far (a "billion laughs"): expected at most 100 nodes made by aliases',
    ],
    [
      "a self-referencing alias",
      "cluster: x\nhosts: &h [*h]\n",
      ": hosts[0]: got a YAML alias inside its own anchor: expected data without cycles",
    ],
    [
      "an alias before its anchor",
      "cluster: *x\n",
      ": YAML: Unresolved alias (the anchor must be set before the alias): x",
    ],
    [
      "an unknown tag (dropped by YAML)",
      "cluster: !secret x\n",
      ": line 1 column 10: Unresolved tag: !secret",
    ],
    ["a list as a key", "? [a, b]\n: 1\n", ": line 1 column 3: With stringKeys, all keys must be strings"],
    [
      "two documents",
      "cluster: a\n---\ncluster: b\n",
      ": line 2 column 1: Source contains multiple documents; please use YAML.parseAllDocuments()",
    ],
    [
      "an own __proto__",
      "__proto__: {polluted: 1}\n",
      ': __proto__: unknown key "__proto__": no such key (check its spelling)',
    ],
    [
      "a key with a newline",
      '"a\\nb": 1\n',
      ': ["a\\nb"]: got the key "a\\nb": expected no control or invisible characters (U+000A at character 2)',
    ],
    [
      "deep nesting",
      `cluster: ${"[".repeat(40)}${"]".repeat(40)}\n`,
      ": cluster[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: got data nested deeper than 16 levels: expected an inventory",
    ],
    [
      // The parser recurses once per level: found in the text before it runs.
      "60,000 nested [ (the parser's stack)",
      `cluster: ${"[".repeat(60000)}${"]".repeat(60000)}\n`,
      ": line 1 column 74: got YAML lists or maps nested deeper than 64 levels: expected an inventory",
    ],
    [
      "a bracket in quotes and comments does not count",
      `cluster: x # ${"[".repeat(100)}\nrelease: '${"{".repeat(100)}'\nha: "${"[".repeat(100)}\\""\n`,
      `: release: got "${"{".repeat(60)}"… (100 characters): expected `,
    ],
    [
      "a merge key",
      "cluster: x\n<<: {bogus: 1}\n",
      ': ["<<"]: got a YAML merge key (<<): expected the keys written out (merge keys are YAML 1.1, not 1.2)',
    ],
    ["a value of .inf", "cluster: .inf\n", ": cluster: got .inf: expected "],
    ["a value of .nan", "cluster: .nan\n", ": cluster: got .nan: expected "],
  ])("%s: one line", (_name, text, expected) => {
    const file = write(text);
    const message = loadError(file);
    if (expected.endsWith("expected ")) expect(message.startsWith(`${file}${expected}`)).toBe(true);
    else expect(message).toBe(`${file}${expected}`);
  });

  it("refuses a file over 1 MiB before reading it, a folder, and bytes that are not UTF-8", () => {
    const big = write(`# ${"x".repeat(1024 * 1024)}\n`);
    expect(loadError(big)).toBe(`${big}: got 1048579 bytes: expected an inventory of at most 1048576 bytes`);
    expect(loadError(dir)).toBe(`${dir}: cannot read the inventory: not a regular file`);
    const latin1 = write(Buffer.from("cluster: caf\xe9\n", "latin1"));
    expect(loadError(latin1)).toBe(`${latin1}: got bytes that are not UTF-8: expected a UTF-8 text file`);
  });

  it("reads no empty file, nor a /proc file (which says 0 bytes): its text could be the environment", () => {
    const empty = write("");
    expect(loadError(empty)).toBe(`${empty}: got an empty file (0 bytes): expected an inventory`);
    const environ = path.join(dir, "environ.yaml");
    fs.symlinkSync("/proc/self/environ", environ);
    expect(loadError(environ)).toBe(`${environ}: got an empty file (0 bytes): expected an inventory`);
  });

  it("prints a file name's newline and escape sequence escaped: no forged line, no colours", () => {
    const file = path.join(dir, "a\nerror: forged\u001b[31m.yaml");
    fs.writeFileSync(file, "cluster: [x]\n");
    const message = loadError(file);
    expect(message).toBe(
      `${dir}/a\\u000aerror: forged\\u001b[31m.yaml: cluster: got ["x"]: expected string, received array`,
    );
  });
});

describe("constructs used from TypeScript refuse the same values", () => {
  const stack = () => new TerraformStack(Testing.app({ outdir: tempDir("constructs") }), "s");
  const host = (props: Record<string, unknown>) =>
    new Host(stack(), "h", { name: "h1", address: "10.0.0.5", release: DEBIAN_12_ZED, ...props });

  it.each([
    [
      { hostKey: '${file("/etc/shadow")}' },
      'Host h1 hostKey: got "${file(\\"/etc/shadow\\")}": expected a public key',
    ],
    [{ hostKey: `${HOST_KEY}\n@cert-authority * ${HOST_KEY}` }, "Host h1 hostKey: got"],
    [{ bastion: { host: "%{ if true }x%{ endif }" } }, "Host h1 bastion.host: got"],
    [{ bastion: { host: "jump", hostKey: "x" } }, "Host h1 bastion.hostKey: got"],
    [{ managementInterface: "eth0:1" }, "Host h1 managementInterface: got"],
    [{ timeout: "${var.t}" }, "Host h1 timeout: got"],
    [{ port: 0 }, "Host h1 port: got 0: expected a port from 1 to 65535"],
    [{ privateKeyFile: "/k\n" }, 'Host h1 privateKeyFile: got "/k\\n"'],
  ])("Host refuses %j", (props, message) => {
    expect(() => host(props)).toThrow(message);
  });

  it("BaseSystem refuses an apt proxy that ends apt's quoted string, and a time server with a config line", () => {
    const h = host({});
    expect(
      () =>
        new BaseSystem(h, "b1", {
          members: [],
          timeServers: [],
          aptProxy: 'http://x/";APT::Update::Pre-Invoke {"id"};',
        }),
    ).toThrow(
      'BaseSystem aptProxy: got "http://x/\\";APT::Update::Pre-Invoke {\\"id\\"};": expected an http:// or https:// URL',
    );
    expect(() => new BaseSystem(h, "b2", { members: [], timeServers: ["pool.ntp.org\nallow all"] })).toThrow(
      'BaseSystem timeServers: got "pool.ntp.org\\nallow all": expected a hostname (RFC 1123',
    );
  });
});

describe("the CLI on inventories that only break when loaded or built", () => {
  const dir = tempDir("cli-hostile");
  const lab = fs.readFileSync(LAB_SMALL_EXAMPLE, "utf8");
  const cases: [string, string, RegExp][] = [
    ["an alias bomb", "", /: got YAML aliases that expand too far/],
    [
      "a self-referencing alias",
      "cluster: x\nhosts: &h [*h]\n",
      /: hosts\[0\]: got a YAML alias inside its own anchor/,
    ],
    [
      "two hosts whose step ids collide",
      lab.replace("name: controller2,", "name: controller1-db,"),
      /: hosts\[1\]\.name: got "controller1-db": expected a name whose steps' ids differ from hosts\[0\]'s/,
    ],
    [
      "a host named like a part of the cluster",
      lab.replace("name: network1,", "name: nova,"),
      /: hosts\[3\]\.name: got "nova"/,
    ],
    [
      "a host named localhost",
      lab.replace("name: network1,", "name: localhost,"),
      /: hosts\[3\]\.name: got "localhost"/,
    ],
    [
      "a huge value",
      lab.replace("cluster: labsmall", `cluster: ${"x".repeat(100000)}`),
      /: cluster: got "x{60}"… \(100000 characters\): expected at most 4096 characters$/,
    ],
  ];
  cases[0][1] = [
    "a: &a [x, x, x, x, x, x, x, x, x]",
    ..."bcdefgh".split("").map((c, i) => `${c}: &${c} [${Array(9).fill(`*${"abcdefgh"[i]}`).join(", ")}]`),
  ].join("\n");

  /** synth too where it gets furthest: in the YAML (no output folder yet), and building the stack (an empty one there). */
  const SYNTH_TOO = new Set(["an alias bomb", "two hosts whose step ids collide"]);
  const EMPTY_OUT_BEFORE = "two hosts whose step ids collide";

  it.each(cases)(
    "validate: %s is one line on stderr and exit 1 (synth: nothing written)",
    (name, text, expected) => {
      const file = path.join(dir, `${name.replace(/\W+/g, "-")}.yaml`);
      fs.writeFileSync(file, text);
      const out = path.join(dir, `out-${name.replace(/\W+/g, "-")}`, "cdktf.out");
      if (name === EMPTY_OUT_BEFORE) fs.mkdirSync(out, { recursive: true });
      const runs = [["validate", file], ...(SYNTH_TOO.has(name) ? [["synth", file, "-o", out]] : [])];
      for (const args of runs) {
        const result = runCli(args);
        expect(result.stdout).toBe("");
        expect(result.status).toBe(1);
        const lines = result.stderr.split("\n").filter(Boolean);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(new RegExp(`^error: ${file.replace(/[.]/g, "\\.")}`));
        expect(lines[0]).toMatch(expected);
        expect(result.stderr).not.toMatch(/\n\s+at /);
      }
      if (name === EMPTY_OUT_BEFORE) expect(fs.readdirSync(out)).toEqual([]);
      else expect(fs.existsSync(path.dirname(out))).toBe(false);
    },
  );

  /** One line on stderr, exit 1, no stack trace, within 60 s. */
  function oneLineFailure(args: string[]): string {
    const result = runCli(args, REPO_ROOT, 60_000);
    expect(result.signal).toBeNull();
    expect(result.status).toBe(1);
    const lines = result.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    return lines[0];
  }

  it("escapes a file name's newline and escape sequence in what it prints, error or not", () => {
    const file = path.join(dir, "lab\nerror: forged\u001b[31m.yaml");
    fs.writeFileSync(file, lab);
    const shown = `${dir}/lab\\u000aerror: forged\\u001b[31m.yaml`;
    expect(runCli(["validate", file]).stdout).toBe(
      `${shown}: valid: cluster labsmall, 4 hosts, debian-13-epoxy\n`,
    );
    fs.writeFileSync(file, "cluster: [x]\n");
    expect(oneLineFailure(["validate", file])).toBe(
      `error: ${shown}: cluster: got ["x"]: expected string, received array`,
    );
  });

  it("refuses a secrets file or an output folder under /proc in one line (Node's recursive mkdir spun there forever)", () => {
    expect(oneLineFailure(["secrets", "init", LAB_SMALL_EXAMPLE, "--file", "/proc/osc-none/s.json"])).toBe(
      "error: /proc/osc-none/s.json: cannot write the secrets file (ENOENT)",
    );
    expect(oneLineFailure(["synth", LAB_SMALL_EXAMPLE, "-o", "/proc/osc-none/out"])).toMatch(
      /^error: \/proc\/osc-none\/out: cannot write the stack: ENOENT/,
    );
  });

  it("refuses a malformed secrets file in one line that names no value", () => {
    const secrets = path.join(dir, "bad-secrets.json");
    fs.writeFileSync(secrets, '{"secret_x": "hunter2"');
    expect(oneLineFailure(["secrets", "init", LAB_SMALL_EXAMPLE, "--file", secrets])).toBe(
      `error: ${secrets}: not valid JSON (at position 22): expected a secrets file`,
    );
    fs.writeFileSync(secrets, '{"secret_mysql_replication_password": 42}');
    expect(oneLineFailure(["secrets", "init", LAB_SMALL_EXAMPLE, "--file", secrets])).toBe(
      `error: ${secrets}: secret_mysql_replication_password: got number: expected a non-empty string`,
    );
  });

  it("says an unexpected error is one, in one line, with its stack only under --debug", () => {
    const bug = new TypeError("cannot read x\nof undefined");
    expect(errorLines(bug, false)).toEqual([
      "error: cannot read x (unexpected: please report it with the command that gave it; --debug prints the stack)",
    ]);
    const debug = errorLines(bug, true);
    expect(debug).toHaveLength(2);
    expect(debug[1]).toMatch(/^TypeError: cannot read x\nof undefined\n\s+at /);
    expect(errorLines(new InventoryError("f\u001b: x: got 1: expected 2"), true)).toEqual([
      "error: f\\u001b: x: got 1: expected 2",
    ]);
  });

  it("validate writes nothing and says valid for an example (an App would make ./cdktf.out)", () => {
    const cwd = tempDir("cli-cwd");
    const result = runCli(["validate", LAB_SMALL_EXAMPLE], cwd);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`${LAB_SMALL_EXAMPLE}: valid: cluster labsmall, 4 hosts, debian-13-epoxy\n`);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });
});
