/**
 * ceph-health: the quorum, one OSD per storage host up and in, every PG active+clean and no
 * HEALTH_ERR, judged on Ceph 16's JSON (`ceph -s`, `ceph mon dump`, `ceph osd tree`); the check
 * against a fake lab (nothing is run).
 */
import { Inventory } from "../lib/cluster/inventory";
import {
  CephMonDump,
  CephOsdTree,
  cephHealth,
  judgeCeph,
  judgeHealth,
  judgeOsds,
  judgePgs,
  judgeQuorum,
} from "../lab/checks/ceph";
import { fakeCtx, withoutVolumes } from "./lab-fakes";

/** `ceph -s -f json` of a healthy Ceph 16 cluster but for a full disk (the lab's), trimmed. */
const STATUS = {
  fsid: "5c7a3f0e-8a9b-4c1d-9e2f-3a4b5c6d7e8f",
  health: {
    status: "HEALTH_WARN",
    checks: {
      MON_DISK_LOW: {
        severity: "HEALTH_WARN",
        summary: { message: "mons controller1,controller2 are low on available space", count: 2 },
        muted: false,
      },
    },
    mutes: [],
  },
  election_epoch: 8,
  quorum: [0, 1],
  quorum_names: ["controller1", "controller2"],
  quorum_age: 5012,
  monmap: { epoch: 1, min_mon_release_name: "pacific", num_mons: 2 },
  osdmap: {
    epoch: 25,
    num_osds: 2,
    num_up_osds: 2,
    osd_up_since: 1764518400,
    num_in_osds: 2,
    osd_in_since: 1764518400,
    num_remapped_pgs: 0,
  },
  pgmap: {
    pgs_by_state: [{ state_name: "active+clean", count: 33 }],
    num_pgs: 33,
    num_pools: 2,
    num_objects: 5,
    data_bytes: 1113,
    bytes_used: 2160590848,
    bytes_avail: 40780431360,
    bytes_total: 42941022208,
  },
  mgrmap: { available: true, num_standbys: 1, modules: ["iostat", "restful"], services: {} },
  progress_events: {},
};

const MONS: CephMonDump = {
  mons: [{ name: "controller1" }, { name: "controller2" }],
};

const TREE: CephOsdTree = {
  nodes: [
    { id: -1, name: "default", type: "root", children: [-5, -3] },
    { id: -3, name: "compute1", type: "host", children: [0] },
    { id: 0, name: "osd.0", type: "osd", status: "up", reweight: 1 },
    { id: -5, name: "compute2", type: "host", children: [1] },
    { id: 1, name: "osd.1", type: "osd", status: "up", reweight: 1 },
  ],
};

const STORAGE = ["compute1", "compute2"];

