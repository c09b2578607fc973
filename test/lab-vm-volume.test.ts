/**
 * vm-lifecycle's vm-volume phase (lab/checks/volume-attach.ts): Cinder's answers, the guest's
 * disk lines, and the whole phase against a fake Cinder and guest console (nothing is run).
 */
import { GuestDiskEvent, guestDiskEvents } from "../lab/checks/guest-image";
import { OscCommandResult } from "../lab/checks/services/client";
import { Osc, Run } from "../lab/checks/vm-lifecycle";
import {
  attachedTo,
  diskLinesSince,
  diskRemoved,
  disksAfter,
  gone,
  newDisk,
  ourVolumes,
  reached,
  showUntil,
  showUntilGone,
  STATUS_TIMEOUT_S,
  VOLUME_BYTES,
  volumePhase,
} from "../lab/checks/volume-attach";
import { fakeCtx, runnerReply, withBackends, withoutVolumes } from "./lab-fakes";

const result = (over: Partial<OscCommandResult>): OscCommandResult => ({
  name: "show",
  rc: 0,
  out: "",
  err: "",
  ms: 1000,
  ...over,
});

describe("vm-volume: Cinder's answers", () => {
  test("ours by name prefix", () => {
    const rows = [
      { ID: "1", Name: "verify-vol-1a2b", Status: "available" },
      { ID: "2", Name: "tempest-vol", Status: "available" },
      { ID: "3", Name: null, Status: "error" },
      { ID: "4", Name: "verify-vm1", Status: "in-use" },
    ];
    expect(ourVolumes(rows).map((v) => v.ID)).toEqual(["1"]);
  });

  test("waits: until the status, ending early on states it will not leave; gone = show fails", () => {
    expect(showUntil("v", "in-use", ["available", "error"])).toEqual({
      name: "show-in-use",
      argv: ["volume", "show", "-f", "json", "v"],
      until: { key: "status", value: "in-use", seconds: STATUS_TIMEOUT_S, stopOn: ["available", "error"] },
    });
    expect(showUntilGone("v")).toMatchObject({
      name: "show-gone",
      until: { value: "deleted", stopOn: ["available", "error_deleting"] },
    });
  });

  test("reached: the volume in the state, or what state it was in and for how long", () => {
    const shown = { id: "v", status: "available", "os-vol-host-attr:host": "compute1@ceph#ceph" };
    expect(reached(result({ out: JSON.stringify(shown) }), "available", "create")).toEqual(shown);
    expect(() =>
      reached(result({ out: '{"id":"v","status":"error"}', ms: 3200 }), "available", "create"),
    ).toThrow("create: error after 3.2 s, never available");
    expect(() =>
      reached(result({ out: '{"id":"v","status":"attaching"}', ms: 121_400 }), "in-use", "attach"),
    ).toThrow("attach: still attaching after 121.4 s");
    expect(() => reached(result({ rc: 1, err: "Unauthorized (HTTP 401)" }), "in-use", "attach")).toThrow(
      "`openstack volume show` failed (exit 1): Unauthorized (HTTP 401)",
    );
  });

  test("gone: show fails with not found; any other failure, or the volume still there, throws", () => {
    expect(gone(result({ rc: 1, err: "No volume with a name or ID of 'v' exists." }), "delete")).toBe(true);
    expect(() => gone(result({ rc: 1, err: "Service Unavailable (HTTP 503)" }), "delete")).toThrow(
      "delete: `volume show` failed: Service Unavailable (HTTP 503)",
    );
    expect(() => gone(result({ out: '{"id":"v","status":"deleting"}', ms: 120_500 }), "delete")).toThrow(
      "delete: still there, deleting, after 120.5 s",
    );
  });

  test("attached to the server, with Nova's device name (a list, or the table's text)", () => {
    const shown = {
      id: "v",
      status: "in-use",
      attachments: [{ server_id: "srv-1", device: "/dev/vdb" }],
    };
    expect(attachedTo(shown, "srv-1")).toEqual({ device: "/dev/vdb" });
    expect(attachedTo(shown, "srv-2")).toBeUndefined();
    expect(
      attachedTo({ id: "v", status: "in-use", attachments: "Attached to srv-1 on /dev/vdb" }, "srv-1"),
    ).toEqual({
      device: "?",
    });
    expect(attachedTo({ id: "v", status: "available", attachments: [] }, "srv-1")).toBeUndefined();
  });
});

