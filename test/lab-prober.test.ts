/** The Prober (failover's MySQL writer and API prober) with a local shell standing in for ssh. */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Prober } from "../lab/checks/prober";
import { HostPlan } from "../lab/plan";

jest.mock("../lab/ssh", () => ({
  sshSpawn: (_host: unknown, command: string) => spawn("bash", ["-c", command], { stdio: "pipe" }),
}));

const host = { name: "controller2", address: "10.211.0.12" } as HostPlan;

describe("Prober", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-prober-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("attempt lines become events, every line is logged, stdin carries the input, EOF stops it", async () => {
    const log = path.join(dir, "api.log");
    const loop = `read -r pw; echo "1 2 1 OK got-$pw"; echo noise; echo "3 4 2 ERR rc=1 refused"; cat >/dev/null`;
    const p = new Prober(host, loop, {
      name: "the writer",
      log,
      logPrefix: host.name,
      input: "s3cret\n",
      stopGraceMs: 200,
    });
    expect(await p.waitFor((ev) => ev.length === 2, 5000, "two attempts")).toBeGreaterThanOrEqual(0);
    expect(p.events).toEqual([
      { start: 1, end: 2, seq: 1, ok: true, info: "got-s3cret" },
      { start: 3, end: 4, seq: 2, ok: false, info: "rc=1 refused" },
    ]);
    expect(p.acked().map((e) => e.seq)).toEqual([1]);
    await p.stop();
    expect(p.running).toBe(false);
    const logged = fs.readFileSync(log, "utf8").trim().split("\n");
    expect(logged.map((l) => l.replace(/^\d+ /, ""))).toEqual([
      "controller2 1 2 1 OK got-s3cret",
      "controller2 noise",
      "controller2 3 4 2 ERR rc=1 refused",
    ]);
  });

  test("stop() returns once a probe that ignores EOF is killed: not running afterwards", async () => {
    const p = new Prober(host, "exec sleep 30", { name: "deaf", stopGraceMs: 50 });
    expect(p.running).toBe(true);
    const t0 = Date.now();
    await p.stop();
    expect(p.running).toBe(false);
    expect(Date.now() - t0).toBeLessThan(10_000);
    await p.stop(); // a second stop: nothing left to kill, returns at once
    expect(p.running).toBe(false);
  });

  test("a stopped probe fails the wait at once, quoting its stderr; a timeout names the last attempt", async () => {
    const dead = new Prober(host, "echo first >&2; echo last >&2; exit 3", {
      name: "the API prober on controller2",
      stopGraceMs: 200,
      stderrInError: "last-line",
    });
    await expect(dead.waitFor(() => false, 5000, "x")).rejects.toThrow(
      "the API prober on controller2 stopped (last)",
    );
    const all = new Prober(host, "echo first >&2; echo last >&2; exit 3", {
      name: "the writer",
      stopGraceMs: 200,
    });
    await expect(all.waitFor(() => false, 5000, "x")).rejects.toThrow("the writer stopped (first\nlast)");
    const slow = new Prober(host, 'echo "1 2 1 ERR no answer"; cat >/dev/null', {
      name: "w",
      stopGraceMs: 200,
    });
    await expect(slow.waitFor(() => false, 300, "3 successes")).rejects.toThrow(
      "3 successes: not within 0.3 s (last attempt: ERR no answer)",
    );
    await Promise.all([dead.stop(), all.stop(), slow.stop()]);
  });
});
