import { Construct } from "constructs";
import { Step } from "../core/step";
import { Host } from "./host";
import { preinstall, RoleNode, RoleNodeProps } from "./role-node";

/** What a compute host asks of Nova (`NovaService`): the host layer names no service. */
export interface IComputeService {
  computePackages(host: Host): readonly string[];
  computeHost(host: Host): Step;
}

/** What a compute or network host asks of Neutron (`NeutronService`). */
export interface INetworkAgents {
  agentPackages(host: Host): readonly string[];
  agents(host: Host): Step;
}

/** Runs the virtual machines: nova-compute, libvirt and the Open vSwitch agent. */
export class ComputeNode extends RoleNode {
  /** The role this construct gives its host: `compute`. */
  readonly role = "compute" as const;

  constructor(scope: Construct, id: string, props: RoleNodeProps) {
    super(scope, id, props, "compute");
  }

  /**
   * Places the services' parts on this host: their packages first, in a step of its own that
   * needs nothing but the base system (so they install while the controllers install theirs),
   * then Nova's nova-compute and Neutron's agents, which start once the controllers are up.
   * Returns the services' steps.
   */
  placeServices(services: { readonly nova: IComputeService; readonly neutron: INetworkAgents }): Step[] {
    const { nova, neutron } = services;
    preinstall(this, "compute_packages", [
      ...nova.computePackages(this.host),
      ...neutron.agentPackages(this.host),
    ]);
    return [nova.computeHost(this.host), neutron.agents(this.host)];
  }
}
