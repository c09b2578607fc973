import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { COMPONENTS } from "../lib/cluster/components";
import { outage, WriteEvent } from "../lab/checks/failover";
import { parseVertical } from "../lab/checks/mysql";
import { parseProbeLine } from "../lab/checks/prober";
import { API_SERVICES, controlPlaneUnits } from "../lab/checks/services/catalog";
import { judgeServices, recovery, ServiceRow, updatedAtMs } from "../lab/checks/services/client";
import { judgeHorizon } from "../lab/checks/services/horizon";
import { Endpoint, INTERFACES, judgeEndpoints } from "../lab/checks/services/keystone";
import { deliveredSecrets, filesUnder, scanForSecrets, secretForms } from "../lab/checks/secrets";
import { bashCommand, mysqlHostPattern, parseListeners } from "../lab/checks/platform";
import { judgeStepLeftovers } from "../lab/checks/steps";
import { judgeColdStart } from "../lab/checks/services/cold-start";
import { judgeKeepalive } from "../lab/checks/services/keepalive";

describe("lab platform check helpers", () => {
  test("ss listeners: protocol and address, port and interface scope dropped", () => {
    const ss = [
      "tcp   LISTEN 0      1024    10.211.0.11:11211 0.0.0.0:*",
      "tcp   LISTEN 0      128     10.211.0.10:5672  0.0.0.0:*",
      "tcp   LISTEN 0      4096              *:4369        *:*",
      "tcp   LISTEN 0      128            [::]:22       [::]:*",
      "udp   UNCONN 0      0      0.0.0.0%eth0:694   0.0.0.0:*",
      "",
    ].join("\n");
    expect(parseListeners(ss)).toEqual([
      "tcp *",
      "tcp 10.211.0.10",
      "tcp 10.211.0.11",
      "tcp [::]",
      "udp 0.0.0.0",
    ]);
  });

  test("SHOW SLAVE STATUS in vertical form", () => {
    const out = `*************************** 1. row ***************************
                Slave_IO_State: Waiting for master to send event
                   Master_Host: 10.211.0.12
              Slave_IO_Running: Yes
             Slave_SQL_Running: Yes
                    Last_Error: 
                    Using_Gtid: Slave_Pos
`;
    const s = parseVertical(out);
    expect(s.Master_Host).toBe("10.211.0.12");
    expect(s.Slave_IO_Running).toBe("Yes");
    expect(s.Last_Error).toBe("");
    expect(s.Using_Gtid).toBe("Slave_Pos");
    expect(parseVertical("")).toEqual({});
  });

  test("MariaDB host pattern of a network, as the library writes it", () => {
    expect(mysqlHostPattern("10.211.0.0/24")).toBe("10.211.0.0/255.255.255.0");
    expect(mysqlHostPattern("10.0.0.0/8")).toBe("10.0.0.0/255.0.0.0");
    expect(mysqlHostPattern("192.168.4.0/22")).toBe("192.168.4.0/255.255.252.0");
  });

  test("bashCommand survives the remote shell: the script and its arguments arrive verbatim", () => {
    const script = `printf '%s|' "$1" "$2"; echo "it's \${3:-none}"`;
    const command = bashCommand(script, "a b", "$(touch /nonexistent)'\"");
    // What sshd does with the command line: hand it to the login shell with -c.
    const out = execFileSync("sh", ["-c", command], { encoding: "utf8" });
    expect(out).toBe(`a b|$(touch /nonexistent)'"|it's none\n`);
  });
});

