/**
 * TerraformData (lib/core/terraform-data.ts) with cdktf's own jest matchers, as a platform team
 * tests a stack of ours: the matchers find the resource by its class's `tfResourceType`.
 */
import { Testing } from "cdktf";
// The matchers' types (toHaveResource…), as cdktf's jest set-up documents.
import "cdktf/lib/testing/adapters/jest";
import { Construct } from "constructs";
import { TerraformData } from "../lib/core/terraform-data";

Testing.setupJest();

describe("TerraformData", () => {
  const synthesized = Testing.synthScope((stack: Construct) => {
    new TerraformData(stack, "step", { triggersReplace: { script: "abc" } });
  });

  test("carries its resource type as cdktf's generated classes do", () => {
    expect(TerraformData.tfResourceType).toBe("terraform_data");
  });

  test("is found by toHaveResource and toHaveResourceWithProperties", () => {
    expect(synthesized).toHaveResource(TerraformData);
    expect(synthesized).toHaveResourceWithProperties(TerraformData, { triggers_replace: { script: "abc" } });
    expect(synthesized).not.toHaveResourceWithProperties(TerraformData, {
      triggers_replace: { script: "other" },
    });
  });
});
