import { IConstruct } from "constructs";
import { TerraformStack } from "cdktf";
import { SecretSpec } from "./secret-spec";
import { quote } from "./field-rules";

export { ALL_ROLES, CONTROLLER_ONLY, serviceSecrets } from "./secret-spec";
export type { SecretKind, SecretSpec } from "./secret-spec";

/** Per stack: the secrets its components declared, by name, in declaration order. */
const declared = new WeakMap<TerraformStack, Map<string, SecretSpec>>();

/**
 * Declares secrets in the stack of `scope`: each component declares its own when it is built,
 * and `OpenStackCluster` declares every component's first (the catalog, lib/cluster). A Terraform
 * variable is made only for a declared secret, and a role's host receives the declared secrets
 * of its role. Declaring one spec again is a no-op; two specs of one name are an error.
 */
export function declareSecrets(scope: IConstruct, specs: readonly SecretSpec[]): void {
  const stack = TerraformStack.of(scope);
  let byName = declared.get(stack);
  if (!byName) {
    byName = new Map();
    declared.set(stack, byName);
  }
  for (const spec of specs) {
    const other = byName.get(spec.name);
    if (other && other !== spec) throw new Error(`secret catalog: ${spec.name} is declared twice`);
    byName.set(spec.name, spec);
  }
}

/** The secrets declared in the stack of `scope` so far, in declaration order. */
export function declaredSecrets(scope: IConstruct): readonly SecretSpec[] {
  return [...(declared.get(TerraformStack.of(scope))?.values() ?? [])];
}

/** The declared secret of that name in the stack of `scope`; throws when none is. */
export function declaredSecret(scope: IConstruct, name: string): SecretSpec {
  const spec = declared.get(TerraformStack.of(scope))?.get(name);
  if (!spec) {
    throw new Error(
      `secret: got ${quote(name)}: expected a secret declared by a component of stack ${TerraformStack.of(scope).node.id} (the secret catalog)`,
    );
  }
  return spec;
}
