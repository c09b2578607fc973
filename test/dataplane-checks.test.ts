import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadInventory } from "../lib/cluster/inventory";
import { allChecks, dataplaneChecks } from "../lab/checks";
import { CheckContext } from "../lab/checks/types";
import { planHosts } from "../lab/plan";
import { AgentRow, HypervisorRow, judgeAgents, judgeHypervisors } from "../lab/checks/dataplane";
import {
  cachedGuestImage,
  imageCreateArgs,
  parseGuestConsole,
  pingUserData,
} from "../lab/checks/guest-image";
import {
  FIP_DIAGNOSIS_SCRIPT,
  fixedIps,
  judgeConsole,
  parseFipDiagnosis,
  vmLifecycle,
  portDevices,
  presentDevices,
  presentNamespaces,
} from "../lab/checks/vm-lifecycle";

const UUID = "6eafb152-4727-46d2-b7a6-b7d77ab6ded0";

/** A console log as Nova returns it: kernel noise, CRs, the TESTVM lines. */
const BOOT = [
  "[    0.000000] Linux version 6.1.0-57-cloud-amd64",
  "TESTVM boot kernel=6.1.0-57-cloud-amd64\r",
  "TESTVM dhcp ip=192.168.201.27/24 router=192.168.201.1 mtu=1450\r",
];

describe("the guest's console", () => {
  test("dhcp, metadata, ready and pings of the latest boot; noise before the tag ignored", () => {
    const log = [
      ...BOOT,
      `[   12.3] random: crng init done TESTVM metadata uuid=${UUID.toUpperCase()}`,
      "TESTVM sshd port=22 keys=0",
      "TESTVM ready",
      "TESTVM ping 192.168.201.5 fail",
      "TESTVM ping 192.168.201.5 ok",
      "TESTVM ping 10.0.0.1 fail",
    ].join("\n");
    expect(parseGuestConsole(log)).toEqual({
      boots: 1,
      dhcp: { ip: "192.168.201.27", prefix: 24 },
      dhcpFailed: false,
      uuid: UUID,
      metadataFailed: false,
      ready: true,
      pings: { "192.168.201.5": [false, true], "10.0.0.1": [false] },
    });
  });

  test("a second boot starts over", () => {
    const log = [
      ...BOOT,
      "TESTVM metadata failed",
      "TESTVM ready",
      "TESTVM boot kernel=x",
      "TESTVM dhcp failed",
    ];
    const c = parseGuestConsole(log.join("\n"));
    expect(c).toMatchObject({ boots: 2, dhcpFailed: true, metadataFailed: false, ready: false });
    expect(c.dhcp).toBeUndefined();
  });

  test("judged against the port's fixed IP and the server id", () => {
    const ok = judgeConsole(
      [...BOOT, `TESTVM metadata uuid=${UUID}`, "TESTVM ready"].join("\n"),
      "192.168.201.27",
      UUID,
    );
    expect(ok).toEqual({
      ok: true,
      detail: "dhcp ip=192.168.201.27/24 = the port's fixed IP; metadata uuid = the server id",
    });
    const failed = judgeConsole([...BOOT, "TESTVM metadata failed"].join("\n"), "192.168.201.27", UUID);
    expect(failed.ok).toBe(false);
    expect(failed.detail).toBe("metadata failed; dhcp ip=192.168.201.27/24 = the port's fixed IP");
    const wrong = judgeConsole([...BOOT, "TESTVM metadata uuid=0000"].join("\n"), "192.168.201.99", UUID);
    expect(wrong.detail).toBe(
      `dhcp ip=192.168.201.27, the port's fixed IP is 192.168.201.99; metadata uuid=0000, the server is ${UUID}`,
    );
    expect(judgeConsole("", "1.2.3.4", UUID)).toEqual({
      ok: false,
      detail: "no TESTVM boot line; no dhcp line; no metadata line",
    });
  });

  test("ping user data: one line per address, nothing else accepted", () => {
    expect(pingUserData(["192.168.201.27", "10.0.0.1"])).toBe("ping=192.168.201.27\nping=10.0.0.1\n");
    expect(() => pingUserData(["1.2.3.4; reboot"])).toThrow("not an IPv4 address");
  });
});

