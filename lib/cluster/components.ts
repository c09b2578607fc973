/**
 * The components of a cluster. A component (a service or a platform construct) declares its
 * secrets and packages next to its code (`GLANCE_COMPONENT` in glance.ts); the secret catalog is
 * assembled from this list here, where the cluster is composed, and passed down
 * (`declareSecrets`). The services come from the cluster's registration list (`SERVICES`,
 * ./services.ts): a new service adds its line there, not here.
 */
import { ComponentDeclaration } from "../core/component";
import type { ReleaseName } from "../core/releases";
import { SecretSpec } from "../core/secret-spec";
import { completeSecretsFile, readSecretsFile, SecretsInitResult } from "../core/secrets-file";
import { HEARTBEAT_COMPONENT } from "../platform/heartbeat";
import { MYSQL_COMPONENT } from "../platform/mysql-ha-pair";
import { RABBITMQ_COMPONENT } from "../platform/rabbitmq";
import { DAY_ONE_COMPONENT } from "../services/day-one";
import { SERVICES } from "./services";
import { quote } from "../core/field-rules";

/**
 * Every component, in the secret catalog's order: the platform the cluster builds before its
 * services, the services as registered, and the day-one resources built after them.
 */
export const COMPONENTS: readonly ComponentDeclaration[] = [
  MYSQL_COMPONENT,
  HEARTBEAT_COMPONENT,
  RABBITMQ_COMPONENT,
  ...SERVICES.map((s) => s.component),
  DAY_ONE_COMPONENT,
];

/** Every component, in the secret catalog's order. */
export function components(): readonly ComponentDeclaration[] {
  return COMPONENTS;
}

/** Every component's secrets, in order. */
export function componentSecrets(): SecretSpec[] {
  return COMPONENTS.flatMap((c) => c.secrets ?? []);
}

/** Every component's package lists for a release, by name (`glance`, `novaCompute`). */
export function componentPackages(release: ReleaseName): Record<string, readonly string[]> {
  return Object.fromEntries(
    COMPONENTS.flatMap((c) =>
      Object.entries(c.packages ?? {}).map(([name, table]) => [name, table[release]]),
    ),
  );
}

function assembleCatalog(): readonly SecretSpec[] {
  const all = componentSecrets();
  const seen = new Set<string>();
  for (const spec of all) {
    if (seen.has(spec.name)) throw new Error(`secret catalog: ${spec.name} is declared twice`);
    seen.add(spec.name);
  }
  return Object.freeze(all);
}

/**
 * Every secret a cluster uses, like kolla-ansible's passwords.yml, assembled from what each
 * component declares next to its code. `secrets init` generates all of them; each host receives
 * only those its roles need.
 *
 * MariaDB's root authenticates through the unix socket only (Debian's default), so it has no
 * password; the RabbitMQ brokers are not clustered (see lib/platform/rabbitmq.ts), so there is
 * no Erlang cookie to share.
 */
export const SECRET_CATALOG: readonly SecretSpec[] = assembleCatalog();

/** The secret catalog (`SECRET_CATALOG`). */
export function secretCatalog(): readonly SecretSpec[] {
  return SECRET_CATALOG;
}

/** The catalog entry for a name; throws when the name is unknown. */
export function secretSpec(name: string): SecretSpec {
  const spec = SECRET_CATALOG.find((s) => s.name === name);
  if (!spec) throw new Error(`secret: got ${quote(name)}: expected a name from SECRET_CATALOG`);
  return spec;
}

/** Creates or completes a cluster's secrets file with every secret of the catalog (`completeSecretsFile`). */
export function initSecretsFile(file: string): SecretsInitResult {
  return completeSecretsFile(file, SECRET_CATALOG);
}

/** Checks a secrets file as `initSecretsFile` would before keeping its values; writes nothing. */
export function checkSecretsFile(file: string): void {
  readSecretsFile(file, SECRET_CATALOG);
}
