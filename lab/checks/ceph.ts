/**
 * `ceph-health`, when the inventory has a `ceph` section: on the first controller (it has the
 * ceph CLI and the admin keyring), `ceph -s`, `ceph mon dump` and `ceph osd tree` as JSON must
 * show every monitor of the monmap in the quorum, one OSD on every storage host, up and in (as
 * many OSDs as storage hosts), every placement group active+clean (and at least one), and no
 * HEALTH_ERR. HEALTH_WARN passes, with its codes in the detail: the lab's disk is 70 % full,
 * which the monitors warn about.
 *
 * Placement groups of a pool made moments ago are still peering: the check asks again for up to
 * SETTLE_MS before it judges.
 */
import { HostPlan } from "../plan";
import { controllers, remote } from "./platform";
import { poll, s1 } from "./poll";
import { Verdict } from "./services/client";
import { Check, CheckContext, CheckResult, skip } from "./types";

const NAME = "ceph-health";
/** How long PGs and OSDs may take to settle before the verdict is final. */
const SETTLE_MS = 60_000;
/** The ceph CLI waits 300 s for a monitor by default; a cluster without quorum answers never. */
const CEPH = "ceph --connect-timeout 20";

/** `ceph -s -f json`, the fields judged (Ceph 16). */
export interface CephStatus {
  readonly fsid?: string;
  readonly health?: {
    readonly status?: string;
    readonly checks?: Readonly<
      Record<string, { readonly severity?: string; readonly summary?: { readonly message?: string } }>
    >;
  };
  readonly quorum_names?: readonly string[];
  readonly monmap?: { readonly num_mons?: number };
  readonly osdmap?: {
    readonly num_osds?: number;
    readonly num_up_osds?: number;
    readonly num_in_osds?: number;
  };
  readonly pgmap?: {
    readonly num_pgs?: number;
    readonly pgs_by_state?: readonly { readonly state_name: string; readonly count: number }[];
  };
}

/** `ceph mon dump -f json`: the monmap's monitors (`ceph -s` has only their number). */
export interface CephMonDump {
  readonly mons?: readonly { readonly name: string }[];
}

/** `ceph osd tree -f json`: CRUSH buckets (type host, their OSD ids as children) and OSDs. */
export interface CephOsdTree {
  readonly nodes?: readonly {
    readonly id: number;
    readonly name: string;
    readonly type: string;
    readonly children?: readonly number[];
    readonly status?: string;
    readonly reweight?: number;
  }[];
}

export interface CephState {
  readonly status: CephStatus;
  readonly mons: CephMonDump;
  readonly tree: CephOsdTree;
}

/** What one aspect found: problems (empty: fine) and, when fine, what it saw. */
interface Part {
  readonly problems: string[];
  readonly fine: string;
}

/** HEALTH_ERR fails; HEALTH_WARN passes, each code with its message. */
export function judgeHealth(status: CephStatus): Part {
  const health = status.health?.status;
  const codes = Object.entries(status.health?.checks ?? {}).map(
    ([code, c]) => `${code}${c.summary?.message ? `: ${c.summary.message}` : ""}`,
  );
  const text = `${health ?? "no health status"}${codes.length ? ` (${codes.join("; ")})` : ""}`;
  const ok = health === "HEALTH_OK" || health === "HEALTH_WARN";
  return { problems: ok ? [] : [text], fine: text };
}

/** Every monitor of the monmap (by name, from `mon dump`) is in the quorum. */
export function judgeQuorum(status: CephStatus, mons: CephMonDump): Part {
  const names = (mons.mons ?? []).map((m) => m.name);
  const quorum = status.quorum_names ?? [];
  const count = status.monmap?.num_mons ?? names.length;
  const out = names.filter((n) => !quorum.includes(n));
  const problems: string[] = [];
  if (count === 0) problems.push("no monitor in the monmap");
  else if (out.length || quorum.length < count)
    problems.push(
      `${quorum.length}/${count} monitors in the quorum (${quorum.join(", ") || "none"})` +
        (out.length ? `, out of it: ${out.join(", ")}` : ""),
    );
  return { problems, fine: `${quorum.length}/${count} monitors in the quorum (${quorum.join(", ")})` };
}

/**
 * One OSD per storage host, up and in: the counts of `ceph -s`, and in the CRUSH tree each
 * storage host's bucket with one OSD that is up and not reweighted to 0 (out).
 */