describe("hypervisors and agents", () => {
  const hv = (name: string, state = "up"): HypervisorRow => ({
    "Hypervisor Hostname": name,
    "Hypervisor Type": "QEMU",
    "Host IP": "10.211.0.21",
    State: state,
  });

  test("every compute host a hypervisor that is up (FQDN allowed); extras fail", () => {
    expect(judgeHypervisors([hv("compute1.lab")], ["compute1"])).toEqual({
      ok: true,
      detail: "compute1 (QEMU, 10.211.0.21) up",
    });
    expect(judgeHypervisors([hv("compute1", "down"), hv("network1")], ["compute1", "compute2"])).toEqual({
      ok: false,
      detail: "compute1: state down; compute2: not listed; not a compute host of the inventory: network1 up",
    });
  });

  const agent = (
    type: string,
    host: string,
    alive: boolean | string = true,
    state: boolean | string = true,
  ): AgentRow => ({
    "Agent Type": type,
    Host: host,
    Alive: alive,
    State: state,
    Binary: "x",
  });
  const healthy = [
    agent("Open vSwitch agent", "compute1"),
    agent("Open vSwitch agent", "network1"),
    agent("L3 agent", "network1"),
    agent("DHCP agent", "network1"),
    agent("Metadata agent", "network1"),
  ];

  test("OVS on compute and network hosts, L3/DHCP/metadata on network hosts", () => {
    const v = judgeAgents(healthy, ["compute1"], ["network1"]);
    expect(v.ok).toBe(true);
    expect(v.fine).toEqual([
      "Open vSwitch agent@compute1",
      "Open vSwitch agent@network1",
      "L3 agent@network1",
      "DHCP agent@network1",
      "Metadata agent@network1",
    ]);
  });

  test("missing, dead, down, duplicate and unexpected agents are named", () => {
    const rows = [
      agent("Open vSwitch agent", "compute1", false),
      agent("Open vSwitch agent", "network1", ":-)", "DOWN"),
      agent("L3 agent", "network1"),
      agent("L3 agent", "network1"),
      agent("Metadata agent", "network1", ":-)", "UP"),
      agent("DHCP agent", "compute1", "XXX"),
    ];
    expect(judgeAgents(rows, ["compute1"], ["network1"])).toMatchObject({
      ok: false,
      detail:
        "Open vSwitch agent on compute1: not alive; Open vSwitch agent on network1: admin state down; " +
        "L3 agent on network1: 2 agents; DHCP agent on network1: not listed; unexpected: DHCP agent@compute1 (dead)",
    });
  });
});

describe("what a VM leaves behind", () => {
  const port = "2468cd43-f2b3-42df-abc6-8f38914280e6";

  test("a port's devices on a compute host, found in ip -br link", () => {
    expect(portDevices(port)).toEqual([
      "tap2468cd43-f2",
      "qvo2468cd43-f2",
      "qvb2468cd43-f2",
      "qbr2468cd43-f2",
    ]);
    const link = [
      "lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>",
      "qbr2468cd43-f2   UP             2e:3b:f5:8f:dc:d7 <BROADCAST,MULTICAST,UP,LOWER_UP>",
      "qvo2468cd43-f2@qvb2468cd43-f2 UP ea:5f:ec:ab:0d:2e <BROADCAST>",
      "tap856473c2-11   UNKNOWN        fe:16:3e:60:f6:1e <BROADCAST>",
    ].join("\n");
    expect(presentDevices(link, portDevices(port))).toEqual(["qvo2468cd43-f2", "qbr2468cd43-f2"]);
  });

  test("namespaces in ip netns", () => {
    const netns = "qrouter-653beaca (id: 2)\nqdhcp-34ac62a8 (id: 1)\n";
    expect(presentNamespaces(netns, ["qrouter-653beaca", "qdhcp-0000", "qrouter-653bea"])).toEqual([
      "qrouter-653beaca",
    ]);
  });

  test("a port's fixed IPs, as JSON list or table text", () => {
    expect(
      fixedIps({ ID: "p", "Fixed IP Addresses": [{ subnet_id: "s", ip_address: "192.168.201.27" }] }),
    ).toEqual(["192.168.201.27"]);
    expect(fixedIps({ ID: "p", "Fixed IP Addresses": "ip_address='10.0.0.5', subnet_id='s'" })).toEqual([
      "10.0.0.5",
    ]);
  });
});

