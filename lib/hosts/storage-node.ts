import { Construct } from "constructs";
import { RoleNode, RoleNodeProps } from "./role-node";

/** Holds Cinder volumes: cinder-volume and its backend. */
export class StorageNode extends RoleNode {
  readonly role = "storage" as const;

  constructor(scope: Construct, id: string, props: RoleNodeProps) {
    super(scope, id, props, "storage");
  }
}
