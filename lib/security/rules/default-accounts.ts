import type { Step } from "../../core/step";
import { stepRule } from "../rule";
import { isFalse, stepSettings, where } from "../settings";

/** OSC-IAM2: no well-known account reachable over the network, no server without authentication. */
export const DEFAULT_ACCOUNTS = stepRule({
  id: "OSC-IAM2",
  name: "DefaultAccounts",
  reason:
    "RabbitMQ's guest/guest is known to everyone, and MariaDB with skip-grant-tables lets anyone in as any user.",
  checkStep(step: Step): readonly string[] {
    const out: string[] = [];
    for (const s of stepSettings(step)) {
      const key = s.name;
      if (
        (key === "loopback_users.guest" && isFalse(s.value)) ||
        (key === "loopback_users" && s.value === "none")
      ) {
        out.push(`${where(s)} = ${s.value}: RabbitMQ's guest may log in from other hosts`);
      }
      if (key === "default_user" && s.value === "guest") {
        out.push(`${where(s)} = guest: RabbitMQ's default guest account`);
      }
      if (key === "skip_grant_tables" && !isFalse(s.value)) {
        out.push(`${where(s)}: MariaDB without authentication`);
      }
    }
    return out;
  },
});
