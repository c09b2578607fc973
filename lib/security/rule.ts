import { IConstruct } from "constructs";
import type { Step } from "../core/step";
import { stepOf } from "./settings";

/**
 * One security rule, in the manner of cdk-nag: an id that suppressions name, a short name, the
 * reason it exists, and a check of one construct. The checks read the library's own constructs
 * (a step's files, keys, units and commands; Terraform variables and resources), not the JSON.
 */
export interface SecurityRule {
  /** `OSC-NET1`: what a finding prints and a suppression names. */
  readonly id: string;
  /** `WildcardBind`. */
  readonly name: string;
  /** Why the rule exists, in one sentence. */
  readonly reason: string;
  /**
   * What is wrong with `node` under this rule, one message per problem; none when the rule holds
   * or does not apply to it. A message never quotes a secret's value.
   */
  check(node: IConstruct): readonly string[];
}

/** A rule about what a step does (its files, keys, units, commands): checks steps, skips the rest. */
export function stepRule(
  rule: Omit<SecurityRule, "check"> & { checkStep(step: Step): readonly string[] },
): SecurityRule {
  const { checkStep, ...about } = rule;
  return {
    ...about,
    check(node: IConstruct): readonly string[] {
      const step = stepOf(node);
      return step ? checkStep(step) : [];
    },
  };
}
