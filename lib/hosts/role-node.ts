import { Construct } from "constructs";
import { Role } from "../core/roles";
import { declaredSecrets } from "../core/secret-catalog";
import { Step } from "../core/step";
import { Host } from "./host";

/** Configures a role construct (`ControllerNode`, `ComputeNode`, `NetworkNode`, `StorageNode`): the host it marks. */
export interface RoleNodeProps {
  /** The server that takes the role. */
  readonly host: Host;
}

/**
 * What the four role constructs share: a role marks its host, and the host receives the
 * secrets of that role declared in its stack so far (`declareSecrets`). Services add their steps
 * to `host`.
 */
export abstract class RoleNode extends Construct {
  /** The server that holds this role; services add their steps to it. */
  readonly host: Host;
  abstract readonly role: Role;

  protected constructor(scope: Construct, id: string, props: RoleNodeProps, role: Role) {
    super(scope, id);
    this.host = props.host;
    props.host.addRole(role);
    // The stack's catalog: OpenStackCluster declares every component's secrets before its roles.
    const secrets = declaredSecrets(this)
      .filter((s) => s.roles.includes(role) && !s.onUse)
      .map((s) => s.name);
    props.host.useSecrets(secrets);
  }
}

/**
 * A step of the role that installs packages (their services stay stopped until configured):
 * it needs only the host's earlier steps, so that a data-plane host downloads and unpacks while
 * the controllers install theirs. The services' own steps install the same list, which is then
 * already done.
 */
export function preinstall(
  node: RoleNode,
  name: string,
  packages: readonly string[],
  /** debconf answers their maintainer scripts read (`debconf-set-selections` lines). */
  debconf: readonly string[] = [],
): Step {
  const script = node.host.script(name).comment(`The ${node.role} role's packages, early.`);
  for (const selection of debconf) script.debconfSet(selection);
  script.aptInstall([...new Set(packages)]);
  return node.host.addStep(name, script, { owner: node });
}
