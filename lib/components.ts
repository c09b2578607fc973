/**
 * The components of a cluster, one line each: a component (a service or a platform construct)
 * declares its secrets next to its code, and the secret catalog is assembled from this list. A
 * new service adds its line here.
 *
 * A function, not a constant: the components' modules import modules that import the catalog,
 * so the list is read when it is first needed, after every module has loaded.
 */
import type { ReleaseName } from "./core/releases";
import { PackagesByRelease } from "./core/releases/packages";
import { SecretSpec } from "./core/secret-spec";
import { HEARTBEAT_SECRETS } from "./platform/heartbeat";
import { MYSQL_SECRETS } from "./platform/mysql-ha-pair";
import { RABBITMQ_SECRETS } from "./platform/rabbitmq";
import { CINDER_PACKAGES, CINDER_SECRETS, CINDER_VOLUME_PACKAGES } from "./services/cinder";
import { GLANCE_PACKAGES, GLANCE_SECRETS } from "./services/glance";
import { HORIZON_PACKAGES, HORIZON_SECRETS } from "./services/horizon";
import { KEYSTONE_PACKAGES, KEYSTONE_SECRETS } from "./services/keystone";
import {
  NEUTRON_NETWORK_AGENT_PACKAGES,
  NEUTRON_OVS_AGENT_PACKAGES,
  NEUTRON_SECRETS,
  NEUTRON_SERVER_PACKAGES,
} from "./services/neutron";
import { NOVA_COMPUTE_PACKAGES, NOVA_PACKAGES, NOVA_SECRETS } from "./services/nova";
import { PLACEMENT_PACKAGES, PLACEMENT_SECRETS } from "./services/placement";

/** Each service's package lists for a release, by name (a release profile's `packages` adds them). */
export function componentPackages(release: ReleaseName): Record<string, readonly string[]> {
  const tables: Record<string, PackagesByRelease> = {
    keystone: KEYSTONE_PACKAGES,
    glance: GLANCE_PACKAGES,
    placement: PLACEMENT_PACKAGES,
    novaController: NOVA_PACKAGES,
    novaCompute: NOVA_COMPUTE_PACKAGES,
    neutronServer: NEUTRON_SERVER_PACKAGES,
    neutronOvsAgent: NEUTRON_OVS_AGENT_PACKAGES,
    neutronNetworkAgents: NEUTRON_NETWORK_AGENT_PACKAGES,
    cinderController: CINDER_PACKAGES,
    cinderVolume: CINDER_VOLUME_PACKAGES,
    horizon: HORIZON_PACKAGES,
  };
  return Object.fromEntries(Object.entries(tables).map(([name, table]) => [name, table[release]]));
}

/** Every component's secrets, in the catalog's order. */
export function componentSecrets(): SecretSpec[] {
  return [
    ...MYSQL_SECRETS,
    ...HEARTBEAT_SECRETS,
    ...RABBITMQ_SECRETS,
    ...KEYSTONE_SECRETS,
    ...GLANCE_SECRETS,
    ...PLACEMENT_SECRETS,
    ...NOVA_SECRETS,
    ...NEUTRON_SECRETS,
    ...CINDER_SECRETS,
    ...HORIZON_SECRETS,
  ];
}
