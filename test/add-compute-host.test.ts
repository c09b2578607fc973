/**
 * Adding one compute host to a deployed cluster re-runs only what must run, counted two ways:
 * - from the synthesized JSON: Terraform replaces a `terraform_data` whose `triggers_replace`
 *   changes and creates a new one; a trigger that names another step's id (each host's
 *   `converged`) changes when that step is replaced;
 * - by a real `terraform plan` of the larger stack against the state of the first, applied
 *   offline (its provisioners stripped: terraform_data is built in, nothing connects over SSH).
 */
import * as fs from "fs";
import * as path from "path";
import { parseInventory } from "../lib/cluster/inventory";
import { SECRET_CATALOG } from "../lib/cluster/components";
import { secretVariableName } from "../lib/core/secrets-file";
import { sha256Hex } from "../lib/core/step";
import { EXAMPLES_DIR, readYaml, sshKey, StackJson, synthToDir, tempDir, terraform } from "./support";

const EXAMPLE = path.join(EXAMPLES_DIR, "lab-furyu-8-node.yaml");
const EXISTING = [
  "controller1",
  "controller2",
  "compute1",
  "compute2",
  "compute3",
  "compute4",
  "network1",
  "network2",
];
const COMPUTE5 = {
  name: "compute5",
  address: "10.211.0.25",
  tunnelAddress: "10.213.0.25",
  // Compute only: a storage host changes Swift's rings, which the steps refuse (swift-rings.ts).
  roles: ["compute"],
};

/**
 * What adding compute5 must create or replace, and why none of it can go:
 * - compute5's own steps, all new;
 * - controller1_nova_discover_hosts: it maps compute5 into cell1, and waits until it is mapped
 *   (its script names every compute host);
 * - controller1_neutron_agents_alive: it waits until every agent, compute5's too, is alive (its
 *   script names them);
 * - every other host's hosts_file: the cluster has no DNS, and every host must resolve the new
 *   name (nova-compute's live migrations and resizes reach the other compute host by its name,
 *   the controllers and network hosts reach it by name too), so its /etc/hosts gains one line
 *   (the one shared, uploaded scripts/etc_hosts.txt; the script itself changes only by its hash);
 * - every other host's converged: its trigger is the ids of its host's steps, so it re-runs
 *   whenever one of them is replaced (it finishes any cut run on the host; it does no work
 *   otherwise).
 * Nothing else: no base step (apt, chrony), no service, no agent, no day-one step.
 */
const EXPECTED_CREATED = [
  "compute5_converged",
  "compute5_secrets",
  "compute5_hosts_file",
  "compute5_base",
  "compute5_compute_packages",
  "compute5_nova_compute",
  "compute5_neutron_agents",
  // The lab layout has Ceph RBD volumes: qemu on the new host gets client.cinder's key.
  "compute5_ceph_libvirt_secret",
].sort();
const EXPECTED_REPLACED = [
  "controller1_nova_discover_hosts",
  "controller1_neutron_agents_alive",
  ...EXISTING.flatMap((h) => [`${h}_hosts_file`, `${h}_converged`]),
].sort();

interface PlanJson {
  readonly resource_changes: readonly {
    readonly address: string;
    readonly name: string;
    readonly change: { readonly actions: readonly string[] };
  }[];
}

/**
 * The steps Terraform would create or replace going from `before` to `after`: new ones, those
 * whose triggers changed, and, until nothing is added, those whose triggers name the id of one
 * of these (its new id is unknown until it is replaced).
 */
function createdOrReplaced(before: StackJson, after: StackJson): { created: string[]; replaced: string[] } {
  const a = before.resource.terraform_data;
  const b = after.resource.terraform_data;
  const created = Object.keys(b).filter((id) => !a[id]);
  const replaced = new Set(
    Object.keys(b).filter(
      (id) => a[id] && JSON.stringify(a[id].triggers_replace) !== JSON.stringify(b[id].triggers_replace),
    ),
  );
  const newIds = () => new Set([...created, ...replaced]);
  for (let grew = true; grew;) {
    grew = false;
    const changing = newIds();
    for (const id of Object.keys(b).filter((x) => a[x] && !replaced.has(x))) {
      const named = [...JSON.stringify(b[id].triggers_replace).matchAll(/terraform_data\.([a-z0-9_]+)\.id/g)];
      if (named.some((m) => changing.has(m[1]))) {
        replaced.add(id);
        grew = true;
      }
    }
  }
  return { created: created.sort(), replaced: [...replaced].sort() };
}

function planned(plan: PlanJson, actions: string): string[] {
  return plan.resource_changes
    .filter((c) => c.change.actions.join("+") === actions)
    .map((c) => c.name)
    .sort();
}