export function judgeOsds(status: CephStatus, tree: CephOsdTree, storageHosts: readonly string[]): Part {
  const want = storageHosts.length;
  const { num_osds: all, num_up_osds: up, num_in_osds: inn } = status.osdmap ?? {};
  const problems: string[] = [];
  if (all !== want || up !== want || inn !== want)
    problems.push(
      `${all ?? "?"} OSDs, ${up ?? "?"} up, ${inn ?? "?"} in: expected ${want} (one per storage host)`,
    );
  const nodes = tree.nodes ?? [];
  const seen: string[] = [];
  for (const host of storageHosts) {
    const bucket = nodes.find((n) => n.type === "host" && n.name === host);
    const osds = nodes.filter((n) => n.type === "osd" && (bucket?.children ?? []).includes(n.id));
    if (osds.length !== 1) {
      problems.push(`${host}: ${osds.length} OSDs in the CRUSH tree, expected 1`);
      continue;
    }
    const [osd] = osds;
    if (osd.status !== "up") problems.push(`${osd.name} on ${host}: ${osd.status ?? "no status"}`);
    else if (osd.reweight === 0) problems.push(`${osd.name} on ${host}: out (reweight 0)`);
    else seen.push(`${osd.name} on ${host}`);
  }
  return { problems, fine: `${want} OSD${want === 1 ? "" : "s"} up and in (${seen.join(", ")})` };
}

/** At least one PG, and all of them active+clean. */
export function judgePgs(status: CephStatus): Part {
  const total = status.pgmap?.num_pgs ?? 0;
  const states = status.pgmap?.pgs_by_state ?? [];
  const clean = states.filter((s) => s.state_name === "active+clean").reduce((n, s) => n + s.count, 0);
  const others = states
    .filter((s) => s.state_name !== "active+clean")
    .map((s) => `${s.count} ${s.state_name}`);
  const problems: string[] = [];
  if (total === 0) problems.push("no placement group (no pool?)");
  else if (clean !== total)
    problems.push(`${clean}/${total} PGs active+clean${others.length ? ` (${others.join(", ")})` : ""}`);
  return { problems, fine: `${total} PGs active+clean` };
}

/** The whole verdict: problems first; when there are none, what each aspect saw. */
export function judgeCeph(state: CephState, storageHosts: readonly string[]): Verdict {
  const parts = [
    judgeHealth(state.status),
    judgeQuorum(state.status, state.mons),
    judgeOsds(state.status, state.tree, storageHosts),
    judgePgs(state.status),
  ];
  const problems = parts.flatMap((p) => p.problems);
  if (problems.length) return { ok: false, detail: problems.join("; ") };
  return { ok: true, detail: `${parts.map((p) => p.fine).join("; ")} [fsid ${state.status.fsid ?? "?"}]` };
}

/** Parses a ceph command's JSON output; throws naming the command. */
export function cephJson<T>(out: string, what: string): T {
  try {
    return JSON.parse(out) as T;
  } catch {
    throw new Error(`\`ceph ${what} -f json\`: output is not JSON: ${out.trim().slice(0, 120)}`);
  }
}

async function cephState(ctx: CheckContext, host: HostPlan): Promise<CephState> {
  const ask = async <T>(what: string) =>
    cephJson<T>(await remote(ctx, host, `${CEPH} ${what} -f json`, { timeoutMs: 60_000 }), what);
  const [status, mons, tree] = await Promise.all([
    ask<CephStatus>("-s"),
    ask<CephMonDump>("mon dump"),
    ask<CephOsdTree>("osd tree"),
  ]);
  return { status, mons, tree };
}

/** Whether the inventory has a Ceph cluster (its `ceph` section; typed loosely until lib/ has it). */
export function hasCeph(ctx: CheckContext): boolean {
  return (ctx.inventory as { ceph?: unknown }).ceph !== undefined;
}

export const cephHealth: Check = {
  name: NAME,
  async run(ctx): Promise<CheckResult[]> {
    if (!hasCeph(ctx)) return [skip(NAME, "-", "no ceph section in the inventory")];
    const host = controllers(ctx)[0];
    if (!host) return [skip(NAME, "-", "no controller in the inventory")];
    const storage = ctx.hosts.filter((h) => h.roles.includes("storage")).map((h) => h.name);
    let last: Verdict = { ok: false, detail: "not asked" };
    let looks = 0;
    let verdict: Verdict;
    try {
      const { value, ms } = await poll(
        "Ceph settled",
        SETTLE_MS,
        async () => {
          looks++;
          last = judgeCeph(await cephState(ctx, host), storage);
          return last.ok ? last : undefined;
        },
        {
          intervalMs: 3000,
          // A ceph command that fails is the verdict at once; only the cluster's state is waited on.
          retryErrors: false,
          timeoutMessage: () => `${last.detail} (still so after ${SETTLE_MS / 1000} s)`,
        },
      );
      verdict = looks > 1 ? { ...value, detail: `${value.detail} (settled after ${s1(ms)})` } : value;
    } catch (err) {
      verdict = { ok: false, detail: (err as Error).message };
    }
    return [{ check: NAME, host: host.name, ok: verdict.ok, detail: verdict.detail }];
  },
};
