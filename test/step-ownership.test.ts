import { Aspects, TerraformStack, Testing } from "cdktf";
import { IConstruct } from "constructs";
import { parseInventory } from "../lib/cluster/inventory";
import { OpenStackCluster } from "../lib/cluster/openstack-cluster";
import { Step } from "../lib/core/step";
import { LAB_SMALL_EXAMPLE, readYaml } from "./support";

function cluster(): { stack: TerraformStack; cluster: OpenStackCluster } {
  const stack = new TerraformStack(Testing.app(), "t");
  return {
    stack,
    cluster: new OpenStackCluster(stack, "cluster", {
      inventory: parseInventory(readYaml(LAB_SMALL_EXAMPLE)),
    }),
  };
}

const stepsUnder = (scope: IConstruct): string[] =>
  scope.node
    .findAll()
    .filter((c): c is Step => c instanceof Step)
    .map((s) => s.logicalId);

describe("steps are children of the construct that owns them", () => {
  const { cluster: c } = cluster();

  it("a service finds exactly its own steps, one per controller", () => {
    expect(stepsUnder(c.glance)).toEqual(["controller1_glance", "controller2_glance"]);
    expect(stepsUnder(c.horizon)).toEqual(c.horizon.steps.map((s) => s.logicalId));
    // The same step name on two hosts: one scope per host under the service.
    expect(c.glance.steps.map((s) => s.node.path)).toEqual([
      "t/cluster/glance/controller1/glance",
      "t/cluster/glance/controller2/glance",
    ]);
  });

  it("the platform owns its steps, and the databases it creates for services", () => {
    expect(stepsUnder(c.cache)).toEqual(["controller1_memcached", "controller2_memcached"]);
    expect(stepsUnder(c.database)).toContain("controller1_db_glance");
    expect(stepsUnder(c.keystone)).toContain("controller1_keystone_glance");
  });

  it("each host still knows all of its steps, whoever owns them", () => {
    const [controller1] = c.hosts;
    const ids = controller1.steps.map((s) => s.logicalId);
    expect(ids.slice(0, 4)).toEqual([
      "controller1_converged",
      "controller1_secrets",
      "controller1_hosts_file",
      "controller1_base",
    ]);
    expect(ids).toContain("controller1_glance");
    expect(ids).toContain("controller1_db_nova_cell0");
    // Every step in the tree belongs to exactly one host.
    expect(c.hosts.flatMap((h) => h.steps.map((s) => s.logicalId)).sort()).toEqual(stepsUnder(c).sort());
  });

  it("an Aspect applied to a service visits its steps only", () => {
    const { stack, cluster: other } = cluster();
    const visited: string[] = [];
    Aspects.of(other.placement).add({
      visit(node: IConstruct) {
        if (node instanceof Step) visited.push(node.logicalId);
      },
    });
    Testing.synth(stack);
    expect(visited).toEqual(["controller1_placement", "controller2_placement"]);
  });
});
