import { Construct } from "constructs";
import { TerraformStack } from "cdktf";
import { Inventory } from "./inventory";
import { OpenStackCluster } from "./openstack-cluster";

export interface OpenStackStackProps {
  readonly inventory: Inventory;
}

/** A stack that holds one cluster; its name is the inventory's `cluster`. */
export class OpenStackStack extends TerraformStack {
  readonly cluster: OpenStackCluster;

  constructor(scope: Construct, props: OpenStackStackProps) {
    super(scope, props.inventory.cluster);
    this.cluster = new OpenStackCluster(this, "cluster", { inventory: props.inventory });
  }
}
