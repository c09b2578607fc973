import { Construct } from "constructs";
import { Step } from "../core/step";
import { NeutronService } from "../services/neutron";
import { NovaService } from "../services/nova";
import { RoleNode, RoleNodeProps } from "./role-node";

/** Runs the virtual machines: nova-compute, libvirt and the Open vSwitch agent. */
export class ComputeNode extends RoleNode {
  readonly role = "compute" as const;

  constructor(scope: Construct, id: string, props: RoleNodeProps) {
    super(scope, id, props, "compute");
  }

  /** Places the services' parts on this host: Nova's nova-compute, Neutron's agents. Returns their steps. */
  placeServices(services: { readonly nova: NovaService; readonly neutron: NeutronService }): Step[] {
    return [services.nova.computeHost(this.host), services.neutron.agents(this.host)];
  }
}
