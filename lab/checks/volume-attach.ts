/**
 * `vm-volume`, a phase of verify's vm-lifecycle (after the floating IP): a Cinder volume's life
 * with verify-vm1, as admin through the VIP, each step bounded and measured:
 *
 *   create      verify-vol-<hex>, 1 GiB: create -> available (on some `host@backend`)
 *   attach      `server add volume` -> in-use, attached to verify-vm1; meanwhile the guest's
 *               console must show a new virtio disk of 1 GiB ("TESTVM disk vdb size=1073741824",
 *               lab/test-image/disk-watch.sh): how long after the attach call it was seen
 *   detach      `server remove volume` -> available; meanwhile "TESTVM disk vdb removed"
 *   delete      `volume delete` -> gone (`volume show` answers that there is no such volume)
 *
 * The Cinder side of each step runs in one CLI process (the call, then `volume show` every
 * second, osc_runner's `until`), so its figures are the API's to the second; the guest's console
 * is read alongside it, each read ~1.5 s (a CLI start), so a guest figure is "seen by". A wait
 * that times out says the state it was in. vm-lifecycle's cleanup deletes any verify-vol-
 * volume (a run cut short, or a step here that failed).
 *
 * Skipped when no host has volume backends: no cinder-volume to make a volume on.
 */
import { randomBytes } from "crypto";
import { GuestDiskEvent, guestDiskEvents, parseGuestConsole } from "./guest-image";
import { poll, s1 } from "./poll";
import { volumeServiceHosts } from "./services/cinder";
import { jsonOf, OscCommand, OscCommandResult, oneLine, Verdict } from "./services/client";
import { CheckContext } from "./types";
import type { ExtraPhase, Osc, Run } from "./vm-lifecycle";

/** Every volume of the checks is named so; the cleanup finds them by it. */
export const VOLUME_PREFIX = "verify-vol-";
export const VOLUME_GIB = 1;
export const VOLUME_BYTES = VOLUME_GIB * 1024 ** 3;
/** Each Cinder state change, and the guest seeing a disk come or go. */
export const STATUS_TIMEOUT_S = 120;
const GUEST_TIMEOUT_MS = 120_000;
/** The guest's first disk lines (disk-watch.sh starts at "ready", which vm-console waited for). */
const BASELINE_TIMEOUT_MS = 30_000;

export interface VolumeRow {
  readonly ID: string;
  readonly Name?: string | null;
  readonly Status?: string;
}

/** Volumes of ours in a `volume list -f json`. */
export function ourVolumes<T extends VolumeRow>(rows: readonly T[]): T[] {
  return rows.filter((v) => (v.Name ?? "").startsWith(VOLUME_PREFIX));
}

/** Whether the inventory makes any cinder-volume (a host with volume backends). */
export function hasVolumeBackends(ctx: CheckContext): boolean {
  return volumeServiceHosts(ctx.inventory).length > 0;
}

// ---------------------------------------------------------------------------------------------
// Pure parts (unit-tested): Cinder's answers and the guest's disk lines.

/** `volume show -f json`, the fields used. */
export interface VolumeShow {
  readonly id: string;
  readonly status: string;
  readonly size?: number;
  readonly "os-vol-host-attr:host"?: string | null;
  /** A list; the table's text form in some clients. */
  readonly attachments?: readonly { readonly server_id?: string; readonly device?: string }[] | string;
}

/**
 * Whether the volume is attached to `server`, and as which device Nova named it ("?" when the
 * attachments are text, as some clients print them).
 */
export function attachedTo(shown: VolumeShow, server: string): { device: string } | undefined {
  const a = shown.attachments;
  if (typeof a === "string") return a.includes(server) ? { device: "?" } : undefined;
  const mine = (a ?? []).find((x) => x.server_id === server);
  return mine ? { device: mine.device ?? "?" } : undefined;
}

/** `volume show` repeated until status is `want`, or one of `stopOn`, or STATUS_TIMEOUT_S. */
export function showUntil(volume: string, want: string, stopOn: readonly string[] = []): OscCommand {
  return {
    name: `show-${want}`,
    argv: ["volume", "show", "-f", "json", volume],
    until: { key: "status", value: want, seconds: STATUS_TIMEOUT_S, stopOn },
  };
}

/**
 * `volume show` repeated until it fails, which is how a deleted volume answers (the status
 * never reads "deleted"), or shows error_deleting, or available (the delete did not begin).
 */
export function showUntilGone(volume: string): OscCommand {
  return { ...showUntil(volume, "deleted", ["available", "error_deleting"]), name: "show-gone" };
}

/** The volume as shown once it reached `want`; throws with the state it was in instead. */
export function reached(c: OscCommandResult, want: string, what: string): VolumeShow {
  const shown = jsonOf<VolumeShow>(c, "volume show");
  if (shown.status === want) return shown;
  const waited = c.ms >= STATUS_TIMEOUT_S * 1000;
  throw new Error(
    waited
      ? `${what}: still ${shown.status} after ${s1(c.ms)}`
      : `${what}: ${shown.status} after ${s1(c.ms)}, never ${want}`,
  );
}

