import * as fs from "fs";
import * as path from "path";
import { Construct } from "constructs";
import { TerraformStack } from "cdktf";
// cdktf's own hook for constructs that write files beside the stack (TerraformAsset uses it).
import { addCustomSynthesis } from "cdktf/lib/synthesize/synthesizer";
import { PRELUDE_TEXT } from "./shell-script";

/** The folder, beside a stack's cdk.tf.json, that holds its steps' scripts. */
export const SCRIPTS_DIR = "scripts";
/** The prelude's file in SCRIPTS_DIR: one copy per stack, read by every step. */
export const PRELUDE_FILE = "prelude.sh";

/**
 * The scripts of a stack's steps, written as files beside its `cdk.tf.json` when the stack is
 * synthesized: `scripts/prelude.sh` once, and `scripts/<logical id>.sh` per step (its body).
 * Terraform reads them with `file()` when a step runs, so the JSON carries ids, hashes and
 * wiring, and the plan does not parse 20 KB of template per step. A file is plain text, exactly
 * what runs after the head and prelude (no `$${` escapes), for operators and snapshot tests.
 */
export class StepScripts extends Construct {
  /** The stack's one StepScripts, created on first use. */
  static of(scope: Construct): StepScripts {
    const stack = TerraformStack.of(scope);
    const existing = stack.node.tryFindChild(STEP_SCRIPTS_ID);
    return existing instanceof StepScripts ? existing : new StepScripts(stack, STEP_SCRIPTS_ID);
  }

  private readonly bodies = new Map<string, string>();

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = TerraformStack.of(this);
    addCustomSynthesis(this, {
      onSynthesize: (session) => {
        const stackFile = session.manifest.forStack(stack).synthesizedStackPath;
        const dir = path.join(session.manifest.outdir, stackFile, "..", SCRIPTS_DIR);
        // A step removed since the last synth leaves no script behind.
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, PRELUDE_FILE), PRELUDE_TEXT);
        for (const [logicalId, body] of this.bodies) {
          fs.writeFileSync(path.join(dir, `${logicalId}.sh`), body);
        }
      },
    });
  }

  /**
   * Records a step's body; returns the Terraform expressions that read the prelude and the
   * body when the step runs (paths relative to the stack's folder, where Terraform runs).
   */
  add(logicalId: string, body: string): { prelude: string; body: string } {
    this.bodies.set(logicalId, body);
    return { prelude: fileExpression(PRELUDE_FILE), body: fileExpression(`${logicalId}.sh`) };
  }

  /** The body recorded for a step, as its file will hold it. */
  body(logicalId: string): string | undefined {
    return this.bodies.get(logicalId);
  }
}

const STEP_SCRIPTS_ID = "step_scripts";

function fileExpression(name: string): string {
  return `\${file("\${path.module}/${SCRIPTS_DIR}/${name}")}`;
}
