import { Construct } from "constructs";
import { RoleNode, RoleNodeProps } from "./role-node";

/** Carries virtual networking: the L3, DHCP, metadata and Open vSwitch agents. */
export class NetworkNode extends RoleNode {
  readonly role = "network" as const;

  constructor(scope: Construct, id: string, props: RoleNodeProps) {
    if (!props.host.providerInterface) {
      throw new Error(
        `NetworkNode ${props.host.hostName}: providerInterface: got none: expected the interface on the provider network`,
      );
    }
    super(scope, id, props, "network");
  }
}
