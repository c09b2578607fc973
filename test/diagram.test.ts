/**
 * `diagram`: the cluster as Mermaid source, read from the built stack; the README shows the
 * seed's, exactly as the command prints it.
 */
import * as fs from "fs";
import * as path from "path";
import { clusterDiagram } from "../bin/diagram";
import { inventoryStack } from "../bin/synthesize";
import { LAB_SMALL_EXAMPLE, REPO, runCli, SEED_EXAMPLE } from "./support";

describe("diagram", () => {
  const lab = clusterDiagram(inventoryStack(LAB_SMALL_EXAMPLE));
  const lines = lab.split("\n");

  it("groups the hosts by role, each with its address, roles and what runs there", () => {
    expect(lines[0]).toBe("flowchart TB");
    expect(lab).toContain(
      '  subgraph controller["controllers"]\n    h_controller1["<b>controller1</b> 10.211.0.11',
    );
    expect(lines).toContain(
      '    h_compute1["<b>compute1</b> 10.211.0.21<br/>compute + storage<br/>nova-compute, Neutron agents, cinder-volume, Swift storage, Ceph mon, Ceph OSD"]',
    );
    expect(lines).toContain('    h_network1["<b>network1</b> 10.211.0.31<br/>network<br/>Neutron agents"]');
    // Day one runs on the first controller only.
    expect(lines.find((l) => l.includes("h_controller1["))).toContain("Swift proxy, Ceph mon, day one");
    expect(lines.find((l) => l.includes("h_controller2["))).not.toContain("day one");
  });

  it("draws the networks each host joins and the VIP the controllers' Heartbeat holds", () => {
    expect(lines).toContain('  mgmt{{"management 10.211.0.0/24"}}');
    for (const host of ["controller1", "controller2", "compute1", "network1"]) {
      expect(lines).toContain(`  mgmt --- h_${host}`);
    }
    expect(lines.filter((l) => l.startsWith("  vip -. Heartbeat .- "))).toEqual([
      "  vip -. Heartbeat .- h_controller1",
      "  vip -. Heartbeat .- h_controller2",
    ]);
    expect(lines.filter((l) => l.startsWith("  tunnel --- "))).toEqual([
      "  tunnel --- h_compute1",
      "  tunnel --- h_network1",
    ]);
  });

  it("is what the README shows for the seed's cluster, printed by the CLI", () => {
    const result = runCli(["diagram", SEED_EXAMPLE]);
    expect([result.status, result.stderr]).toEqual([0, ""]);
    const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
    const shown = /```mermaid\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(shown).toBe(result.stdout);
  });
});