describe("ceph-health judges ceph -s, mon dump and osd tree", () => {
  test("healthy but for a warning: passes, with the warning's code and message", () => {
    expect(judgeCeph({ status: STATUS, mons: MONS, tree: TREE }, STORAGE)).toEqual({
      ok: true,
      detail:
        "HEALTH_WARN (MON_DISK_LOW: mons controller1,controller2 are low on available space); " +
        "2/2 monitors in the quorum (controller1, controller2); 2 OSDs up and in (osd.0 on compute1, osd.1 on compute2); " +
        "33 PGs active+clean [fsid 5c7a3f0e-8a9b-4c1d-9e2f-3a4b5c6d7e8f]",
    });
    expect(judgeHealth({ health: { status: "HEALTH_OK", checks: {} } })).toEqual({
      problems: [],
      fine: "HEALTH_OK",
    });
  });

  test("HEALTH_ERR fails with its codes; no status at all fails", () => {
    const err = judgeHealth({
      health: {
        status: "HEALTH_ERR",
        checks: {
          MON_DISK_CRIT: {
            severity: "HEALTH_ERR",
            summary: { message: "mon controller1 is very low on available space" },
          },
          OSD_FULL: { severity: "HEALTH_ERR", summary: { message: "1 full osd(s)" } },
        },
      },
    });
    expect(err.problems).toEqual([
      "HEALTH_ERR (MON_DISK_CRIT: mon controller1 is very low on available space; OSD_FULL: 1 full osd(s))",
    ]);
    expect(judgeHealth({}).problems).toEqual(["no health status"]);
  });

  test("a monitor out of the quorum is named", () => {
    const q = judgeQuorum({ ...STATUS, quorum_names: ["controller1"] }, MONS);
    expect(q.problems).toEqual(["1/2 monitors in the quorum (controller1), out of it: controller2"]);
    // Without the names (an empty mon dump), the count of ceph -s still tells.
    expect(judgeQuorum({ ...STATUS, quorum_names: ["controller1"] }, {}).problems).toEqual([
      "1/2 monitors in the quorum (controller1)",
    ]);
    expect(judgeQuorum({ quorum_names: [] }, {}).problems).toEqual(["no monitor in the monmap"]);
  });

  test("OSDs: counts against the storage hosts, and each host's one OSD up and in", () => {
    const down: CephOsdTree = {
      nodes: TREE.nodes?.map((n) => (n.name === "osd.1" ? { ...n, status: "down" } : n)),
    };
    expect(
      judgeOsds({ osdmap: { num_osds: 2, num_up_osds: 1, num_in_osds: 2 } }, down, STORAGE).problems,
    ).toEqual(["2 OSDs, 1 up, 2 in: expected 2 (one per storage host)", "osd.1 on compute2: down"]);
    const out: CephOsdTree = {
      nodes: TREE.nodes?.map((n) => (n.name === "osd.0" ? { ...n, reweight: 0 } : n)),
    };
    expect(judgeOsds(STATUS, out, STORAGE).problems).toEqual(["osd.0 on compute1: out (reweight 0)"]);
    // A third storage host without an OSD, and an OSD count that matches the others only.
    expect(judgeOsds(STATUS, TREE, [...STORAGE, "compute3"]).problems).toEqual([
      "2 OSDs, 2 up, 2 in: expected 3 (one per storage host)",
      "compute3: 0 OSDs in the CRUSH tree, expected 1",
    ]);
    expect(judgeOsds({}, {}, ["compute1"]).problems).toEqual([
      "? OSDs, ? up, ? in: expected 1 (one per storage host)",
      "compute1: 0 OSDs in the CRUSH tree, expected 1",
    ]);
  });

  test("PGs: all active+clean, and at least one", () => {
    const peering = judgePgs({
      pgmap: {
        num_pgs: 33,
        pgs_by_state: [
          { state_name: "active+clean", count: 30 },
          { state_name: "creating+peering", count: 2 },
          { state_name: "active+undersized+degraded", count: 1 },
        ],
      },
    });
    expect(peering.problems).toEqual([
      "30/33 PGs active+clean (2 creating+peering, 1 active+undersized+degraded)",
    ]);
    expect(judgePgs({ pgmap: { num_pgs: 0, pgs_by_state: [] } }).problems).toEqual([
      "no placement group (no pool?)",
    ]);
    // Two rows of the same state add up (as ceph never prints, but the sum is the rule).
    expect(
      judgePgs({
        pgmap: {
          num_pgs: 4,
          pgs_by_state: [
            { state_name: "active+clean", count: 3 },
            { state_name: "active+clean", count: 1 },
          ],
        },
      }).problems,
    ).toEqual([]);
  });

  test("every problem in the verdict, and none of the fine parts", () => {
    const v = judgeCeph(
      {
        status: { ...STATUS, health: { status: "HEALTH_ERR" }, quorum_names: ["controller1"] },
        mons: MONS,
        tree: TREE,
      },
      STORAGE,
    );
    expect(v).toEqual({
      ok: false,
      detail: "HEALTH_ERR; 1/2 monitors in the quorum (controller1), out of it: controller2",
    });
  });

  test("SKIP without a ceph section; with one, the first controller asked, a failing CLI fails", async () => {
    const inv = withoutVolumes();
    const none = fakeCtx(inv, () => "");
    expect(await cephHealth.run(none.ctx)).toEqual([
      {
        check: "ceph-health",
        host: "-",
        ok: true,
        skipped: true,
        detail: "no ceph section in the inventory",
      },
    ]);
    expect(none.sent).toEqual([]);

    const withCeph = { ...inv, ceph: {} } as Inventory;
    const healthy = fakeCtx(withCeph, (command) => {
      if (command.includes(" -s "))
        return `${JSON.stringify({ ...STATUS, osdmap: { num_osds: 1, num_up_osds: 1, num_in_osds: 1 } })}\n`;
      if (command.includes("mon dump")) return JSON.stringify(MONS);
      if (command.includes("osd tree")) return JSON.stringify({ nodes: TREE.nodes?.slice(0, 3) });
      throw new Error(`unexpected: ${command}`);
    });
    const [ok] = await cephHealth.run(healthy.ctx);
    expect(ok).toMatchObject({ check: "ceph-health", host: "controller1", ok: true });
    expect(ok.detail).toContain("1 OSD up and in (osd.0 on compute1)");
    expect(healthy.sent.map((s) => `${s.host} ${s.command}`).sort()).toEqual([
      "controller1 ceph --connect-timeout 20 -s -f json",
      "controller1 ceph --connect-timeout 20 mon dump -f json",
      "controller1 ceph --connect-timeout 20 osd tree -f json",
    ]);

    const broken = fakeCtx(withCeph, () => {
      throw new Error("[errno 2] RADOS object not found (error connecting to the cluster)");
    });
    const [failed] = await cephHealth.run(broken.ctx);
    expect(failed).toMatchObject({ check: "ceph-health", host: "controller1", ok: false });
    expect(failed.detail).toContain("RADOS object not found");
  });
});
