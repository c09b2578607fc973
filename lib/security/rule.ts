import { IConstruct } from "constructs";

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