describe("lab failover figures", () => {
  test("writer lines", () => {
    expect(parseProbeLine("1000 1030 7 OK controller2")).toEqual({
      start: 1000,
      end: 1030,
      seq: 7,
      ok: true,
      info: "controller2",
    });
    expect(parseProbeLine("1000 3000 8 ERR rc=1 ERROR 2002 (HY000): Can't connect")?.ok).toBe(false);
    expect(parseProbeLine("garbage")).toBeUndefined();
  });

  test("outage: longest time without a successful write around the trigger", () => {
    const ev = (seq: number, end: number, ok: boolean, info = ok ? "a" : "err"): WriteEvent => ({
      seq,
      start: end - 20,
      end,
      ok,
      info,
    });
    const events = [
      ev(1, 1000, true),
      ev(2, 1200, true),
      ev(3, 1400, true),
      // trigger at 1500
      ev(4, 3600, false),
      ev(5, 5800, false),
      ev(6, 6300, true, "b"),
      ev(7, 6500, true, "b"),
    ];
    const o = outage(events, 1500, 7000);
    expect(o.longestGapMs).toBe(4900);
    expect(o.gapFrom).toBe(-100);
    expect(o.gapTo).toBe(4800);
    expect(o.failedAttempts).toBe(2);
    expect(o.normalGapMs).toBe(200);
    expect(o.servedBefore).toBe("a");
    expect(o.servedAfter).toBe("b");
  });

  test("outage with no success after the trigger reports no gap closed", () => {
    const o = outage([{ seq: 1, start: 0, end: 10, ok: true, info: "a" }], 100, 1000);
    expect(o.longestGapMs).toBe(0);
    expect(o.servedAfter).toBeUndefined();
  });
});

describe("lab control-plane checks", () => {
  const vip = "10.211.0.10";
  const ports: Record<string, string> = {
    identity: ":5000/v3",
    image: ":9292",
    placement: ":8778",
    compute: ":8774/v2.1",
    network: ":9696",
    volumev3: ":8776/v3/%(project_id)s",
    "object-store": ":8080/v1/AUTH_%(project_id)s",
  };
  const catalog = (): Endpoint[] =>
    API_SERVICES.flatMap((s) =>
      INTERFACES.map((i) => ({
        "Service Type": s.type,
        Interface: i,
        URL: `http://${vip}${ports[s.type]}`,
        Enabled: true,
        Region: "RegionOne",
      })),
    );

  test("the checks ask every API the library's components declare, at the declared port", () => {
    const declared = COMPONENTS.flatMap((c) => (c.api ? [{ type: c.api.type, port: c.api.port }] : []));
    const asked = API_SERVICES.map((s) => ({ type: s.type, port: s.port }));
    expect(declared.length).toBeGreaterThan(0);
    expect([...asked].sort((a, b) => a.port - b.port)).toEqual([...declared].sort((a, b) => a.port - b.port));
  });

  test("endpoints: every service with public, internal and admin on the VIP", () => {
    expect(judgeEndpoints(catalog(), vip, API_SERVICES).ok).toBe(true);
    const missing = catalog().filter((e) => !(e["Service Type"] === "image" && e.Interface === "admin"));
    expect(judgeEndpoints(missing, vip, API_SERVICES)).toMatchObject({
      ok: false,
      detail: "no image admin endpoint",
    });
    const elsewhere = catalog().map((e) =>
      e["Service Type"] === "compute" && e.Interface === "internal"
        ? { ...e, URL: "http://10.211.0.11:8774/v2.1" }
        : e,
    );
    expect(judgeEndpoints(elsewhere, vip, API_SERVICES).detail).toContain(
      "compute internal is http://10.211.0.11:8774/v2.1",
    );
    // A port prefix must not pass for the port: :87740 is not :8774.
    const port = catalog().map((e) =>
      e["Service Type"] === "compute" && e.Interface === "public" ? { ...e, URL: `http://${vip}:87740` } : e,
    );
    expect(judgeEndpoints(port, vip, API_SERVICES).ok).toBe(false);
  });

  test("services: each binary up on each controller; stale reports before a power-on do not count", () => {
    const row = (
      Binary: string,
      Host: string,
      State = "up",
      at = "2026-11-24T10:26:18.000000",
    ): ServiceRow => ({
      Binary,
      Host,
      Status: "enabled",
      State,
      "Updated At": at,
    });
    const rows = [
      row("nova-conductor", "controller1"),
      row("nova-scheduler", "controller1"),
      row("nova-conductor", "controller2"),
      row("nova-scheduler", "controller2", "down"),
      row("nova-compute", "compute1"),
    ];
    const hosts = ["controller1", "controller2"];
    const r = judgeServices(rows, ["nova-conductor", "nova-scheduler"], hosts);
    expect(r.ok).toBe(false);
    expect(r.missing).toEqual(["nova-scheduler on controller2: enabled down"]);
    expect(r.detail).toContain("also listed: nova-compute@compute1 up");
    expect(judgeServices(rows.slice(0, 3), ["nova-conductor"], hosts).ok).toBe(true);
    expect(judgeServices([row("cinder-volume", "compute1@lvm")], ["cinder-volume"], ["compute1"]).ok).toBe(
      true,
    );
    expect(updatedAtMs(rows[0])).toBe(Date.parse("2026-11-24T10:26:18Z"));
    const since = Date.parse("2026-11-24T10:26:30Z");
    expect(judgeServices(rows.slice(0, 1), ["nova-conductor"], ["controller1"], since).missing[0]).toContain(
      "before the power-on",
    );
    expect(judgeServices(rows.slice(0, 1), ["nova-conductor"], ["controller1"], since - 20_000).ok).toBe(
      true,
    );
  });

  test("Horizon login probe: all steps needed, the first failure named", () => {
    const steps = ["root", "login-page", "login", "landing", "project", "admin", "logout"];
    const ok = steps.map((s) => `STEP ${s} ok fine`).join("\n");
    expect(judgeHorizon(ok).ok).toBe(true);
    expect(judgeHorizon(ok.replace("STEP login ok fine", "STEP login fail POST: 200"))).toEqual({
      ok: false,
      detail: "login: POST: 200",
    });
    expect(judgeHorizon("STEP root ok x\n").detail).toContain("stopped before: login-page");
    expect(judgeHorizon("").ok).toBe(false);
  });

  test("API recovery: first success of an attempt begun after the trigger and the last failure", () => {
    const ev = (seq: number, start: number, end: number, ok: boolean): WriteEvent => ({
      seq,
      start,
      end,
      ok,
      info: ok ? "0-images" : "no answer",
    });
    const events = [
      ev(1, 0, 1700, true), // begun before the trigger: does not count
      ev(2, 1000, 11_000, false), // hung on the dead holder
      ev(3, 2000, 9_000, false),
      ev(4, 6000, 6800, true),
      ev(5, 7000, 7700, true),
    ];
    expect(recovery(events, 1000, 12_000)).toEqual({ recoveredMs: 5800, failed: 2, lastError: "no answer" });
    // Nothing failed: the first attempt begun after the trigger, however slow.
    const slow = [ev(1, 0, 700, true), ev(2, 1000, 8000, true), ev(3, 2000, 8500, true)];
    expect(recovery(slow, 1000, 9000)).toEqual({ recoveredMs: 7000, failed: 0, lastError: undefined });
    expect(recovery(events.slice(0, 3), 1000, 12_000).recoveredMs).toBeUndefined();
  });

  test("control-plane units come from the release profile", () => {
    const units = controlPlaneUnits("debian-12-zed");
    expect(units).toEqual(expect.arrayContaining(["keystone", "glance-api", "nova-conductor", "apache2"]));
    expect(new Set(units).size).toBe(units.length);
  });
});

