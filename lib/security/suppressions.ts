import { IConstruct } from "constructs";
import { SECURITY_RULES } from "./rules";

/** The metadata type that carries a suppression on a construct's node. */
const SUPPRESSION = "openstack-cdktf:security-suppression";
/** A reason must say something: "ok" or "TODO" is not one. */
export const MIN_REASON_LENGTH = 20;

/** A rule suppressed on a construct (`suppressSecurityRule`), as a finding it covers carries it. */
export interface SecuritySuppression {
  /** The suppressed rule's id (`OSC-NET1`). */
  readonly ruleId: string;
  /** Why the rule does not apply there, trimmed; `check` prints it beside the finding. */
  readonly reason: string;
  /** The construct it was added to (it covers that construct and everything under it). */
  readonly path: string;
}

/**
 * Suppresses one security rule on one construct and everything under it, with a justification
 * that `check` prints beside the finding. The rule must exist and the reason must be a sentence
 * (at least MIN_REASON_LENGTH characters); one suppression per rule and construct.
 *
 * ```ts
 * suppressSecurityRule(step, "OSC-NET1", "the lab's proxy listens on every address on purpose: …");
 * ```
 */
export function suppressSecurityRule(construct: IConstruct, ruleId: string, reason: string): void {
  const where = construct.node.path || "the app";
  if (!SECURITY_RULES.some((r) => r.id === ruleId)) {
    throw new Error(
      `suppressSecurityRule ${where}: got rule ${JSON.stringify(ruleId)}: expected one of ${SECURITY_RULES.map((r) => r.id).join(", ")}`,
    );
  }
  const why = (reason ?? "").trim();
  if (why.length < MIN_REASON_LENGTH) {
    throw new Error(
      `suppressSecurityRule ${where} ${ruleId}: got reason ${JSON.stringify(why)}: expected a justification of at least ${MIN_REASON_LENGTH} characters`,
    );
  }
  if (ownSuppressions(construct).some((s) => s.ruleId === ruleId)) {
    throw new Error(`suppressSecurityRule ${where}: ${ruleId} is already suppressed here`);
  }
  construct.node.addMetadata(SUPPRESSION, { ruleId, reason: why });
}

function ownSuppressions(construct: IConstruct): SecuritySuppression[] {
  return construct.node.metadata
    .filter((m) => m.type === SUPPRESSION)
    .map((m) => ({ ...(m.data as { ruleId: string; reason: string }), path: construct.node.path }));
}

/** The suppression of a rule that covers a construct: its own, else its nearest parent's. */
export function suppressionOf(construct: IConstruct, ruleId: string): SecuritySuppression | undefined {
  for (const scope of [...construct.node.scopes].reverse()) {
    const found = ownSuppressions(scope).find((s) => s.ruleId === ruleId);
    if (found) return found;
  }
  return undefined;
}
