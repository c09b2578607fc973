/** Every check `lab verify` runs, in order. Add new check files here. */
import { baseChecks } from "./base";
import { apiColdStart } from "./cold-start";
import { heartbeat } from "./heartbeat";
import { apiKeepalive } from "./keepalive";
import { memcachedChecks } from "./memcached";
import { mysqlChecks } from "./mysql";
import { openstackChecks } from "./openstack";
import { rabbitmqChecks } from "./rabbitmq";
import { secretsCheck } from "./secrets";
import { stepChecks } from "./steps";
import { Check } from "./types";

/** Platform checks: what the controllers run (MariaDB pair, Heartbeat VIP, RabbitMQ, memcached). */
export const platformChecks: readonly Check[] = [
  heartbeat,
  ...mysqlChecks,
  ...rabbitmqChecks,
  ...memcachedChecks,
];

/**
 * The OpenStack control plane: per controller, through the VIP (CLI, Glance round trip), Horizon
 * login, connection reuse, concurrent requests to freshly restarted APIs on the standby.
 */
export const controlPlaneChecks: readonly Check[] = [...openstackChecks, apiKeepalive, apiColdStart];

/** Non-destructive: `verify` runs these. The failover (lab/checks/failover.ts) is apart. */
export const allChecks: readonly Check[] = [
  ...baseChecks,
  ...platformChecks,
  ...controlPlaneChecks,
  secretsCheck,
  ...stepChecks,
];
