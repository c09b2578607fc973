/**
 * Everything the library's modules export, for what the package root leaves out (helpers, the
 * per-service package lists and constants): `import { ... } from "openstack-cdktf/internal"`.
 * Not a stable API: a name here may change or go in any release.
 */
export * from "./core/roles";
export * from "./core/releases";
export * from "./core/shell-script";
export * from "./core/ini-file";
export * from "./core/step";
export * from "./core/component";
export * from "./core/secret-spec";
export * from "./core/releases/packages";
export * from "./core/endpoint";
export * from "./core/hcl";
export * from "./core/late-value";
export * from "./core/terraform-data";
export * from "./core/secret-catalog";
export * from "./core/secrets-file";
export * from "./core/cluster-secrets";
export * from "./hosts/host";
export * from "./hosts/base-system";
export * from "./hosts/role-node";
export * from "./hosts/controller-node";
export * from "./hosts/compute-node";
export * from "./hosts/storage-node";
export * from "./hosts/network-node";
export * from "./platform/interfaces";
export * from "./platform/client-address";
export * from "./platform/heartbeat";
export * from "./platform/mysql-ha-pair";
export * from "./platform/rabbitmq";
export * from "./platform/memcached";
export * from "./services/control-plane-context";
export * from "./services/identity";
export * from "./services/api-service";
export * from "./services/keystone";
export * from "./services/glance";
export * from "./services/swift";
export * from "./services/swift-rings";
export * from "./services/placement";
export * from "./services/cinder";
export * from "./services/volume-backends";
export * from "./services/horizon";
export * from "./services/nova";
export * from "./services/neutron";
export * from "./services/day-one-settings";
export * from "./services/day-one";
export * from "./cluster/inventory";
export * from "./cluster/inventory-schema";
export * from "./cluster/openstack-cluster";
export * from "./cluster/openstack-stack";
export * from "./cluster/components";
export * from "./security";
export * from "./platform/ceph-cluster";
export * from "./core/field-rules";
