import { IConstruct } from "constructs";
import { SecurityRule } from "../rule";
import { stepCommands, stepOf, stepSettings, where } from "../settings";

/** OSC-IAM1: Keystone has no admin token; the admin is bootstrapped with a password. */
export const ADMIN_TOKEN: SecurityRule = {
  id: "OSC-IAM1",
  name: "AdminToken",
  reason:
    "Keystone's admin token is a shared secret that bypasses authentication and authorization; `keystone-manage bootstrap` makes the admin without it.",
  check(node: IConstruct): readonly string[] {
    const step = stepOf(node);
    if (!step) return [];
    const out: string[] = [];
    for (const s of stepSettings(step)) {
      const key = s.name;
      if (key === "admin_token" && s.value !== "") out.push(`${where(s)} is set: an admin token`);
      if (key === "os_service_token") out.push(`${where(s)} is set: an admin token in the environment`);
      if (key === "pipeline" && /\badmin_token_auth\b/.test(s.value)) {
        out.push(`${where(s)} has admin_token_auth: the admin token's middleware`);
      }
    }
    if (/\bOS_SERVICE_TOKEN=/.test(stepCommands(step))) {
      out.push("a command sets OS_SERVICE_TOKEN: an admin token in the environment");
    }
    return out;
  },
};
