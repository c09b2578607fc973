import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { TerraformStack, Testing } from "cdktf";
import { parseInventory } from "../lib/cluster/inventory";
import { OpenStackCluster } from "../lib/cluster/openstack-cluster";
import { DEBIAN_12_ZED, DEBIAN_13_EPOXY, ReleaseProfile, UBUNTU_2404_CARACAL } from "../lib/core/releases";
import { Host } from "../lib/hosts/host";
import { Memcached } from "../lib/platform/memcached";
import { MysqlHaPair } from "../lib/platform/mysql-ha-pair";
import { RabbitMq } from "../lib/platform/rabbitmq";
import { ControlPlaneContext } from "../lib/services/control-plane-context";
import { KeystoneService } from "../lib/services/keystone";
import {
  dhcpAgentsPerNetwork,
  NEUTRON_SERVER_UNIT_PATH,
  NeutronService,
  OVO_PUSH_PLUGIN,
} from "../lib/services/neutron";
import { NovaService } from "../lib/services/nova";
import { ini, LAB_SMALL_EXAMPLE, readYaml, SEED_EXAMPLE, StackJson, tempDir } from "./support";

function clusterOf(file: string): { cluster: OpenStackCluster; json: StackJson } {
  const stack = new TerraformStack(Testing.app({ outdir: tempDir("services") }), "t");
  const cluster = new OpenStackCluster(stack, "cluster", { inventory: parseInventory(readYaml(file)) });
  return { cluster, json: JSON.parse(Testing.synth(stack)) as StackJson };
}

/** The line that writes PATH with osc_install_file, and the content it writes. */
function fileIn(text: string, filePath: string): { head: string; content: string } {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("osc_install_file ") && l.split(" ")[2] === filePath);
  if (start < 0) throw new Error(`${filePath} is not written`);
  const delimiter = /<<'(\w+)'/.exec(lines[start])?.[1] as string;
  const end = lines.indexOf(delimiter, start + 1);
  return { head: lines[start], content: lines.slice(start + 1, end).join("\n") + "\n" };
}

function secretVars(expression: string | undefined): string[] {
  return [...new Set([...(expression ?? "").matchAll(/var\.secret_([a-z0-9_]+)/g)].map((m) => m[1]))].sort();
}

const VIP = "10.211.0.10";