describe("the floating IP's diagnosis", () => {
  const router = "653beaca-1111-2222-3333-444455556666";
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "fip-diagnosis-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("is shellcheck-clean", () => {
    const file = path.join(dir, "diagnosis.sh");
    fs.writeFileSync(file, `#!/bin/bash\n${FIP_DIAGNOSIS_SCRIPT}`);
    const check = spawnSync("shellcheck", ["--format=gcc", "--severity=style", file], { encoding: "utf8" });
    expect(`${check.stdout}${check.stderr}`).toBe("");
    expect(check.status).toBe(0);
  });

  test("reads the namespace, the gateway port's VLAN and the agents' logs into facts", () => {
    // ip (and what it runs in the namespace) and ovs-vsctl stubbed: a router whose gateway port the OVS agent
    // never bound (VLAN 4095) and whose floating IP the L3 agent never added.
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin, { recursive: true });
    const stub = (name: string, body: string) =>
      fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    stub(
      "ip",
      [
        'case "$*" in',
        `  "netns list") echo "qrouter-${router} (id: 3)" ;;`,
        '  *"link show") echo "1: lo: <LOOPBACK,UP>"; echo "14: qg-2468cd43-f2: <BROADCAST,UP>"; echo "15: qr-1234: <UP>" ;;',
        '  *"-4 addr show") echo "14: qg-2468cd43-f2    inet 10.212.0.120/24 brd 10.212.0.255 scope global qg-2468cd43-f2" ;;',
        '  *"route show default") echo "default via 10.212.0.1 dev qg-2468cd43-f2" ;;',
        '  *"iptables-save -t nat") echo "-A neutron-l3-agent-PREROUTING -d 10.212.0.150/32 -j DNAT" ;;',
        '  *"ping -n -q -c1 -W1 10.212.0.1") exit 0 ;;',
        "  *ping*) exit 1 ;;",
        '  *) echo "ip $*" ;;',
        "esac",
      ].join("\n"),
    );
    stub("ovs-vsctl", "echo 4095");
    const l3 = path.join(dir, "l3.log");
    fs.writeFileSync(
      l3,
      [
        `2026-12-06 13:20:01.001 123 INFO neutron.agent.l3.agent [-] Starting router update for ${router}, action 3`,
        `2026-12-06 13:20:02.001 123 INFO neutron.agent.l3.agent [-] Finished a router update for ${router}, update_id 1`,
        "2026-12-06 13:21:00.001 123 ERROR oslo.messaging._drivers.impl_rabbit [-] Connection failed",
        "",
      ].join("\n"),
    );
    const ovs = path.join(dir, "ovs.log");
    fs.writeFileSync(
      ovs,
      "2026-12-06 13:20:00.001 99 WARNING neutron.agent.rpc [-] Device Port(id=2468cd43) is not bound.\n",
    );
    const r = spawnSync(
      "bash",
      ["-c", FIP_DIAGNOSIS_SCRIPT, "bash", router, "10.212.0.150", "192.168.201.27"],
      {
        encoding: "utf8",
        env: {
          ...process.env,
          PATH: `${bin}:${process.env.PATH}`,
          OSC_L3_AGENT_LOG: l3,
          OSC_OVS_AGENT_LOG: ovs,
        },
      },
    );
    expect(r.stderr).toBe("");
    expect(parseFipDiagnosis(r.stdout)).toEqual({
      "gateway-port": "qg-2468cd43-f2",
      "gateway-port-vlan": "4095",
      "fip-on-gateway-port": "no",
      "fip-nat-rules": "1",
      "default-via": "10.212.0.1",
      "ping-vm": "no",
      "ping-gateway": "ok",
      "l3-router-updates": "2",
      "l3-last-router-update": `2026-12-06 13:20:02.001 123 INFO neutron.agent.l3.agent [-] Finished a router update for ${router}, update_id 1`,
      "l3-errors": "1",
      "l3-last-error":
        "2026-12-06 13:21:00.001 123 ERROR oslo.messaging._drivers.impl_rabbit [-] Connection failed",
      "ovs-ports-not-bound": "1",
      "ovs-errors": "0",
      "ovs-last-error": "",
    });
    // The full sections follow the facts.
    expect(r.stdout).toContain(`--- qrouter-${router}`);
    expect(r.stdout).toContain("--- l3 agent, last 60 lines");
  });
});

