import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Construct } from "constructs";
import { App, TerraformStack, TerraformVariable, Testing } from "cdktf";
import { ShellScript } from "../lib/core/shell-script";
import { sha256Hex, Step, StepResourceKind, stepLogicalId, StepTarget } from "../lib/core/step";
import { StackJson, tempDir, terraform } from "./support";

function target(hostName: string, resourceKind?: StepResourceKind): StepTarget {
  return {
    hostName,
    resourceKind,
    connection: { type: "ssh", host: "192.0.2.10", user: "root", privateKey: "not-a-key" },
  };
}

function script(...commands: string[]): ShellScript {
  const s = new ShellScript({ step: "test", host: "test" });
  for (const c of commands) s.raw(c);
  return s;
}

function synth(build: (scope: Construct) => void): StackJson {
  const app = Testing.app({ outdir: tempDir("step-app") });
  const stack = new TerraformStack(app, "steps");
  build(stack);
  return JSON.parse(Testing.synth(stack)) as StackJson;
}

/** The step's last provisioner: a remote-exec that names the step's script file. */
function remoteExec(
  json: StackJson,
  type: string,
  id: string,
): { inline?: readonly string[]; script?: string } {
  const provisioners = json.resource[type][id].provisioner;
  const last = provisioners[provisioners.length - 1]["remote-exec"];
  if (!last) throw new Error(`${id}: the last provisioner is not remote-exec`);
  return last;
}

function expectScriptFile(json: StackJson, type: string, id: string): void {
  expect(remoteExec(json, type, id)).toEqual({ script: `\${path.module}/scripts/${id}.sh` });
}

/** Synthesizes as `cdktf synth` does (the scripts written beside the JSON); the stack's folder. */
function synthToDir(build: (scope: Construct) => void): { json: StackJson; stackDir: string } {
  const outdir = tempDir("step-out");
  const app = new App({ outdir, stackTraces: false });
  const stack = new TerraformStack(app, "steps");
  build(stack);
  app.synth();
  const stackDir = path.join(outdir, "stacks", "steps");
  return {
    json: JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")) as StackJson,
    stackDir,
  };
}