const GIB = "1073741824";
/** A guest's console: boot, ready, the root disk (as large as the volume, 1 GiB flavor). */
const BOOTED = [
  "TESTVM boot kernel=6.1.0-57-cloud-amd64\r",
  "TESTVM ready\r",
  `TESTVM disk vda size=${GIB}\r`,
];

describe("vm-volume: the guest's disk lines", () => {
  test("the latest boot's, in order", () => {
    const log = [
      ...BOOTED,
      `TESTVM disk vdb size=${GIB}`,
      "TESTVM ping 10.0.0.1 ok",
      "TESTVM disk vdb removed",
    ];
    expect(guestDiskEvents(log.join("\n"))).toEqual([
      { kind: "disk", name: "vda", bytes: VOLUME_BYTES },
      { kind: "disk", name: "vdb", bytes: VOLUME_BYTES },
      { kind: "disk-removed", name: "vdb" },
    ]);
    expect(guestDiskEvents([...log, ...BOOTED.slice(0, 2)].join("\n"))).toEqual([]);
  });

  test("a new disk: appeared after the mark, of the size, with a name the guest did not have", () => {
    const before: GuestDiskEvent[] = [{ kind: "disk", name: "vda", bytes: VOLUME_BYTES }];
    expect(newDisk(before, 1, VOLUME_BYTES)).toBeUndefined();
    const after: GuestDiskEvent[] = [...before, { kind: "disk", name: "vdb", bytes: VOLUME_BYTES }];
    expect(newDisk(after, 1, VOLUME_BYTES)).toBe("vdb");
    // Seen before the mark: not new. Another size: not the volume.
    expect(newDisk(after, 2, VOLUME_BYTES)).toBeUndefined();
    expect(
      newDisk([...before, { kind: "disk", name: "vdb", bytes: 2 * VOLUME_BYTES }], 1, VOLUME_BYTES),
    ).toBeUndefined();
    // The root disk reported again (a resize) is no new disk; vdb after a removal is.
    const again: GuestDiskEvent[] = [
      { kind: "disk", name: "vda", bytes: 1 },
      { kind: "disk", name: "vdb", bytes: VOLUME_BYTES },
      { kind: "disk-removed", name: "vdb" },
      { kind: "disk", name: "vda", bytes: VOLUME_BYTES },
    ];
    expect(newDisk(again, 3, VOLUME_BYTES)).toBeUndefined();
    expect(newDisk([...again, { kind: "disk", name: "vdb", bytes: VOLUME_BYTES }], 3, VOLUME_BYTES)).toBe(
      "vdb",
    );
    expect(disksAfter(again, 3)).toEqual(new Map([["vda", 1]]));
  });

  test("a disk removed after the mark; what the guest showed, for a timeout", () => {
    const events: GuestDiskEvent[] = [
      { kind: "disk", name: "vda", bytes: VOLUME_BYTES },
      { kind: "disk", name: "vdb", bytes: VOLUME_BYTES },
      { kind: "disk-removed", name: "vdb" },
    ];
    expect(diskRemoved(events, 2, "vdb")).toBe(true);
    expect(diskRemoved(events, 3, "vdb")).toBe(false);
    expect(diskRemoved(events, 0, "vda")).toBe(false);
    expect(diskLinesSince(events, 1)).toBe(
      `disk lines since: vdb ${GIB} bytes, vdb removed; disks now: vda ${GIB} bytes`,
    );
    expect(diskLinesSince(events.slice(0, 1), 1)).toBe(`no disk line since; disks now: vda ${GIB} bytes`);
  });
});

