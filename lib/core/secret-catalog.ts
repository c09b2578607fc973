import { componentSecrets } from "../components";
import { lazyView } from "./lazy-view";
import { SecretSpec } from "./secret-spec";

export { ALL_ROLES, CONTROLLER_ONLY, SecretKind, SecretSpec, serviceSecrets } from "./secret-spec";

let catalog: readonly SecretSpec[] | undefined;

/**
 * Every secret a cluster uses, like kolla-ansible's passwords.yml, assembled from what each
 * component declares next to its code (lib/components.ts lists the components). `secrets init`
 * generates all of them; each host receives only those its roles need.
 *
 * MariaDB's root authenticates through the unix socket only (Debian's default), so it has no
 * password; the RabbitMQ brokers are not clustered (see lib/platform/rabbitmq.ts), so there is
 * no Erlang cookie to share.
 */
export function secretCatalog(): readonly SecretSpec[] {
  if (!catalog) {
    const all = componentSecrets();
    const seen = new Set<string>();
    for (const spec of all) {
      if (seen.has(spec.name)) throw new Error(`secret catalog: ${spec.name} is declared twice`);
      seen.add(spec.name);
    }
    catalog = Object.freeze([...all]);
  }
  return catalog;
}

/**
 * @deprecated use `secretCatalog()`. The same list, filled on first use (the components that
 * declare the secrets import modules that import this one).
 */
export const SECRET_CATALOG: readonly SecretSpec[] = lazyView([] as SecretSpec[], () => [...secretCatalog()]);

/** The catalog entry for a name; throws when the name is unknown. */
export function secretSpec(name: string): SecretSpec {
  const spec = secretCatalog().find((s) => s.name === name);
  if (!spec) throw new Error(`secret: got ${JSON.stringify(name)}: expected a name from SECRET_CATALOG`);
  return spec;
}
