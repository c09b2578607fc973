import type { Step } from "../../core/step";
import { stepRule } from "../rule";
import { stepCommands, stepSettings, where } from "../settings";

/** OSC-IAM1: Keystone has no admin token; the admin is bootstrapped with a password. */
export const ADMIN_TOKEN = stepRule({
  id: "OSC-IAM1",
  name: "AdminToken",
  reason:
    "Keystone's admin token is a shared secret that bypasses authentication and authorization; `keystone-manage bootstrap` makes the admin without it.",
  checkStep(step: Step): readonly string[] {
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
});
