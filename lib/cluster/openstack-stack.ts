import { Construct } from "constructs";
import { TerraformStack } from "cdktf";
import { addSecurityChecks } from "../security/security-checks";
import { Inventory } from "./inventory";
import { OpenStackCluster } from "./openstack-cluster";

/** Configures `OpenStackStack`: the inventory, and whether the security checks run. */
export interface OpenStackStackProps {
  /** A validated inventory (`loadInventory` or `parseInventory`); its `cluster` names the stack. */
  readonly inventory: Inventory;
  /**
   * Run the security checks (lib/security/) as an Aspect at synth: an unsuppressed finding
   * fails it. A stack of your own gets them with `addSecurityChecks(stack)`.
   * @default true
   */
  readonly securityChecks?: boolean;
}

/** A stack that holds one cluster; its name is the inventory's `cluster`. */
export class OpenStackStack extends TerraformStack {
  /** The cloud the stack holds, built from the inventory. */
  readonly cluster: OpenStackCluster;

  constructor(scope: Construct, props: OpenStackStackProps) {
    super(scope, props.inventory.cluster);
    if (props.securityChecks !== false) addSecurityChecks(this);
    this.cluster = new OpenStackCluster(this, "cluster", { inventory: props.inventory });
  }
}
