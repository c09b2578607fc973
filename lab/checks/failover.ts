/**
 * The destructive platform check (`lab failover`, and a phase of the e2e): a client on a host
 * that is no controller INSERTs a row through the VIP every ~0.2 s throughout, while
 *   round 1: a switchover: Heartbeat is stopped on the active controller (the VIP must move to
 *            the other), then started again (the node rejoins; the VIP stays where it is);
 *   round 2: the now active controller loses power outright (a crash: the survivor takes the
 *            VIP after Heartbeat's deadtime), then it is booted again and must catch up.
 * Meanwhile the surviving controller runs `openstack token issue` + `openstack image list`
 * through the VIP (a new attempt every second, apiProber in lab/checks/services/client.ts,
 * lab/checks/py/api_prober.py): after the Heartbeat stop and the power cut they must work again
 * within a minute; the returned controller's units must be active and its nova-conductor,
 * nova-scheduler and cinder-scheduler report up.
 * Measured: time for the VIP to move, time no INSERT succeeded through the VIP, time until the
 * API calls worked again, rows written before/while/after, boot, catch-up and service times. At the end every acknowledged row must be on
 * both controllers and both must hold the same table (row count and CHECKSUM TABLE). After
 * each round the non-destructive checks run again (after round 1 with the VIP on the other
 * controller than at the start). In round 2 an image uploaded before the power cut must download
 * identical through the survivor while the other is off (Glance on Swift). Then, with two or more
 * network hosts, the router failover; with two or more storage hosts, the object failover
 * (lab/checks/storage-failover.ts).
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Inventory } from "../../lib/cluster/inventory";
import { LOG_DIR } from "../config";
import { sleep } from "../exec";
import { HostPlan } from "../plan";
import { startHost, stopHost } from "../power";
import { networkHosts } from "./dataplane";
import { routerFailover } from "./router-failover";
import { labContext, runChecks } from "../verify";
import { allChecks } from "./index";
import { CHECK_DB, prepareCheckDatabase, readPassword, slaveStatus, sql } from "./mysql";
import { bashCommand, clientHost, ensureHostPackages, holdersOf, remote, vipPair } from "./platform";
import { poll } from "./poll";
import { ProbeEvent, Prober } from "./prober";
import { ADMIN_OPENRC, apiProber, cliHost, recovery } from "./services/client";
import { objectFailover, uploadImage } from "./storage-failover";
import { apiColdStart, probeColdApis } from "./services/cold-start";
import { controlPlaneBack } from "./services/control-plane";
import { CheckContext, CheckResult } from "./types";

/** One INSERT attempt of the writer (`info`: the controller that took it, `@@hostname`, or the error). */
export type WriteEvent = ProbeEvent;

