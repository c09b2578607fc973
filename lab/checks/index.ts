/** Every check `lab verify` runs, in order. Add new check files here. */
import { baseChecks } from "./base";
import { cephHealth } from "./ceph";
import { hypervisors, networkAgents } from "./dataplane";
import { heartbeat } from "./heartbeat";
import { listenersCheck } from "./listeners";
import { memcachedChecks } from "./memcached";
import { mysqlChecks } from "./mysql";
import { rabbitmqChecks } from "./rabbitmq";
import { secretsCheck } from "./secrets";
import { controlPlaneChecks } from "./services";
import { stepChecks } from "./steps";
import { Check } from "./types";
import { vmLifecycle } from "./vm-lifecycle";

/**
 * Platform checks: what the controllers run (MariaDB pair, Heartbeat VIP, RabbitMQ, memcached),
 * and the Ceph cluster under Cinder when the inventory has one.
 */
export const platformChecks: readonly Check[] = [
  heartbeat,
  ...mysqlChecks,
  ...rabbitmqChecks,
  ...memcachedChecks,
  cephHealth,
];

/** The data plane: compute and network hosts as the API sees them, then a VM booted, reached and deleted. */
export const dataplaneChecks: readonly Check[] = [hypervisors, networkAgents, vmLifecycle];

/** Non-destructive: `verify` runs these. The failover (lab/checks/failover.ts) is apart. */
export const allChecks: readonly Check[] = [
  ...baseChecks,
  ...platformChecks,
  ...controlPlaneChecks, // the OpenStack control plane, one file per service (lab/checks/services/)
  ...dataplaneChecks, // hypervisors and agents, then one VM's life (lab/checks/vm-lifecycle.ts)
  listenersCheck, // every host's sockets, once every daemon is up: management address, VIP, loopback
  secretsCheck,
  ...stepChecks,
];
