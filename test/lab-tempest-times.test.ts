/**
 * Tempest's committed worker-balance seed (lab/tempest/times-seed.json) and lab/tempest/times.py,
 * which loads it into stestr's times.dbm (dbm.dumb, as stestr reads it) and exports a cache back.
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
});
