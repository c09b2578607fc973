import { createHash } from "crypto";
import { Construct } from "constructs";
import {
  FileProvisioner,
  IResolvable,
  ITerraformDependable,
  RemoteExecProvisioner,
  SSHProvisionerConnection,
  TerraformResource,
  TerraformStack,
  Token,
  Tokenization,
} from "cdktf";
import { NullProvider } from "@cdktf/provider-null/lib/provider";
import { Resource as NullResource } from "@cdktf/provider-null/lib/resource";
import {
  IniKeyEdit,
  LineEdit,
  Listener,
  ShellScript,
  scriptSha256,
  scriptText,
  WrittenFile,
} from "./shell-script";
import { StepScripts } from "./step-scripts";
import { TerraformData } from "./terraform-data";
import { quote } from "./field-rules";

/** Which Terraform resource carries the steps. */
export type StepResourceKind = "terraform_data" | "null_resource";

/** What a step needs to know about the host it runs on. */
export interface StepTarget {
  /** The host's name, used in logical ids and error messages. */
  readonly hostName: string;
  /** The SSH connection Terraform's provisioners use. */
  readonly connection: SSHProvisionerConnection;
  /** @default "terraform_data" */
  readonly resourceKind?: StepResourceKind;
}

/** Configures a `Step`: the host it runs on, its script, and what must finish first. */
export interface StepProps {
  /** The host the script runs on. */
  readonly target: StepTarget;
  /** The work, as a script. Mutually exclusive with nothing; rendered once, at construction. */
  readonly script: ShellScript;
  /** Steps (or other resources) that must finish first. */
  readonly dependsOn?: readonly ITerraformDependable[];
  /**
   * Bare Terraform expressions (such as `var.secret_x`) whose values the work depends on but
   * that are not in the script's text. Their hash joins the triggers, so a new value re-runs
   * the step; only the hash reaches the state.
   * @default none
   */
  readonly inputs?: Record<string, string> | IResolvable;
  /**
   * Provisioners that run before the script, such as a `file` upload.
   * @default none
   */
  readonly preProvisioners?: readonly (FileProvisioner | RemoteExecProvisioner)[];
}

/** `controller-1` + `mysql_install` → `controller_1_mysql_install`; ids are a public contract. */
export function stepLogicalId(hostName: string, stepName: string): string {
  const id = `${hostName}_${stepName}`.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[A-Za-z_]/.test(id) ? id : `h_${id}`;
}

