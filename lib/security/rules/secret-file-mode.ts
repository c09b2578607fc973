import { WrittenFile } from "../../core/shell-script";
import type { Step } from "../../core/step";
import { stepRule } from "../rule";
import { PLACEHOLDER } from "../settings";

/** Groups that hold ordinary users or unrelated daemons: no service's own group. */
const SHARED_GROUPS = new Set([
  "users",
  "staff",
  "adm",
  "sudo",
  "wheel",
  "nogroup",
  "audio",
  "video",
  "plugdev",
  "dialout",
  "cdrom",
  "netdev",
  "lpadmin",
  "operator",
  "systemd-journal",
]);

/** Whether the installed file holds a secret: its placeholders are filled on the host. */
function holdsSecrets(file: WrittenFile): boolean {
  return file.fillsSecrets && PLACEHOLDER.test(file.content);
}

/**
 * OSC-SEC2: a file with secrets is readable by its owner and at most by the group of the
 * service that reads it (`root:keystone 0640`), never by others.
 */
export const SECRET_FILE_MODE = stepRule({
  id: "OSC-SEC2",
  name: "SecretFileReadable",
  reason:
    "A config file with secrets that others (or a group of users) may read hands the cloud's passwords to every local account and compromised daemon.",
  checkStep(step: Step): readonly string[] {
    const out: string[] = [];
    for (const file of step.files.filter(holdsSecrets)) {
      const mode = parseInt(file.mode, 8);
      const what = `${file.path} (${file.owner}:${file.group} ${file.mode}) holds secrets`;
      if ((mode & 0o007) !== 0) out.push(`${what}: others may ${mode & 0o004 ? "read" : "use"} it`);
      if ((mode & 0o060) !== 0 && SHARED_GROUPS.has(file.group)) {
        out.push(`${what}: group ${file.group} is no service's own`);
      }
    }
    return out;
  },
});
