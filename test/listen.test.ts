/**
 * Every daemon the library installs listens on the addresses it needs and no other: RabbitMQ's
 * epmd and Erlang distribution, chrony, libvirt's NAT network (tgtd: cinder-volume.test.ts).
 * The shell parts run here in sh, with what the packages' scripts do around them.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { TerraformStack, Testing } from "cdktf";
import { parseInventory } from "../lib/cluster/inventory";
import { OpenStackCluster } from "../lib/cluster/openstack-cluster";
import { erlangAddress } from "../lib/core/listen";
import { epmdDropIn, rabbitmqEnv } from "../lib/platform/rabbitmq";
import { fileIn } from "./service-helpers";
import { LAB_SMALL_EXAMPLE, readYaml, tempDir } from "./support";

/** The parts of lab-small's inventory the tests change. */
interface LabSmall {
  release: string;
  ha: string;
  networks: { management: { vip?: string } };
  hosts: { name: string }[];
}

/** lab-small, edited, synthesized: a step's own commands by id. */
function cluster(edit: (d: LabSmall) => void = () => {}): (id: string) => string {
  const data = readYaml(LAB_SMALL_EXAMPLE);
  edit(data as unknown as LabSmall);
  const stack = new TerraformStack(Testing.app(), "t");
  const c = new OpenStackCluster(stack, "c", {
    inventory: parseInventory(data, LAB_SMALL_EXAMPLE, path.dirname(LAB_SMALL_EXAMPLE)),
  });
  return (id) => {
    const step = c.steps.find((s) => s.logicalId === id);
    if (!step) throw new Error(`no step ${id}`);
    return step.scriptBody;
  };
}

const debian = cluster();

function sh(script: string, shell = "sh"): string {
  const r = spawnSync(shell, ["-c", script], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${shell} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

describe("RabbitMQ: epmd and Erlang's distribution", () => {
  test("epmd's socket on loopback and the management address; the distribution on the management address", () => {
    const body = debian("controller2_rabbitmq");
    expect(fileIn(body, "/etc/systemd/system/epmd.socket.d/openstack-cdktf.conf")).toBe(
      epmdDropIn("10.211.0.12"),
    );
    expect(epmdDropIn("10.211.0.12")).toContain(
      "[Socket]\nListenStream=\nListenStream=127.0.0.1:4369\nListenStream=10.211.0.12:4369\n",
    );
    const env = fileIn(body, "/etc/rabbitmq/rabbitmq-env.conf");
    expect(env).toBe(rabbitmqEnv("10.211.0.12"));
    // rabbitmq-env sources the file (sh) and passes the arguments to erl, word-split.
    const dir = tempDir("rabbitmq-env");
    fs.writeFileSync(path.join(dir, "rabbitmq-env.conf"), env);
    expect(
      sh(`. ${dir}/rabbitmq-env.conf; printf '%s|' $SERVER_ADDITIONAL_ERL_ARGS "$ERL_EPMD_ADDRESS"`),
    ).toBe("-kernel|inet_dist_use_interface|{10,211,0,12}|127.0.0.1,10.211.0.12|");
  });

  test("a new epmd socket stops the broker and epmd first, then starts the socket, then the broker", () => {
    const lines = debian("controller1_rabbitmq").split("\n");
    const at = lines.indexOf("if osc_changed epmd; then");
    expect(lines.slice(at, at + 6)).toEqual([
      "if osc_changed epmd; then",
      "  systemctl daemon-reload",
      "  systemctl stop rabbitmq-server epmd.service epmd.socket",
      "fi",
      "osc_restart_if_changed epmd epmd.socket",
      "osc_restart_if_changed rabbitmq rabbitmq-server",
    ]);
  });

  test("Erlang's address terms; IPv6 takes the inet6 distribution, for the broker and the CLI", () => {
    expect(erlangAddress("10.211.0.11")).toBe("{10,211,0,11}");
    expect(erlangAddress("fd00:10::11")).toBe("{64768,16,0,0,0,0,0,17}");
    expect(erlangAddress("::1")).toBe("{0,0,0,0,0,0,0,1}");
    expect(() => erlangAddress("controller1")).toThrow("expected an IPv4 or IPv6 address");
    expect(rabbitmqEnv("fd00:10::11")).toContain(
      'SERVER_ADDITIONAL_ERL_ARGS="-proto_dist inet6_tcp -kernel inet_dist_use_interface {64768,16,0,0,0,0,0,17}"\nCTL_ERL_ARGS="-proto_dist inet6_tcp"\nERL_EPMD_ADDRESS=::1,fd00:10::11\n',
    );
    expect(epmdDropIn("fd00:10::11")).toContain("ListenStream=[::1]:4369\nListenStream=[fd00:10::11]:4369\n");
  });
});

describe("the other hosts' daemons", () => {
  test("chrony serves the cluster on the controller's management address only; the others serve nothing", () => {
    expect(fileIn(debian("controller1_base"), "/etc/chrony/chrony.conf")).toContain(
      "allow 10.211.0.0/24\nbindaddress 10.211.0.11\n",
    );
    expect(fileIn(debian("compute1_base"), "/etc/chrony/chrony.conf")).not.toMatch(/allow|bindaddress/);
  });

  test("libvirt's NAT network is neither started with libvirtd nor left running", () => {
    const lines = debian("compute1_nova_compute").split("\n");
    const unlink = lines.findIndex((l) =>
      l.includes("rm -f /etc/libvirt/qemu/networks/autostart/default.xml"),
    );
    const restart = lines.indexOf("  systemctl restart libvirtd");
    const destroy = lines.findIndex((l) => l.includes("virsh -q net-destroy default"));
    expect(unlink).toBeGreaterThan(0);
    expect(unlink).toBeLessThan(restart);
    expect(destroy).toBeGreaterThan(restart);
  });
});