describe("Nova and Neutron in the small lab layout", () => {
  const { cluster, json } = clusterOf(LAB_SMALL_EXAMPLE);
  const tf = json.resource.terraform_data;
  const step = (id: string) => {
    const s = cluster.steps.find((x) => x.logicalId === id);
    if (!s) throw new Error(`no step ${id}`);
    return s.scriptText;
  };
  const ids = cluster.steps.map((s) => s.logicalId);
  const novaConf = (host: string) => fileIn(step(`${host}_nova`), "/etc/nova/nova.conf");
  const neutronConf = (host: string) => fileIn(step(`${host}_neutron`), "/etc/neutron/neutron.conf");

  it("runs on the controllers only: databases and Keystone records once, from the first", () => {
    const first = (id: string) => ids.indexOf(`controller1_${id}`);
    expect(
      ["db_nova_api", "db_nova", "db_nova_cell0", "keystone_nova", "nova"].map((id) => first(id)),
    ).toEqual([...Array(5).keys()].map((i) => first("db_nova_api") + i));
    expect(["db_neutron", "keystone_neutron", "neutron"].map((id) => first(id))).toEqual(
      [0, 1, 2].map((i) => first("db_neutron") + i),
    );
    for (const id of ["nova", "neutron"]) expect(ids).toContain(`controller2_${id}`);
    for (const id of ["db_nova", "keystone_nova", "db_neutron", "keystone_neutron"]) {
      expect(ids).not.toContain(`controller2_${id}`);
    }
    // The data-plane hosts get only their agents and nova-compute, never a database or Keystone record.
    expect(ids.filter((id) => /^(compute|network)1_(nova|neutron|db_|keystone_)/.test(id))).toEqual([
      "compute1_nova_compute",
      "compute1_neutron_agents",
      "network1_neutron_agents",
    ]);
  });

  it("orders the steps: registrations after Keystone, the second controller after the first", () => {
    const deps = (id: string) => tf[id].depends_on ?? [];
    expect(deps("controller1_keystone_nova")).toContain("terraform_data.controller1_keystone");
    expect(deps("controller1_keystone_neutron")).toContain("terraform_data.controller1_keystone");
    expect(deps("controller1_nova")).toContain("terraform_data.controller1_keystone_nova");
    expect(deps("controller1_neutron")).toContain("terraform_data.controller1_keystone_neutron");
    expect(deps("controller2_nova")).toContain("terraform_data.controller1_nova");
    expect(deps("controller2_neutron")).toContain("terraform_data.controller1_neutron");
    // The peer's replication is up before the schemas are created.
    expect(deps("controller1_db_nova_api")).toContain("terraform_data.controller2_mysql");
    expect(cluster.nova.cellsStep.logicalId).toBe("controller1_nova");
    expect(cluster.nova.controllerSteps.map((s) => s.logicalId)).toEqual([
      "controller1_nova",
      "controller2_nova",
    ]);
    expect(cluster.neutron.serverSteps.map((s) => s.logicalId)).toEqual([
      "controller1_neutron",
      "controller2_neutron",
    ]);
  });

  it("creates nova_api, nova and nova_cell0 for the one user nova, through the VIP", () => {
    for (const name of ["nova_api", "nova", "nova_cell0"]) {
      const sql = fileIn(step(`controller1_db_${name}`), `/etc/openstack-cdktf/sql/db_${name}.sql`).content;
      expect(sql).toContain(`CREATE DATABASE IF NOT EXISTS \`${name}\``);
      expect(sql).toContain("IDENTIFIED BY '{{secret:nova_db_password}}'");
      expect(sql).toContain(`GRANT ALL PRIVILEGES ON \`${name}\`.* TO 'nova'@'10.211.0.0/255.255.255.0';`);
    }
    const conf = ini(novaConf("controller1").content);
    expect(conf.api_database.connection).toBe(
      `mysql+pymysql://nova:{{secret:nova_db_password}}@${VIP}/nova_api?charset=utf8`,
    );
    expect(conf.database.connection).toBe(
      `mysql+pymysql://nova:{{secret:nova_db_password}}@${VIP}/nova?charset=utf8`,
    );
    expect(ini(neutronConf("controller2").content).database.connection).toBe(
      `mysql+pymysql://neutron:{{secret:neutron_db_password}}@${VIP}/neutron?charset=utf8`,
    );
  });

  it("writes nova.conf whole, secrets filled on the host, with the keys of the Zed install guide", () => {
    for (const [host, address] of [
      ["controller1", "10.211.0.11"],
      ["controller2", "10.211.0.12"],
    ]) {
      const { head, content } = novaConf(host);
      expect(head).toBe(
        "osc_install_file nova /etc/nova/nova.conf root nova 0640 --fill-secrets <<'OSC_EOF'",
      );
      const conf = ini(content);
      expect(conf.DEFAULT).toEqual({
        enabled_apis: "osapi_compute,metadata",
        my_ip: address,
        state_path: "/var/lib/nova",
        transport_url: `rabbit://openstack:{{secret:rabbitmq_password}}@${VIP}:5672/`,
      });
      expect(conf.api).toEqual({ auth_strategy: "keystone" });
      expect(conf.keystone_authtoken).toMatchObject({
        www_authenticate_uri: `http://${VIP}:5000`,
        auth_url: `http://${VIP}:5000`,
        memcached_servers: "10.211.0.11:11211,10.211.0.12:11211",
        username: "nova",
        password: "{{secret:nova_keystone_password}}",
      });
      expect(conf.service_user).toMatchObject({
        send_service_user_token: "true",
        auth_url: `http://${VIP}:5000/v3`,
        auth_type: "password",
        username: "nova",
        password: "{{secret:nova_keystone_password}}",
      });
      expect(conf.placement).toMatchObject({
        username: "placement",
        password: "{{secret:placement_keystone_password}}",
        region_name: "RegionOne",
      });
      expect(conf.glance).toEqual({ api_servers: `http://${VIP}:9292` });
      expect(conf.neutron).toMatchObject({
        username: "neutron",
        password: "{{secret:neutron_keystone_password}}",
        service_metadata_proxy: "true",
        metadata_proxy_shared_secret: "{{secret:metadata_proxy_secret}}",
      });
      expect(conf.vnc).toEqual({
        enabled: "true",
        server_listen: address,
        server_proxyclient_address: address,
        novncproxy_base_url: `http://${VIP}:6080/vnc_auto.html`,
        // The proxy on the controller's own address; the VIP's port is a socket of ours.
        novncproxy_host: address,
      });
      expect(conf.oslo_concurrency).toEqual({ lock_path: "/var/lib/nova/tmp" });
      expect(conf.cache).toMatchObject({
        enabled: "true",
        memcache_servers: "10.211.0.11:11211,10.211.0.12:11211",
      });
      expect(step(`${host}_nova`)).toContain("\ninstall -d -o nova -g nova -m 0750 /var/lib/nova/tmp\n");
    }
    // Host discovery on one scheduler only: two would race for the same host mappings.
    expect(ini(novaConf("controller1").content).scheduler.discover_hosts_in_cells_interval).toBe("300");
    expect(ini(novaConf("controller2").content).scheduler.discover_hosts_in_cells_interval).toBeUndefined();
  });

  it("starts the noVNC proxy (Debian's default is SPICE) and sizes uwsgi and workers for small hosts", () => {
    const text = step("controller1_nova");
    expect(text).toContain(
      "\ndebconf-set-selections <<<'nova-consoleproxy nova-consoleproxy/daemon_type select novnc'\n",
    );
    expect(fileIn(text, "/etc/default/nova-consoleproxy").content).toContain(
      "\nNOVA_CONSOLE_PROXY_TYPE=novnc\n",
    );
    expect(text.indexOf("\ndebconf-set-selections")).toBeLessThan(text.indexOf("\nosc_apt_install nova-api"));
    expect(text).toContain("\nosc_apt_install nova-api nova-conductor nova-scheduler nova-consoleproxy\n");
    expect(text).toContain("\nosc_ini_set nova /etc/nova/nova-api-uwsgi.ini uwsgi processes 2\n");
    expect(text).toContain("\nosc_ini_set nova /etc/nova/nova-api-metadata-uwsgi.ini uwsgi processes 2\n");
    // Neutron's server is upstream's eventlet one, no uwsgi: its workers come from neutron.conf.
    expect(step("controller2_neutron")).not.toContain("uwsgi");
    const serverConf = ini(fileIn(step("controller2_neutron"), "/etc/neutron/neutron.conf").content);
    expect(serverConf.DEFAULT.api_workers).toBe("2");
    expect(serverConf.DEFAULT.rpc_workers).toBe("2");
    // One thread per uwsgi process: Nova's APIs monkey-patch eventlet (Debian ships 32 threads,
    // and concurrent first requests hung); and Connection: close after every answer.
    for (const [id, tag, file] of [
      ["controller1_nova", "nova", "/etc/nova/nova-api-uwsgi.ini"],
      ["controller1_nova", "nova", "/etc/nova/nova-api-metadata-uwsgi.ini"],
    ]) {
      expect(step(id)).toContain(`\nosc_ini_set ${tag} ${file} uwsgi threads 1\n`);
      expect(step(id)).toContain(`\nosc_ini_set ${tag} ${file} uwsgi add-header 'Connection: close'\n`);
    }
    const conf = ini(novaConf("controller1").content);
    expect(conf.conductor.workers).toBe("2");
    expect(conf.scheduler.workers).toBe("2");
    expect(ini(neutronConf("controller1").content).DEFAULT.rpc_workers).toBe("2");
    expect(text).toContain(
      "\nosc_restart_if_changed nova nova-api nova-api-metadata nova-conductor nova-scheduler nova-novncproxy\n",
    );
    for (const port of [8774, 8775, 6080]) expect(text).toContain(`\nosc_wait_port 10.211.0.11 ${port} `);
  });

  it("sets up Cells v2 on the first controller only, in order, as nova", () => {
    const text = step("controller1_nova");
    const order = [
      "osc_as nova nova-manage api_db sync",
      "osc_as nova nova-manage cell_v2 list_cells",
      "osc_as nova nova-manage cell_v2 map_cell0",
      "osc_as nova nova-manage cell_v2 create_cell --name=cell1 --verbose",
      "osc_as nova nova-manage db sync",
      "osc_restart_if_changed nova",
    ].map((command) => text.indexOf(command));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(step("controller2_nova")).not.toContain("nova-manage");
  });

  it("maps cell0 and creates cell1 only when list_cells does not show them", () => {
    const lines = step("controller1_nova").split("\n");
    const from = lines.findIndex((l) => l.startsWith("cells=$("));
    const guarded = lines.slice(from, from + 3).join("\n");
    expect(guarded).toMatch(/^cells=.*\nif .*map_cell0; fi\nif .*create_cell --name=cell1 --verbose; fi$/);
    const run = (table: string): string => {
      // nova-manage replaced by a stub that prints the table and logs what else it is asked to do.
      const harness = [
        "set -euo pipefail",
        'osc_as() { shift; if [ "$3" = list_cells ]; then printf "%s\\n" "$TABLE"; else echo "RAN $*"; fi; }',
        guarded,
      ].join("\n");
      const result = spawnSync("bash", ["-c", harness], {
        encoding: "utf8",
        env: { ...process.env, TABLE: table },
      });
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      return result.stdout;
    };
    const border = "+-------+--------------------------------------+---------------+";
    const header = "|  Name |                 UUID                 | Transport URL |";
    const row = (name: string, uuid: string) => `| ${name} | ${uuid} | rabbit://**** |`;
    expect(run([border, header, border, border].join("\n"))).toBe(
      "RAN nova-manage cell_v2 map_cell0\nRAN nova-manage cell_v2 create_cell --name=cell1 --verbose\n",
    );
    const cell0 = row("cell0", "00000000-0000-0000-0000-000000000000");
    const cell1 = row("cell1", "6b1f4c08-4a52-4c4a-9d6e-1f1e4e0c1a11");
    expect(run([border, header, border, cell0, border].join("\n"))).toBe(
      "RAN nova-manage cell_v2 create_cell --name=cell1 --verbose\n",
    );
    expect(run([border, header, border, cell0, cell1, border].join("\n"))).toBe("");
    // A cell whose name merely contains "cell1" is not cell1.
    expect(run([border, header, border, cell0, row("cell10", "x"), border].join("\n"))).toContain(
      "create_cell",
    );
  });

  it("registers compute and network (not the seed's compute for everything) on the VIP", () => {
    const spec = (name: string) =>
      JSON.parse(
        fileIn(step(`controller1_keystone_${name}`), `/etc/openstack-cdktf/keystone/${name}.json`).content,
      );
    expect(spec("nova")).toMatchObject({
      user: { name: "nova", password: "{{secret:nova_keystone_password}}" },
      service: {
        name: "nova",
        type: "compute",
        endpoints: {
          public: `http://${VIP}:8774/v2.1`,
          internal: `http://${VIP}:8774/v2.1`,
          admin: `http://${VIP}:8774/v2.1`,
        },
      },
    });
    expect(spec("neutron")).toMatchObject({
      user: { name: "neutron", password: "{{secret:neutron_keystone_password}}" },
      service: { name: "neutron", type: "network", endpoints: { public: `http://${VIP}:9696` } },
    });
    expect(cluster.nova.apiUrl).toBe(`http://${VIP}:8774/v2.1`);
    expect(cluster.nova.metadataHost).toBe(VIP);
    expect(cluster.neutron.apiUrl).toBe(`http://${VIP}:9696`);
  });

  it("configures neutron-server with ML2, Open vSwitch and iptables_hybrid, spelled right", () => {
    const { head, content } = neutronConf("controller1");
    expect(head).toBe(
      "osc_install_file neutron /etc/neutron/neutron.conf root neutron 0640 --fill-secrets <<'OSC_EOF'",
    );
    // Debian's init scripts find the plugin's ini file from this very line.
    expect(content).toMatch(/^[ \t]*core_plugin[ \t]*=[ \t]*[._a-zA-Z0-9]*$/m);
    const conf = ini(content);
    expect(conf.DEFAULT).toMatchObject({
      core_plugin: "ml2",
      service_plugins: `router,${OVO_PUSH_PLUGIN}`,
      auth_strategy: "keystone",
      transport_url: `rabbit://openstack:{{secret:rabbitmq_password}}@${VIP}:5672/`,
      notify_nova_on_port_status_changes: "true",
      notify_nova_on_port_data_changes: "true",
    });
    // One network node: no HA routers, one DHCP agent per network.
    expect(conf.DEFAULT.l3_ha).toBeUndefined();
    expect(conf.DEFAULT.dhcp_agents_per_network).toBeUndefined();
    expect(conf.nova).toMatchObject({ username: "nova", password: "{{secret:nova_keystone_password}}" });
    expect(conf.keystone_authtoken).toMatchObject({ username: "neutron" });
    expect(conf.oslo_concurrency).toEqual({ lock_path: "/var/lib/neutron/tmp" });

    const ml2 = fileIn(step("controller1_neutron"), "/etc/neutron/plugins/ml2/ml2_conf.ini");
    expect(ml2.head).toBe(
      "osc_install_file neutron /etc/neutron/plugins/ml2/ml2_conf.ini root neutron 0640 <<'OSC_EOF'",
    );
    expect(ini(ml2.content)).toEqual({
      ml2: {
        type_drivers: "flat,vlan,vxlan",
        tenant_network_types: "vxlan",
        mechanism_drivers: "openvswitch,l2population",
        extension_drivers: "port_security",
      },
      ml2_type_flat: { flat_networks: "provider" },
      ml2_type_vlan: { network_vlan_ranges: "provider" },
      ml2_type_vxlan: { vni_ranges: "1:1000" },
      securitygroup: {
        enable_security_group: "true",
        enable_ipset: "true",
        firewall_driver: "iptables_hybrid",
      },
    });
    for (const host of ["controller1", "controller2"])
      expect(step(`${host}_neutron`)).not.toMatch(/Iptabless/i);
  });

  it("upgrades Neutron's schema from the first controller only, then restarts neutron-server", () => {
    const migrate =
      "osc_as neutron neutron-db-manage --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini upgrade head";
    const text = step("controller1_neutron");
    expect(text).toContain(`\n${migrate}\n`);
    expect(text.indexOf(migrate)).toBeLessThan(text.indexOf("osc_restart_if_changed neutron"));
    expect(step("controller2_neutron")).not.toContain("neutron-db-manage");
    expect(text).toContain("\nosc_apt_install neutron-server\n");
    expect(text).toContain("\nosc_restart_if_changed neutron neutron-server\n");
    expect(text).toContain("\nosc_wait_port 10.211.0.11 9696 ");
  });

  it("runs upstream's eventlet neutron-server from a unit of its own on Debian, the packages' API and RPC units masked first", () => {
    const text = step("controller1_neutron");
    const mask = text.indexOf("\nosc_mask_units neutron-api neutron-rpc-server\n");
    const unit = fileIn(text, NEUTRON_SERVER_UNIT_PATH);
    expect(mask).toBeGreaterThan(-1);
    expect(mask).toBeLessThan(text.indexOf("\nosc_restart_if_changed neutron neutron-server\n"));
    expect(unit.content).toContain(
      "\nExecStart=/usr/bin/neutron-server --config-file=/etc/neutron/neutron.conf --config-dir=/etc/neutron/server.conf.d --config-file=/etc/neutron/plugins/ml2/ml2_conf.ini --log-file=/var/log/neutron/neutron-server.log\n",
    );
    expect(unit.content).toContain("\nUser=neutron\n");
    expect(text).toMatch(/\nif osc_changed neutron; then\n {2}systemctl daemon-reload\nfi\n/);
  });

  it("installs the plugin that restarts ML2's push threads in each forked worker, on the server's Python path", () => {
    const text = step("controller1_neutron");
    const module = fileIn(text, "/usr/local/lib/openstack-cdktf/python/openstack_cdktf_neutron_ovo_push.py");
    expect(module.head).toBe(
      "osc_install_file neutron /usr/local/lib/openstack-cdktf/python/openstack_cdktf_neutron_ovo_push.py root root 0644 <<'OSC_EOF'",
    );
    expect(module.content).toContain("\nclass OvoPushAfterFork(base.ServicePluginBase):\n");
    const dropIn = fileIn(text, "/etc/systemd/system/neutron-server.service.d/openstack-cdktf-ovo-push.conf");
    expect(dropIn.content).toBe("[Service]\nEnvironment=PYTHONPATH=/usr/local/lib/openstack-cdktf/python\n");
    // Both before the restart, and systemd reloads the drop-in first.
    const restart = text.indexOf("\nosc_restart_if_changed neutron neutron-server\n");
    expect(text.indexOf(dropIn.head)).toBeLessThan(restart);
    const reload = text.indexOf("\n  systemctl daemon-reload\n", text.indexOf(dropIn.head));
    expect(reload).toBeGreaterThan(-1);
    expect(reload).toBeLessThan(restart);
    expect(OVO_PUSH_PLUGIN).toBe("openstack_cdktf_neutron_ovo_push.OvoPushAfterFork");
  });

  it("re-runs a step when a secret it uses changes, and only those", () => {
    expect(secretVars(tf.controller1_nova.triggers_replace?.inputs)).toEqual([
      "metadata_proxy_secret",
      "neutron_keystone_password",
      "nova_db_password",
      "nova_keystone_password",
      "placement_keystone_password",
      "rabbitmq_password",
    ]);
    expect(secretVars(tf.controller2_neutron.triggers_replace?.inputs)).toEqual([
      "neutron_db_password",
      "neutron_keystone_password",
      "nova_keystone_password",
      "rabbitmq_password",
    ]);
    for (const id of ["controller1_nova", "controller1_neutron"]) {
      expect(JSON.stringify(tf[id].provisioner.map((p) => p["remote-exec"] ?? {}))).not.toContain("var.");
    }
  });

  it("gives compute hosts a nova.conf without database or metadata secret", () => {
    const compute = cluster.hosts.find((h) => h.hostName === "compute1") as Host;
    const conf = ini(cluster.nova.computeConfig(compute).render());
    expect(conf.database).toBeUndefined();
    expect(conf.api_database).toBeUndefined();
    expect(conf.DEFAULT.my_ip).toBe("10.211.0.21");
    expect(conf.DEFAULT.transport_url).toContain(`@${VIP}:5672/`);
    expect(conf.service_user.send_service_user_token).toBe("true");
    expect(conf.neutron.username).toBe("neutron");
    expect(conf.neutron.metadata_proxy_shared_secret).toBeUndefined();
    expect(conf.vnc.server_proxyclient_address).toBe("10.211.0.21");
    expect(cluster.nova.computeConfig(compute).secretsUsed()).toEqual([
      "neutron_keystone_password",
      "nova_keystone_password",
      "placement_keystone_password",
      "rabbitmq_password",
    ]);
  });
});

