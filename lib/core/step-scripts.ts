import * as fs from "fs";
import * as path from "path";
import { Construct } from "constructs";
import { TerraformStack } from "cdktf";
// cdktf's own hook for constructs that write files beside the stack (TerraformAsset uses it).
import { addCustomSynthesis } from "cdktf/lib/synthesize/synthesizer";
import { quote } from "./field-rules";

/** The folder, beside a stack's cdk.tf.json, that holds its steps' scripts. */
export const SCRIPTS_DIR = "scripts";

/**
 * The scripts of a stack's steps, written as files beside its `cdk.tf.json` when the stack is
 * synthesized: `scripts/<logical id>.sh`, each exactly the text its host runs. A step's
 * `remote-exec` names its file (`script`), which Terraform uploads and runs when the step runs,
 * so the JSON carries ids, hashes and wiring, and neither `plan` nor `validate` reads or parses
 * a script (20 KB of template per step, then one `file()` call per part, were most of their
 * time).
 */
export class StepScripts extends Construct {
  /** The stack's one StepScripts, created on first use. */
  static of(scope: Construct): StepScripts {
    const stack = TerraformStack.of(scope);
    const existing = stack.node.tryFindChild(STEP_SCRIPTS_ID);
    return existing instanceof StepScripts ? existing : new StepScripts(stack, STEP_SCRIPTS_ID);
  }

  private readonly texts = new Map<string, () => string>();
  private readonly dataFiles = new Map<string, string>();

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
        for (const [logicalId, text] of this.texts) {
          fs.writeFileSync(path.join(dir, scriptFileName(logicalId)), text());
        }
        for (const [name, text] of this.dataFiles) fs.writeFileSync(path.join(dir, name), text);
      },
    });
  }

  /**
   * Records a file that several steps upload (a `file` provisioner's `source`), written once
   * beside the scripts as `scripts/NAME`; returns its path from the stack's folder. A step that
   * uploads it must carry its hash, so that new content re-runs it.
   */
  addData(name: string, text: string): string {
    if (!/^[a-z0-9_]+\.txt$/.test(name)) {
      throw new Error(`StepScripts data file: got ${quote(name)}: expected NAME.txt (a-z, 0-9, _)`);
    }
    const existing = this.dataFiles.get(name);
    if (existing !== undefined && existing !== text) {
      throw new Error(`StepScripts data file ${name}: given twice with different content`);
    }
    this.dataFiles.set(name, text);
    return `\${path.module}/${SCRIPTS_DIR}/${name}`;
  }

  /** A data file's content (`addData`), if recorded. */
  dataFile(name: string): string | undefined {
    return this.dataFiles.get(name);
  }

  /**
   * Records a step's script, as a function that renders its text when the file is written;
   * returns the path its `remote-exec` names (from the stack's folder).
   */
  add(logicalId: string, text: () => string): string {
    this.texts.set(logicalId, text);
    return `\${path.module}/${SCRIPTS_DIR}/${scriptFileName(logicalId)}`;
  }
}

const STEP_SCRIPTS_ID = "step_scripts";

function scriptFileName(logicalId: string): string {
  return `${logicalId}.sh`;
}
