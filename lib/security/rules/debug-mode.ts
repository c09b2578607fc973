import type { Step } from "../../core/step";
import { stepRule } from "../rule";
import { isTrue, stepSettings, where } from "../settings";

/** oslo.config's `debug` and keystone's `insecure_debug`; Django's `DEBUG` and `TEMPLATE_DEBUG`. */
const DEBUG_KEYS = new Set(["debug", "insecure_debug", "template_debug"]);

/** OSC-LOG1: no service runs with debug on. */
export const DEBUG_MODE = stepRule({
  id: "OSC-LOG1",
  name: "DebugMode",
  reason:
    "Debug output logs request bodies and tokens, and in Django and Keystone's insecure_debug shows internals to any client in error pages.",
  checkStep(step: Step): readonly string[] {
    return stepSettings(step)
      .filter((s) => DEBUG_KEYS.has(s.name) && isTrue(s.value))
      .map((s) => `${where(s)} = ${s.value}: debug is on`);
  },
});