/** `${sha256(join("\n", [a, b]))}` over bare expressions, in key order. */
export function inputsHash(inputs: Record<string, string>): string {
  const keys = Object.keys(inputs).sort();
  return `\${sha256(join("\\n", [${keys.map((k) => inputs[k]).join(", ")}]))}`;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * One unit of remote work on one host: one resource whose `remote-exec` provisioner runs the
 * rendered script over SSH. The triggers hash the script and every input it depends on, so a
 * change replaces exactly the steps whose work changed.
 */
export class Step extends Construct implements ITerraformDependable {
  /** The Terraform resource (`terraform_data` or `null_resource`). */
  readonly resource: TerraformResource;
  /** The lines of the script before the shared prelude: strict mode, the step's names. */
  readonly scriptHead: string;
  /** The step's own commands (the script without its head and the shared prelude). */
  readonly scriptBody: string;
  /** The logical id, e.g. `controller1_base`. */
  readonly logicalId: string;
  /** Terraform's address of the resource, e.g. `terraform_data.controller1_base`. */
  readonly address: string;
  /** The files the script writes whole (path, owner, mode, content): what the security checks read. */
  readonly files: readonly WrittenFile[];
  /** The keys the script sets in files a package shipped. */
  readonly iniEdits: readonly IniKeyEdit[];
  /** The lines the script replaces in files a package shipped. */
  readonly lineEdits: readonly LineEdit[];
  /** The units the script enables and (re)starts. */
  readonly restartedUnits: readonly string[];
  /** Where the daemons the script starts listen, as declared (`ShellScript.listen`). */
  readonly listeners: readonly Listener[];

  constructor(scope: Construct, name: string, props: StepProps) {
    super(scope, name);
    if (!/^[a-z][a-z0-9_]*$/.test(name)) {
      throw new Error(`Step name: got ${quote(name)}: expected lowercase letters, digits and '_'`);
    }
    this.logicalId = stepLogicalId(props.target.hostName, name);
    claimLogicalId(this, this.logicalId, props.target.hostName);
    this.scriptHead = props.script.renderHead();
    this.scriptBody = props.script.renderBody();
    this.files = props.script.files;
    this.iniEdits = props.script.iniEdits;
    this.lineEdits = props.script.lineEdits;
    this.restartedUnits = props.script.restartedUnits;
    this.listeners = props.script.listeners;
    // The whole text is built only when written: kept, it would be mostly copies of the prelude.
    const scriptFile = StepScripts.of(this).add(this.logicalId, () => this.scriptText);
    const triggers: Record<string, string> = { script: scriptSha256(this.scriptHead, this.scriptBody) };
    if (Tokenization.isResolvable(props.inputs)) {
      triggers.inputs = Token.asString(props.inputs);
    } else if (props.inputs && Object.keys(props.inputs).length > 0) {
      triggers.inputs = inputsHash(props.inputs);
    }
    const provisioners = [
      ...(props.preProvisioners ?? []),
      // Terraform uploads the file as it is and runs it: the text the trigger hashes.
      { type: "remote-exec", script: scriptFile } satisfies RemoteExecProvisioner,
    ];
    // Steps are named by their address as plain text: cdktf turns each dependency it is given
    // into a token, and every token captures a stack trace (most of a 51-step synth's time).
    // Other resources (rare) go the usual way.
    const dependencies = [...new Set(props.dependsOn ?? [])];
    const onlySteps = dependencies.every((d) => d instanceof Step);
    const common = {
      connection: props.target.connection,
      provisioners,
      dependsOn: !onlySteps ? dependencies : undefined,
    };
    const kind = props.target.resourceKind ?? "terraform_data";
    this.address = `${kind}.${this.logicalId}`;
    if (kind === "null_resource") {
      ensureNullProvider(this);
      this.resource = new NullResource(this, "resource", { ...common, triggers });
    } else {
      this.resource = new TerraformData(this, "resource", { ...common, triggersReplace: triggers });
    }
    this.resource.overrideLogicalId(this.logicalId);
    // Set as the resource's own list, not with addOverride: every override is also listed in the
    // stack's metadata, a list cdktf copies whole for each resource (quadratic in the steps).
    if (onlySteps && dependencies.length > 0) {
      this.resource.dependsOn = dependencies.map((d) => (d as Step).address);
    }
  }

  /** The rendered script (head, prelude, body), as it will run on the host. */
  get scriptText(): string {
    return scriptText(this.scriptHead, this.scriptBody);
  }

  /** Lets other resources and steps list this step in `dependsOn`. */
  get fqn(): string {
    return this.resource.fqn;
  }
}

/** Two steps whose names make one logical id (`a-b` + `c` and `a` + `b_c` both make `a_b_c`). */
export class StepIdCollisionError extends Error {
  constructor(
    message: string,
    /** The logical id both steps make. */
    readonly logicalId: string,
    /** The host of the step that came second, and of the one that has the id. */
    readonly hostName: string,
    /** The host of the step that took the id first. */
    readonly otherHostName: string,
  ) {
    super(message);
    this.name = "StepIdCollisionError";
  }
}

/**
 * The map `registry` keeps for `scope`'s stack (made on first use): what the stack's constructs
 * have claimed that no other construct of the stack may claim again.
 */
export function stackClaims<K, V>(registry: WeakMap<TerraformStack, Map<K, V>>, scope: Construct): Map<K, V> {
  const stack = TerraformStack.of(scope);
  let claims = registry.get(stack);
  if (!claims) {
    claims = new Map();
    registry.set(stack, claims);
  }
  return claims;
}

/** Per stack: each logical id taken, and the host of the step that took it. */
const claimedIds = new WeakMap<TerraformStack, Map<string, string>>();

/** Two steps with one logical id would silently merge into one resource: refuse the second. */
function claimLogicalId(scope: Construct, logicalId: string, hostName: string): void {
  const stack = TerraformStack.of(scope);
  const ids = stackClaims(claimedIds, scope);
  const other = ids.get(logicalId);
  if (other !== undefined) {
    throw new StepIdCollisionError(
      `Step ${scope.node.path}: logical id ${logicalId} is already used in stack ${stack.node.id}`,
      logicalId,
      hostName,
      other,
    );
  }
  ids.set(logicalId, hostName);
}

/** `null_resource` needs its provider block, once per stack. */
function ensureNullProvider(scope: Construct): void {
  const stack = TerraformStack.of(scope);
  if (!stack.node.tryFindChild("null_provider")) {
    new NullProvider(stack, "null_provider");
  }
}
