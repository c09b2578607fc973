/** Every check `lab verify` runs, in order. Add new check files here. */
import { baseChecks } from "./base";
import { heartbeat } from "./heartbeat";
import { memcachedChecks } from "./memcached";
import { mysqlChecks } from "./mysql";
import { rabbitmqChecks } from "./rabbitmq";
import { secretsCheck } from "./secrets";
import { controlPlaneChecks } from "./services";
import { stepChecks } from "./steps";
import { Check } from "./types";

/** Platform checks: what the controllers run (MariaDB pair, Heartbeat VIP, RabbitMQ, memcached). */
export const platformChecks: readonly Check[] = [
  heartbeat,
  ...mysqlChecks,
  ...rabbitmqChecks,
  ...memcachedChecks,
];

/** Non-destructive: `verify` runs these. The failover (lab/checks/failover.ts) is apart. */
export const allChecks: readonly Check[] = [
  ...baseChecks,
  ...platformChecks,
  ...controlPlaneChecks, // the OpenStack control plane, one file per service (lab/checks/services/)
  secretsCheck,
  ...stepChecks,
];
