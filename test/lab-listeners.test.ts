/**
 * The `listeners` check: `ss` parsed, each socket judged against the host's management address,
 * the VIP (controllers only) and loopback, the allow-list's entries with their reasons; the
 * check run against a fake lab (nothing is run on a host).
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { loadInventory } from "../lib/cluster/inventory";
import { allChecks } from "../lab/checks";
import {
  ALLOWED,
  describeListener,
  HostAddresses,
  judgeListeners,
  listenerDetail,
  listenersCheck,
  parseSs,
  SS_PROBE,
} from "../lab/checks/listeners";
import { fakeCtx } from "./lab-fakes";

const LAB_SMALL = loadInventory(path.join(__dirname, "..", "examples", "lab-small.yaml"));

/** The lines `ss -Htlnp` and `ss -Hulnp` print (as SS_PROBE passes them on, protocol first). */
function ssLines(tcp: string[], udp: string[]): string {
  return [...tcp.map((l) => `tcp ${l}`), ...udp.map((l) => `udp ${l}`), ""].join("\n");
}

function uwsgi(address: string, port: number, fd: number): string {
  const users = [4101, 4119, 4120].map((pid) => `("uwsgi_python311",pid=${pid},fd=${fd})`).join(",");
  return `LISTEN 0      100      ${address}:${port}      0.0.0.0:*    users:(${users})`;
}

/** A controller as the library leaves it: its address 10.211.0.11, the VIP 10.211.0.10. */
function controllerAfter(own = "10.211.0.11", vip = "10.211.0.10"): string {
  const relayed = (port: number, daemon: string, pid: number) => [
    `LISTEN 0      128      ${own}:${port}      0.0.0.0:*    users:(("${daemon}",pid=${pid},fd=5),("${daemon}",pid=${pid + 1},fd=5))`,
    `LISTEN 0      4096     ${vip}:${port}      0.0.0.0:*    users:(("systemd-socket-",pid=${pid + 50},fd=3),("systemd",pid=1,fd=${port % 100}))`,
  ];
  return ssLines(
    [
      'LISTEN 0      128          0.0.0.0:22         0.0.0.0:*    users:(("sshd",pid=171,fd=3))',
      `LISTEN 0      80       ${own}:3306       0.0.0.0:*    users:(("mariadbd",pid=2380,fd=21))`,
      `LISTEN 0      80       ${vip}:3306       0.0.0.0:*    users:(("mariadbd",pid=2380,fd=22))`,
      `LISTEN 0      1024     ${own}:11211      0.0.0.0:*    users:(("memcached",pid=2791,fd=26))`,
      'LISTEN 0      4096       127.0.0.1:4369       0.0.0.0:*    users:(("epmd",pid=3002,fd=3),("systemd",pid=1,fd=60))',
      `LISTEN 0      4096     ${own}:4369       0.0.0.0:*    users:(("epmd",pid=3002,fd=4),("systemd",pid=1,fd=61))`,
      `LISTEN 0      128      ${own}:25672      0.0.0.0:*    users:(("beam.smp",pid=3010,fd=17))`,
      `LISTEN 0      128      ${own}:5672       0.0.0.0:*    users:(("beam.smp",pid=3010,fd=33))`,
      `LISTEN 0      128      ${vip}:5672       0.0.0.0:*    users:(("beam.smp",pid=3010,fd=34))`,
      ...[5000, 8778, 8774, 8775, 8776].flatMap((port) => [uwsgi(own, port, 3), uwsgi(vip, port, 4)]),
      ...relayed(9292, "glance-api", 5100),
      ...relayed(9696, "neutron-server", 5200),
      ...relayed(8080, "swift-proxy-ser", 5300),
      ...relayed(6080, "nova-novncproxy", 5400),
      `LISTEN 0      511      ${own}:80         0.0.0.0:*    users:(("apache2",pid=6001,fd=3),("apache2",pid=6000,fd=3))`,
      `LISTEN 0      511      ${vip}:80         0.0.0.0:*    users:(("apache2",pid=6001,fd=4),("apache2",pid=6000,fd=4))`,
      `LISTEN 0      512      ${own}:3300       0.0.0.0:*    users:(("ceph-mon",pid=2950,fd=27))`,
      `LISTEN 0      512      ${own}:6789       0.0.0.0:*    users:(("ceph-mon",pid=2950,fd=28))`,
      `LISTEN 0      512      ${own}:6800       0.0.0.0:*    users:(("ceph-mgr",pid=2960,fd=30))`,
      'LISTEN 0      128             [::]:22            [::]:*    users:(("sshd",pid=171,fd=4))',
    ],
    [
      `UNCONN 0      0        ${own}:123        0.0.0.0:*    users:(("chronyd",pid=388,fd=7))`,
      'UNCONN 0      0          127.0.0.1:323        0.0.0.0:*    users:(("chronyd",pid=388,fd=5))',
      'UNCONN 0      0       0.0.0.0%eth0:694        0.0.0.0:*    users:(("heartbeat",pid=2204,fd=7))',
      'UNCONN 0      0       0.0.0.0%eth0:41703      0.0.0.0:*    users:(("heartbeat",pid=2203,fd=6))',
      'UNCONN 0      0              [::1]:323           [::]:*    users:(("chronyd",pid=388,fd=6))',
    ],
  );
}

