/**
 * Tempest's committed worker-balance seed (lab/tempest/times-seed.json) and lab/tempest/times.py,
 * which loads it into stestr's times.dbm (dbm.dumb, as stestr reads it), exports a cache back,
 * and replaces a run's test durations by each class's share of its wall time on its worker.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TIMES_SEED } from "../lab/tempest/run";

const TIMES_PY = path.join(__dirname, "..", "lab", "tempest", "times.py");

function times(...args: string[]): string {
  return execFileSync("/usr/bin/python3", [TIMES_PY, ...args], { encoding: "utf8", stdio: "pipe" });
}

/** What stestr itself reads back for these ids (its own dbm.dumb lookup). */
function stestrReads(dbm: string, ids: readonly string[]): Record<string, number> {
  const py = [
    "import dbm.dumb, json, sys",
    "db = dbm.dumb.open(sys.argv[1], 'r')",
    "print(json.dumps({i: float(db[i]) for i in json.loads(sys.argv[2]) if i in db}))",
  ].join("\n");
  return JSON.parse(
    execFileSync("/usr/bin/python3", ["-c", py, dbm, JSON.stringify(ids)], { encoding: "utf8" }),
  );
}

describe("Tempest's test durations seed", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "tempest-times-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("the committed seed covers the selection's suites with plausible durations", () => {
    const seed = JSON.parse(fs.readFileSync(TIMES_SEED, "utf8")) as Record<string, number>;
    const ids = Object.keys(seed);
    expect(ids.length).toBeGreaterThan(300);
    for (const suite of ["identity", "image", "network"]) {
      expect(ids.some((id) => id.startsWith(`tempest.api.${suite}.`))).toBe(true);
    }
    for (const [id, seconds] of Object.entries(seed)) {
      // stestr's keys are test ids without their [attributes].
      expect(id).toMatch(/^tempest\.[\w.]+$/);
      expect(seconds).toBeGreaterThanOrEqual(0);
      expect(seconds).toBeLessThan(3600);
    }
  });

  test("import fills an empty times.dbm that stestr reads, and export gives the seed back", () => {
    const seed = path.join(dir, "seed.json");
    fs.writeFileSync(seed, JSON.stringify({ "tempest.api.a.T.test_x": 12.5, "tempest.api.b.U.test_y": 0.3 }));
    const dbm = path.join(dir, "times.dbm");
    expect(times("import", seed, dbm)).toMatch(/2 of 2 test durations/);
    expect(
      stestrReads(dbm, ["tempest.api.a.T.test_x", "tempest.api.b.U.test_y", "tempest.api.c.V.test_z"]),
    ).toEqual({
      "tempest.api.a.T.test_x": 12.5,
      "tempest.api.b.U.test_y": 0.3,
    });
    const back = path.join(dir, "back.json");
    times("export", dbm, back);
    expect(JSON.parse(fs.readFileSync(back, "utf8"))).toEqual({
      "tempest.api.a.T.test_x": 12.5,
      "tempest.api.b.U.test_y": 0.3,
    });
  });

  test("import keeps the durations a machine measured itself", () => {
    const dbm = path.join(dir, "times.dbm");
    const first = path.join(dir, "first.json");
    fs.writeFileSync(first, JSON.stringify({ "tempest.api.a.T.test_x": 40 }));
    times("import", first, dbm);
    const seed = path.join(dir, "seed.json");
    fs.writeFileSync(seed, JSON.stringify({ "tempest.api.a.T.test_x": 2, "tempest.api.b.U.test_y": 7 }));
    expect(times("import", seed, dbm)).toMatch(/1 of 2 test durations/);
    expect(stestrReads(dbm, ["tempest.api.a.T.test_x", "tempest.api.b.U.test_y"])).toEqual({
      "tempest.api.a.T.test_x": 40,
      "tempest.api.b.U.test_y": 7,
    });
  });

  test("a seed that is not test id -> seconds is refused with the id", () => {
    const seed = path.join(dir, "seed.json");
    fs.writeFileSync(seed, JSON.stringify({ "tempest.api.a.T.test_x": "slow" }));
    expect(() => times("import", seed, path.join(dir, "times.dbm"))).toThrow(
      /tempest\.api\.a\.T\.test_x.*expected a tempest test id -> seconds/,
    );
  });

  /** A subunit v2 stream as stestr's workers write it: [id, worker, start s, stop s, status]. */
  function stream(tests: [string, string, number, number, string?][]): string {
    const py = [
      "import datetime, json, sys, subunit",
      "w = subunit.StreamResultToBytes(open(sys.argv[1], 'wb'))",
      "t0 = datetime.datetime(2026, 12, 5, tzinfo=datetime.timezone.utc)",
      "for i, worker, a, b, status in json.loads(sys.argv[2]):",
      "    at = lambda s: t0 + datetime.timedelta(seconds=s)",
      "    w.status(test_id=i, test_status='inprogress', timestamp=at(a), test_tags={worker})",
      "    w.status(test_id=i, test_status=status, timestamp=at(b), test_tags={worker})",
    ].join("\n");
    const file = path.join(dir, "run.subunit");
    const rows = tests.map(([i, w, a, b, status]) => [i, w, a, b, status ?? "success"]);
    execFileSync("/usr/bin/python3", ["-c", py, file, JSON.stringify(rows)]);
    return file;
  }

  test("balance gives each test its share of its class's wall time, fixtures included", () => {
    // worker-0: class A's fixtures take 10 s before its first test, then 4 s of tests, then 20 s
    // between A and B (A's teardown and B's setup, split evenly), then B's 1 s test.
    // worker-1: class C's 5 s test, then a class skipped in its setUpClass.
    const file = stream([
      ["tempest.api.x.A.test_1[id-1,smoke]", "worker-0", 10, 12],
      ["tempest.api.x.A.test_2[id-2]", "worker-0", 12, 14],
      ["tempest.api.x.B.test_1[id-3]", "worker-0", 34, 35],
      ["tempest.api.y.C.test_1[id-4]", "worker-1", 0, 5],
      ["setUpClass (tempest.api.y.D)", "worker-1", 6, 6, "skip"],
    ]);
    const dbm = path.join(dir, "times.dbm");
    const out = times("balance", file, dbm);
    expect(out).toContain("tempest worker-0: 3 tests, test time 0.1 min, wall 0.6 min");
    expect(out).toContain("4 tests of 3 classes");
    expect(
      stestrReads(dbm, [
        "tempest.api.x.A.test_1",
        "tempest.api.x.A.test_2",
        "tempest.api.x.B.test_1",
        "tempest.api.y.C.test_1",
      ]),
    ).toEqual({
      "tempest.api.x.A.test_1": 12,
      "tempest.api.x.A.test_2": 12,
      "tempest.api.x.B.test_1": 11,
      "tempest.api.y.C.test_1": 5.5,
    });
  });

  test("with balanced figures stestr's own scheduler deals out classes by their wall time", () => {
    // A: two quick tests behind 60 s of fixtures; B, C, D: one 20 s test each, no fixtures.
    // By test time alone stestr would give A's worker more work; by wall time A is alone.
    const file = stream([
      ["tempest.api.x.A.test_1", "worker-0", 0, 0],
      ["tempest.api.x.A.test_2", "worker-0", 59, 60],
      ["tempest.api.x.B.test_1", "worker-1", 0, 20],
      ["tempest.api.x.C.test_1", "worker-1", 20, 40],
      ["tempest.api.x.D.test_1", "worker-1", 40, 60],
    ]);
    const dbm = path.join(dir, "times.dbm");
    times("balance", file, dbm);
    const py = [
      "import json, sys, re",
      "from stestr import scheduler",
      "class Repo:",
      "    def get_test_times(self, ids):",
      "        import dbm.dumb",
      "        db = dbm.dumb.open(sys.argv[1], 'r')",
      "        return {'known': {i: float(db[i]) for i in ids}, 'unknown': set()}",
      "ids = ['tempest.api.x.%s.test_%d' % p for p in [('A', 1), ('A', 2), ('B', 1), ('C', 1), ('D', 1)]]",
      "group = lambda i: re.match(r'([^\\.]*\\.)*', i).group(0)",
      "print(json.dumps(sorted(sorted(p) for p in scheduler.partition_tests(ids, 2, Repo(), group))))",
    ].join("\n");
    const parts = JSON.parse(execFileSync("/usr/bin/python3", ["-c", py, dbm], { encoding: "utf8" }));
    expect(parts).toEqual([
      ["tempest.api.x.A.test_1", "tempest.api.x.A.test_2"],
      ["tempest.api.x.B.test_1", "tempest.api.x.C.test_1", "tempest.api.x.D.test_1"],
    ]);
  });
});