/** Whether `volume show` said the volume is gone (not found); throws with what it said instead. */
export function gone(c: OscCommandResult, what: string): true {
  if (c.rc !== 0) {
    if (/No volume with a name or ID|could not be found|\b404\b/i.test(c.err)) return true;
    throw new Error(`${what}: \`volume show\` failed: ${oneLine(c.err)}`);
  }
  const shown = jsonOf<VolumeShow>(c, "volume show");
  throw new Error(`${what}: still there, ${shown.status}, after ${s1(c.ms)}`);
}

/** The guest's disks after its first `count` disk events: name -> bytes. */
export function disksAfter(events: readonly GuestDiskEvent[], count: number): Map<string, number> {
  const disks = new Map<string, number>();
  for (const e of events.slice(0, count)) {
    if (e.kind === "disk") disks.set(e.name, e.bytes);
    else disks.delete(e.name);
  }
  return disks;
}

/**
 * The disk of `bytes` that appeared after the first `from` events (a name the guest did not have
 * then: the root disk may be as large as the volume), or undefined.
 */
export function newDisk(events: readonly GuestDiskEvent[], from: number, bytes: number): string | undefined {
  const before = disksAfter(events, from);
  return events.slice(from).find((e) => e.kind === "disk" && e.bytes === bytes && !before.has(e.name))?.name;
}

/** Whether disk `name` went after the first `from` events. */
export function diskRemoved(events: readonly GuestDiskEvent[], from: number, name: string): boolean {
  return events.slice(from).some((e) => e.kind === "disk-removed" && e.name === name);
}

/** The guest's disk lines since event `from`, for a message: `vdb 1073741824 bytes, vdb removed`. */
export function diskLinesSince(events: readonly GuestDiskEvent[], from: number): string {
  const since = events
    .slice(from)
    .map((e) => (e.kind === "disk" ? `${e.name} ${e.bytes} bytes` : `${e.name} removed`));
  const now = [...disksAfter(events, events.length)].map(([n, b]) => `${n} ${b} bytes`);
  return `${since.length ? `disk lines since: ${since.join(", ")}` : "no disk line since"}; disks now: ${now.join(", ") || "none"}`;
}

// ---------------------------------------------------------------------------------------------
// The phase.

async function consoleDisks(osc: Osc, server: string): Promise<GuestDiskEvent[]> {
  return guestDiskEvents((await osc.one(["console", "log", "show", server])).out);
}

/** The guest's disk lines before the attach: at least its first round (vda). */
async function baseline(osc: Osc, server: string): Promise<GuestDiskEvent[]> {
  let ready = false;
  const { value } = await poll(
    "the guest's disk lines",
    BASELINE_TIMEOUT_MS,
    async () => {
      const log = (await osc.one(["console", "log", "show", server])).out;
      ready = parseGuestConsole(log).ready;
      const events = guestDiskEvents(log);
      return events.length ? events : undefined;
    },
    {
      intervalMs: 2000,
      timeoutMessage: (e) =>
        `no "TESTVM disk" line on the guest's console within ${BASELINE_TIMEOUT_MS / 1000} s: ` +
        (ready
          ? "it is ready, so it has no disk watch (lab/test-image/disk-watch.sh)"
          : "it never said ready (see vm-console)") +
        (e ? ` (${e})` : ""),
    },
  );
  return value;
}

interface Step {
  /** The CLI commands' results, the last one the `volume show` wait. */
  readonly api: OscCommandResult[];
  /** The volume as the wait left it (in the state it waited for). */
  readonly shown: VolumeShow;
  /** When (epoch ms) the first command began, as near as the runner's figures tell. */
  readonly began: number;
  /** When the guest's console first showed what was awaited (undefined: it never did). */
  readonly seenAt?: number;
  /** Why the guest was not seen to do it. */
  readonly guest: string;
}

/**
 * Runs `commands` (one CLI process; the last waits for status `want`) while reading the guest's
 * console until `found` says it shows the change; the reads stop early when the commands failed.
 * Throws when the Cinder side did not get there.
 */
