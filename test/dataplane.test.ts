/**
 * The data plane: nova-compute and Neutron's agents on compute and network hosts. The lab
 * layouts' config files and step order, the hypervisor choice run in bash, the userspace
 * datapath's tunnel bridge run in sh, role layouts built here (network or compute on the
 * controllers, network on the computes), their secrets (placeholders only, and a terraform plan
 * with canary values), and shellcheck over every script they render.
 */
import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Inventory, parseInventory } from "../lib/cluster/inventory";
import { OpenStackCluster } from "../lib/cluster/openstack-cluster";
import { SECRET_CATALOG } from "../lib/cluster/components";
import { secretVariableName } from "../lib/core/secrets-file";
import { Step } from "../lib/core/step";
import { Host } from "../lib/hosts/host";
import { dependsOn, fileIn, installLine, plainSecrets } from "./service-helpers";
import {
  EXAMPLES_DIR,
  ini,
  inventoryWithKey,
  LAB_SMALL_EXAMPLE,
  listFiles,
  readYaml,
  SEED_EXAMPLE,
  sshKey,
  StackJson,
  synthJson,
  synthToDir,
  tempDir,
  terraform,
} from "./support";

const LAB_8_NODE_EXAMPLE = path.join(EXAMPLES_DIR, "lab-furyu-8-node.yaml");
const VIP = "10.211.0.10";
const TUNNEL_SCRIPT = "/usr/local/sbin/openstack-cdktf-tunnel-bridge";
const TUNNEL_UNIT = "/etc/systemd/system/openstack-cdktf-tunnel-bridge.service";
const OVS_INI = "/etc/neutron/plugins/ml2/openvswitch_agent.ini";
const NETWORK_INIS = [
  "/etc/neutron/l3_agent.ini",
  "/etc/neutron/dhcp_agent.ini",
  "/etc/neutron/metadata_agent.ini",
];

type HostEntry = { name: string; address: string; roles: string[]; tunnelAddress?: string };

/** The paths a script writes whole (osc_install_file) or edits (osc_ini_set), sorted. */
function pathsTouched(script: string): string[] {
  const paths = new Set<string>();
  for (const line of script.split("\n")) {
    const m = /^\s*osc_(?:install_file|ini_set) \S+ (\S+) /.exec(line);
    if (m) paths.add(m[1]);
  }
  return [...paths].sort();
}

/** The `{{secret:NAME}}` placeholders of a script, sorted. */
function placeholders(script: string): string[] {
  return [...new Set([...script.matchAll(/\{\{secret:([a-z0-9_]+)\}\}/g)].map((m) => m[1]))].sort();
}

/** The secret variables an expression refers to, sorted. */
function secretVars(expression: string | undefined): string[] {
  return [...new Set([...(expression ?? "").matchAll(/var\.secret_([a-z0-9_]+)/g)].map((m) => m[1]))].sort();
}

/** INI lines whose key names a password or secret and whose value is not a placeholder. */
function plainSecretKeys(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => /^[a-z_]*(password|secret)[a-z_]* = /.test(l) && !/ = \{\{secret:[a-z0-9_]+\}\}$/.test(l));
}

/** The lab-small inventory with its hosts replaced, validated as the CLI would. */
function labSmallWithHosts(name: string, hosts: readonly HostEntry[]): Inventory {
  const data = readYaml(LAB_SMALL_EXAMPLE);
  data.hosts = hosts;
  return parseInventory(data, `lab-small.yaml (${name})`, EXAMPLES_DIR);
}

function synth(inventory: Inventory): { cluster: OpenStackCluster; json: StackJson } {
  const { stack, json } = synthJson(inventory);
  return { cluster: stack.cluster, json };
}

function stepOf(cluster: OpenStackCluster, id: string): Step {
  const step = cluster.steps.find((s) => s.logicalId === id);
  if (!step) throw new Error(`no step ${id}`);
  return step;
}

function hostOf(cluster: OpenStackCluster, name: string): Host {
  const host = cluster.hosts.find((h) => h.hostName === name);
  if (!host) throw new Error(`no host ${name}`);
  return host;
}

/** The steps placed by the data plane: nova-compute and the agents, on any host. */
function dataPlaneSteps(cluster: OpenStackCluster): Step[] {
  return cluster.steps.filter((s) => /_(nova_compute|neutron_agents)$/.test(s.logicalId));
}

const CONTROLLERS: HostEntry[] = [
  { name: "controller1", address: "10.211.0.11", roles: ["controller"] },
  { name: "controller2", address: "10.211.0.12", roles: ["controller"] },
];
const withRoles = (entry: HostEntry, roles: string[], tunnelAddress?: string): HostEntry => ({
  ...entry,
  roles,
  ...(tunnelAddress ? { tunnelAddress } : {}),
});

