import { Construct } from "constructs";
import { Step } from "../core/step";
import { preinstall, RoleNode, RoleNodeProps } from "./role-node";

/** Runs the control plane: databases, the message queue, and every API service. */
export class ControllerNode extends RoleNode {
  /** The role this construct gives its host: `controller`. */
  readonly role = "controller" as const;

  constructor(scope: Construct, id: string, props: RoleNodeProps) {
    super(scope, id, props, "controller");
  }

  /**
   * The packages of every part of the control plane on this host (the platform's and the
   * services'), in one step that needs only the base system: both controllers install them in
   * parallel with each other and the other hosts, and each service's own step then finds them
   * there (its own install is a no-op), so that the second controller's steps wait for the
   * first's schema and bootstrap, not for its downloads and unpacking.
   */
  preinstallPackages(packages: readonly string[], debconf: readonly string[]): Step {
    return preinstall(this, "controller_packages", packages, debconf);
  }
}