describe("Step", () => {
  it("is a terraform_data resource triggered by the script's hash, with the SSH connection", () => {
    let step: Step | undefined;
    const json = synth((scope) => {
      step = new Step(scope, "mysql_install", { target: target("controller1"), script: script("echo hi") });
    });
    expect(step).toBeDefined();
    const s = step as Step;
    expect(s.logicalId).toBe("controller1_mysql_install");
    expect(Object.keys(json.resource)).toEqual(["terraform_data"]);
    expect(Object.keys(json.resource.terraform_data)).toEqual(["controller1_mysql_install"]);
    const resource = json.resource.terraform_data.controller1_mysql_install;
    const hash = createHash("sha256").update(s.scriptText).digest("hex");
    expect(resource.triggers_replace).toEqual({ script: hash });
    expect(resource.triggers).toBeUndefined();
    expect(resource.depends_on).toBeUndefined();
    expect(resource.connection).toEqual({
      type: "ssh",
      host: "192.0.2.10",
      user: "root",
      private_key: "not-a-key",
    });
    expect(resource.provisioner).toHaveLength(1);
    expectScriptFile(json, "terraform_data", "controller1_mysql_install");
    expect(s.scriptText).toBe(script("echo hi").render());
    expect(s.scriptBody).toBe("echo hi\nosc_step_done\n");
    // No provider is needed for terraform_data.
    expect(json.provider).toBeUndefined();
  });

  it.each([
    ["controller1", "mysql_install", "controller1_mysql_install"],
    ["controller-1", "mysql_install", "controller_1_mysql_install"],
    ["1node", "base", "h_1node_base"],
    ["net.example", "base", "net_example_base"],
  ])("names the resource of host %s step %s %s", (host, step, id) => {
    expect(stepLogicalId(host, step)).toBe(id);
    const json = synth((scope) => new Step(scope, step, { target: target(host), script: script("true") }));
    expect(Object.keys(json.resource.terraform_data)).toEqual([id]);
  });

  it("refuses a second step with the same logical id, in the same stack only", () => {
    const conn = target("db").connection;
    expect(() =>
      synth((scope) => {
        new Step(scope, "mysql_install", { target: target("db"), script: script("a") });
        new Step(scope, "install", {
          target: { hostName: "db-mysql", connection: conn },
          script: script("b"),
        });
      }),
    ).toThrow(/^Step steps\/install: .*\bdb_mysql_install\b/);
    const app = Testing.app({ outdir: tempDir("step-two-stacks") });
    for (const name of ["one", "two"]) {
      new Step(new TerraformStack(app, name), "base", { target: target("db"), script: script("a") });
    }
  });

  it.each(["Base", "mysql-install", "1st", "_base", "a b"])("refuses the step name %j", (name) => {
    expect(() =>
      synth((scope) => new Step(scope, name, { target: target("controller1"), script: script("true") })),
    ).toThrow(`Step name: got ${JSON.stringify(name)}: expected lowercase letters, digits and '_'`);
  });

  it("hashes its inputs (bare expressions), in the order of their names, into a second trigger", () => {
    const json = synth((scope) => {
      new TerraformVariable(scope, "alpha", { type: "string", sensitive: true });
      new TerraformVariable(scope, "beta", { type: "string" });
      new Step(scope, "keystone_db", {
        target: target("controller1"),
        script: script("true"),
        inputs: { zz: "var.beta", aa: "var.alpha", mm: '"literal"' },
      });
    });
    const triggers = json.resource.terraform_data.controller1_keystone_db.triggers_replace;
    expect(triggers).toEqual({
      script: sha256Hex(script("true").render()),
      inputs: '${sha256(join("\\n", [var.alpha, "literal", var.beta]))}',
    });
  });

  it("renders dependsOn as depends_on", () => {
    const json = synth((scope) => {
      const install = new Step(scope, "mysql_install", {
        target: target("controller1"),
        script: script("a"),
      });
      const other = new Step(scope, "base", { target: target("controller2"), script: script("b") });
      new Step(scope, "mysql_config", {
        target: target("controller1"),
        script: script("c"),
        dependsOn: [install.resource, other.resource],
      });
    });
    expect(json.resource.terraform_data.controller1_mysql_config.depends_on).toEqual([
      "terraform_data.controller1_mysql_install",
      "terraform_data.controller2_base",
    ]);
    expect(json.resource.terraform_data.controller1_mysql_install.depends_on).toBeUndefined();
  });

  it("names steps it depends on by address, as the resource's own list: no override in the stack's metadata", () => {
    // An override per resource made cdktf copy a list of them all for each one: quadratic.
    const { json } = synthToDir((scope) => {
      const install = new Step(scope, "mysql_install", {
        target: target("controller1"),
        script: script("a"),
      });
      const other = new Step(scope, "base", { target: target("controller2"), script: script("b") });
      new Step(scope, "mysql_config", {
        target: target("controller1"),
        script: script("c"),
        dependsOn: [install, other],
      });
    });
    expect(json.resource.terraform_data.controller1_mysql_config.depends_on).toEqual([
      "terraform_data.controller1_mysql_install",
      "terraform_data.controller2_base",
    ]);
    const metadata = (json as unknown as Record<string, { metadata: Record<string, unknown> }>)["//"]
      .metadata;
    expect(metadata.stackName).toBe("steps");
    expect(metadata.overrides).toBeUndefined();
  });

  it("runs pre-provisioners before the script", () => {
    const json = synth(
      (scope) =>
        new Step(scope, "upload", {
          target: target("controller1"),
          script: script("true"),
          preProvisioners: [
            { type: "remote-exec", inline: ["mkdir -p /tmp/x"] },
            { type: "file", content: "data", destination: "/tmp/x/data" },
          ],
        }),
    );
    const provisioners = json.resource.terraform_data.controller1_upload.provisioner;
    expect(provisioners).toHaveLength(3);
    expect(provisioners[0]).toEqual({ "remote-exec": { inline: ["mkdir -p /tmp/x"] } });
    expect(provisioners[1]).toEqual({ file: { content: "data", destination: "/tmp/x/data" } });
    expect(provisioners[2]).toEqual({
      "remote-exec": { script: "${path.module}/scripts/controller1_upload.sh" },
    });
  });

  describe("the script file", () => {
    const bash = 'echo "${HOME}" "${#arr[@]}" "%{ if x }" "$${already}" "$x" "%d"';

    it("holds exactly the text the host runs and the trigger hashes, with nothing escaped", () => {
      let step: Step | undefined;
      const { json, stackDir } = synthToDir((scope) => {
        step = new Step(scope, "escaped", { target: target("controller1"), script: script(bash) });
      });
      const s = step as Step;
      expect(s.scriptText).toContain(`\n${bash}\nosc_step_done\n`);
      // A file is not a template: `${` and `%{` are written as they are.
      expect(fs.readFileSync(path.join(stackDir, "scripts", "controller1_escaped.sh"), "utf8")).toBe(
        s.scriptText,
      );
      expect(json.resource.terraform_data.controller1_escaped.triggers_replace?.script).toBe(
        sha256Hex(s.scriptText),
      );
      // The JSON names the file; no script text reaches it.
      expect(JSON.stringify(json)).not.toContain("osc_step_done");
    });

    it("is named by a path that terraform validate accepts, and a new synth removes a removed step's file", () => {
      const outdir = tempDir("step-resynth");
      const build = (names: string[]) => {
        const app = new App({ outdir, stackTraces: false });
        const stack = new TerraformStack(app, "steps");
        for (const n of names)
          new Step(stack, n, { target: target("controller1"), script: script(`echo ${n}`) });
        app.synth();
        return path.join(outdir, "stacks", "steps");
      };
      build(["one", "two"]);
      const stackDir = build(["one"]);
      expect(fs.readdirSync(path.join(stackDir, "scripts"))).toEqual(["controller1_one.sh"]);
      expect(terraform(["init", "-backend=false", "-input=false", "-no-color"], stackDir).status).toBe(0);
      const validate = terraform(["validate", "-no-color"], stackDir);
      expect(validate.stdout).toContain("The configuration is valid");
      expect(validate.status).toBe(0);
    });
  });

  it("replaces only the step whose script changed", () => {
    const build = (second: string) =>
      synth((scope) => {
        const a = new Step(scope, "first", { target: target("controller1"), script: script("echo a") });
        const b = new Step(scope, "second", {
          target: target("controller1"),
          script: script(second),
          dependsOn: [a.resource],
        });
        new Step(scope, "third", {
          target: target("controller2"),
          script: script("echo c"),
          dependsOn: [b.resource],
        });
      });
    const before = build("echo b");
    const after = build("echo B");
    const same = build("echo b");
    expect(same).toEqual(before);

    const ids = ["controller1_first", "controller1_second", "controller2_third"];
    expect(Object.keys(after.resource.terraform_data).sort()).toEqual(ids);
    const changed = ids.filter(
      (id) =>
        JSON.stringify(before.resource.terraform_data[id]) !==
        JSON.stringify(after.resource.terraform_data[id]),
    );
    expect(changed).toEqual(["controller1_second"]);
    const b0 = before.resource.terraform_data.controller1_second;
    const b1 = after.resource.terraform_data.controller1_second;
    expect(b1.triggers_replace?.script).not.toBe(b0.triggers_replace?.script);
    // Apart from the script and its hash, the resource is the same.
    expect({ ...b1, triggers_replace: undefined, provisioner: undefined }).toEqual({
      ...b0,
      triggers_replace: undefined,
      provisioner: undefined,
    });
  });

  it("changes the inputs trigger, not the script trigger, when an input changes", () => {
    const build = (value: string) =>
      synth(
        (scope) =>
          new Step(scope, "cfg", {
            target: target("controller1"),
            script: script("true"),
            inputs: { v: JSON.stringify(value) },
          }),
      );
    const one = build("one").resource.terraform_data.controller1_cfg.triggers_replace;
    const two = build("two").resource.terraform_data.controller1_cfg.triggers_replace;
    expect(two?.script).toBe(one?.script);
    expect(two?.inputs).not.toBe(one?.inputs);
  });

  describe("null_resource kind", () => {
    const json = synth((scope) => {
      const a = new Step(scope, "first", {
        target: target("controller1", "null_resource"),
        script: script("a"),
      });
      new Step(scope, "second", {
        target: target("controller2", "null_resource"),
        script: script("b"),
        dependsOn: [a.resource],
        inputs: { x: "var.y" },
      });
    });

    it("uses null_resource with triggers, and no terraform_data", () => {
      expect(Object.keys(json.resource)).toEqual(["null_resource"]);
      const first = json.resource.null_resource.controller1_first;
      expect(first.triggers).toEqual({ script: sha256Hex(script("a").render()) });
      expect(first.triggers_replace).toBeUndefined();
      const second = json.resource.null_resource.controller2_second;
      expect(Object.keys(second.triggers ?? {}).sort()).toEqual(["inputs", "script"]);
      expect(second.depends_on).toEqual(["null_resource.controller1_first"]);
      expectScriptFile(json, "null_resource", "controller1_first");
    });

    it("adds the null provider once, with its required_providers entry", () => {
      expect(json.provider).toEqual({ null: [{}] });
      expect(Object.keys(json.terraform?.required_providers ?? {})).toEqual(["null"]);
      expect(json.terraform?.required_providers?.null.source).toMatch(/(^|\/)null$/);
    });

    it("can mix with terraform_data steps in one stack", () => {
      const mixed = synth((scope) => {
        new Step(scope, "a", { target: target("h1", "null_resource"), script: script("a") });
        new Step(scope, "b", { target: target("h2"), script: script("b") });
      });
      expect(Object.keys(mixed.resource).sort()).toEqual(["null_resource", "terraform_data"]);
      expect(mixed.provider).toEqual({ null: [{}] });
    });
  });
});