/** Role layouts the examples do not have, on lab-small's networks (netdev datapath, qemu). */
const LAYOUTS: { name: string; hosts: HostEntry[] }[] = [
  {
    name: "network on the controllers",
    hosts: [
      withRoles(CONTROLLERS[0], ["controller", "network"], "10.213.0.11"),
      withRoles(CONTROLLERS[1], ["controller", "network"], "10.213.0.12"),
      {
        name: "compute1",
        address: "10.211.0.21",
        tunnelAddress: "10.213.0.21",
        roles: ["compute", "storage"],
      },
    ],
  },
  {
    name: "compute on the controllers",
    hosts: [
      withRoles(CONTROLLERS[0], ["controller", "compute"], "10.213.0.11"),
      withRoles(CONTROLLERS[1], ["controller", "compute"], "10.213.0.12"),
      { name: "storage1", address: "10.211.0.21", roles: ["storage"] },
      { name: "network1", address: "10.211.0.31", tunnelAddress: "10.213.0.31", roles: ["network"] },
    ],
  },
  {
    name: "network on the computes",
    hosts: [
      ...CONTROLLERS,
      {
        name: "compute1",
        address: "10.211.0.21",
        tunnelAddress: "10.213.0.21",
        roles: ["compute", "storage", "network"],
      },
      {
        name: "compute2",
        address: "10.211.0.22",
        tunnelAddress: "10.213.0.22",
        roles: ["network", "compute"],
      },
    ],
  },
];