describe("lab secrets check", () => {
  test("finds a value and its base64 by NAME, never returning the value", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-secrets-"));
    const value = "s3cretValue0123456789";
    const clean = path.join(dir, "clean.log");
    const plain = path.join(dir, "plain.json");
    const b64 = path.join(dir, "b64.log");
    fs.writeFileSync(clean, "nothing here ${base64encode(var.secret_x)}\n");
    fs.writeFileSync(plain, `{"v": "${value}"}`);
    fs.writeFileSync(b64, `x ${Buffer.from(value).toString("base64")} y`);
    const hits = scanForSecrets(filesUnder(dir), { rabbitmq_password: value, short: "abc" });
    expect(hits).toEqual([
      { file: b64, name: "rabbitmq_password", form: "base64" },
      { file: plain, name: "rabbitmq_password", form: "value" },
    ]);
    expect(JSON.stringify(hits)).not.toContain(value);
    expect(secretForms("ab").map((f) => f.needle.toString())).toEqual(["ab", "YWI=", "YWI"]);
    fs.rmSync(dir, { recursive: true });
  });

  test("which secrets the stack delivers to which host", () => {
    const stack = {
      resource: {
        terraform_data: {
          c1_secrets: {
            connection: { host: "10.211.0.11" },
            provisioner: [
              { "remote-exec": { inline: ["mkdir"] } },
              {
                file: {
                  content:
                    "a_password ${base64encode(var.secret_a_password)}\nb_key ${base64encode(var.secret_b_key)}\n",
                  destination: "/root/.openstack-cdktf-upload/secrets",
                },
              },
            ],
          },
          c1_other: { connection: { host: "10.211.0.11" }, provisioner: [{ "remote-exec": { inline: [] } }] },
        },
      },
    };
    expect([...deliveredSecrets(stack)]).toEqual([["10.211.0.11", ["a_password", "b_key"]]]);
  });
});

