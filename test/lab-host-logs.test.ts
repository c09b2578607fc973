/**
 * lab/host-logs.ts: each host's /var/log, read from its overlay disk, archived per host in a
 * directory of its own (not a `.log` file the secrets check reads as the lab's own log).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { saveHostLogs } from "../lab/host-logs";

describe("saveHostLogs", () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "host-logs-"));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test("archives /var/log of every host with a disk, one tar.gz each, in a root-only directory", () => {
    const hostsDir = path.join(root, "hosts");
    const logDir = path.join(root, "logs");
    for (const host of ["controller1", "network1"]) {
      const neutron = path.join(hostsDir, host, "upper", "var", "log", "neutron");
      fs.mkdirSync(neutron, { recursive: true });
      fs.writeFileSync(path.join(neutron, "server.log"), `${host} log line\n`);
    }
    fs.mkdirSync(path.join(hostsDir, "never-booted", "upper"), { recursive: true });
    const now = new Date("2026-12-06T13:20:00.000Z");
    const saved = saveHostLogs("labsmall", { hostsDir, logDir, now });
    expect(saved).toEqual({
      dir: path.join(logDir, "labsmall-hostlogs-2026-12-06T13-20-00-000Z"),
      problems: [],
    });
    const dir = saved.dir as string;
    expect(fs.readdirSync(dir).sort()).toEqual(["controller1.tar.gz", "network1.tar.gz"]);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    const listed = spawnSync(
      "tar",
      ["-xzOf", path.join(dir, "network1.tar.gz"), "var/log/neutron/server.log"],
      {
        encoding: "utf8",
      },
    );
    expect(listed.stdout).toBe("network1 log line\n");
  });

  test("no host: nothing written", () => {
    const logDir = path.join(root, "logs");
    expect(saveHostLogs("labsmall", { hostsDir: path.join(root, "none"), logDir })).toEqual({ problems: [] });
    expect(fs.existsSync(logDir)).toBe(false);
  });
});
