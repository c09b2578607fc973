/**
 * No secret value leaks: every value of the cluster's secrets file (and its base64, the form in
 * which the library uploads it) is searched for in the synthesized stack, the lab's Terraform
 * state and the lab's deploy/re-apply/failover logs; a hit names the file and the secret's NAME,
 * never the value. On each host the delivered secrets must be exactly the ones the stack
 * uploads there, each 0600 root:root, not listable by others, and the upload gone.
 */
import * as fs from "fs";
import * as path from "path";
import { HOST_SECRETS_DIR } from "../../lib/core/shell-script";
import { LOG_DIR, TF_STATE_DIR } from "../config";
import { secretsFile, stackDir } from "../deploy";
import { HostPlan } from "../plan";
import { Check, CheckContext, CheckResult } from "./types";

export const SECRETS_DIR = HOST_SECRETS_DIR;
const UPLOAD_DIR = "/root/.openstack-cdktf-upload";
/** Shorter values would match by chance; none of the catalog's kinds is that short. */
const MIN_LENGTH = 8;
/** Files bigger than this are no text the lab or the library wrote (e.g. provider binaries). */
const MAX_FILE = 64 * 1024 * 1024;

/** The forms a value could take in a file: as is, base64 (with and without padding). */
export function secretForms(value: string): { form: string; needle: Buffer }[] {
  const b64 = Buffer.from(value, "utf8").toString("base64");
  const forms = [
    { form: "value", needle: Buffer.from(value, "utf8") },
    { form: "base64", needle: Buffer.from(b64, "utf8") },
  ];
  const bare = b64.replace(/=+$/, "");
  if (bare !== b64) forms.push({ form: "base64", needle: Buffer.from(bare, "utf8") });
  return forms;
}

export interface SecretHit {
  readonly file: string;
  readonly name: string;
  readonly form: string;
}

/** Searches each file for each secret (name -> value); returns where which NAME was found. */
export function scanForSecrets(
  files: readonly string[],
  secrets: Readonly<Record<string, string>>,
): SecretHit[] {
  const needles = Object.entries(secrets)
    .filter(([, v]) => v.length >= MIN_LENGTH)
    .flatMap(([name, value]) => secretForms(value).map((f) => ({ name, ...f })));
  const hits: SecretHit[] = [];
  for (const file of files) {
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch {
      continue;
    }
    const seen = new Set<string>();
    for (const n of needles) {
      const key = `${n.name}/${n.form}`;
      if (!seen.has(key) && data.includes(n.needle)) {
        seen.add(key);
        hits.push({ file, name: n.name, form: n.form });
      }
    }
  }
  return hits;
}

/** Regular files under dir, recursively (symlinks not followed), at most MAX_FILE bytes. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(p));
    else if (entry.isFile() && fs.statSync(p).size <= MAX_FILE) out.push(p);
  }
  return out.sort();
}

/** The places a secret must never be: synthesized stack, the lab's Terraform state, its logs. */
export function leakCandidates(
  cluster: string,
  stack: string,
): { stack: string[]; state: string[]; logs: string[] } {
  const inDir = (dir: string, pred: (name: string) => boolean) =>
    fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .filter(pred)
          .map((n) => path.join(dir, n))
          .filter((p) => fs.statSync(p).isFile())
          .sort()
      : [];
  return {
    stack: filesUnder(stack),
    state: inDir(TF_STATE_DIR, (n) => n.startsWith(`${cluster}.tfstate`)),
    logs: inDir(LOG_DIR, (n) => n.startsWith(`${cluster}-`) && n.endsWith(".log")),
  };
}

/** Secret NAME -> value from the secrets file (`secret_NAME` keys). */
export function readSecrets(file: string): Record<string, string> {
  const raw = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === "string") out[k.replace(/^secret_/, "")] = v;
  }
  return out;
}

function leakCheck(ctx: CheckContext): CheckResult {
  const check = "secrets";
  const host = "local";
  const file = secretsFile(ctx.inventory);
  if (!fs.existsSync(file)) return { check, host, ok: false, detail: `no secrets file ${file}` };
  let secrets: Record<string, string>;
  try {
    secrets = readSecrets(file);
  } catch {
    return { check, host, ok: false, detail: `${file}: not a JSON object of secrets` };
  }
  const names = Object.keys(secrets);
  const short = names.filter((n) => secrets[n].length < MIN_LENGTH);
  const stack = stackDir(ctx.inventory);
  const where = leakCandidates(ctx.inventory.cluster, stack);
  const all = [...where.stack, ...where.state, ...where.logs];
  const problems: string[] = [];
  if (where.stack.length === 0) problems.push(`nothing synthesized in ${stack}`);
  if (where.state.length === 0) problems.push(`no Terraform state in ${TF_STATE_DIR}`);
  if (short.length) problems.push(`values too short to search for: ${short.join(", ")}`);
  const hits = scanForSecrets(all, secrets);
  for (const h of hits) problems.push(`${h.name} (${h.form}) in ${h.file}`);
  return {
    check,
    host,
    ok: problems.length === 0,
    detail: problems.length
      ? problems.join("; ")
      : `none of ${names.length} secrets (value or base64) in ${where.stack.length} stack files, ${where.state.length} state files, ${where.logs.length} logs`,
  };
}

