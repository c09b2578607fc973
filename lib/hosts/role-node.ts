import { Construct } from "constructs";
import { Role } from "../core/roles";
import { secretCatalog } from "../core/secret-catalog";
import { Host } from "./host";

export interface RoleNodeProps {
  /** The server that takes the role. */
  readonly host: Host;
}

/**
 * What the four role constructs share: a role marks its host, and the host receives the
 * secrets that the services of that role need. Services add their steps to `host`.
 */
export abstract class RoleNode extends Construct {
  readonly host: Host;
  abstract readonly role: Role;

  protected constructor(scope: Construct, id: string, props: RoleNodeProps, role: Role) {
    super(scope, id);
    this.host = props.host;
    props.host.addRole(role);
    const secrets = secretCatalog()
      .filter((s) => s.roles.includes(role))
      .map((s) => s.name);
    props.host.useSecrets(secrets);
  }
}