describe("the data plane in the small lab layout (examples/lab-small.yaml)", () => {
  const { cluster, json } = synth(
    parseInventory(readYaml(LAB_SMALL_EXAMPLE), LAB_SMALL_EXAMPLE, EXAMPLES_DIR),
  );
  const text = (id: string) => stepOf(cluster, id).scriptText;
  const compute = text("compute1_nova_compute");
  const computeAgents = text("compute1_neutron_agents");
  const networkAgents = text("network1_neutron_agents");

  it("places nova-compute then the agents on compute1, the agents on network1, after their base steps", () => {
    expect(hostOf(cluster, "compute1").steps.map((s) => s.logicalId)).toEqual([
      "compute1_converged",
      "compute1_secrets",
      "compute1_hosts_file",
      "compute1_base",
      "compute1_storage_packages",
      "compute1_compute_packages",
      "compute1_nova_compute",
      "compute1_neutron_agents",
      "compute1_swift_storage",
      "compute1_ceph_mon",
      "compute1_ceph_osd",
      "compute1_ceph_libvirt_secret",
      "compute1_cinder_volume",
    ]);
    expect(hostOf(cluster, "network1").steps.map((s) => s.logicalId)).toEqual([
      "network1_converged",
      "network1_secrets",
      "network1_hosts_file",
      "network1_base",
      "network1_network_packages",
      "network1_neutron_agents",
    ]);
    // The packages need only the host's own earlier steps; the services wait for the controllers.
    expect(dependsOn(json, "compute1_compute_packages").every((d) => d.startsWith("compute1_"))).toBe(true);
    expect(dependsOn(json, "compute1_nova_compute")).toEqual(
      expect.arrayContaining(["controller1_nova", "controller2_nova"]),
    );
    expect(dependsOn(json, "network1_neutron_agents")).toEqual(
      expect.arrayContaining(["controller1_neutron", "controller2_neutron"]),
    );
    expect(dependsOn(json, "compute1_nova_compute")).toContain("compute1_compute_packages");
    expect(dependsOn(json, "compute1_neutron_agents")).toContain("compute1_nova_compute");
    expect(dependsOn(json, "network1_neutron_agents")).toContain("network1_network_packages");
    // They wait for the message bus and their own servers (nova-compute reports ready only once a
    // conductor answers; the agents ask the servers for their ports as they start).
    expect(dependsOn(json, "compute1_nova_compute").filter((d) => d.startsWith("controller"))).toEqual([
      "controller1_rabbitmq",
      "controller2_rabbitmq",
      "controller1_nova",
      "controller2_nova",
    ]);
    for (const id of ["compute1_neutron_agents", "network1_neutron_agents"]) {
      expect(dependsOn(json, id).filter((d) => d.startsWith("controller"))).toEqual([
        "controller1_rabbitmq",
        "controller2_rabbitmq",
        "controller1_neutron",
        "controller2_neutron",
      ]);
    }
    expect(cluster.nova.computeStepList.map((s) => s.logicalId)).toEqual(["compute1_nova_compute"]);
    expect(cluster.neutron.agentStepList.map((s) => s.logicalId)).toEqual([
      "compute1_neutron_agents",
      "network1_neutron_agents",
    ]);
    // Discovery after the compute hosts' nova-compute; day one after the agents and discovery.
    expect(dependsOn(json, "controller1_nova_discover_hosts")).toContain("compute1_nova_compute");
    expect(dependsOn(json, "controller1_day_one")).toEqual(
      expect.arrayContaining([
        "compute1_neutron_agents",
        "network1_neutron_agents",
        "controller1_nova_discover_hosts",
      ]),
    );
  });

  it("gives compute1 a nova.conf of its own: no database, no metadata secret, its own address", () => {
    expect(installLine(compute, "/etc/nova/nova.conf")).toBe(
      "osc_install_file nova_compute /etc/nova/nova.conf root nova 0640 --fill-secrets <<'OSC_EOF'",
    );
    const content = fileIn(compute, "/etc/nova/nova.conf");
    const conf = ini(content);
    expect(conf.database).toBeUndefined();
    expect(conf.api_database).toBeUndefined();
    expect(content).not.toContain("metadata_proxy_shared_secret");
    expect(content).not.toContain("mysql");
    expect(conf.DEFAULT).toEqual({
      my_ip: "10.211.0.21",
      state_path: "/var/lib/nova",
      transport_url: `rabbit://openstack:{{secret:rabbitmq_password}}@${VIP}:5672/`,
    });
    expect(conf.vnc).toMatchObject({
      enabled: "true",
      server_listen: "10.211.0.21",
      server_proxyclient_address: "10.211.0.21",
      novncproxy_base_url: `http://${VIP}:6080/vnc_auto.html`,
    });
    expect(conf.service_user).toMatchObject({
      send_service_user_token: "true",
      username: "nova",
      password: "{{secret:nova_keystone_password}}",
    });
    expect(conf.placement.password).toBe("{{secret:placement_keystone_password}}");
    expect(conf.neutron.password).toBe("{{secret:neutron_keystone_password}}");
    expect(conf.glance).toEqual({ api_servers: `http://${VIP}:9292` });
  });

  it("sets the hypervisor in nova-compute.conf (the lab's virtType qemu), then restarts libvirt and nova-compute", () => {
    const lines = compute.split("\n");
    const set = lines.indexOf(
      'osc_ini_set nova_compute /etc/nova/nova-compute.conf libvirt virt_type "$virt_type"',
    );
    expect(set).toBeGreaterThan(0);
    expect(lines.slice(set - 2, set)).toEqual(["# The hypervisor (virtType qemu).", "virt_type=qemu"]);
    // Debian 13 names the emulator's package; qemu-kvm is only a name it provides.
    expect(compute).toContain(
      "\nosc_apt_install nova-compute qemu-system-x86 libvirt-daemon-system genisoimage\n",
    );
    const order = [
      "osc_apt_install nova-compute",
      "osc_install_file nova_compute /etc/nova/nova.conf",
      "osc_ini_set nova_compute",
      "  systemctl restart libvirtd",
      "osc_restart_if_changed nova_compute nova-compute",
    ].map((l) => lines.findIndex((x) => x.startsWith(l)));
    expect(order.every((i) => i > 0)).toBe(true);
    // libvirtd is socket-activated and exits when idle: restarted only on a change.
    expect(lines[order[3] - 1]).toBe("if osc_changed libvirt; then");
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it("configures the Open vSwitch agent on both: VXLAN from the tunnel address, netdev, the provider bridge", () => {
    for (const [script, tunnelAddress] of [
      [computeAgents, "10.213.0.21"],
      [networkAgents, "10.213.0.31"],
    ]) {
      expect(installLine(script, OVS_INI)).toBe(
        `osc_install_file neutron_agents ${OVS_INI} root neutron 0640 <<'OSC_EOF'`,
      );
      expect(ini(fileIn(script, OVS_INI))).toEqual({
        ovs: { local_ip: tunnelAddress, datapath_type: "netdev", bridge_mappings: "provider:br-provider" },
        agent: { tunnel_types: "vxlan", l2_population: "true" },
        securitygroup: {
          enable_security_group: "true",
          enable_ipset: "true",
          firewall_driver: "iptables_hybrid",
        },
      });
      // neutron.conf of an agent host: the bus, the root helper, the lock path; no database.
      expect(ini(fileIn(script, "/etc/neutron/neutron.conf"))).toEqual({
        DEFAULT: { transport_url: `rabbit://openstack:{{secret:rabbitmq_password}}@${VIP}:5672/` },
        agent: { root_helper: "sudo /usr/bin/neutron-rootwrap /etc/neutron/rootwrap.conf" },
        oslo_concurrency: { lock_path: "/var/lib/neutron/tmp" },
      });
      expect(script).toContain(
        "\novs-vsctl --may-exist add-br br-provider -- set bridge br-provider datapath_type=netdev\n",
      );
      expect(script).toContain("\novs-vsctl --may-exist add-port br-provider eth1\n");
    }
    expect(computeAgents).toContain("\nosc_restart_if_changed neutron_agents neutron-openvswitch-agent\n");
    expect(computeAgents).toContain("\nosc_apt_install openvswitch-switch neutron-openvswitch-agent\n");
  });

  it("gives network1 the L3, DHCP and metadata agents; compute1 none of them", () => {
    expect(ini(fileIn(networkAgents, "/etc/neutron/l3_agent.ini"))).toEqual({
      DEFAULT: { interface_driver: "openvswitch" },
    });
    expect(ini(fileIn(networkAgents, "/etc/neutron/dhcp_agent.ini"))).toEqual({
      DEFAULT: { interface_driver: "openvswitch", enable_isolated_metadata: "true" },
    });
    expect(installLine(networkAgents, "/etc/neutron/metadata_agent.ini")).toBe(
      "osc_install_file neutron_agents /etc/neutron/metadata_agent.ini root neutron 0640 --fill-secrets <<'OSC_EOF'",
    );
    expect(ini(fileIn(networkAgents, "/etc/neutron/metadata_agent.ini"))).toEqual({
      DEFAULT: {
        nova_metadata_host: VIP,
        nova_metadata_port: "8775",
        metadata_proxy_shared_secret: "{{secret:metadata_proxy_secret}}",
        metadata_workers: "1",
      },
    });
    expect(networkAgents).toContain(
      "\nosc_restart_if_changed neutron_agents neutron-openvswitch-agent neutron-l3-agent neutron-dhcp-agent neutron-metadata-agent\n",
    );
    expect(networkAgents).toContain(
      "\nosc_apt_install openvswitch-switch neutron-openvswitch-agent neutron-l3-agent neutron-dhcp-agent neutron-metadata-agent\n",
    );
    for (const file of NETWORK_INIS) expect(pathsTouched(computeAgents)).not.toContain(file);
    expect(computeAgents).not.toMatch(/neutron-(l3|dhcp|metadata)-agent/);
  });

  it("moves each host's tunnel address from eth2 onto br-tunnel, in a unit that runs before the agent", () => {
    for (const [script, cidr] of [
      [computeAgents, "10.213.0.21/24"],
      [networkAgents, "10.213.0.31/24"],
    ]) {
      expect(fileIn(script, TUNNEL_SCRIPT).split("\n")).toEqual([
        "#!/bin/sh",
        "# Written by openstack-cdktf: the VXLAN endpoint on Open vSwitch's userspace datapath.",
        "set -eu",
        "ovs-vsctl --may-exist add-br br-tunnel -- set bridge br-tunnel datapath_type=netdev",
        "ovs-vsctl --may-exist add-port br-tunnel eth2",
        "ip link set dev eth2 up",
        `if ip -o addr show dev eth2 | grep -qF ' ${cidr} '; then`,
        `  ip addr del ${cidr} dev eth2`,
        "fi",
        `ip addr replace ${cidr} dev br-tunnel`,
        "ip link set dev br-tunnel up",
        "",
      ]);
      expect(installLine(script, TUNNEL_SCRIPT)).toBe(
        `osc_install_file tunnel_bridge ${TUNNEL_SCRIPT} root root 0755 <<'OSC_EOF'`,
      );
      const unit = ini(fileIn(script, TUNNEL_UNIT).replace(/=/g, " = "));
      expect(unit.Unit).toMatchObject({
        After: "network.target openvswitch-switch.service",
        Requires: "openvswitch-switch.service",
        Before: "neutron-openvswitch-agent.service",
      });
      expect(unit.Service).toEqual({ Type: "oneshot", RemainAfterExit: "yes", ExecStart: TUNNEL_SCRIPT });
      expect(unit.Install).toEqual({ WantedBy: "multi-user.target" });
      // Open vSwitch runs before the bridge is made; the bridge is up before the agent (re)starts.
      const lines = script.split("\n");
      const order = [
        "osc_restart_if_changed openvswitch openvswitch-switch",
        `osc_install_file tunnel_bridge ${TUNNEL_SCRIPT} `,
        "  systemctl daemon-reload",
        "osc_restart_if_changed tunnel_bridge openstack-cdktf-tunnel-bridge",
        "osc_restart_if_changed neutron_agents neutron-openvswitch-agent",
      ].map((l) => lines.findIndex((x) => x.startsWith(l)));
      expect(order.every((i) => i > 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
    }
  });

  it("runs the tunnel bridge script under /bin/sh: the address moves, only when it is on eth2, and a failure stops it", () => {
    const dir = tempDir("tunnel-bridge");
    const script = path.join(dir, "tunnel-bridge");
    fs.writeFileSync(script, fileIn(computeAgents, TUNNEL_SCRIPT), { mode: 0o755 });
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const log = path.join(dir, "log");
    // Stubs that log their arguments; `ip -o addr show` prints $ETH2_ADDRESS as eth2's address.
    fs.writeFileSync(
      path.join(bin, "ip"),
      [
        "#!/bin/sh",
        `echo "ip $*" >>"${log}"`,
        'if [ "$1 $2 $3" = "-o addr show" ] && [ -n "$ETH2_ADDRESS" ]; then',
        '  echo "4: eth2    inet $ETH2_ADDRESS brd 10.213.0.255 scope global eth2\\       valid_lft forever preferred_lft forever"',
        "fi",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    fs.writeFileSync(
      path.join(bin, "ovs-vsctl"),
      `#!/bin/sh\necho "ovs-vsctl $*" >>"${log}"\nexit "\${OVS_EXIT:-0}"\n`,
      {
        mode: 0o755,
      },
    );
    const run = (env: Record<string, string>) => {
      fs.rmSync(log, { force: true });
      const result = spawnSync("/bin/sh", [script], {
        encoding: "utf8",
        env: { PATH: `${bin}:/usr/bin:/bin`, ETH2_ADDRESS: "", ...env },
      });
      return {
        status: result.status,
        stderr: result.stderr,
        log: fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "",
      };
    };
    const bridge = [
      "ovs-vsctl --may-exist add-br br-tunnel -- set bridge br-tunnel datapath_type=netdev",
      "ovs-vsctl --may-exist add-port br-tunnel eth2",
      "ip link set dev eth2 up",
      "ip -o addr show dev eth2",
    ];
    const onBridge = ["ip addr replace 10.213.0.21/24 dev br-tunnel", "ip link set dev br-tunnel up"];
    // First boot: the address is on eth2 and moves.
    expect(run({ ETH2_ADDRESS: "10.213.0.21/24" })).toEqual({
      status: 0,
      stderr: "",
      log: [...bridge, "ip addr del 10.213.0.21/24 dev eth2", ...onBridge, ""].join("\n"),
    });
    // Already moved (a second run), or another address on eth2: nothing to delete.
    for (const address of ["", "10.213.0.210/24"]) {
      expect(run({ ETH2_ADDRESS: address })).toEqual({
        status: 0,
        stderr: "",
        log: [...bridge, ...onBridge, ""].join("\n"),
      });
    }
    // Open vSwitch refusing the bridge stops the script before any address moves.
    const failed = run({ ETH2_ADDRESS: "10.213.0.21/24", OVS_EXIT: "1" });
    expect(failed.status).not.toBe(0);
    expect(failed.log).toBe(`${bridge[0]}\n`);
  });

  it("keeps the tunnel bridge script shellcheck-clean as /bin/sh", () => {
    const file = path.join(tempDir("tunnel-sh"), "openstack-cdktf-tunnel-bridge");
    fs.writeFileSync(file, fileIn(networkAgents, TUNNEL_SCRIPT));
    const check = spawnSync("shellcheck", ["--format=gcc", "--severity=style", "--shell=sh", file], {
      encoding: "utf8",
    });
    expect(`${check.stdout}${check.stderr}`).toBe("");
    expect(check.status).toBe(0);
    // And it is really read as sh: a bashism is reported (the check is live).
    fs.writeFileSync(file, `${fileIn(networkAgents, TUNNEL_SCRIPT)}[[ -e /x ]] && echo x\n`);
    const live = spawnSync("shellcheck", ["--format=gcc", "--shell=sh", file], { encoding: "utf8" });
    expect(live.status).not.toBe(0);
    expect(live.stdout).toContain("SC3010");
  });
});

describe("datapathType system (examples/furyu-8-node.yaml) and netdev (examples/lab-furyu-8-node.yaml)", () => {
  it("system: no tunnel bridge anywhere, the kernel datapath in the agent and on br-provider", () => {
    const { cluster } = synth(parseInventory(readYaml(SEED_EXAMPLE), SEED_EXAMPLE, EXAMPLES_DIR));
    const agents = cluster.neutron.agentStepList;
    expect(agents.map((s) => s.logicalId)).toEqual([
      "compute1_neutron_agents",
      "compute2_neutron_agents",
      "compute3_neutron_agents",
      "compute4_neutron_agents",
      "network1_neutron_agents",
      "network2_neutron_agents",
    ]);
    for (const step of cluster.steps) {
      expect({ step: step.logicalId, bridge: /br-tunnel|tunnel-bridge/.test(step.scriptText) }).toEqual({
        step: step.logicalId,
        bridge: false,
      });
    }
    for (const step of agents) {
      expect(ini(fileIn(step.scriptText, OVS_INI)).ovs.datapath_type).toBe("system");
      expect(step.scriptText).toContain(
        "\novs-vsctl --may-exist add-br br-provider -- set bridge br-provider datapath_type=system\n",
      );
    }
  });

  it("netdev: each agent host's bridge carries its own tunnel address, never another's", () => {
    const { cluster } = synth(parseInventory(readYaml(LAB_8_NODE_EXAMPLE), LAB_8_NODE_EXAMPLE, EXAMPLES_DIR));
    const agents = cluster.neutron.agentStepList;
    expect(agents).toHaveLength(6);
    const tunnelAddresses = agents.map(
      (s) => hostOf(cluster, s.logicalId.replace(/_neutron_agents$/, "")).tunnelAddress,
    );
    expect(new Set(tunnelAddresses).size).toBe(6);
    agents.forEach((step, i) => {
      const bridge = fileIn(step.scriptText, TUNNEL_SCRIPT);
      expect(bridge).toContain(`\nip addr replace ${tunnelAddresses[i]}/24 dev br-tunnel\n`);
      for (const other of tunnelAddresses.filter((a) => a !== tunnelAddresses[i])) {
        expect(step.scriptText).not.toContain(`${other}/`);
      }
      expect(ini(fileIn(step.scriptText, OVS_INI)).ovs.local_ip).toBe(tunnelAddresses[i]);
    });
  });
});

describe("virtType: the hypervisor, decided on the compute host", () => {
  /** compute1's hypervisor lines in lab-small with the inventory's virtType (and compute1's own, if given). */
  function hypervisorLines(virtType: string, hostVirtType?: string): string[] {
    const data = readYaml(LAB_SMALL_EXAMPLE);
    data.virtType = virtType;
    if (hostVirtType) {
      data.hosts = (data.hosts as HostEntry[]).map((h) =>
        h.name === "compute1" ? { ...h, virtType: hostVirtType } : h,
      );
    }
    const { cluster } = synth(parseInventory(data, LAB_SMALL_EXAMPLE, EXAMPLES_DIR));
    const lines = stepOf(cluster, "compute1_nova_compute").scriptText.split("\n");
    const from = lines.findIndex((l) => l.startsWith("# The hypervisor (virtType "));
    const to = lines.findIndex((l) => l.startsWith("osc_ini_set nova_compute /etc/nova/nova-compute.conf "));
    expect(from).toBeGreaterThan(0);
    expect(to).toBeGreaterThan(from);
    return lines.slice(from, to + 1);
  }

  /** Runs the lines in bash with /dev/kvm at a path of the test's own (a character device, or none). */
  function run(
    lines: readonly string[],
    kvm: boolean,
  ): { status: number | null; stdout: string; stderr: string } {
    const dev = tempDir("dev");
    if (kvm) fs.symlinkSync("/dev/null", path.join(dev, "kvm"));
    const harness = [
      "set -Eeuo pipefail",
      "osc_ini_set() { printf 'SET %s\\n' \"$*\"; }",
      ...lines.map((l) => l.split("/dev/kvm").join(`${dev}/kvm`)),
    ].join("\n");
    const result = spawnSync("bash", ["-c", harness], { encoding: "utf8" });
    return {
      status: result.status,
      stdout: result.stdout,
      stderr: result.stderr.split(`${dev}/kvm`).join("/dev/kvm"),
    };
  }

  const SET = (type: string) => `SET nova_compute /etc/nova/nova-compute.conf libvirt virt_type ${type}\n`;

  it("qemu: emulation, whether or not /dev/kvm exists", () => {
    const lines = hypervisorLines("qemu");
    expect(lines).toEqual([
      "# The hypervisor (virtType qemu).",
      "virt_type=qemu",
      'osc_ini_set nova_compute /etc/nova/nova-compute.conf libvirt virt_type "$virt_type"',
    ]);
    for (const kvm of [true, false])
      expect(run(lines, kvm)).toEqual({ status: 0, stdout: SET("qemu"), stderr: "" });
  });

  it("auto: kvm where /dev/kvm is a character device, else qemu", () => {
    const lines = hypervisorLines("auto");
    expect(lines[1]).toBe("if [ -c /dev/kvm ]; then virt_type=kvm; else virt_type=qemu; fi");
    expect(run(lines, true)).toEqual({ status: 0, stdout: SET("kvm"), stderr: "" });
    expect(run(lines, false)).toEqual({ status: 0, stdout: SET("qemu"), stderr: "" });
  });

  it("kvm: kvm, and without /dev/kvm a one-line error naming the host, before anything is set", () => {
    const lines = hypervisorLines("kvm");
    expect(run(lines, true)).toEqual({ status: 0, stdout: SET("kvm"), stderr: "" });
    expect(run(lines, false)).toEqual({
      status: 1,
      stdout: "",
      stderr: "virtType kvm: /dev/kvm is missing on compute1: expected a host with KVM (or virtType qemu)\n",
    });
  });

  it("a compute host's own virtType overrides the inventory's", () => {
    expect(hypervisorLines("qemu", "kvm")[0]).toBe("# The hypervisor (virtType kvm).");
    expect(hypervisorLines("kvm", "auto")[0]).toBe("# The hypervisor (virtType auto).");
  });
});

describe.each(LAYOUTS.map((l) => [l.name, l] as const))("role layout: %s", (_name, layout) => {
  const { cluster, json } = synth(labSmallWithHosts(layout.name, layout.hosts));
  const has = (h: HostEntry, role: string) => h.roles.includes(role);
  const agentHosts = layout.hosts.filter((h) => has(h, "compute") || has(h, "network")).map((h) => h.name);
  const computeHosts = layout.hosts.filter((h) => has(h, "compute")).map((h) => h.name);
  const networkHosts = layout.hosts.filter((h) => has(h, "network")).map((h) => h.name);
  const ids = cluster.steps.map((s) => s.logicalId);

  it("synthesizes, with the agents on every compute and network host and nova-compute on every compute host, once each", () => {
    expect(Object.keys(json.resource.terraform_data).sort()).toEqual([...ids].sort());
    expect(ids.filter((id) => id.endsWith("_neutron_agents"))).toEqual(
      agentHosts.map((h) => `${h}_neutron_agents`),
    );
    expect(ids.filter((id) => id.endsWith("_nova_compute"))).toEqual(
      computeHosts.map((h) => `${h}_nova_compute`),
    );
    expect(cluster.neutron.agentStepList.map((s) => s.logicalId)).toEqual(
      agentHosts.map((h) => `${h}_neutron_agents`),
    );
    expect(cluster.nova.computeStepList.map((s) => s.logicalId)).toEqual(
      computeHosts.map((h) => `${h}_nova_compute`),
    );
    // Discovery waits for exactly the compute hosts, after their nova-compute.
    const discover = stepOf(cluster, "controller1_nova_discover_hosts");
    expect(discover.scriptText).toContain(`\nexpected=(${computeHosts.join(" ")})\n`);
    expect(dependsOn(json, "controller1_nova_discover_hosts")).toEqual(
      expect.arrayContaining(computeHosts.map((h) => `${h}_nova_compute`)),
    );
    // Routers are HA with two network hosts or more.
    const serverConf = ini(
      fileIn(stepOf(cluster, "controller1_neutron").scriptText, "/etc/neutron/neutron.conf"),
    );
    expect(serverConf.DEFAULT.l3_ha).toBe(networkHosts.length >= 2 ? "true" : undefined);
  });

  it("runs the L3, DHCP and metadata agents on the network hosts only", () => {
    for (const name of agentHosts) {
      const text = stepOf(cluster, `${name}_neutron_agents`).scriptText;
      const network = networkHosts.includes(name);
      const touched = pathsTouched(text);
      expect({ name, files: NETWORK_INIS.filter((f) => touched.includes(f)) }).toEqual({
        name,
        files: network ? NETWORK_INIS : [],
      });
      expect(text.includes(" neutron-l3-agent neutron-dhcp-agent neutron-metadata-agent\n")).toBe(network);
      if (network) {
        expect(ini(fileIn(text, "/etc/neutron/metadata_agent.ini")).DEFAULT).toMatchObject({
          nova_metadata_host: VIP,
          nova_metadata_port: "8775",
          metadata_proxy_shared_secret: "{{secret:metadata_proxy_secret}}",
        });
      }
      const host = hostOf(cluster, name);
      expect(ini(fileIn(text, OVS_INI)).ovs).toEqual({
        local_ip: host.tunnelAddress,
        datapath_type: "netdev",
        bridge_mappings: "provider:br-provider",
      });
      expect(fileIn(text, TUNNEL_SCRIPT)).toContain(
        `\nip addr replace ${host.tunnelAddress}/24 dev br-tunnel\n`,
      );
    }
  });

  it("never has two steps write or edit one file on a host (a controller's own service step keeps nova.conf and neutron.conf)", () => {
    for (const host of cluster.hosts) {
      const writers = new Map<string, string[]>();
      for (const step of host.steps) {
        for (const p of pathsTouched(step.scriptText))
          writers.set(p, [...(writers.get(p) ?? []), step.logicalId]);
      }
      const shared = [...writers.entries()].filter(([, steps]) => steps.length > 1);
      expect({ host: host.hostName, shared }).toEqual({ host: host.hostName, shared: [] });
      if (host.hasRole("controller")) {
        expect(writers.get("/etc/nova/nova.conf")).toEqual([`${host.hostName}_nova`]);
        expect(writers.get("/etc/neutron/neutron.conf")).toEqual([`${host.hostName}_neutron`]);
      }
    }
    // The controllers' data-plane steps come after their services, whose files they rely on.
    for (const host of cluster.hostsWithRole("controller")) {
      const order = host.steps.map((s) => s.logicalId);
      for (const id of [`${host.hostName}_neutron_agents`, `${host.hostName}_nova_compute`].filter((x) =>
        order.includes(x),
      )) {
        expect(order.indexOf(id)).toBeGreaterThan(order.indexOf(`${host.hostName}_neutron`));
        expect(order.indexOf(id)).toBeGreaterThan(order.indexOf(`${host.hostName}_nova`));
      }
    }
  });

  it("gives a controller that runs agents or nova-compute what they need in the server's own files", () => {
    for (const host of cluster.hostsWithRole("controller")) {
      const name = host.hostName;
      if (host.hasRole("network") || host.hasRole("compute")) {
        const neutron = ini(
          fileIn(stepOf(cluster, `${name}_neutron`).scriptText, "/etc/neutron/neutron.conf"),
        );
        expect(neutron.agent).toEqual({
          root_helper: "sudo /usr/bin/neutron-rootwrap /etc/neutron/rootwrap.conf",
        });
        expect(neutron.oslo_concurrency).toEqual({ lock_path: "/var/lib/neutron/tmp" });
      }
      if (host.hasRole("compute")) {
        const nova = ini(fileIn(stepOf(cluster, `${name}_nova`).scriptText, "/etc/nova/nova.conf"));
        expect(nova.DEFAULT.my_ip).toBe(host.address);
        expect(nova.vnc).toMatchObject({
          server_listen: host.address,
          server_proxyclient_address: host.address,
        });
        expect(stepOf(cluster, `${name}_nova_compute`).scriptText).toContain(
          '\nosc_ini_set nova_compute /etc/nova/nova-compute.conf libvirt virt_type "$virt_type"\n',
        );
      }
    }
  });

  it("declares only placeholders: each data-plane step names exactly the secrets its files use, and none in a script", () => {
    const steps = dataPlaneSteps(cluster);
    expect(steps).toHaveLength(agentHosts.length + computeHosts.length);
    for (const step of steps) {
      const host = hostOf(cluster, step.logicalId.replace(/_(nova_compute|neutron_agents)$/, ""));
      const resource = json.resource.terraform_data[step.logicalId];
      const used = placeholders(step.scriptText);
      // A new value of any of them re-runs the step; the step's files are filled on the host.
      expect({ step: step.logicalId, inputs: secretVars(resource.triggers_replace?.inputs) }).toEqual({
        step: step.logicalId,
        inputs: used,
      });
      expect(used.filter((s) => !host.secretsDelivered.includes(s))).toEqual([]);
      expect(JSON.stringify(resource.provisioner)).not.toContain("var.");
      expect(plainSecrets(step.scriptBody)).toEqual([]);
      expect(plainSecretKeys(step.scriptBody)).toEqual([]);
    }
  });
});

describe("secrets of the role layouts, planned by terraform with canary values", () => {
  it("no canary, nor its base64, reaches the plan's output or any file under the output folder", () => {
    const work = tempDir("dataplane-canary");
    const key = sshKey(work);
    const vars: Record<string, string> = {};
    const canaries = SECRET_CATALOG.map((s) => `CANARY-${s.name}-${randomBytes(8).toString("hex")}`);
    SECRET_CATALOG.forEach((s, i) => (vars[secretVariableName(s.name)] = canaries[i]));
    const varFile = path.join(work, "secrets.tfvars.json");
    fs.writeFileSync(varFile, JSON.stringify(vars), { mode: 0o600 });
    // All three layouts in one plan each; the canaries are the same.
    const outputs: string[] = [];
    const outdirs: string[] = [];
    LAYOUTS.forEach((layout, i) => {
      const data = readYaml(LAB_SMALL_EXAMPLE);
      data.hosts = layout.hosts;
      data.cluster = `layout${i + 1}`;
      const file = path.join(work, `layout${i + 1}.yaml`);
      fs.writeFileSync(file, JSON.stringify(data));
      const outdir = path.join(work, `out${i + 1}`);
      const { stackDir } = synthToDir(inventoryWithKey(file, key), outdir);
      const init = terraform(["init", "-input=false", "-no-color"], stackDir);
      const plan = terraform(["plan", "-input=false", "-no-color", `-var-file=${varFile}`], stackDir);
      const steps = Object.keys(
        (JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")) as StackJson).resource
          .terraform_data,
      ).length;
      expect({ layout: layout.name, init: init.status, plan: plan.status }).toEqual({
        layout: layout.name,
        init: 0,
        plan: 0,
      });
      expect(plan.stdout).toContain(`Plan: ${steps} to add, 0 to change, 0 to destroy.`);
      outputs.push(init.stdout, init.stderr, plan.stdout, plan.stderr);
      outdirs.push(outdir);
    });
    const output = outputs.join("\n");
    const needles = canaries.flatMap((c) => [
      c,
      Buffer.from(c).toString("base64"),
      Buffer.from(c).toString("base64url"),
    ]);
    expect(needles.filter((n) => output.includes(n))).toEqual([]);
    const found: string[] = [];
    for (const outdir of outdirs) {
      for (const rel of listFiles(outdir)) {
        const content = fs.readFileSync(path.join(outdir, rel));
        for (const n of needles) if (content.includes(Buffer.from(n))) found.push(`${rel}: ${n}`);
      }
    }
    expect(found).toEqual([]);
    // The canaries were there to be found: the variables file holds every one of them.
    expect(canaries).toHaveLength(SECRET_CATALOG.length);
    const varText = fs.readFileSync(varFile, "utf8");
    expect(canaries.every((c) => varText.includes(c))).toBe(true);
  });
});

describe("netdev without a tunnel interface", () => {
  it("is a one-line error naming the first such host's datapathType, from the inventory", () => {
    const data = readYaml(LAB_SMALL_EXAMPLE);
    delete (data.networks as Record<string, unknown>).tunnel;
    data.hosts = (data.hosts as HostEntry[]).map(({ tunnelAddress: _t, ...h }) => h);
    let message = "";
    try {
      parseInventory(data, LAB_SMALL_EXAMPLE, EXAMPLES_DIR);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(
      /: hosts\[2\]\.datapathType: got "netdev": expected system, or networks\.tunnel set/,
    );
    expect(message).not.toContain("\n");
    // With the kernel datapath the same inventory is fine: the tunnel address is the management one.
    const system = parseInventory({ ...data, datapathType: "system" }, LAB_SMALL_EXAMPLE, EXAMPLES_DIR);
    const { cluster } = synth(system);
    expect(ini(fileIn(stepOf(cluster, "compute1_neutron_agents").scriptText, OVS_INI)).ovs.local_ip).toBe(
      "10.211.0.21",
    );
  });
});

describe("shellcheck over the role layouts", () => {
  it("passes every step script they render", () => {
    const dir = tempDir("dataplane-shellcheck");
    // Each script once: those lab-small renders too (the controllers' platform, mostly) are
    // test/shellcheck.test.ts's, and the layouts share some.
    const known = new Set(
      synth(parseInventory(readYaml(LAB_SMALL_EXAMPLE), LAB_SMALL_EXAMPLE, EXAMPLES_DIR)).cluster.steps.map(
        (s) => s.scriptText,
      ),
    );
    const scripts = new Map<string, string>();
    LAYOUTS.forEach((layout, i) => {
      for (const step of synth(labSmallWithHosts(layout.name, layout.hosts)).cluster.steps) {
        if (!known.has(step.scriptText) && !scripts.has(step.scriptText))
          scripts.set(step.scriptText, path.join(dir, `layout${i + 1}-${step.logicalId}.sh`));
      }
    });
    for (const [text, file] of scripts) fs.writeFileSync(file, text);
    const files = [...scripts.values()];
    // The data-plane steps lab-small does not have: the controllers' agents (first layout), their
    // nova-compute and agents (second), compute1's agents with L3 and compute2's two (third).
    expect(files.filter((f) => /_(nova_compute|neutron_agents)\.sh$/.test(f))).toHaveLength(9);
    const check = spawnSync("shellcheck", ["--format=gcc", "--severity=style", ...files], {
      encoding: "utf8",
    });
    expect(`${check.stdout}${check.stderr}`).toBe("");
    expect(check.status).toBe(0);
  });
});
