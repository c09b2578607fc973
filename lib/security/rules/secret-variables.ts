import { IConstruct } from "constructs";
import { TerraformVariable } from "cdktf";
import { SecurityRule } from "../rule";
import { isSecretKey } from "./secret-placeholders";

/** OSC-SEC3: a secret's Terraform variable is sensitive and has no default (null, "not given", is none). */
export const SECRET_VARIABLES: SecurityRule = {
  id: "OSC-SEC3",
  name: "SecretVariable",
  reason:
    "Terraform prints a variable that is not sensitive in plans and outputs, and a default is a secret written into the Terraform JSON.",
  check(node: IConstruct): readonly string[] {
    if (!(node instanceof TerraformVariable)) return [];
    // The library's secrets are `secret_<name>`; a variable of one's own is judged by its name.
    const name = node.friendlyUniqueId;
    if (!name.startsWith("secret_") && !isSecretKey(name)) return [];
    const out: string[] = [];
    if (node.sensitive !== true) out.push(`variable ${name} is not sensitive`);
    if (node.default !== undefined && node.default !== null)
      out.push(`variable ${name} has a default: a value in the Terraform JSON`);
    return out;
  },
};