describe("Neutron with two network nodes (the seed)", () => {
  const { cluster } = clusterOf(SEED_EXAMPLE);

  it("makes routers HA and puts each network on two DHCP agents (the seed is on Epoxy)", () => {
    const step = cluster.neutron.serverSteps[0];
    const conf = ini(fileIn(step.scriptText, "/etc/neutron/neutron.conf").content);
    expect(conf.DEFAULT.l3_ha).toBe("true");
    expect(conf.DEFAULT.dhcp_agents_per_network).toBe("2");
  });

  it("puts each network on one DHCP agent on Zed (two break: upstream bug 1953165), two on 2024.1 and later", () => {
    expect(dhcpAgentsPerNetwork(DEBIAN_12_ZED)).toBe(1);
    expect(dhcpAgentsPerNetwork(UBUNTU_2404_CARACAL)).toBe(2);
    expect(dhcpAgentsPerNetwork(DEBIAN_13_EPOXY)).toBe(2);
  });
});

describe("compute host discovery (the hook for compute nodes)", () => {
  it("adds one step on the first controller, after the compute steps, waiting for the hosts", () => {
    const stack = new TerraformStack(Testing.app({ outdir: tempDir("discover") }), "t");
    const cluster = new OpenStackCluster(stack, "cluster", {
      inventory: parseInventory(readYaml(SEED_EXAMPLE)),
    });
    const computes = cluster.hostsWithRole("compute");
    const bases = computes.map((h) => cluster.baseSteps.get(h.hostName)!);
    // The cluster made it, after every compute host's nova-compute; later calls add dependencies.
    const step = cluster.discoverHosts!;
    expect(step.logicalId).toBe("controller1_nova_discover_hosts");
    expect(cluster.nova.discoverHostsStep(bases.slice(0, 2))).toBe(step);
    expect(cluster.nova.discoverHostsStep(bases.slice(2))).toBe(step);
    expect(() => cluster.nova.discoverHostsStep([], computes)).toThrow(/first call/);
    const json = JSON.parse(Testing.synth(stack)) as StackJson;
    expect(json.resource.terraform_data.controller1_nova_discover_hosts.depends_on).toEqual(
      expect.arrayContaining([
        "terraform_data.controller1_nova",
        ...computes.map((h) => `terraform_data.${h.hostName}_nova_compute`),
        ...computes.map((h) => `terraform_data.${h.hostName}_base`),
      ]),
    );
    expect(step.scriptText).toContain("\n  osc_as nova nova-manage cell_v2 discover_hosts --verbose\n");
    expect(step.scriptText).toContain("\nexpected=(compute1 compute2 compute3 compute4)\n");

    // shellcheck-clean, like every other step.
    const file = path.join(tempDir("discover-sh"), "discover.sh");
    fs.writeFileSync(file, step.scriptText);
    const check = spawnSync("shellcheck", ["--format=gcc", "--severity=style", file], { encoding: "utf8" });
    expect(`${check.stdout}${check.stderr}`).toBe("");
    expect(check.status).toBe(0);
  });
});

