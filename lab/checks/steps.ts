/**
 * What a step's run leaves on a host once the deploy is done, checked on every host: no change
 * records (a record outlives only a run that did not end well; see "A run cut short" in
 * lib/core/shell-script.ts), no copy of a cut run's script waiting to be finished, the step
 * lock free (no process started by a step holds it), no
 * policy-rc.d left from a cut install, and dpkg with nothing interrupted. After an apply that
 * was cut and run again, this is what "converged" means on the host itself.
 */
import { HOST_STATE_DIR, STEP_LOCK } from "../../lib/core/shell-script";
import { Check, perHost } from "./types";

const PROBE = [
  `changes=$(find ${HOST_STATE_DIR}/changes -mindepth 1 -printf '%P ' 2>/dev/null || true)`,
  `cut=$(find ${HOST_STATE_DIR}/running -mindepth 1 -printf '%P ' 2>/dev/null || true)`,
  `if [ -e ${STEP_LOCK} ] && ! flock -n ${STEP_LOCK} true; then lock="held by $(lslocks -n -o PID,COMMAND | tr -s ' ' | tr '\\n' ';')"; else lock=free; fi`,
  "policy=$([ -e /usr/sbin/policy-rc.d ] && echo present || echo absent)",
  "audit=$(dpkg --audit 2>&1 | head -3 | tr '\\n' ' ')",
  'printf "changes=%s\\ncut=%s\\nlock=%s\\npolicy=%s\\naudit=%s\\n" "$changes" "$cut" "$lock" "$policy" "$audit"',
].join("\n");

/** Judges the probe's output; exported for the unit test. */
export function judgeStepLeftovers(output: string): { ok: boolean; detail: string } {
  const field = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(output)?.[1]?.trim();
  const changes = field("changes");
  const cut = field("cut");
  const lock = field("lock");
  const policy = field("policy");
  const audit = field("audit");
  if (
    changes === undefined ||
    cut === undefined ||
    lock === undefined ||
    policy === undefined ||
    audit === undefined
  ) {
    return { ok: false, detail: `unexpected probe output: ${output.trim().slice(0, 200)}` };
  }
  const problems: string[] = [];
  if (changes) problems.push(`change records left (a step did not end well): ${changes}`);
  if (cut) problems.push(`a cut run never finished: ${cut}`);
  if (lock !== "free") problems.push(`step lock ${lock}`);
  if (policy !== "absent") problems.push("/usr/sbin/policy-rc.d left behind");
  if (audit) problems.push(`dpkg --audit: ${audit}`);
  return {
    ok: problems.length === 0,
    detail: problems.length
      ? problems.join("; ")
      : "no change records, no cut run, step lock free, no policy-rc.d, dpkg clean",
  };
}

export const stepLeftovers: Check = perHost("step-leftovers", async (host, ctx) => {
  const r = await ctx.ssh(host, PROBE);
  if (r.code !== 0) return { ok: false, detail: `probe exit ${r.code}: ${r.stderr.trim()}` };
  return judgeStepLeftovers(r.stdout);
});

export const stepChecks: readonly Check[] = [stepLeftovers];
