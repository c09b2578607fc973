import { IConstruct } from "constructs";
import { Aspects, IAspect, TerraformStack } from "cdktf";
import { SecurityRule } from "./rule";
import { SECURITY_RULES } from "./rules";
import { SecuritySuppression, suppressionOf } from "./suppressions";

/** One rule broken by one construct. */
export interface SecurityFinding {
  /** The rule's id (`OSC-NET1`), which a suppression names. */
  readonly ruleId: string;
  /** The rule's short name (`WildcardBind`). */
  readonly ruleName: string;
  /** The construct's path (`furyu/cluster/glance/controller1/glance` for a step). */
  readonly path: string;
  /** What is wrong, in one line; never a secret's value. */
  readonly message: string;
  /** Set when a suppression covers the construct: the finding is listed, and does not fail synth. */
  readonly suppressed?: SecuritySuppression;
}

/** What the rules find on one construct (not its children). */
export function findingsOf(
  node: IConstruct,
  rules: readonly SecurityRule[] = SECURITY_RULES,
  withSuppressions = true,
): SecurityFinding[] {
  const findings: SecurityFinding[] = [];
  for (const rule of rules) {
    for (const message of rule.check(node)) {
      findings.push({ ruleId: rule.id, ruleName: rule.name, path: node.node.path, message });
    }
  }
  return withSuppressions && findings.length > 0 ? findings.map(withSuppression(node)) : findings;
}

/** A finding with the suppression that covers it now, if any. */
function withSuppression(node: IConstruct): (finding: SecurityFinding) => SecurityFinding {
  return ({ suppressed: _old, ...finding }) => {
    const suppressed = suppressionOf(node, finding.ruleId);
    return suppressed ? { ...finding, suppressed } : finding;
  };
}

/** What the rules find on a construct and everything under it (a stack, a cluster), in tree order. */
export function securityFindings(
  scope: IConstruct,
  rules: readonly SecurityRule[] = SECURITY_RULES,
): SecurityFinding[] {
  return scope.node.findAll().flatMap((node) => findingsOf(node, rules));
}

/**
 * One line: `OSC-NET1 WildcardBind at PATH: MESSAGE`, then `(suppressed: REASON)` when a
 * suppression covers it (`suppressed at SCOPE` when it sits on a parent).
 */
export function formatFinding(finding: SecurityFinding): string {
  const line = `${finding.ruleId} ${finding.ruleName} at ${finding.path}: ${finding.message}`;
  const s = finding.suppressed;
  if (!s) return line;
  return `${line} (suppressed${s.path === finding.path ? "" : ` at ${s.path}`}: ${s.reason})`;
}

/** Unsuppressed findings, one line each: what makes synth fail. */
export class SecurityCheckError extends Error {
  constructor(
    /** The unsuppressed findings, in tree order. */
    readonly findings: readonly SecurityFinding[],
  ) {
    super(findings.map((f) => `security check ${formatFinding(f)}`).join("\n"));
    this.name = "SecurityCheckError";
  }
}

/** Throws SecurityCheckError when a rule finds something under `scope` that no suppression covers. */
export function assertNoSecurityFindings(
  scope: IConstruct,
  rules?: readonly SecurityRule[],
): SecurityFinding[] {
  const findings = securityFindings(scope, rules);
  const open = findings.filter((f) => !f.suppressed);
  if (open.length > 0) throw new SecurityCheckError(open);
  return findings;
}

/**
 * The security checks as a cdktf Aspect, in the manner of cdk-nag: at synth it runs the rules
 * on every construct, and a construct with a finding that no suppression covers gets a
 * validation error, so that synth (`app.synth()`, `Testing.fullSynth`, `Testing.synth(stack,
 * true)`) fails before it writes the stack, naming each finding. `OpenStackStack` adds it;
 * add it to a stack of your own with `addSecurityChecks(stack)`.
 */
export class SecurityChecks implements IAspect {
  /** The first stack's instance (`addSecurityChecks`), if any. */
  static of(stack: TerraformStack): SecurityChecks | undefined {
    return Aspects.of(stack).all.find((a): a is SecurityChecks => a instanceof SecurityChecks);
  }

  /** Each construct's findings without their suppressions: the rules run once per construct. */
  private readonly unsuppressed = new WeakMap<IConstruct, readonly SecurityFinding[]>();
  private readonly found = new WeakMap<IConstruct, readonly SecurityFinding[]>();
  private readonly validated = new WeakSet<IConstruct>();

  constructor(
    /** The rules it runs. @default SECURITY_RULES (the library's whole rule pack) */
    readonly rules: readonly SecurityRule[] = SECURITY_RULES,
  ) {}

  visit(node: IConstruct): void {
    let findings = this.unsuppressed.get(node);
    if (!findings) {
      findings = findingsOf(node, this.rules, false);
      this.unsuppressed.set(node, findings);
    }
    // The suppressions again on every visit: one may have been added since the last synth.
    this.found.set(node, findings.length > 0 ? findings.map(withSuppression(node)) : findings);
    // A validation only where there is something to say (a 1000-node stack has tens of thousands).
    if (findings.length > 0 && !this.validated.has(node)) {
      this.validated.add(node);
      node.node.addValidation({
        validate: () =>
          (this.found.get(node) ?? [])
            .filter((f) => !f.suppressed)
            .map((f) => `${f.ruleId} ${f.ruleName}: ${f.message}`),
      });
    }
  }

  /** What the last visit found under `scope`, suppressed findings too, in tree order. */
  findingsUnder(scope: IConstruct): SecurityFinding[] {
    return scope.node.findAll().flatMap((node) => [...(this.found.get(node) ?? [])]);
  }
}

/** Adds the security checks to a stack, once; returns the stack's instance. */
export function addSecurityChecks(stack: TerraformStack): SecurityChecks {
  const existing = SecurityChecks.of(stack);
  if (existing) return existing;
  const checks = new SecurityChecks();
  Aspects.of(stack).add(checks);
  return checks;
}