describe("step-leftovers", () => {
  const clean = "changes=\ncut=\nlock=free\npolicy=absent\naudit=\n";
  test("passes a host where every step ended well", () => {
    expect(judgeStepLeftovers(clean)).toEqual({
      ok: true,
      detail: "no change records, no cut run, step lock free, no policy-rc.d, dpkg clean",
    });
  });
  test("names each thing a cut run left behind", () => {
    const v = judgeStepLeftovers(
      "changes=controller1_horizon controller1_horizon/horizon \ncut=controller1_nova.sh \nlock=held by 123 bash;\npolicy=present\naudit=The following packages are only half configured\n",
    );
    expect(v.ok).toBe(false);
    expect(v.detail).toBe(
      "change records left (a step did not end well): controller1_horizon controller1_horizon/horizon; a cut run never finished: controller1_nova.sh; step lock held by 123 bash;; /usr/sbin/policy-rc.d left behind; dpkg --audit: The following packages are only half configured",
    );
  });
  test("fails on output it cannot read", () => {
    expect(judgeStepLeftovers("bash: flock: command not found\n").ok).toBe(false);
  });
});

describe("api-keepalive judges the probe's lines", () => {
  const expected = ["identity", "compute", "identity-delete"];
  it("passes when every API answered the second request on one client", () => {
    const out = [
      "identity OK HEAD 200 then GET 200 on one client",
      "compute OK HEAD 200 then GET 200 on one client",
      "identity-delete OK DELETE 204 then GET 200 on one client",
    ].join("\n");
    expect(judgeKeepalive(out, expected).ok).toBe(true);
  });
  it("fails on a reset, on an error status, and on an API the probe never reported", () => {
    const out = [
      "identity OK HEAD 200 then GET 200 on one client",
      "identity-delete FAIL ConnectionResetError: [Errno 104] Connection reset by peer",
      "other OK HEAD 200 then GET 503 on one client",
    ].join("\n");
    const verdict = judgeKeepalive(out, expected);
    expect(verdict.ok).toBe(false);
    expect(verdict.detail).toContain("identity-delete FAIL ConnectionResetError");
    expect(verdict.detail).toContain("other OK HEAD 200 then GET 503");
    expect(verdict.detail).toContain("compute: no answer from the probe");
  });
});

describe("api-cold-start judges the probe's lines", () => {
  const expected = ["identity", "network", "image"];
  it("passes when every API answered all its concurrent requests with 2xx", () => {
    const out = ["identity 8 8 1.9 -", "network 8 8 4.2 -", "image 8 8 0.6 -"].join("\n");
    const verdict = judgeColdStart(out, expected);
    expect(verdict).toEqual({
      ok: true,
      detail:
        "3 APIs each answered 8 concurrent first requests: identity ≤1.9 s, network ≤4.2 s, image ≤0.6 s",
    });
  });
  it("fails on hung or refused requests and on an API the probe never reported (as seen before threads = 1)", () => {
    const out = ["identity 5 8 2.2 403,RemoteDisconnected", "network 3 8 60.0 TimeoutError"].join("\n");
    const verdict = judgeColdStart(out, expected);
    expect(verdict.ok).toBe(false);
    expect(verdict.detail).toBe(
      "identity: 5 of 8 concurrent requests answered 2xx (others: 403,RemoteDisconnected); " +
        "network: 3 of 8 concurrent requests answered 2xx (others: TimeoutError); " +
        "image: no answer from the probe",
    );
    expect(judgeColdStart("image 0 0 0.0 -", ["image"]).ok).toBe(false);
  });
});