/** The same controller as the packages' defaults left it (before the library bound its daemons). */
const CONTROLLER_BEFORE = ssLines(
  [
    'LISTEN 0      128          0.0.0.0:22         0.0.0.0:*    users:(("sshd",pid=171,fd=3))',
    'LISTEN 0      80       10.211.0.11:3306       0.0.0.0:*    users:(("mariadbd",pid=2380,fd=21))',
    'LISTEN 0      4096               *:4369             *:*    users:(("epmd",pid=3002,fd=3),("systemd",pid=1,fd=60))',
    'LISTEN 0      128          0.0.0.0:25672      0.0.0.0:*    users:(("beam.smp",pid=3010,fd=17))',
    uwsgi("0.0.0.0", 5000, 3),
    'LISTEN 0      128          0.0.0.0:9696       0.0.0.0:*    users:(("neutron-server",pid=5200,fd=5))',
    'LISTEN 0      511                *:80               *:*    users:(("apache2",pid=6001,fd=4),("apache2",pid=6000,fd=4))',
    'LISTEN 0      128             [::]:22            [::]:*    users:(("sshd",pid=171,fd=4))',
  ],
  [
    'UNCONN 0      0            0.0.0.0:123        0.0.0.0:*    users:(("chronyd",pid=388,fd=7))',
    'UNCONN 0      0               [::]:123           [::]:*    users:(("chronyd",pid=388,fd=8))',
    'UNCONN 0      0       0.0.0.0%eth0:694        0.0.0.0:*    users:(("heartbeat",pid=2204,fd=7))',
  ],
);

/** A compute host on which libvirt started its NAT network (dnsmasq on virbr0). */
const COMPUTE_WITH_VIRBR0 = ssLines(
  [
    'LISTEN 0      128          0.0.0.0:22         0.0.0.0:*    users:(("sshd",pid=171,fd=3))',
    'LISTEN 0      32     192.168.122.1:53         0.0.0.0:*    users:(("dnsmasq",pid=7100,fd=6))',
    'LISTEN 0      10         127.0.0.1:6640       0.0.0.0:*    users:(("ovsdb-server",pid=900,fd=20))',
    'LISTEN 0      4096       127.0.0.1:6633       0.0.0.0:*    users:(("neutron-openvsw",pid=950,fd=12))',
    'LISTEN 0      64       10.211.0.21:873        0.0.0.0:*    users:(("rsync",pid=1300,fd=4))',
  ],
  [
    'UNCONN 0      0      192.168.122.1:53         0.0.0.0:*    users:(("dnsmasq",pid=7100,fd=5))',
    'UNCONN 0      0     0.0.0.0%virbr0:67         0.0.0.0:*    users:(("dnsmasq",pid=7100,fd=3))',
  ],
);

const CONTROLLER1: HostAddresses = {
  address: "10.211.0.11",
  managementInterface: "eth0",
  vip: "10.211.0.10",
};

