/**
 * The construct ids of `OpenStackCluster`'s own parts, beside its hosts (whose ids are their
 * names): a host named like one would collide with it, so the inventory refuses such names.
 * test/hostile-inventory.test.ts checks this list against built clusters.
 */
export const CLUSTER_PART_IDS: readonly string[] = [
  "heartbeat",
  "database",
  "messaging",
  "cache",
  "keystone",
  "swift",
  "glance",
  "placement",
  "ceph",
  "cinder",
  "horizon",
  "nova",
  "neutron",
  "day_one",
];