describe("vm-volume: the phase against a fake Cinder and guest", () => {
  test("SKIP without volume backends", () => {
    const none = fakeCtx(withoutVolumes(), () => "");
    expect(volumePhase.skipReason?.(none.ctx)).toBe(
      "no host has volumeBackends in the inventory: no cinder-volume to make a volume on",
    );
    expect(volumePhase.skipReason?.(fakeCtx(withBackends(), () => "").ctx)).toBeUndefined();
  });

  /**
   * A volume and a guest: `server add volume` makes the guest print vdb; `inUse` is the status
   * the attach wait ends in (Nova rolls a failed attach back to available).
   */
  function fakeCloud(opts: { createStatus?: string; inUse?: string } = {}) {
    const console = [...BOOTED];
    const calls: string[] = [];
    const volume = { id: "vol-1", status: "creating", "os-vol-host-attr:host": "compute1@lvm-1#lvm-1" };
    const answer = (c: { name: string; argv: string[] }): Partial<OscCommandResult> => {
      const words = c.argv.filter((a) => a !== "-f" && a !== "json");
      calls.push(words.slice(0, 3).join(" "));
      const show = (status: string, extra = {}) => ({
        out: JSON.stringify({ ...volume, status, ...extra }),
        ms: 2000,
      });
      switch (words.slice(0, 3).join(" ")) {
        case "volume create --size":
          return { out: JSON.stringify(volume), ms: 400 };
        case "console log show":
          return { out: console.join("\n") };
        case "server add volume":
          if (opts.inUse === "in-use") console.push(`TESTVM disk vdb size=${GIB}\r`);
          return { ms: 1500 };
        case "server remove volume":
          console.push("TESTVM disk vdb removed\r");
          return { ms: 900 };
        case "volume delete vol-1":
          return { ms: 300 };
        default:
      }
      if (c.name === "show-available" && calls.includes("server remove volume")) return show("available");
      if (c.name === "show-available") return show(opts.createStatus ?? "available");
      if (c.name === "show-in-use")
        return show(opts.inUse ?? "in-use", { attachments: [{ server_id: "srv-1", device: "/dev/vdb" }] });
      if (c.name === "show-gone")
        return { rc: 1, err: "No volume with a name or ID of 'vol-1' exists.", ms: 1000 };
      return { rc: 2, err: `the fake knows no ${c.argv.join(" ")}` };
    };
    const { ctx } = fakeCtx(withBackends(), (_command, input) => runnerReply(input, answer));
    const osc = new Osc(ctx, ctx.hosts[1]);
    const run: Run = { serverId: "srv-1", netIds: [], routerIds: [], portIds: [] };
    return { ctx, osc, run, calls };
  }

  test("made, attached and seen by the guest, detached and gone from it, deleted: every figure", async () => {
    const { ctx, osc, run, calls } = fakeCloud({ inUse: "in-use" });
    const v = await volumePhase.run(ctx, osc, run);
    expect(v.ok).toBe(true);
    expect(v.detail).toMatch(
      new RegExp(
        "^verify-vol-[0-9a-f]{4} \\(1 GiB\\) on compute1@lvm-1#lvm-1: create -> available 2\\.4 s; " +
          "attach -> in-use 3\\.5 s \\(Nova's device /dev/vdb\\), the guest's vdb \\(1073741824 bytes\\) seen by -?\\d+\\.\\d s after the attach call began; " +
          "detach -> available 2\\.9 s, vdb gone from the guest by -?\\d+\\.\\d s; delete -> gone 1\\.3 s$",
      ),
    );
    expect(calls.filter((c) => !c.startsWith("console"))).toEqual([
      "volume create --size",
      expect.stringMatching(/^volume show verify-vol-[0-9a-f]{4}$/),
      "server add volume",
      "volume show vol-1",
      "server remove volume",
      "volume show vol-1",
      "volume delete vol-1",
      "volume show vol-1",
    ]);
  });

  test("a volume in error, an attach rolled back: the state it was in, and no waiting on the guest", async () => {
    const error = fakeCloud({ createStatus: "error" });
    await expect(volumePhase.run(error.ctx, error.osc, error.run)).rejects.toThrow(
      /^verify-vol-[0-9a-f]{4} create -> available: error after 2\.0 s, never available$/,
    );
    expect(error.calls).not.toContain("server add volume");

    const rolledBack = fakeCloud({ inUse: "available" });
    const t0 = Date.now();
    await expect(volumePhase.run(rolledBack.ctx, rolledBack.osc, rolledBack.run)).rejects.toThrow(
      /attach -> in-use: available after 2\.0 s, never in-use$/,
    );
    // The guest's console is no longer read once Cinder's side failed (its wait is 120 s).
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(rolledBack.calls).not.toContain("server remove volume");
  });
});
