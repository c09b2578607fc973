/**
 * The components of a cluster, one line each: a component (a service or a platform construct)
 * declares its secrets next to its code, and the secret catalog is assembled from this list. A
 * new service adds its line here.
 *
 * A function, not a constant: the components' modules import modules that import the catalog,
 * so the list is read when it is first needed, after every module has loaded.
 */
import { SecretSpec } from "./core/secret-spec";
import { HEARTBEAT_SECRETS } from "./platform/heartbeat";
import { MYSQL_SECRETS } from "./platform/mysql-ha-pair";
import { RABBITMQ_SECRETS } from "./platform/rabbitmq";
import { CINDER_SECRETS } from "./services/cinder";
import { GLANCE_SECRETS } from "./services/glance";
import { HORIZON_SECRETS } from "./services/horizon";
import { KEYSTONE_SECRETS } from "./services/keystone";
import { NEUTRON_SECRETS } from "./services/neutron";
import { NOVA_SECRETS } from "./services/nova";
import { PLACEMENT_SECRETS } from "./services/placement";

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