describe("ss output", () => {
  test("protocol, address, bound interface, port and the processes holding each socket", () => {
    const got = parseSs(
      [
        'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=171,fd=3))',
        'tcp LISTEN 0 4096 *:4369 *:* users:(("epmd",pid=3002,fd=3),("systemd",pid=1,fd=60))',
        'tcp LISTEN 0 128 [::]:22 [::]:* users:(("sshd",pid=171,fd=4))',
        'tcp LISTEN 0 128 [::ffff:10.211.0.11]:80 [::]:* users:(("apache2",pid=1,fd=4),("apache2",pid=2,fd=4))',
        'udp UNCONN 0 0 0.0.0.0%eth0:694 0.0.0.0:* users:(("heartbeat",pid=2204,fd=7))',
        "udp UNCONN 0 0 0.0.0.0:4789 0.0.0.0:*",
        'udp UNCONN 0 0 [fe80::1]%eth0:546 [::]:* users:(("dhclient",pid=9,fd=5))',
        "",
        "State Recv-Q Send-Q Local Address:Port Peer Address:Port Process",
        "garbage",
      ].join("\n"),
    );
    expect(got).toEqual([
      { proto: "tcp", address: "0.0.0.0", port: 22, processes: ["sshd"] },
      { proto: "tcp", address: "*", port: 4369, processes: ["epmd", "systemd"] },
      { proto: "tcp", address: "::", port: 22, processes: ["sshd"] },
      { proto: "tcp", address: "::ffff:10.211.0.11", port: 80, processes: ["apache2"] },
      { proto: "udp", address: "0.0.0.0", device: "eth0", port: 694, processes: ["heartbeat"] },
      { proto: "udp", address: "0.0.0.0", port: 4789, processes: [] },
      { proto: "udp", address: "fe80::1", device: "eth0", port: 546, processes: ["dhclient"] },
    ]);
    expect(got.map(describeListener)).toEqual([
      "sshd tcp 0.0.0.0:22",
      "epmd,systemd tcp *:4369",
      "sshd tcp [::]:22",
      "apache2 tcp [::ffff:10.211.0.11]:80",
      "heartbeat udp 0.0.0.0%eth0:694",
      "- udp 0.0.0.0:4789",
      "dhclient udp [fe80::1]%eth0:546",
    ]);
  });

  test("the probe runs in the remote shell, and every line of this machine's ss parses", () => {
    // What sshd does with the command line: hand it to the login shell with -c.
    const out = execFileSync("sh", ["-c", SS_PROBE], { encoding: "utf8" });
    const lines = out.split("\n").filter((l) => l.trim());
    expect(lines.every((l) => /^(tcp|udp) /.test(l))).toBe(true);
    expect(parseSs(out)).toHaveLength(lines.length);
  });
});

