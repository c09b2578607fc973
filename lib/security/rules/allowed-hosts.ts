import type { Step } from "../../core/step";
import { stepRule } from "../rule";
import { stepSettings, where } from "../settings";

/** OSC-WEB1: Django's ALLOWED_HOSTS (Horizon) names the dashboard's hosts, never `*`. */
export const ALLOWED_HOSTS_WILDCARD = stepRule({
  id: "OSC-WEB1",
  name: "AllowedHostsWildcard",
  reason:
    "With `*` in ALLOWED_HOSTS Django trusts any Host header, which lets a forged one into password-reset links and cached pages (host header poisoning).",
  checkStep(step: Step): readonly string[] {
    return stepSettings(step)
      .filter((s) => s.key === "ALLOWED_HOSTS" && (s.value === "*" || /["']\*["']/.test(s.value)))
      .map((s) => `${where(s)} = ${s.value}: any Host header is accepted`);
  },
});
