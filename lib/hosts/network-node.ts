import { Construct } from "constructs";
import { Step } from "../core/step";
import { INetworkAgents } from "./compute-node";
import { preinstall, RoleNode, RoleNodeProps } from "./role-node";

/** Carries virtual networking: the L3, DHCP, metadata and Open vSwitch agents. */
export class NetworkNode extends RoleNode {
  /** The role this construct gives its host: `network`. */
  readonly role = "network" as const;

  constructor(scope: Construct, id: string, props: RoleNodeProps) {
    if (!props.host.providerInterface) {
      throw new Error(
        `NetworkNode ${props.host.hostName}: providerInterface: got none: expected the interface on the provider network`,
      );
    }
    super(scope, id, props, "network");
  }

  /**
   * Places Neutron's agents on this host (with the L3, DHCP and metadata agents): their packages
   * first, in a step that needs nothing but the base system, then the agents, which start once
   * the Neutron servers are up. Returns the agents' step.
   */
  placeServices(services: { readonly neutron: INetworkAgents }): Step[] {
    preinstall(this, "network_packages", services.neutron.agentPackages(this.host));
    return [services.neutron.agents(this.host)];
  }
}
