import { execFileSync } from "child_process";
import { outage, parseWriterLine, WriteEvent } from "../lab/checks/failover";
import { parseVertical } from "../lab/checks/mysql";
import { bashCommand, mysqlHostPattern, parseListeners } from "../lab/checks/platform";

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
    expect(parseWriterLine("1000 1030 7 OK controller2")).toEqual({
      start: 1000,
      end: 1030,
      seq: 7,
      ok: true,
      info: "controller2",
    });
    expect(parseWriterLine("1000 3000 8 ERR rc=1 ERROR 2002 (HY000): Can't connect")?.ok).toBe(false);
    expect(parseWriterLine("garbage")).toBeUndefined();
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