async function stepWithGuest(
  osc: Osc,
  server: string,
  commands: OscCommand[],
  want: string,
  what: string,
  found: (events: GuestDiskEvent[]) => boolean,
): Promise<Step> {
  let apiFailed = false;
  let apiEnd = 0;
  const api = osc
    .all(commands)
    .then((results) => {
      apiEnd = Date.now();
      const failed = results.slice(0, -1).find((r) => r.rc !== 0);
      if (failed)
        throw new Error(
          `${what}: \`openstack ${failed.name}\` failed (exit ${failed.rc}): ${oneLine(failed.err)}`,
        );
      return { results, shown: reached(results[results.length - 1], want, what) };
    })
    .catch((err: Error) => {
      apiFailed = true;
      throw err;
    });
  const guest = poll(
    "the guest's console",
    GUEST_TIMEOUT_MS,
    async () => {
      if (apiFailed) return null;
      const events = await consoleDisks(osc, server);
      return found(events) ? Date.now() : undefined;
    },
    { intervalMs: 500 },
  );
  const [a, g] = await Promise.allSettled([api, guest]);
  if (a.status === "rejected") throw a.reason;
  const { results, shown } = a.value;
  return {
    api: results,
    shown,
    // The runner's figures: the commands ended when its reply came, and began their sum before.
    began: apiEnd - results.reduce((n, r) => n + r.ms, 0),
    seenAt: g.status === "fulfilled" && g.value.value !== null ? g.value.value : undefined,
    guest: g.status === "rejected" ? (g.reason as Error).message : "",
  };
}

/** The sum of the commands' times. */
const took = (results: readonly OscCommandResult[]) => s1(results.reduce((n, r) => n + r.ms, 0));

async function volumeLife(osc: Osc, run: Run): Promise<Verdict> {
  const server = run.serverId as string;
  const name = `${VOLUME_PREFIX}${randomBytes(2).toString("hex")}`;

  // Create: the call and the wait in one CLI process, by name (new and unique: random suffix).
  const [create, available] = await osc.all([
    { name: "volume-create", argv: ["volume", "create", "--size", String(VOLUME_GIB), "-f", "json", name] },
    showUntil(name, "available", ["error"]),
  ]);
  const id = jsonOf<{ id: string }>(create, "volume create").id;
  const made = reached(available, "available", `${name} create -> available`);
  const backend = made["os-vol-host-attr:host"] ?? "?";

  // Attach: in-use in Cinder (back to available: Nova rolled the attach back), and a new disk of
  // the volume's size in the guest.
  let events = await baseline(osc, server);
  let from = events.length;
  let disk: string | undefined;
  const attach = await stepWithGuest(
    osc,
    server,
    [
      { name: "server add volume", argv: ["server", "add", "volume", server, id] },
      showUntil(id, "in-use", ["available", "error", "error_attaching"]),
    ],
    "in-use",
    `${name} attach -> in-use`,
    (e) => {
      events = e;
      disk = newDisk(e, from, VOLUME_BYTES);
      return disk !== undefined;
    },
  );
  const on = attachedTo(attach.shown, server);
  if (!on)
    throw new Error(
      `${name} in-use, but not attached to ${server}: ${JSON.stringify(attach.shown.attachments ?? [])}`,
    );
  if (!disk || attach.seenAt === undefined)
    throw new Error(
      `${name} in-use after ${took(attach.api)}, but the guest shows no new disk of ${VOLUME_BYTES} bytes: ${attach.guest || "not asked"}; ${diskLinesSince(events, from)}`,
    );
  const seen = disk;

  // Detach: available in Cinder (back to in-use: Nova rolled the detach back), the disk gone
  // from the guest.
  from = events.length;
  const detach = await stepWithGuest(
    osc,
    server,
    [
      { name: "server remove volume", argv: ["server", "remove", "volume", server, id] },
      showUntil(id, "available", ["in-use", "error", "error_detaching"]),
    ],
    "available",
    `${name} detach -> available`,
    (e) => {
      events = e;
      return diskRemoved(e, from, seen);
    },
  );
  if (detach.seenAt === undefined)
    throw new Error(
      `${name} available after ${took(detach.api)}, but the guest still has ${seen}: ${detach.guest || "not asked"}; ${diskLinesSince(events, from)}`,
    );

  // Delete: gone (still available: the delete was refused).
  const [del, after] = await osc.all([
    { name: "volume-delete", argv: ["volume", "delete", id] },
    showUntilGone(id),
  ]);
  if (del.rc !== 0)
    throw new Error(`${name}: \`openstack volume delete\` failed (exit ${del.rc}): ${oneLine(del.err)}`);
  gone(after, `${name} delete -> gone`);

  return {
    ok: true,
    detail:
      `${name} (${VOLUME_GIB} GiB) on ${backend}: create -> available ${took([create, available])}; ` +
      `attach -> in-use ${took(attach.api)} (Nova's device ${on.device}), the guest's ${seen} (${VOLUME_BYTES} bytes) seen by ${s1(attach.seenAt - attach.began)} after the attach call began; ` +
      `detach -> available ${took(detach.api)}, ${seen} gone from the guest by ${s1(detach.seenAt - detach.began)}; ` +
      `delete -> gone ${took([del, after])}`,
  };
}

/** vm-lifecycle's volume phase (verify's run only). */
export const volumePhase: ExtraPhase = {
  name: "vm-volume",
  skipReason: (ctx) =>
    hasVolumeBackends(ctx)
      ? undefined
      : "no host has volumeBackends in the inventory: no cinder-volume to make a volume on",
  run: (_ctx, osc, run) => volumeLife(osc, run),
};
