/**
 * The public API: what a stack of one's own composes. The constructs and their props, the
 * interfaces one may implement (an external database, identity, VIP), the inventory loader and
 * its input type, the secrets file, and the security checks with their suppressions. Everything
 * else is internal (`openstack-cdktf/internal`, not a stable API). `test/public-api.test.ts`
 * lists these names, so that a change to them is deliberate.
 */

// Releases and roles.
export {
  DEBIAN_12_ZED,
  DEBIAN_13_EPOXY,
  DEFAULT_RELEASE,
  UBUNTU_2404_CARACAL,
  RELEASE_NAMES,
  releaseProfile,
} from "./core/releases";
export type { ReleaseName, ReleaseProfile } from "./core/releases";
export { ROLES } from "./core/roles";
export type { Role } from "./core/roles";

// Steps: the unit of work on a host, its script, and the resource it synthesizes to.
export { Step, StepIdCollisionError, stepLogicalId } from "./core/step";
export type { StepProps, StepResourceKind, StepTarget } from "./core/step";
export { ShellScript } from "./core/shell-script";
// What implementing an interface below needs: an address clients reach, a secret's placeholder.
export { Endpoint } from "./core/endpoint";
export { secretPlaceholder } from "./core/ini-file";
export type { IniValue } from "./core/ini-file";
export { TerraformData } from "./core/terraform-data";
export type { TerraformDataConfig } from "./core/terraform-data";

// Hosts and their roles.
export { Host, SshKeys } from "./hosts/host";
export type { AddStepOptions, BastionProps, HostProps } from "./hosts/host";
export { BaseSystem } from "./hosts/base-system";
export type { BaseSystemProps, ClusterMember } from "./hosts/base-system";
export { ControllerNode } from "./hosts/controller-node";
export { ComputeNode } from "./hosts/compute-node";
export { StorageNode } from "./hosts/storage-node";
export { NetworkNode } from "./hosts/network-node";
export type { RoleNodeProps } from "./hosts/role-node";

// The platform under the services: the VIP, the database, the broker, the cache, Ceph.
export { Heartbeat } from "./platform/heartbeat";
export type * from "./platform/heartbeat";
export { MysqlHaPair } from "./platform/mysql-ha-pair";
export type * from "./platform/mysql-ha-pair";
export { RabbitMq } from "./platform/rabbitmq";
export type * from "./platform/rabbitmq";
export { Memcached } from "./platform/memcached";
export type * from "./platform/memcached";
export { CephCluster } from "./platform/ceph-cluster";
export type { CephClient, CephClusterProps, CephOsdPlacement, CephOsdSpec } from "./platform/ceph-cluster";
export { ClientAddress } from "./platform/client-address";
export type * from "./platform/interfaces";

// The OpenStack services.
export type { ControlPlaneContext } from "./services/control-plane-context";
export type { IIdentity, ServiceRegistration } from "./services/identity";
export { ApiService } from "./services/api-service";
export type { ApiRelease, ApiServiceProps, ApiServiceSpec } from "./services/api-service";
export { KeystoneService } from "./services/keystone";
export type * from "./services/keystone";
export { GlanceService } from "./services/glance";
export type * from "./services/glance";
export { SwiftService } from "./services/swift";
export type * from "./services/swift";
export { SwiftRings } from "./services/swift-rings";
export type { SwiftRingDevice } from "./services/swift-rings";
export { PlacementService } from "./services/placement";
export type * from "./services/placement";
export { CinderService } from "./services/cinder";
export type * from "./services/cinder";
export type { VolumeBackendSpec } from "./hosts/volume-backends";
export { HorizonDashboard } from "./services/horizon";
export type * from "./services/horizon";
export { NovaService } from "./services/nova";
export type * from "./services/nova";
export { NeutronService } from "./services/neutron";
export type * from "./services/neutron";
export { DayOne } from "./services/day-one";
export type { DayOneProps } from "./services/day-one";
export { DAY_ONE_DEFAULTS } from "./services/day-one-settings";
export type { DayOneSettings } from "./services/day-one-settings";

// The whole cloud from an inventory.
export { InventoryError, loadInventory, parseInventory } from "./cluster/inventory";
export type { HostSpec, Inventory, SshSettings } from "./cluster/inventory";
export { MAX_HOSTS } from "./cluster/inventory-schema";
export type { InventoryInput } from "./cluster/inventory-schema";
export { OpenStackCluster } from "./cluster/openstack-cluster";
export type { OpenStackClusterProps } from "./cluster/openstack-cluster";
export { OpenStackStack } from "./cluster/openstack-stack";
export type { OpenStackStackProps } from "./cluster/openstack-stack";

// Secrets: the catalog, the file `secrets init` writes, and declaring them in a stack of one's own.
export { SECRET_CATALOG, checkSecretsFile, initSecretsFile } from "./cluster/components";
export { declareSecrets } from "./core/secret-catalog";
export type { SecretKind, SecretSpec } from "./core/secret-catalog";
export { SecretsFileError, defaultSecretsFile } from "./core/secrets-file";
export type { SecretsInitResult } from "./core/secrets-file";

// Security checks (an Aspect, in the manner of cdk-nag) and their suppressions.
export {
  SECURITY_RULES,
  SecurityCheckError,
  SecurityChecks,
  addSecurityChecks,
  assertNoSecurityFindings,
  formatFinding,
  securityFindings,
  suppressSecurityRule,
} from "./security";
export type { SecurityFinding, SecurityRule, SecuritySuppression } from "./security";
