import { Construct } from "constructs";
import { Step } from "../core/step";
import { NeutronService } from "../services/neutron";
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

  /** Places Neutron's agents on this host (with the L3, DHCP and metadata agents). Returns their step. */
  placeServices(services: { readonly neutron: NeutronService }): Step[] {
    return [services.neutron.agents(this.host)];
  }
}
