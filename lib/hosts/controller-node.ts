import { Construct } from "constructs";
import { RoleNode, RoleNodeProps } from "./role-node";

/** Runs the control plane: databases, the message queue, and every API service. */
export class ControllerNode extends RoleNode {
  readonly role = "controller" as const;

  constructor(scope: Construct, id: string, props: RoleNodeProps) {
    super(scope, id, props, "controller");
  }
}