describe("the guest image", () => {
  test("the newest cached build, registered as its manifest says", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "guest-image-"));
    const build = (name: string, builtAt: string) => {
      fs.mkdirSync(path.join(root, name));
      fs.writeFileSync(path.join(root, name, "disk.img"), "x");
      fs.writeFileSync(
        path.join(root, name, "manifest.json"),
        JSON.stringify({
          builtAt,
          glance: {
            diskFormat: "raw",
            containerFormat: "bare",
            minRamMb: 64,
            properties: { hw_vif_model: "virtio" },
          },
        }),
      );
    };
    build("testvm-a", "2026-11-30T06:51:00Z");
    build("testvm-b", "2026-11-30T07:05:00Z");
    fs.mkdirSync(path.join(root, "testvm-c.tmp")); // incomplete: no manifest
    const img = cachedGuestImage(root);
    expect(img).toEqual({
      file: path.join(root, "testvm-b", "disk.img"),
      diskFormat: "raw",
      containerFormat: "bare",
      minRamMb: 64,
      minDiskGb: undefined,
      properties: { hw_vif_model: "virtio" },
    });
    expect(imageCreateArgs(img, "verify-testvm", "/tmp/i.img")).toEqual([
      "image", "create", "--file", "/tmp/i.img", "--disk-format", "raw", "--container-format", "bare",
      "--private", "--min-ram", "64", "--property", "hw_vif_model=virtio", "-f", "json", "verify-testvm",
    ]); // prettier-ignore
    expect(() => cachedGuestImage(path.join(root, "none"))).toThrow("no test image built");
    fs.rmSync(root, { recursive: true });
  });
});

describe("verify's order", () => {
  test("the data-plane checks come after the control plane, before secrets and step leftovers", () => {
    expect(dataplaneChecks.map((c) => c.name)).toEqual(["hypervisors", "network-agents", "vm-lifecycle"]);
    const names = allChecks.map((c) => c.name);
    expect(names.indexOf("hypervisors")).toBeGreaterThan(names.indexOf("api-cold-start"));
    expect(names.indexOf("vm-lifecycle")).toBeLessThan(names.indexOf("secrets"));
  });
});

describe("vm-lifecycle skips only on what the inventory says", () => {
  test("no dayOne section: SKIP, and nothing is asked of any host", async () => {
    const inv = loadInventory(path.join(__dirname, "..", "examples", "lab-small.yaml"));
    const asked: string[] = [];
    const ctx: CheckContext = {
      inventory: { ...inv, dayOne: undefined },
      hosts: planHosts(inv),
      ssh: async (_host, command) => {
        asked.push(command);
        return { code: 1, stdout: "", stderr: "no host" };
      },
    };
    const results = await vmLifecycle.run(ctx);
    expect(results).toEqual([
      {
        check: "vm-lifecycle",
        host: "-",
        ok: true,
        skipped: true,
        detail: "no dayOne section in the inventory (flavor, external network)",
      },
    ]);
    expect(asked).toEqual([]);
  });
});
