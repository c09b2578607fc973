import { Construct } from "constructs";
import {
  anyToHclTerraform,
  anyToTerraform,
  hashMapper,
  hashMapperHcl,
  TerraformResource,
  TerraformResourceConfig,
} from "cdktf";

/**
 * Configures `TerraformData`: cdktf's usual resource settings (connection, provisioners,
 * dependsOn) and its triggers.
 */
export interface TerraformDataConfig extends Omit<TerraformResourceConfig, "terraformResourceType"> {
  /** Values whose change replaces the resource, re-running its provisioners. */
  readonly triggersReplace: Record<string, string>;
}

/**
 * Terraform's built-in `terraform_data` resource. cdktf's own `DataResource` adds a validation
 * that runs `terraform version` once per resource at synth time: a child process per step
 * (3 s for 60 steps) and a synth that fails on a machine without Terraform. This class
 * synthesizes the same JSON without it; Terraform >= 1.4 is checked where it runs (the stack
 * needs 1.10: see SshKeys).
 */
export class TerraformData extends TerraformResource {
  /** The resource type, as cdktf's generated classes carry it (its `toHaveResource` matcher reads it). */
  public static readonly tfResourceType = "terraform_data";

  private readonly triggersReplace: Record<string, string>;

  constructor(scope: Construct, id: string, config: TerraformDataConfig) {
    super(scope, id, {
      ...config,
      terraformResourceType: TerraformData.tfResourceType,
      terraformGeneratorMetadata: { providerName: "terraform" },
    });
    this.triggersReplace = config.triggersReplace;
  }

  /** The resource's arguments in Terraform's JSON: `triggers_replace`. */
  protected synthesizeAttributes(): Record<string, unknown> {
    return { triggers_replace: hashMapper(anyToTerraform)(this.triggersReplace) };
  }

  /** The same arguments for an HCL synth (`cdktf synth --hcl`). */
  protected synthesizeHclAttributes(): Record<string, unknown> {
    return { triggers_replace: hashMapperHcl(anyToHclTerraform)(this.triggersReplace) };
  }
}
