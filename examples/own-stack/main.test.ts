/**
 * The example app's test, as a platform team writes one: cdktf's matchers on the synthesized
 * stack, and a snapshot of it (a change to any step's script changes its hash, so the snapshot
 * shows which steps a library upgrade would re-run).
 */
import { Testing } from "cdktf";
import "cdktf/lib/testing/adapters/jest"; // the matchers' types
import { TerraformData } from "openstack-cdktf";
import { IdentityStack } from "./main";

Testing.setupJest();

describe("IdentityStack", () => {
  const stack = new IdentityStack(Testing.app(), "identity");
  const synthesized = Testing.synth(stack);

  it("is one terraform_data resource per step", () => {
    expect(synthesized).toHaveResource(TerraformData);
    expect(synthesized).toHaveResourceWithProperties(TerraformData, {
      connection: expect.objectContaining({ host: "10.0.0.5", user: "root" }),
    });
  });

  it("declares the secrets its steps use as sensitive variables, never their values", () => {
    const json = JSON.parse(synthesized) as { variable: Record<string, { sensitive?: boolean }> };
    expect(json.variable.secret_keystone_admin_password).toMatchObject({ sensitive: true });
    expect(json.variable.secret_glance_db_password).toMatchObject({ sensitive: true });
    expect(json.variable.secret_nova_db_password).toBeUndefined();
  });

  it("matches the snapshot", () => {
    expect(synthesized).toMatchSnapshot();
  });
});
