import { Construct } from "constructs";
import { RoleNode, RoleNodeProps } from "./role-node";

/** Runs the virtual machines: nova-compute, libvirt and the Open vSwitch agent. */
export class ComputeNode extends RoleNode {
  readonly role = "compute" as const;

  constructor(scope: Construct, id: string, props: RoleNodeProps) {
    super(scope, id, props, "compute");
  }
}
