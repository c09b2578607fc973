/**
 * Loaded with `ts-node -r` before the CLI (cli-check.test.ts): a rule of the pack reports a
 * made-up finding on one step, so that the CLI's refusal can be seen. No inventory can make a
 * finding of its own (its values are checked before any construct sees them).
 */
import { DEBUG_MODE, stepOf } from "../lib/security";

const check = DEBUG_MODE.check.bind(DEBUG_MODE);
DEBUG_MODE.check = (node) =>
  stepOf(node)?.logicalId === "controller1_keystone" ? ["a made-up finding"] : check(node);