describe("Nova and Neutron used on their own", () => {
  function controlPlane(release: ReleaseProfile, apiWorkers?: number) {
    const stack = new TerraformStack(Testing.app({ outdir: tempDir("own") }), "t");
    const host = new Host(stack, "ctl", { name: "ctl", address: "10.0.0.5", release });
    const controllers = [host];
    const context: ControlPlaneContext = {
      controllers,
      clientAddress: host.address,
      managementCidr: "10.0.0.0/24",
      database: new MysqlHaPair(stack, "db", {
        controllers,
        clientAddress: host.address,
        managementCidr: "10.0.0.0/24",
      }),
      messaging: new RabbitMq(stack, "mq", { controllers, clientAddress: host.address }),
      cache: new Memcached(stack, "mc", { controllers }),
      apiWorkers,
    };
    const keystone = new KeystoneService(stack, "keystone", { context });
    return { stack, context, keystone };
  }

  it("on one controller: cells there, the API workers from the context, a physnet of one's own", () => {
    const { stack, context, keystone } = controlPlane(DEBIAN_12_ZED, 4);
    const nova = new NovaService(stack, "nova", { context, keystone, discoverHostsInterval: 0 });
    const neutron = new NeutronService(stack, "neutron", { context, keystone, providerPhysnet: "physnet1" });
    expect(nova.controllerSteps).toHaveLength(1);
    const novaText = nova.cellsStep.scriptText;
    expect(novaText).toContain("nova-manage cell_v2 create_cell");
    expect(novaText).toContain("\nosc_ini_set nova /etc/nova/nova-api-uwsgi.ini uwsgi processes 4\n");
    const conf = ini(fileIn(novaText, "/etc/nova/nova.conf").content);
    expect(conf.database.connection).toContain("@10.0.0.5/nova?");
    expect(conf.scheduler).toEqual({ workers: "4" });
    const ml2 = ini(
      fileIn(neutron.serverSteps[0].scriptText, "/etc/neutron/plugins/ml2/ml2_conf.ini").content,
    );
    expect(ml2.ml2_type_flat.flat_networks).toBe("physnet1");
    expect(
      ini(fileIn(neutron.serverSteps[0].scriptText, "/etc/neutron/neutron.conf").content).DEFAULT.api_workers,
    ).toBe("4");
  });

  it("on Ubuntu: its units, no uwsgi files, no Debian console proxy switch", () => {
    const { stack, context, keystone } = controlPlane(UBUNTU_2404_CARACAL);
    const nova = new NovaService(stack, "nova", { context, keystone });
    const neutron = new NeutronService(stack, "neutron", { context, keystone });
    const novaText = nova.cellsStep.scriptText;
    expect(novaText).not.toContain("uwsgi");
    expect(novaText).not.toContain("debconf-set-selections");
    expect(novaText).not.toContain("/etc/default/nova-consoleproxy");
    expect(novaText).toContain(
      "\nosc_restart_if_changed nova nova-api nova-conductor nova-scheduler nova-novncproxy\n",
    );
    expect(neutron.serverSteps[0].scriptText).toContain("\nosc_restart_if_changed neutron neutron-server\n");
    expect(neutron.serverSteps[0].scriptText).not.toContain("uwsgi");
    // Ubuntu's package runs the eventlet neutron-server itself: no unit of ours, nothing masked.
    expect(neutron.serverSteps[0].scriptText).not.toMatch(/\nosc_mask_units /);
    expect(neutron.serverSteps[0].scriptText).not.toContain(
      `osc_install_file neutron ${NEUTRON_SERVER_UNIT_PATH} `,
    );
    // Its eventlet (0.35) loses green threads in a fork too: the push plugin, by a drop-in for its unit.
    expect(neutron.serverSteps[0].scriptText).toContain(
      "\nosc_install_file neutron /etc/systemd/system/neutron-server.service.d/openstack-cdktf-ovo-push.conf ",
    );
    expect(neutron.serverSteps[0].scriptText).toContain(`service_plugins = router,${OVO_PUSH_PLUGIN}\n`);
  });

  it("refuses a bad physnet, no network node, odd VNI ranges, a negative discovery interval", () => {
    const { stack, context, keystone } = controlPlane(DEBIAN_12_ZED);
    expect(() => new NeutronService(stack, "n1", { context, keystone, providerPhysnet: "Phys Net" })).toThrow(
      'NeutronService providerPhysnet: got "Phys Net": expected a physical network name such as provider',
    );
    expect(() => new NeutronService(stack, "n2", { context, keystone, networkNodes: 0 })).toThrow(
      "NeutronService networkNodes: got 0: expected a whole number, at least 1",
    );
    expect(() => new NeutronService(stack, "n3", { context, keystone, vniRanges: "1-1000" })).toThrow(
      'NeutronService vniRanges: got "1-1000": expected ranges such as 1:1000',
    );
    expect(() => new NovaService(stack, "v1", { context, keystone, discoverHostsInterval: -1 })).toThrow(
      "NovaService discoverHostsInterval: got -1: expected a whole number of seconds, 0 to turn it off",
    );
  });
});