/** Host address -> names of the secrets the synthesized stack uploads there. */
export function deliveredSecrets(stackJson: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const resources = (stackJson as { resource?: Record<string, Record<string, unknown>> }).resource ?? {};
  for (const byName of Object.values(resources)) {
    for (const r of Object.values(byName) as {
      connection?: { host?: string };
      provisioner?: { file?: { content?: string; destination?: string } }[];
    }[]) {
      const file = r.provisioner?.find((p) =>
        p.file?.destination?.endsWith("/.openstack-cdktf-upload/secrets"),
      )?.file;
      const address = r.connection?.host;
      if (!file?.content || !address) continue;
      const names = file.content
        .split("\n")
        .map((l) => l.split(" ")[0])
        .filter(Boolean);
      out.set(address, [...new Set([...(out.get(address) ?? []), ...names])].sort());
    }
  }
  return out;
}

async function hostSecrets(
  ctx: CheckContext,
  host: HostPlan,
  expected: string[] | undefined,
): Promise<CheckResult> {
  const check = "secret-files";
  const r = await ctx.ssh(
    host,
    `stat -c '%a %U %G %n' /etc/openstack-cdktf ${SECRETS_DIR} 2>/dev/null; find ${SECRETS_DIR} -mindepth 1 -maxdepth 1 -exec stat -c '%a %U %G %F %n' {} + 2>/dev/null; echo UPLOAD; find ${UPLOAD_DIR} -mindepth 1 2>/dev/null`,
    30_000,
  );
  if (r.stdout === "" && r.code !== 0)
    return { check, host: host.name, ok: false, detail: r.stderr.trim() || `exit ${r.code}` };
  const [stats, upload] = r.stdout.split("UPLOAD\n");
  const lines = stats.trim().split("\n").filter(Boolean);
  const dirMode = (p: string) =>
    lines.find((l) => l.endsWith(` ${p}`) && l.split(" ").length === 4)?.split(" ");
  const top = dirMode("/etc/openstack-cdktf");
  const dir = dirMode(SECRETS_DIR);
  const files = lines
    .filter((l) => l.split(" ").length > 4)
    .map((l) => {
      const [mode, user, group, ...rest] = l.split(" ");
      const name = rest.join(" ").split("/").pop()!;
      return { mode, user, group, kind: rest.slice(0, -1).join(" "), name };
    });
  const problems: string[] = [];
  const want = expected ?? [];
  if (want.length > 0 && !dir) problems.push(`no ${SECRETS_DIR}`);
  for (const f of files) {
    if (f.kind !== "regular file") problems.push(`${f.name} is a ${f.kind}`);
    else if (f.mode !== "600" || f.user !== "root" || f.group !== "root")
      problems.push(`${f.name} is ${f.mode} ${f.user}:${f.group}, expected 600 root:root`);
  }
  const have = files.map((f) => f.name);
  const missing = want.filter((n) => !have.includes(n));
  const extra = have.filter((n) => !want.includes(n));
  if (missing.length) problems.push(`missing: ${missing.join(", ")}`);
  if (extra.length) problems.push(`not delivered by the stack: ${extra.join(", ")}`);
  // Others must not even list the names: one of the two directories must be root-only.
  const closed = (d?: string[]) => d !== undefined && d[1] === "root" && /^[0-7]?[0-7]00$/.test(d[0]);
  if (dir && !closed(top) && !closed(dir))
    problems.push(
      `${SECRETS_DIR} is ${dir[0]} and /etc/openstack-cdktf ${top?.[0] ?? "?"}: others can reach it`,
    );
  const left = (upload ?? "").trim().split("\n").filter(Boolean);
  if (left.length) problems.push(`upload left behind: ${left.join(", ")}`);
  return {
    check,
    host: host.name,
    ok: problems.length === 0,
    detail: problems.length
      ? problems.join("; ")
      : `${have.length} secrets (as the stack delivers), each 600 root:root; dirs /etc/openstack-cdktf ${top?.[0] ?? "-"}, secrets ${dir?.[0] ?? "-"}; ${UPLOAD_DIR} empty`,
  };
}

export const secretsCheck: Check = {
  name: "secrets",
  async run(ctx) {
    const results: CheckResult[] = [leakCheck(ctx)];
    let delivered: Map<string, string[]> | undefined;
    try {
      const json = path.join(stackDir(ctx.inventory), "cdk.tf.json");
      delivered = deliveredSecrets(JSON.parse(fs.readFileSync(json, "utf8")));
    } catch (err) {
      results.push({
        check: "secret-files",
        host: "-",
        ok: false,
        detail: `cannot read the synthesized stack: ${(err as Error).message}`,
      });
    }
    if (delivered) {
      const d = delivered;
      results.push(
        ...(await Promise.all(
          ctx.hosts.map((h) =>
            hostSecrets(ctx, h, d.get(h.address)).catch((err: Error): CheckResult => ({
              check: "secret-files",
              host: h.name,
              ok: false,
              detail: err.message,
            })),
          ),
        )),
      );
    }
    return results;
  },
};

/** Only the local search (for the e2e after the second apply, whose log is new). */
export const secretsLeakCheck: Check = { name: "secrets", run: async (ctx) => [leakCheck(ctx)] };
