import { createHash } from "crypto";
import { Construct } from "constructs";
import {
  DataResource,
  FileProvisioner,
  Fn,
  ITerraformDependable,
  RemoteExecProvisioner,
  SSHProvisionerConnection,
  TerraformResource,
  TerraformStack,
} from "cdktf";
import { NullProvider } from "@cdktf/provider-null/lib/provider";
import { Resource as NullResource } from "@cdktf/provider-null/lib/resource";
import { ShellScript } from "./shell-script";

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

export interface StepProps {
  /** The host the script runs on. */
  readonly target: StepTarget;
  /** The work, as a script. Mutually exclusive with nothing; rendered once, at construction. */
  readonly script: ShellScript;
  /** Steps (or other resources) that must finish first. */
  readonly dependsOn?: readonly ITerraformDependable[];
  /**
   * Terraform expressions whose values the work depends on but that are not in the script's
   * text (secret variables, other resources' ids). Their hash joins the triggers.
   * @default none
   */
  readonly inputs?: Record<string, string>;
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

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * One unit of remote work on one host: one resource whose `remote-exec` provisioner runs the
 * rendered script over SSH. The triggers hash the script and every input it depends on, so a
 * change replaces exactly the steps whose work changed.
 */
export class Step extends Construct {
  /** The Terraform resource (`terraform_data` or `null_resource`). */
  readonly resource: TerraformResource;
  /** The rendered script, as it will run on the host. */
  readonly scriptText: string;
  /** The logical id, e.g. `controller1_base`. */
  readonly logicalId: string;

  constructor(scope: Construct, name: string, props: StepProps) {
    super(scope, name);
    if (!/^[a-z][a-z0-9_]*$/.test(name)) {
      throw new Error(`Step name: got ${JSON.stringify(name)}: expected lowercase letters, digits and '_'`);
    }
    this.logicalId = stepLogicalId(props.target.hostName, name);
    this.scriptText = props.script.render();
    const triggers: Record<string, string> = { script: sha256Hex(this.scriptText) };
    const inputNames = Object.keys(props.inputs ?? {}).sort();
    if (inputNames.length > 0) {
      triggers.inputs = Fn.sha256(Fn.join("\n", inputNames.map((key) => (props.inputs ?? {})[key])));
    }
    const provisioners = [
      ...(props.preProvisioners ?? []),
      { type: "remote-exec", inline: [escapeTemplate(this.scriptText)] } satisfies RemoteExecProvisioner,
    ];
    const common = {
      connection: props.target.connection,
      provisioners,
      dependsOn: props.dependsOn ? [...props.dependsOn] : undefined,
    };
    if ((props.target.resourceKind ?? "terraform_data") === "null_resource") {
      ensureNullProvider(this);
      this.resource = new NullResource(this, "resource", { ...common, triggers });
    } else {
      this.resource = new DataResource(this, "resource", { ...common, triggersReplace: triggers });
    }
    this.resource.overrideLogicalId(this.logicalId);
  }
}

/**
 * Terraform reads `${` and `%{` in any string as template syntax; a script's own `${var}` must
 * reach the host unchanged, so it is written `$${var}`.
 */
export function escapeTemplate(text: string): string {
  return text.replace(/\$\{/g, "$$${").replace(/%\{/g, "%%{");
}

/** `null_resource` needs its provider block, once per stack. */
function ensureNullProvider(scope: Construct): void {
  const stack = TerraformStack.of(scope);
  if (!stack.node.tryFindChild("null_provider")) {
    new NullProvider(stack, "null_provider");
  }
}