export interface Outage {
  /** Longest time without a successful INSERT, ms (end of one success to end of the next). */
  readonly longestGapMs: number;
  /** When that gap began and ended, ms relative to the trigger. */
  readonly gapFrom: number;
  readonly gapTo: number;
  readonly failedAttempts: number;
  /** The usual time between successes before the trigger (median), ms. */
  readonly normalGapMs: number;
  readonly servedBefore?: string;
  readonly servedAfter?: string;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** How long writes through the VIP stopped succeeding around `trigger` (up to `until`). */
export function outage(events: readonly WriteEvent[], trigger: number, until: number): Outage {
  const oks = events.filter((e) => e.ok).sort((a, b) => a.end - b.end);
  const before = oks.filter((e) => e.end <= trigger);
  const after = oks.filter((e) => e.end > trigger && e.end <= until);
  const chain = [...before.slice(-1), ...after];
  let longest = 0;
  let from = 0;
  let to = 0;
  for (let i = 1; i < chain.length; i++) {
    const gap = chain[i].end - chain[i - 1].end;
    if (gap > longest) [longest, from, to] = [gap, chain[i - 1].end - trigger, chain[i].end - trigger];
  }
  const normal = before.slice(-20);
  return {
    longestGapMs: longest,
    gapFrom: from,
    gapTo: to,
    failedAttempts: events.filter((e) => !e.ok && e.end > trigger && e.start <= until).length,
    normalGapMs: median(normal.slice(1).map((e, i) => e.end - normal[i].end)),
    servedBefore: before[before.length - 1]?.info,
    servedAfter: after[after.length - 1]?.info,
  };
}

const FAILOVER_USER = "osc_failover";
/** From power-on until the returned controller's nova and cinder services report up again. */
const CONTROL_PLANE_BACK_MS = 180_000;

/** The writer loop on the client host; the password is its first stdin line, EOF stops it. */
const WRITER = `${readPassword(FAILOVER_USER)}
seq=0
end=$((SECONDS + 1800))
while [ "$SECONDS" -lt "$end" ]; do
  seq=$((seq + 1))
  t0=$(date +%s%3N)
  out=$(timeout 5 mysql --defaults-extra-file="$cnf" -h "$1" -NB -e "INSERT INTO failover (run, seq, served_by) VALUES ('$2', $seq, @@hostname); SELECT @@hostname" ${CHECK_DB} 2>&1)
  rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "$t0 $(date +%s%3N) $seq OK $out"
  else
    echo "$t0 $(date +%s%3N) $seq ERR rc=$rc $(printf '%s' "$out" | head -n 1)"
  fi
  read -r -t 0.2 _
  [ $? -gt 128 ] || break
done`;

/** The writer on the client host: INSERTs through `address` every ~0.2 s until stopped. */
function startWriter(client: HostPlan, address: string, run: string, password: string, log?: string): Prober {
  return new Prober(client, bashCommand(WRITER, address, run), {
    name: "the writer",
    log,
    input: `${password}\n`,
    stopGraceMs: 15_000,
  });
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** Offset from a trigger: `+1.2 s` / `-0.1 s`. */
const rel = (ms: number) => `${ms < 0 ? "-" : "+"}${secs(Math.abs(ms))}`;

/** Seqs of the run present in the table on a controller. */
async function seqsOn(ctx: CheckContext, host: HostPlan, run: string): Promise<Set<number>> {
  return new Set(
    (await sql(ctx, host, `SELECT seq FROM ${CHECK_DB}.failover WHERE run = '${run}'`)).map(Number),
  );
}

async function countOn(ctx: CheckContext, host: HostPlan, run: string): Promise<number> {
  return Number((await sql(ctx, host, `SELECT COUNT(*) FROM ${CHECK_DB}.failover WHERE run = '${run}'`))[0]);
}

interface Report {
  readonly figures: string[];
  readonly problems: string[];
}

interface RoundContext extends Report {
  readonly ctx: CheckContext;
  readonly inv: Inventory;
  readonly vip: string;
  readonly run: string;
  readonly writer: Prober;
  /** Where the API prober logs every attempt. */
  readonly apiLog: string;
}

function note(rc: Report, line: string): void {
  console.log(`  ${line}`);
  rc.figures.push(line);
}

function problem(rc: Report, line: string): void {
  console.log(`  PROBLEM: ${line}`);
  rc.problems.push(line);
}

/**
 * Polls where the VIP is (every 100 ms, in the namespaces) until `to` alone holds it; returns
 * ms from `since` until it left `from` and until it was on `to` alone.
 */
async function watchVip(
  rc: RoundContext,
  from: HostPlan,
  to: HostPlan,
  since: number,
): Promise<{ leftMs: number; arrivedMs: number }> {
  let leftMs: number | undefined;
  await poll(
    `the VIP ${rc.vip} on ${to.name} alone`,
    60_000,
    async () => {
      const h = holdersOf(rc.ctx, rc.vip);
      if (leftMs === undefined && !h.includes(from)) leftMs = Date.now() - since;
      return h.length === 1 && h[0] === to ? true : undefined;
    },
    { intervalMs: 100 },
  );
  const arrivedMs = Date.now() - since;
  return { leftMs: leftMs ?? arrivedMs, arrivedMs };
}

/**
 * One failover: `how` takes the active controller's VIP away, the VIP must reach the standby,
 * writes must resume there. After a switchover (Heartbeat stopped, as for maintenance) the old
 * active's Heartbeat starts again and must rejoin without taking the VIP back; after a power cut
 * it is booted again and must catch up. Always tries to leave the old active running.
 */
async function round(
  rc: RoundContext,
  label: string,
  how: "switchover" | "power-cut",
  active: HostPlan,
  standby: HostPlan,
  /** Runs while `active` is off, once the APIs answer through the VIP again. */
  whileOff?: () => Promise<void>,
): Promise<void> {
  const { ctx, inv, writer, run } = rc;
  console.log(
    `\n--- failover ${label}: ${how === "switchover" ? `switchover: stop Heartbeat on ${active.name}, then start it again` : `power cut on ${active.name}`} (VIP ${rc.vip} ${active.name} -> ${standby.name})`,
  );
  await writer.waitFor(
    (ev) => ev.filter((e) => e.ok && e.info === active.name).length >= 25,
    30_000,
    `25 successful INSERTs through the VIP on ${active.name} before the failover`,
  );
  let poweredOff = false;
  let heartbeatStopped = false;
  let offAt = 0;
  let lateRows: WriteEvent[] = [];
  // The OpenStack APIs through the VIP, asked from the controller that survives.
  const api = apiProber(standby, rc.apiLog);
  try {
    await api.waitFor(
      (ev) => ev.filter((e) => e.ok).length >= 3,
      120_000,
      `3 successful \`openstack token issue\` + \`image list\` through the VIP from ${standby.name} before the failover`,
    );
    const ackedBefore = writer.acked();
    const trigger = Date.now();
    // The VIP is watched while the trigger runs (`systemctl stop heartbeat` takes seconds).
    let triggered: Promise<number>;
    if (how === "switchover") {
      heartbeatStopped = true;
      triggered = remote(ctx, active, "systemctl stop heartbeat", { timeoutMs: 120_000 }).then(() =>
        Date.now(),
      );
    } else {
      poweredOff = true;
      offAt = trigger;
      triggered = stopHost(inv, active.name).then(() => Date.now());
    }
    triggered.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    const vip = await watchVip(rc, active, standby, trigger);
    const triggerDone = await triggered;
    const what = how === "switchover" ? "`systemctl stop heartbeat`" : "the power cut";
    note(
      rc,
      `${label}: VIP gone from ${active.name} ${secs(vip.leftMs)} and on ${standby.name} alone ${secs(vip.arrivedMs)} after ${what} began (${what} took ${secs(triggerDone - trigger)})`,
    );
    const resumed = await poll(`INSERTs through the VIP served by ${standby.name}`, 60_000, async () =>
      writer.events.filter((e) => e.ok && e.end > trigger && e.info === standby.name).length >= 5
        ? true
        : undefined,
    );
    const o = outage(writer.events, trigger, Date.now());
    note(
      rc,
      `${label}: no INSERT succeeded through the VIP for ${secs(o.longestGapMs)} (from ${rel(o.gapFrom)} to ${rel(o.gapTo)}; usual spacing ${secs(o.normalGapMs)}), ${o.failedAttempts} attempts failed; served by ${o.servedBefore} before, ${o.servedAfter} after`,
    );
    if (o.servedAfter !== standby.name)
      problem(rc, `${label}: writes after the failover served by ${o.servedAfter}, expected ${standby.name}`);
    await apiRecovered(rc, label, api, trigger, trigger + vip.arrivedMs, what);
    // Every row acknowledged before the trigger must be on the new active. After a power cut
    // the last ones may not have been replicated yet (asynchronous): reported, and required
    // again once the old active is back.
    const onStandby = await seqsOn(ctx, standby, run);
    const missing = ackedBefore.filter((e) => !onStandby.has(e.seq));
    note(
      rc,
      `${label}: ${ackedBefore.length} rows acknowledged before the failover; ${ackedBefore.length - missing.length} of them on ${standby.name} once writes resumed there (${secs(resumed.ms)} after the VIP moved)`,
    );
    if (missing.length > 0) {
      const text = `${label}: ${missing.length} acknowledged rows not on ${standby.name} after the failover (seq ${missing
        .slice(0, 5)
        .map((e) => e.seq)
        .join(", ")}${missing.length > 5 ? ", ..." : ""})`;
      if (how === "switchover") problem(rc, text);
      else note(rc, `${text}: not replicated before the crash; must come back with ${active.name}`);
      lateRows = missing;
    }

    if (how === "switchover") {
      heartbeatStopped = false;
      await heartbeatBack(rc, label, active, standby, api);
    } else {
      // Writes go on while the old active is off: these are what it must catch up on.
      await writer.waitFor(
        (ev) => ev.filter((e) => e.ok && e.end > offAt).length >= 15,
        30_000,
        `INSERTs through the VIP while ${active.name} is off (since ${offAt})`,
      );
      if (whileOff) await whileOff();
    }
  } finally {
    if (heartbeatStopped)
      await remote(ctx, active, "systemctl start heartbeat", { timeoutMs: 120_000 }).catch((err: Error) =>
        problem(rc, `${label}: starting Heartbeat again on ${active.name}: ${err.message}`),
      );
    if (poweredOff)
      await bringBack(rc, label, active, standby, offAt, lateRows, api).catch((err: Error) =>
        problem(rc, `${label}: ${err.message}`),
      );
    await api.stop();
  }
}

/**
 * Waits for the API prober to succeed 3 times with attempts begun after `settled` (the VIP on
 * the survivor alone), then reports when `openstack token issue` + `image list` through the VIP
 * worked again after `trigger` (must be within a minute) and confirms with the openstack CLI
 * itself on the survivor.
 */
async function apiRecovered(
  rc: RoundContext,
  label: string,
  api: Prober,
  trigger: number,
  settled: number,
  what: string,
): Promise<void> {
  try {
    await api.waitFor(
      (ev) => ev.filter((e) => e.ok && e.start >= settled).length >= 3,
      90_000 - (Date.now() - trigger),
      `\`openstack token issue\` + \`image list\` through the VIP from ${api.host.name} after ${what}`,
    );
  } catch (err) {
    problem(rc, `${label}: ${(err as Error).message}`);
    return;
  }
  const r = recovery(api.events, trigger, Date.now());
  const o = outage(api.events, trigger, Date.now());
  const t0 = Date.now();
  const cli = await rc.ctx.ssh(
    api.host,
    bashCommand(
      `set -o pipefail; . ${ADMIN_OPENRC} && openstack token issue -f value -c expires >/dev/null && openstack image list -f value -c ID | wc -l`,
    ),
    60_000,
  );
  const cliMs = Date.now() - t0;
  note(
    rc,
    `${label}: openstack token issue + image list through the VIP (from ${api.host.name}; a new attempt every 1 s, at most 4 at once) worked again ${secs(r.recoveredMs ?? 0)} after ${what} began; ${r.failed} attempts failed${r.lastError ? ` (last: ${r.lastError})` : ""}; longest gap between successes ${secs(o.longestGapMs)}`,
  );
  if ((r.recoveredMs ?? Infinity) > 60_000)
    problem(
      rc,
      `${label}: the OpenStack APIs through the VIP took ${secs(r.recoveredMs ?? 0)} to work again after ${what}, more than 60 s`,
    );
  if (cli.code !== 0)
    problem(
      rc,
      `${label}: the openstack CLI on ${api.host.name} failed: ${(cli.stderr.trim() || cli.stdout.trim()).split("\n").pop()}`,
    );
  else
    note(
      rc,
      `${label}: confirmed with the openstack CLI on ${api.host.name}: token issue and image list (${cli.stdout.trim()} images) in ${secs(cliMs)}`,
    );
}

/**
 * Boots the old active again and waits for it to rejoin: MariaDB answers, it holds every row
 * acknowledged while it was off (`offAt` on), the survivor holds `lateRows` (acknowledged by
 * the old active but not replicated before it died), replication runs both ways, Heartbeat
 * sees the peer, and the VIP stays where it is (no failback).
 */
async function bringBack(
  rc: RoundContext,
  label: string,
  host: HostPlan,
  active: HostPlan,
  offAt: number,
  lateRows: readonly WriteEvent[],
  api: Prober,
): Promise<void> {
  const { ctx, inv, run, writer } = rc;
  const t = Date.now();
  const missed = writer.acked().filter((e) => e.end > offAt && e.end <= t);
  const sshSeconds = await startHost(inv, host.name);
  await poll(`MariaDB answering on ${host.name}`, 180_000, async () =>
    (await ctx.ssh(host, "mysql -NBe 'SELECT 1'", 10_000)).code === 0 ? true : undefined,
  );
  const dbAt = Date.now();
  const caught = await poll(
    `${host.name} holding the ${missed.length} rows written while it was off`,
    180_000,
    async () => {
      const have = await seqsOn(ctx, host, run);
      return missed.every((e) => have.has(e.seq)) ? true : undefined;
    },
  );
  note(
    rc,
    `${label}: ${host.name} powered on: sshd after ${sshSeconds.toFixed(1)} s, MariaDB answering after ${secs(dbAt - t)}; it held all ${missed.length} rows written while it was off ${secs(caught.ms)} later (${secs(Date.now() - t)} after power-on)`,
  );
  if (lateRows.length > 0) {
    await poll(
      `${active.name} holding the ${lateRows.length} rows only ${host.name} had`,
      120_000,
      async () => {
        const have = await seqsOn(ctx, active, run);
        return lateRows.every((e) => have.has(e.seq)) ? true : undefined;
      },
    );
    note(
      rc,
      `${label}: the ${lateRows.length} rows only ${host.name} had reached ${active.name} ${secs(Date.now() - dbAt)} after MariaDB came up`,
    );
  }
  await poll(`replication running both ways again`, 120_000, async () => {
    const [a, b] = await Promise.all([slaveStatus(ctx, host), slaveStatus(ctx, active)]);
    return [a, b].every((s) => s.Slave_IO_Running === "Yes" && s.Slave_SQL_Running === "Yes")
      ? true
      : undefined;
  });
  note(rc, `${label}: replication IO/SQL Yes on both ${secs(Date.now() - dbAt)} after MariaDB came up`);
  const hb = await heartbeatSeesPeer(rc, label, host, active);
  note(
    rc,
    `${label}: Heartbeat on ${host.name} sees ${active.name} ${secs(hb.ms)} after that; the VIP stayed on ${active.name} for the next 10 s (no failback)`,
  );
  // Its OpenStack services: units active, and nova/cinder services reporting again (every 10 s).
  const back = await controlPlaneBack(ctx, host, active, t, CONTROL_PLANE_BACK_MS - (Date.now() - t));
  note(
    rc,
    `${label}: ${host.name}'s control plane back: units active ${secs(back.unitsAt - t)} after power-on; nova-conductor, nova-scheduler and cinder-scheduler reporting up on both controllers ${secs(back.servicesAt - t)} after power-on`,
  );
  const r = recovery(api.events, t, Date.now());
  const o = outage(api.events, t, Date.now());
  note(
    rc,
    `${label}: while ${host.name} rejoined, openstack token issue + image list through the VIP: ${r.failed} attempts failed${r.lastError ? ` (last: ${r.lastError})` : ""}, longest gap between successes ${secs(o.longestGapMs)}`,
  );
}

/**
 * Waits until Heartbeat on `host` sees `active`, then requires the VIP to stay on `active`
 * alone for 10 s (auto_failback off: a node that rejoins never takes it back). Returns the wait.
 */
async function heartbeatSeesPeer(
  rc: RoundContext,
  label: string,
  host: HostPlan,
  active: HostPlan,
): Promise<{ ms: number }> {
  const { ctx } = rc;
  const hb = await poll(`Heartbeat on ${host.name} seeing ${active.name}`, 120_000, async () =>
    (await ctx.ssh(host, `cl_status nodestatus ${active.name}`, 10_000)).stdout.trim() === "active"
      ? true
      : undefined,
  );
  const joinedAt = Date.now();
  while (Date.now() - joinedAt < 10_000) {
    const h = holdersOf(ctx, rc.vip);
    if (h.length !== 1 || h[0] !== active) {
      problem(
        rc,
        `${label}: after ${host.name} rejoined the VIP is on ${h.map((x) => x.name).join(", ") || "no controller"}, expected ${active.name} alone (auto_failback off)`,
      );
      break;
    }
    await sleep(250);
  }
  return hb;
}

/**
 * The end of a switchover: Heartbeat starts again on the old active (`host`), which must see
 * its peer and leave the VIP where it is; replication must still run both ways (MariaDB never
 * stopped); what the APIs through the VIP did meanwhile is reported.
 */
async function heartbeatBack(
  rc: RoundContext,
  label: string,
  host: HostPlan,
  active: HostPlan,
  api: Prober,
): Promise<void> {
  const { ctx } = rc;
  const t = Date.now();
  await remote(ctx, host, "systemctl start heartbeat", { timeoutMs: 120_000 });
  const startedMs = Date.now() - t;
  const hb = await heartbeatSeesPeer(rc, label, host, active);
  const status = await Promise.all([slaveStatus(ctx, host), slaveStatus(ctx, active)]);
  const running = status.every((s) => s.Slave_IO_Running === "Yes" && s.Slave_SQL_Running === "Yes");
  if (!running)
    problem(
      rc,
      `${label}: replication not running both ways after the switchover (${[host, active]
        .map((h, i) => `${h.name}: IO ${status[i].Slave_IO_Running}, SQL ${status[i].Slave_SQL_Running}`)
        .join("; ")})`,
    );
  const r = recovery(api.events, t, Date.now());
  const o = outage(api.events, t, Date.now());
  note(
    rc,
    `${label}: Heartbeat started again on ${host.name} (${secs(startedMs)}); it sees ${active.name} ${secs(hb.ms)} later; the VIP stayed on ${active.name} for the next 10 s (no failback); replication IO/SQL ${running ? "Yes" : "not Yes"} on both; meanwhile openstack token issue + image list through the VIP: ${r.failed} attempts failed${r.lastError ? ` (last: ${r.lastError})` : ""}, longest gap between successes ${secs(o.longestGapMs)}`,
  );
}

/** Both controllers hold the same rows: every acknowledged one, same count, same CHECKSUM TABLE. */
async function finalConsistency(rc: RoundContext, pair: [HostPlan, HostPlan]): Promise<void> {
  const { ctx, run, writer } = rc;
  const acked = writer.acked();
  const attempts = writer.events.length;
  const summary = await poll(
    "both controllers holding the same failover table",
    120_000,
    async () => {
      const rows = await Promise.all(
        pair.map(async (h) => {
          const [count] = await sql(ctx, h, `SELECT COUNT(*) FROM ${CHECK_DB}.failover`);
          const [checksum] = await sql(ctx, h, `CHECKSUM TABLE ${CHECK_DB}.failover`);
          return { count: Number(count), checksum: checksum.split("\t")[1], run: await countOn(ctx, h, run) };
        }),
      );
      return rows[0].count === rows[1].count && rows[0].checksum === rows[1].checksum ? rows : undefined;
    },
    { intervalMs: 1000 },
  ).catch((err: Error) => {
    problem(rc, err.message);
    return undefined;
  });
  for (const h of pair) {
    const have = await seqsOn(ctx, h, run);
    const lost = acked.filter((e) => !have.has(e.seq));
    if (lost.length > 0)
      problem(
        rc,
        `${lost.length} acknowledged rows missing on ${h.name} (seq ${lost
          .slice(0, 5)
          .map((e) => e.seq)
          .join(", ")})`,
      );
  }
  if (summary) {
    const [a, b] = summary.value;
    const ackedSeqs = new Set(acked.map((e) => e.seq));
    const seen = new Set(writer.events.map((e) => e.seq));
    const extra = [...(await seqsOn(ctx, pair[0], run))].filter((q) => !ackedSeqs.has(q));
    const unreported = extra.filter((q) => !seen.has(q)).length;
    note(
      rc,
      `end: ${attempts} INSERT attempts, ${acked.length} acknowledged, ${attempts - acked.length} failed; rows of this run on ${pair[0].name}/${pair[1].name}: ${a.run}/${b.run}` +
        `${extra.length ? ` (${extra.length - unreported} committed although the client saw an error${unreported ? `, ${unreported} never reported` : ""})` : ""}` +
        `; whole table ${a.count} rows, CHECKSUM TABLE ${a.checksum} on both`,
    );
  }
}

export interface FailoverOutcome {
  readonly ok: boolean;
  readonly skipped?: string;
  readonly figures: string[];
  readonly problems: string[];
}

export async function failover(inv: Inventory): Promise<FailoverOutcome> {
  const ctx = labContext(inv);
  const pairInfo = vipPair(ctx);
  if (!pairInfo) {
    const why = `ha: ${inv.ha}: no controller pair with a VIP, nothing to fail over`;
    console.log(`SKIP failover ${why}`);
    return { ok: true, skipped: why, figures: [], problems: [] };
  }
  const { pair, vip } = pairInfo;
  const client = clientHost(ctx);
  const report: Report = { figures: [], problems: [] };
  const run = randomBytes(6).toString("hex");
  let writer: Prober | undefined;
  let rc: RoundContext | undefined;
  let coldProbed = false;
  try {
    if (pair.includes(client)) throw new Error("the failover needs a client host that is no controller");
    const holders = holdersOf(ctx, vip);
    if (holders.length !== 1)
      throw new Error(`the VIP is on ${holders.length} controllers before the failover, expected 1`);
    const first = holders[0];
    const second = pair.find((h) => h !== first)!;
    for (const h of pair) {
      const s = await slaveStatus(ctx, h);
      if (s.Slave_IO_Running !== "Yes" || s.Slave_SQL_Running !== "Yes")
        throw new Error(
          `${h.name}: replication not running before the failover (IO ${s.Slave_IO_Running}, SQL ${s.Slave_SQL_Running})`,
        );
    }
    await ensureHostPackages(ctx, client, ["mariadb-client"]);
    // Its own user: `verify` in between re-keys the check user, which must not stop the writer.
    const password = await prepareCheckDatabase(ctx, first, FAILOVER_USER);
    await poll(`the failover user on ${second.name}`, 30_000, async () =>
      (await sql(ctx, second, `SELECT COUNT(*) FROM mysql.user WHERE user = '${FAILOVER_USER}'`))[0] === "1"
        ? true
        : undefined,
    );
    console.log(`failover: run ${run}, writer on ${client.name} INSERTs through ${vip} every ~0.2 s`);
    fs.mkdirSync(LOG_DIR, { recursive: true });
    const log = path.join(LOG_DIR, `${inv.cluster}-failover-${run}.log`);
    console.log(`  every attempt: ${log} (received-at start end seq OK|ERR served-by|error)`);
    writer = startWriter(client, vip, run, password, log);
    const apiLog = path.join(LOG_DIR, `${inv.cluster}-failover-${run}-api.log`);
    console.log(`  OpenStack API prober (token issue + image list from the surviving controller): ${apiLog}`);
    rc = { ...report, ctx, inv, vip, run, writer, apiLog };

    // No whole verify between the rounds: Heartbeat moves only the VIP (every service runs on
    // both controllers, and verify asks each controller's APIs on its own address), and the
    // round's probers already ask Keystone and Glance through the VIP on the survivor; the
    // verify after the failovers covers the rest.
    await round(rc, "round 1", "switchover", first, second);
    if (report.problems.length === 0) {
      // Image data must not live on the controller that took the upload (Glance on Swift).
      const image = await uploadImage(ctx, first);
      const imageCheck = async () => {
        const r = await image.check(first, "round 2");
        if (r.ok) note(report, `image-failover: ${r.detail}`);
        else problem(report, `image-failover: ${r.detail}`);
      };
      await round(rc, "round 2", "power-cut", second, first, imageCheck);
      // `second` is back from its power cut: its APIs started with the boot, and no client has
      // asked them yet (the VIP stays on `first`). Their first concurrent requests are
      // api-cold-start's, after a real boot; the verify below leaves that check (a restart) out.
      const cold = await probeColdApis(ctx, second);
      coldProbed = true;
      (cold.ok ? note : problem)(
        report,
        `api-cold-start on ${second.name} after its power cut: ${cold.detail}`,
      );
    }
  } catch (err) {
    problem(report, (err as Error).message);
  } finally {
    await writer?.stop();
  }
  if (rc) await finalConsistency(rc, pair).catch((err: Error) => problem(report, err.message));
  // The network hosts' turn: power off the one holding a router's gateway (with two or more).
  if (networkHosts(ctx).length >= 2) {
    console.log("\n--- router failover: the network host with the active router powered off");
    for (const r of await routerFailover.run(ctx)) {
      console.log(`${r.skipped ? "SKIP" : r.ok ? "PASS" : "FAIL"} ${r.check} ${r.detail}`);
      if (r.check === "router-failover" && r.ok && !r.skipped) note(report, `router failover: ${r.detail}`);
      if (!r.ok) problem(report, `${r.check}: ${r.detail}`);
    }
  }
  // The storage hosts' turn: one holding a replica of an object powered off (with two or more).
  console.log("\n--- object failover: a storage host with a replica powered off");
  const objects = await objectFailover(ctx, cliHost(ctx)).catch((err: Error): CheckResult => ({
    check: "object-failover",
    host: "-",
    ok: false,
    detail: err.message,
  }));
  console.log(
    `${objects.skipped ? "SKIP" : objects.ok ? "PASS" : "FAIL"} ${objects.check} ${objects.detail}`,
  );
  if (!objects.ok) problem(report, `object-failover: ${objects.detail}`);
  else if (!objects.skipped) note(report, `object failover: ${objects.detail}`);
  console.log("\n--- checks again, after the failovers");
  const checks = coldProbed ? allChecks.filter((c) => c !== apiColdStart) : allChecks;
  const failed = await runChecks(ctx, checks, "verify (after the failovers)");
  for (const f of failed)
    problem(report, `verify after the failovers: ${f.check} host=${f.host}: ${f.detail}`);

  console.log("\nfailover figures:");
  for (const f of report.figures) console.log(`  ${f}`);
  const ok = report.problems.length === 0;
  console.log(ok ? "failover: PASSED" : `failover: FAILED (${report.problems.length} problems)`);
  for (const p of report.problems) console.log(`  ${p}`);
  return { ok, figures: report.figures, problems: report.problems };
}