describe("adding one compute host (compute5) to examples/lab-furyu-8-node.yaml", () => {
  const work = tempDir("add-host");
  const key = sshKey(work);
  const stacks = (["before", "after"] as const).map((which) => {
    const data = readYaml(EXAMPLE);
    data.ssh = { ...(data.ssh as Record<string, unknown>), privateKeyFile: key };
    if (which === "after") data.hosts = [...(data.hosts as unknown[]), COMPUTE5];
    const inventory = parseInventory(data, EXAMPLE, EXAMPLES_DIR);
    const { stack, stackDir } = synthToDir(inventory, path.join(work, which));
    const json = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")) as StackJson;
    return { stack, stackDir, json };
  });
  const [before, after] = stacks;
  const script = (which: typeof before, id: string) => {
    const step = which.stack.cluster.steps.find((s) => s.logicalId === id);
    if (!step) throw new Error(`no step ${id}`);
    return step.scriptText;
  };

  it("creates compute5's steps and replaces only the discovery, the agents-alive wait, and each other host's hosts_file and converged (from the triggers)", () => {
    const { created, replaced } = createdOrReplaced(before.json, after.json);
    expect(created).toEqual(EXPECTED_CREATED);
    expect(replaced).toEqual(EXPECTED_REPLACED);
    // 8 created, 18 replaced, out of the 9 hosts' steps.
    expect([created.length, replaced.length]).toEqual([8, 18]);
    expect(Object.keys(after.json.resource.terraform_data)).toHaveLength(
      Object.keys(before.json.resource.terraform_data).length + 8,
    );
  });

  it("changes each other host's /etc/hosts by exactly compute5's line, and the discovery by its name", () => {
    // /etc/hosts is one uploaded file (scripts/etc_hosts.txt): it gains compute5's line, and each
    // hosts_file script only the new hash.
    const hostsFile = (which: typeof before) =>
      fs.readFileSync(path.join(which.stackDir, "scripts", "etc_hosts.txt"), "utf8");
    expect(hostsFile(after)).toBe(`${hostsFile(before)}10.211.0.25 compute5\n`);
    for (const host of EXISTING) {
      const [old, now] = [before, after].map((which) => script(which, `${host}_hosts_file`));
      expect(now).toBe(old.replace(sha256Hex(hostsFile(before)), sha256Hex(hostsFile(after))));
      expect(now).not.toBe(old);
      // Its base step, apt and chrony, is the same script.
      expect(script(after, `${host}_base`)).toBe(script(before, `${host}_base`));
    }
    const discover = "controller1_nova_discover_hosts";
    expect(script(before, discover)).toContain("\nexpected=(compute1 compute2 compute3 compute4)\n");
    expect(script(after, discover).replace(" compute5)", ")")).toBe(script(before, discover));
  });

  describe("terraform plan against the state of the eight-host stack", () => {
    const varFile = path.join(work, "secrets.tfvars.json");
    let addHost: { plan: PlanJson; stdout: string };
    let unchanged: { plan: PlanJson; stdout: string };

    beforeAll(() => {
      // Any values: both plans use the same ones, so the secrets' hashes do not change.
      const vars = Object.fromEntries(
        SECRET_CATALOG.map((s) => [secretVariableName(s.name), `value-${s.name}`]),
      );
      fs.writeFileSync(varFile, JSON.stringify(vars), { mode: 0o600 });
      const run = (args: string[], cwd: string) => {
        const result = terraform([...args, "-no-color"], cwd);
        if (result.status !== 0)
          throw new Error(`terraform ${args[0]} failed in ${cwd}:\n${result.stdout}${result.stderr}`);
        return result.stdout;
      };
      // The eight hosts "deployed": the same resources and triggers, without the provisioners.
      const applied = path.join(work, "applied");
      fs.mkdirSync(applied);
      const stripped = JSON.parse(JSON.stringify(before.json)) as StackJson;
      for (const resource of Object.values(stripped.resource.terraform_data)) {
        const r = resource as unknown as Record<string, unknown>;
        delete r.provisioner;
        delete r.connection;
      }
      fs.writeFileSync(path.join(applied, "cdk.tf.json"), JSON.stringify(stripped));
      run(["init", "-input=false"], applied);
      run(["apply", "-auto-approve", "-input=false", `-var-file=${varFile}`], applied);
      const plan = (stackDir: string) => {
        fs.copyFileSync(path.join(applied, "terraform.tfstate"), path.join(stackDir, "terraform.tfstate"));
        run(["init", "-input=false"], stackDir);
        const stdout = run(["plan", "-input=false", `-var-file=${varFile}`, "-out=plan.bin"], stackDir);
        return { plan: JSON.parse(run(["show", "-json", "plan.bin"], stackDir)) as PlanJson, stdout };
      };
      unchanged = plan(before.stackDir);
      addHost = plan(after.stackDir);
    });

    it("plans nothing for the eight hosts as they are (the state stands for a deployed cluster)", () => {
      expect(unchanged.stdout).toContain("No changes.");
      expect(unchanged.plan.resource_changes.filter((c) => c.change.actions.join() !== "no-op")).toEqual([]);
      expect(unchanged.plan.resource_changes).toHaveLength(
        Object.keys(before.json.resource.terraform_data).length,
      );
    });

    it("creates compute5's eight steps and replaces the same eighteen, changing and destroying nothing else", () => {
      expect(planned(addHost.plan, "create")).toEqual(EXPECTED_CREATED);
      expect(planned(addHost.plan, "delete+create")).toEqual(EXPECTED_REPLACED);
      const others = addHost.plan.resource_changes.filter(
        (c) => !["create", "delete+create", "no-op"].includes(c.change.actions.join("+")),
      );
      expect(others).toEqual([]);
      expect(addHost.stdout).toContain("Plan: 26 to add, 0 to change, 18 to destroy.");
      // The triggers' count and Terraform's agree.
      const { created, replaced } = createdOrReplaced(before.json, after.json);
      expect([planned(addHost.plan, "create"), planned(addHost.plan, "delete+create")]).toEqual([
        created,
        replaced,
      ]);
    });
  });
});
