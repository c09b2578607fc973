/**
 * The components of a cluster, one line each. A component (a service or a platform construct)
 * declares its secrets and packages next to its code (`GLANCE_COMPONENT` in glance.ts); the
 * secret catalog and the release profiles' `packages` are assembled from this list. A new
 * service adds its line here.
 *
 * A function, not a constant: the components' modules import modules that import the catalog,
 * so the list is read when it is first needed, after every module has loaded.
 */
import { ComponentDeclaration } from "./core/component";
import type { ReleaseName } from "./core/releases";
import { SecretSpec } from "./core/secret-spec";
import { CEPH_COMPONENT } from "./platform/ceph-cluster";
import { HEARTBEAT_COMPONENT } from "./platform/heartbeat";
import { MYSQL_COMPONENT } from "./platform/mysql-ha-pair";
import { RABBITMQ_COMPONENT } from "./platform/rabbitmq";
import { CINDER_COMPONENT } from "./services/cinder";
import { DAY_ONE_COMPONENT } from "./services/day-one";
import { GLANCE_COMPONENT } from "./services/glance";
import { HORIZON_COMPONENT } from "./services/horizon";
import { KEYSTONE_COMPONENT } from "./services/keystone";
import { NEUTRON_COMPONENT } from "./services/neutron";
import { NOVA_COMPONENT } from "./services/nova";
import { PLACEMENT_COMPONENT } from "./services/placement";
import { SWIFT_COMPONENT } from "./services/swift";

/** Every component, in the secret catalog's order. */
export function components(): readonly ComponentDeclaration[] {
  return [
    MYSQL_COMPONENT,
    HEARTBEAT_COMPONENT,
    RABBITMQ_COMPONENT,
    KEYSTONE_COMPONENT,
    GLANCE_COMPONENT,
    PLACEMENT_COMPONENT,
    NOVA_COMPONENT,
    NEUTRON_COMPONENT,
    CINDER_COMPONENT,
    SWIFT_COMPONENT,
    CEPH_COMPONENT,
    HORIZON_COMPONENT,
    DAY_ONE_COMPONENT,
  ];
}

/** Every component's secrets, in order. */
export function componentSecrets(): SecretSpec[] {
  return components().flatMap((c) => c.secrets ?? []);
}

/** Every component's package lists for a release, by name (a release profile's `packages` adds them). */
export function componentPackages(release: ReleaseName): Record<string, readonly string[]> {
  return Object.fromEntries(
    components().flatMap((c) =>
      Object.entries(c.packages ?? {}).map(([name, table]) => [name, table[release]]),
    ),
  );
}
