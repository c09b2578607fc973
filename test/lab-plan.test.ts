import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { loadInventory, parseInventory } from "../lib/cluster/inventory";
import { parseHosts } from "../lab/checks/base";
import { NETWORKS } from "../lab/config";
import { LabInventoryError, labMac, planHosts } from "../lab/plan";

const examples = path.join(__dirname, "..", "examples");

function labSmallWith(change: (data: Record<string, unknown>) => void) {
  const file = path.join(examples, "lab-small.yaml");
  const data = parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  change(data);
  return parseInventory(data, "lab-small.yaml", examples);
}

describe("lab plan", () => {
  test("lab-small: interfaces per role, addresses on the lab's bridges", () => {
    const hosts = planHosts(loadInventory(path.join(examples, "lab-small.yaml")));
    const byName = Object.fromEntries(hosts.map((h) => [h.name, h]));
    expect(byName.controller1.links.map((l) => [l.network.bridge, l.veth, l.ifname, l.address])).toEqual([
      ["osclab0", "oslm0", "eth0", "10.211.0.11/24"],
    ]);
    expect(byName.compute1.links.map((l) => [l.network.bridge, l.ifname, l.address])).toEqual([
      ["osclab0", "eth0", "10.211.0.21/24"],
      ["osclabp0", "eth1", undefined],
      ["osclabt0", "eth2", "10.213.0.21/24"],
    ]);
    expect(byName.network1.netns).toBe("osclab-network1");
    expect(byName.compute1.compute).toBe(true);
    expect(hosts.every((h) => h.gateway === "10.211.0.1")).toBe(true);
    expect(byName.controller1.keyFile).toBe(path.resolve(examples, "..", ".lab", "ssh", "id_ed25519"));
  });

  test("fixed, distinct, locally administered MACs (a power-cycled host keeps its MAC)", () => {
    for (const file of ["lab-small.yaml", "lab-furyu-8-node.yaml"]) {
      const hosts = planHosts(loadInventory(path.join(examples, file)));
      const macs = hosts.flatMap((h) => h.links.map((l) => l.mac));
      const machineSide = hosts.flatMap((h) => h.links.map((l) => labMac(l.network, "machine", h.index)));
      const bridges = NETWORKS.map((n) => labMac(n, "bridge"));
      const all = [...macs, ...machineSide, ...bridges];
      expect(new Set(all).size).toBe(all.length);
      // Unicast (bit 0 of the first byte clear) and locally administered (bit 1 set).
      expect(all.every((m) => /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(m) && (parseInt(m, 16) & 3) === 2)).toBe(
        true,
      );
      // The same plan twice gives the same MACs.
      expect(
        planHosts(loadInventory(path.join(examples, file))).flatMap((h) => h.links.map((l) => l.mac)),
      ).toEqual(macs);
    }
    const small = planHosts(loadInventory(path.join(examples, "lab-small.yaml")));
    expect(small[0].links[0].mac).toBe("02:6f:6d:00:00:00");
    expect(small[2].roles).toEqual(["compute", "storage"]);
  });

  test("the 8-node lab gets distinct veth names within the kernel's 15 characters", () => {
    const hosts = planHosts(loadInventory(path.join(examples, "lab-furyu-8-node.yaml")));
    const veths = hosts.flatMap((h) => h.links.map((l) => l.veth));
    expect(new Set(veths).size).toBe(veths.length);
    expect(veths.every((v) => v.length <= 15)).toBe(true);
  });

  test.each([
    [
      "a management network outside the lab",
      (d: Record<string, unknown>) => setMgmt(d, "192.168.1.0/24"),
      /networks.management.cidr/,
    ],
    ["no aptProxy", (d: Record<string, unknown>) => delete d.aptProxy, /aptProxy/],
    [
      "a host on the lab machine's own address",
      (d: Record<string, unknown>) => setAddress(d, "10.211.0.1"),
      /10.211.0.1/,
    ],
    [
      "a day-one external network other than the provider bridge's",
      (d: Record<string, unknown>) =>
        setDayOneExternal(d, {
          cidr: "10.99.0.0/24",
          gateway: "10.99.0.1",
          allocationPool: { start: "10.99.0.100", end: "10.99.0.199" },
        }),
      /^dayOne\.external\.cidr: got 10\.99\.0\.0\/24: expected 10\.212\.0\.0\/24 \(the lab's provider bridge\)$/,
    ],
    [
      "a day-one allocation pool with the lab machine's address",
      (d: Record<string, unknown>) =>
        setDayOneExternal(d, {
          cidr: "10.212.0.0/24",
          gateway: "10.212.0.254",
          allocationPool: { start: "10.212.0.1", end: "10.212.0.99" },
        }),
      /^dayOne\.external\.allocationPool: got 10\.212\.0\.1-10\.212\.0\.99: expected a range without 10\.212\.0\.1 \(the lab machine's side\)$/,
    ],
  ])("refuses %s", (_what, change, message) => {
    expect(() => planHosts(labSmallWith(change))).toThrow(LabInventoryError);
    expect(() => planHosts(labSmallWith(change))).toThrow(message);
  });
});

function setMgmt(d: Record<string, unknown>, cidr: string) {
  const networks = d.networks as { management: { cidr: string; vip: string } };
  networks.management.cidr = cidr;
  networks.management.vip = cidr.replace(/0\/24$/, "10");
  (d.hosts as { address: string }[]).forEach((h, i) => (h.address = cidr.replace(/0\/24$/, String(11 + i))));
}

function setDayOneExternal(d: Record<string, unknown>, external: Record<string, unknown>) {
  (d.dayOne as Record<string, unknown>).external = external;
}

function setAddress(d: Record<string, unknown>, address: string) {
  (d.hosts as { address: string }[])[0].address = address;
}

describe("lab /etc/hosts parsing", () => {
  test("collects names per address, ignoring comments", () => {
    const table = parseHosts(
      "127.0.0.1 localhost\n10.211.0.11 controller1 c1 # first\n# 10.0.0.1 x\n10.211.0.11 other\n",
    );
    expect(table.get("10.211.0.11")).toEqual(["controller1", "c1", "other"]);
    expect(table.has("10.0.0.1")).toBe(false);
  });
});