describe("a host's listeners judged", () => {
  test("a controller as the library leaves it passes: sshd and Heartbeat allowed, the rest on its address, the VIP or loopback", () => {
    const listeners = parseSs(controllerAfter());
    const verdict = judgeListeners(listeners, CONTROLLER1);
    expect(verdict.ok).toBe(true);
    expect(verdict.wildcard).toEqual([]);
    expect(verdict.elsewhere).toEqual([]);
    expect(verdict.allowed.map((a) => describeListener(a.listener))).toEqual([
      "sshd tcp 0.0.0.0:22",
      "sshd tcp [::]:22",
      "heartbeat udp 0.0.0.0%eth0:694",
      "heartbeat udp 0.0.0.0%eth0:41703",
    ]);
    expect(verdict.fine).toHaveLength(listeners.length - 4);
    expect(listenerDetail(verdict, CONTROLLER1)).toBe(
      `${listeners.length - 4} listeners on 10.211.0.11, the VIP 10.211.0.10, loopback; allowed: sshd tcp 0.0.0.0:22, sshd tcp [::]:22, heartbeat udp 0.0.0.0%eth0:694, heartbeat udp 0.0.0.0%eth0:41703`,
    );
  });

  test("the packages' defaults fail, each wildcard named with its process, in one line", () => {
    const verdict = judgeListeners(parseSs(CONTROLLER_BEFORE), CONTROLLER1);
    expect(verdict.ok).toBe(false);
    expect(listenerDetail(verdict, CONTROLLER1)).toBe(
      "on every address: epmd,systemd tcp *:4369, beam.smp tcp 0.0.0.0:25672, uwsgi_python311 tcp 0.0.0.0:5000, neutron-server tcp 0.0.0.0:9696, apache2 tcp *:80, chronyd udp 0.0.0.0:123, chronyd udp [::]:123",
    );
  });

  test("an address that is neither the host's, the VIP nor loopback fails, as a wildcard does", () => {
    const compute1: HostAddresses = { address: "10.211.0.21", managementInterface: "eth0" };
    const verdict = judgeListeners(parseSs(COMPUTE_WITH_VIRBR0), compute1);
    expect(verdict.ok).toBe(false);
    expect(listenerDetail(verdict, compute1)).toBe(
      "on every address: dnsmasq udp 0.0.0.0%virbr0:67; not on 10.211.0.21, loopback: dnsmasq tcp 192.168.122.1:53, dnsmasq udp 192.168.122.1:53",
    );
  });

  test("the VIP is a controller's only; an IPv4-mapped address is the address", () => {
    const onVip = parseSs(
      [
        'tcp LISTEN 0 128 10.211.0.10:9292 0.0.0.0:* users:(("glance-api",pid=5,fd=5))',
        'tcp LISTEN 0 128 [::ffff:10.211.0.21]:80 [::]:* users:(("apache2",pid=6,fd=4))',
      ].join("\n"),
    );
    const compute1: HostAddresses = { address: "10.211.0.21", managementInterface: "eth0" };
    expect(judgeListeners(onVip, compute1).elsewhere.map(describeListener)).toEqual([
      "glance-api tcp 10.211.0.10:9292",
    ]);
    expect(judgeListeners(onVip, { ...compute1, vip: "10.211.0.10" }).ok).toBe(true);
  });

  test("an allowance holds only as written: sshd on port 22, Heartbeat on the management interface", () => {
    const odd = parseSs(
      [
        'tcp LISTEN 0 128 0.0.0.0:2222 0.0.0.0:* users:(("sshd",pid=1,fd=3))',
        'udp UNCONN 0 0 0.0.0.0:694 0.0.0.0:* users:(("heartbeat",pid=2,fd=7))',
        'udp UNCONN 0 0 0.0.0.0%eth1:694 0.0.0.0:* users:(("heartbeat",pid=2,fd=8))',
        'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("dropbear",pid=3,fd=3))',
      ].join("\n"),
    );
    const verdict = judgeListeners(odd, CONTROLLER1);
    expect(verdict.allowed).toEqual([]);
    expect(verdict.wildcard).toHaveLength(4);
  });

  test("every allowance gives its reason", () => {
    expect(ALLOWED.map((a) => a.process)).toEqual(["sshd", "heartbeat"]);
    for (const a of ALLOWED) expect(a.reason.length).toBeGreaterThan(40);
  });
});

describe("the listeners check", () => {
  test("on every host, with its own address; a controller may use the VIP, another host may not", async () => {
    const { ctx, sent } = fakeCtx(LAB_SMALL, () => "");
    ctx.ssh = async (host, command) => {
      sent.push({ host: host.name, command });
      const stdout =
        host.name === "controller2"
          ? controllerAfter("10.211.0.12")
          : host.name === "network1"
            ? controllerAfter("10.211.0.31")
            : controllerAfter(host.address);
      return { code: 0, stdout, stderr: "" };
    };
    const results = await listenersCheck.run(ctx);
    expect(sent.map((s) => s.host)).toEqual(["controller1", "controller2", "compute1", "network1"]);
    expect(sent.every((s) => s.command === SS_PROBE)).toBe(true);
    expect(results.map((r) => [r.host, r.ok])).toEqual([
      ["controller1", true],
      ["controller2", true],
      ["compute1", false],
      ["network1", false],
    ]);
    expect(results[2].detail).toContain("not on 10.211.0.21, loopback: mariadbd tcp 10.211.0.10:3306");
  });

  test("a host whose ss shows nothing fails, and so does one whose ss fails", async () => {
    const empty = fakeCtx(LAB_SMALL, () => "");
    const results = await listenersCheck.run(empty.ctx);
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(results[0].detail).toBe("no listener at all");
    const broken = fakeCtx(LAB_SMALL, () => {
      throw new Error("ss: command not found");
    });
    const failed = await listenersCheck.run(broken.ctx);
    expect(failed.every((r) => !r.ok && r.detail.includes("ss: command not found"))).toBe(true);
  });

  test("runs after the data plane is up, before secrets and step leftovers", () => {
    const names = allChecks.map((c) => c.name);
    expect(names.indexOf("listeners")).toBeGreaterThan(names.indexOf("vm-lifecycle"));
    expect(names.indexOf("listeners")).toBeLessThan(names.indexOf("secrets"));
  });
});
