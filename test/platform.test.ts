import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TerraformStack, Testing } from "cdktf";
import { parseInventory } from "../lib/cluster/inventory";
import { OpenStackCluster } from "../lib/cluster/openstack-cluster";
import { DEBIAN_12_ZED } from "../lib/core/releases";
import { Host } from "../lib/hosts/host";
import { HA_CLUSTERMSG_ONE_WRITE, Heartbeat } from "../lib/platform/heartbeat";
import { Memcached } from "../lib/platform/memcached";
import { MysqlHaPair, userHostPattern } from "../lib/platform/mysql-ha-pair";
import { RabbitMq } from "../lib/platform/rabbitmq";
import { readYaml, LAB_SMALL_EXAMPLE, LAB_SMALL_ZED_EXAMPLE } from "./support";

function clusterOf(data: unknown): OpenStackCluster {
  const stack = new TerraformStack(Testing.app(), "t");
  return new OpenStackCluster(stack, "cluster", { inventory: parseInventory(data) });
}

function script(cluster: OpenStackCluster, logicalId: string): string {
  const step = cluster.steps.find((s) => s.logicalId === logicalId);
  if (!step) throw new Error(`no step ${logicalId}`);
  return step.scriptText;
}

/** The content written by `osc_install_file … PATH …` in a script. */
function fileIn(text: string, filePath: string): string {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("osc_install_file ") && l.split(" ")[2] === filePath);
  if (start < 0) throw new Error(`${filePath} is not written`);
  const delimiter = /<<'(\w+)'/.exec(lines[start])?.[1] as string;
  const end = lines.indexOf(delimiter, start + 1);
  return lines.slice(start + 1, end).join("\n") + "\n";
}

describe("the platform layer of the small lab layout", () => {
  const cluster = clusterOf(readYaml(LAB_SMALL_EXAMPLE));
  const ctl1 = (id: string) => script(cluster, `controller1_${id}`);
  const ctl2 = (id: string) => script(cluster, `controller2_${id}`);

  it("runs the platform on the controllers only, in order, after the base step", () => {
    const ids = cluster.steps.map((s) => s.logicalId);
    for (const id of ["heartbeat", "mysql", "rabbitmq", "memcached"]) {
      expect(ids).toContain(`controller1_${id}`);
      expect(ids).toContain(`controller2_${id}`);
      expect(ids).not.toContain(`compute1_${id}`);
      expect(ids).not.toContain(`network1_${id}`);
    }
    const json = JSON.parse(Testing.synth(cluster.node.scope as TerraformStack));
    const dependsOn = (id: string) => json.resource.terraform_data[id].depends_on;
    // The controller's packages first (ControllerNode.preinstallPackages), then the platform.
    expect(dependsOn("controller1_controller_packages")).toEqual(["terraform_data.controller1_base"]);
    expect(dependsOn("controller1_heartbeat")).toContain("terraform_data.controller1_controller_packages");
    expect(dependsOn("controller1_mysql")).toContain("terraform_data.controller1_heartbeat");
    expect(dependsOn("controller1_rabbitmq")).toContain("terraform_data.controller1_mysql");
    expect(dependsOn("controller1_memcached")).toContain("terraform_data.controller1_rabbitmq");
  });

  it("replicates MariaDB both ways with distinct ids and interleaved keys, bound to address and VIP", () => {
    const cnf1 = fileIn(ctl1("mysql"), "/etc/mysql/mariadb.conf.d/99-openstack.cnf");
    const cnf2 = fileIn(ctl2("mysql"), "/etc/mysql/mariadb.conf.d/99-openstack.cnf");
    expect(cnf1).toContain("bind-address = 10.211.0.11,10.211.0.10\n");
    expect(cnf2).toContain("bind-address = 10.211.0.12,10.211.0.10\n");
    for (const [cnf, id] of [
      [cnf1, 1],
      [cnf2, 2],
    ] as const) {
      expect(cnf).toContain(`server_id = ${id}\n`);
      expect(cnf).toContain(`gtid_domain_id = ${id}\n`);
      expect(cnf).toContain(`auto_increment_offset = ${id}\n`);
      expect(cnf).toContain("auto_increment_increment = 2\n");
      expect(cnf).toContain("log_slave_updates = on\n");
      expect(cnf).toContain("log_bin = mysql-bin\n");
    }
    expect(ctl1("mysql")).toContain("MASTER_HOST='10.211.0.12'");
    expect(ctl2("mysql")).toContain("MASTER_HOST='10.211.0.11'");
    expect(ctl1("mysql")).toContain("MASTER_USE_GTID=slave_pos");
    // The replication password is a placeholder, filled on the host.
    expect(ctl1("mysql")).toContain("MASTER_PASSWORD='{{secret:mysql_replication_password}}'");
    expect(ctl1("mysql")).toMatch(
      /osc_install_file \S+ \/etc\/openstack-cdktf\/sql\/replication_source.sql root root 0600 --fill-secrets/,
    );
  });

  it("turns MariaDB 11.8's snapshot isolation off on Debian 13 only (Debian 12's 10.11 has it off)", () => {
    const setting = "innodb_snapshot_isolation = OFF\n";
    expect(fileIn(ctl1("mysql"), "/etc/mysql/mariadb.conf.d/99-openstack.cnf")).toContain(setting);
    const zed = clusterOf(readYaml(LAB_SMALL_ZED_EXAMPLE));
    const zedCnf = fileIn(script(zed, "controller1_mysql"), "/etc/mysql/mariadb.conf.d/99-openstack.cnf");
    expect(zedCnf).toContain("server_id = 1\n");
    expect(zedCnf).not.toContain("innodb_snapshot_isolation");
  });

  it("creates each service database once, on the first controller, limited to the management network", () => {
    const db = cluster.database.database("keystone", "keystone", "keystone_db_password");
    expect(cluster.database.database("keystone", "keystone", "keystone_db_password")).toBe(db);
    expect(db.url).toBe(
      "mysql+pymysql://keystone:{{secret:keystone_db_password}}@10.211.0.10/keystone?charset=utf8",
    );
    expect(db.step.logicalId).toBe("controller1_db_keystone");
    const sql = fileIn(db.step.scriptText, "/etc/openstack-cdktf/sql/db_keystone.sql");
    expect(sql).toContain("CREATE DATABASE IF NOT EXISTS `keystone`");
    expect(sql).toContain("GRANT ALL PRIVILEGES ON `keystone`.* TO 'keystone'@'10.211.0.0/255.255.255.0';");
    expect(sql).not.toMatch(/'%'/);
    expect(() => cluster.database.database("Bad-Name", "x", "keystone_db_password")).toThrow(
      /MysqlHaPair.database: got .*Bad-Name.*: expected lowercase identifiers/,
    );
  });

  it("moves the VIP with Heartbeat: unicast to the peer, sha1 key from the secrets, no failback", () => {
    const ha1 = fileIn(ctl1("heartbeat"), "/etc/ha.d/ha.cf");
    expect(ha1).toContain("ucast eth0 10.211.0.12\n");
    expect(fileIn(ctl2("heartbeat"), "/etc/ha.d/ha.cf")).toContain("ucast eth0 10.211.0.11\n");
    expect(ha1).toContain("auto_failback off\n");
    expect(ha1).toContain("node controller1\nnode controller2\n");
    expect(fileIn(ctl1("heartbeat"), "/etc/ha.d/haresources")).toBe(
      "controller1 IPaddr2::10.211.0.10/24/eth0\n",
    );
    expect(fileIn(ctl1("heartbeat"), "/etc/ha.d/authkeys")).toBe(
      "auth 1\n1 sha1 {{secret:heartbeat_auth_key}}\n",
    );
    expect(ctl1("heartbeat")).toMatch(
      /osc_install_file heartbeat \/etc\/ha.d\/authkeys root root 0600 --fill-secrets/,
    );
    expect(ctl1("heartbeat")).toContain("net.ipv4.ip_nonlocal_bind = 1");
  });

  // Heartbeat's FIFO reader gives a read one second: a message whose lines arrive apart loses
  // its body. One read(2) of the FIFO (dd count=1) must get the whole message even when the
  // body comes 0.3 s after the caller started writing; Debian's own definition fails this.
  it.each(["sh", "bash"])("has %s write a Heartbeat message to the FIFO in one write", (shell) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "osc-hb-"));
    try {
      fs.writeFileSync(path.join(dir, "shellfuncs"), HA_CLUSTERMSG_ONE_WRITE + "\n");
      const run = spawnSync(
        shell,
        [
          "-c",
          [
            "set -eu",
            '. "$DIR/shellfuncs"',
            'mkfifo "$DIR/fifo"',
            'dd if="$DIR/fifo" of="$DIR/read" bs=4096 count=1 status=none &',
            "{ printf 't=ip-request-resp\\n'; sleep 0.3; printf 'ok=OK\\n'; } | HA_FIFO=$DIR/fifo ha_clustermsg",
            "wait",
          ].join("\n"),
        ],
        { encoding: "utf8", env: { ...process.env, DIR: dir } },
      );
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      expect(fs.readFileSync(path.join(dir, "read"), "utf8")).toBe(">>>\nt=ip-request-resp\nok=OK\n<<<\n");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("appends that definition to Debian's shellfuncs once, then waits for the VIP", () => {
    const text = ctl1("heartbeat");
    const lines = text.split("\n");
    const start = lines.findIndex(
      (l) => l.startsWith("if ! grep -qxF") && l.endsWith("/etc/ha.d/shellfuncs; then"),
    );
    const append = lines.slice(start, lines.indexOf("fi", start) + 1).join("\n");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "osc-hb-"));
    try {
      const file = path.join(dir, "shellfuncs");
      fs.writeFileSync(file, "ha_clustermsg() {\n\t(echo '>>>'; cat -; echo '<<<') | cat - >> $HA_FIFO\n}\n");
      const code = append.split("/etc/ha.d/shellfuncs").join(file);
      for (let i = 0; i < 2; i++) expect(spawnSync("bash", ["-euc", code]).status).toBe(0);
      const content = fs.readFileSync(file, "utf8");
      expect(content.split(HA_CLUSTERMSG_ONE_WRITE).length).toBe(2);
      expect(content.endsWith(HA_CLUSTERMSG_ONE_WRITE + "\n")).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // After the restart, the step ends only when a host answers on the VIP, or fails naming it.
    expect(text.indexOf("until ping -q -n -c 1 -W 1 10.211.0.10")).toBeGreaterThan(
      text.indexOf("osc_restart_if_changed heartbeat heartbeat"),
    );
    expect(text).toContain("heartbeat: no controller answers on the VIP 10.211.0.10 after 60 s");
  });

  it("gives services a transport_url through the VIP and keeps the password off the command line", () => {
    expect(cluster.messaging.transportUrl).toBe(
      "rabbit://openstack:{{secret:rabbitmq_password}}@10.211.0.10:5672/",
    );
    const text = ctl1("rabbitmq");
    expect(fileIn(text, "/etc/rabbitmq/rabbitmq.conf")).toContain(
      "listeners.tcp.1 = 10.211.0.11:5672\nlisteners.tcp.2 = 10.211.0.10:5672\n",
    );
    expect(text).toContain("rabbitmqctl delete_user guest");
    expect(text).toContain(
      "osc_fill_secrets <<<'{{secret:rabbitmq_password}}' | rabbitmqctl add_user openstack",
    );
    expect(text).not.toMatch(/add_user openstack \S+/);
  });

  it("listens with memcached on the management address only", () => {
    const conf = fileIn(ctl1("memcached"), "/etc/memcached.conf");
    expect(conf).toContain("-l 10.211.0.11\n");
    expect(conf).not.toMatch(/0\.0\.0\.0|127\.0\.0\.1/);
    expect(conf).toContain("-U 0\n");
    expect(cluster.cache.servers).toBe("10.211.0.11:11211,10.211.0.12:11211");
  });
});

describe("platform constructs on their own", () => {
  const hosts = (n: number) => {
    const stack = new TerraformStack(Testing.app(), "t");
    return {
      stack,
      hosts: Array.from(
        { length: n },
        (_, i) =>
          new Host(stack, `h${i}`, {
            name: `db${i + 1}`,
            address: `10.0.0.${i + 1}`,
            release: DEBIAN_12_ZED,
          }),
      ),
    };
  };

  it("runs a single MariaDB without replication, reached at its own address", () => {
    const {
      stack,
      hosts: [db],
    } = hosts(1);
    const pair = new MysqlHaPair(stack, "db", {
      controllers: [db],
      clientAddress: db.address,
      managementCidr: "10.0.0.0/24",
    });
    expect(pair.serverSteps[0].scriptText).not.toContain("CHANGE MASTER");
    expect(pair.serverSteps[0].scriptText).toContain("bind-address = 10.0.0.1\n");
    expect(pair.database("nova", "nova", "nova_db_password").url).toContain("@10.0.0.1/nova");
  });

  it("refuses three database servers, one Heartbeat node, a tiny memcached, a bad broker user", () => {
    const { stack, hosts: three } = hosts(3);
    expect(
      () =>
        new MysqlHaPair(stack, "db", {
          controllers: three,
          clientAddress: "10.0.0.9",
          managementCidr: "10.0.0.0/24",
        }),
    ).toThrow("MysqlHaPair controllers: got 3: expected 1 (single) or 2 (replicated pair)");
    expect(
      () => new Heartbeat(stack, "ha", { controllers: [three[0]], vip: "10.0.0.9", prefixLength: 24 }),
    ).toThrow("Heartbeat controllers: got 1: expected exactly 2");
    expect(
      () => new Heartbeat(stack, "ha2", { controllers: three.slice(0, 2), vip: "nope", prefixLength: 24 }),
    ).toThrow('Heartbeat vip: got "nope": expected an IP address');
    expect(() => new Memcached(stack, "mc", { controllers: three, memoryMb: 1 })).toThrow(/memoryMb: got 1/);
    expect(
      () => new RabbitMq(stack, "mq", { controllers: three, clientAddress: "10.0.0.9", user: "Bad User" }),
    ).toThrow(/RabbitMq user: got "Bad User"/);
  });

  it("writes MariaDB host patterns as netmasks", () => {
    expect(userHostPattern("10.211.0.0/24")).toBe("10.211.0.0/255.255.255.0");
    expect(userHostPattern("172.16.0.0/12")).toBe("172.16.0.0/255.240.0.0");
    // MariaDB has no pattern for an IPv6 network but `%` (every host): refused, never opened to all.
    expect(() => userHostPattern("fd00::/64")).toThrow(/IPv6 is not supported yet/);
    expect(() => userHostPattern("10.0.0.1/32")).toThrow(/prefix from \/8 to \/30/);
  });

  it("single-controller clusters have no Heartbeat and use the controller's address", () => {
    const data = readYaml(LAB_SMALL_EXAMPLE) as Record<string, unknown> & { hosts: { roles: string[] }[] };
    const networks = data.networks as { management: Record<string, unknown> };
    const single = {
      ...data,
      ha: "single",
      networks: { ...networks, management: { cidr: networks.management.cidr } },
      hosts: data.hosts.filter((_h, i) => i !== 1),
    };
    const cluster = clusterOf(single);
    expect(cluster.heartbeat).toBeUndefined();
    expect(cluster.messaging.transportUrl).toContain("@10.211.0.11:5672/");
    expect(cluster.steps.map((s) => s.logicalId)).not.toContain("controller1_heartbeat");
  });
});

describe("the controllers' packages, early", () => {
  /** The packages of every `osc_apt_install` line of a step's own commands. */
  const installs = (body: string) =>
    body
      .split("\n")
      .filter((l) => l.startsWith("osc_apt_install "))
      .flatMap((l) =>
        l
          .split(" ")
          .slice(1)
          .filter((w) => w !== "--start"),
      );

  it("installs every package a controller's later steps install (day one's client aside), after the debconf answers", () => {
    for (const release of ["debian-12-zed", "ubuntu-2404-caracal"]) {
      const data = readYaml(LAB_SMALL_EXAMPLE) as Record<string, unknown>;
      const cluster = clusterOf({ ...data, release });
      for (const name of ["controller1", "controller2"]) {
        const steps = cluster.steps.filter((s) => s.logicalId.startsWith(`${name}_`));
        const early = steps.find((s) => s.logicalId === `${name}_controller_packages`)!;
        const ids = steps.map((s) => s.logicalId);
        // Right after the base system, before the platform's first step.
        expect(ids.indexOf(`${name}_controller_packages`)).toBe(ids.indexOf(`${name}_base`) + 1);
        const earlyPackages = new Set(installs(early.scriptBody));
        const later = steps
          .slice(ids.indexOf(`${name}_controller_packages`) + 1)
          .filter((s) => s.logicalId !== `${name}_day_one`)
          .flatMap((s) => installs(s.scriptBody));
        expect(later.length).toBeGreaterThan(20);
        expect(later.filter((p) => !earlyPackages.has(p))).toEqual([]);
        // The controllers are Ceph monitors and managers here.
        expect([...earlyPackages]).toEqual(expect.arrayContaining(["ceph-mon", "ceph-mgr", "heartbeat"]));
        if (release === "debian-12-zed") {
          expect(early.scriptBody).toMatch(
            /debconf-set-selections <<<'nova-consoleproxy nova-consoleproxy\/daemon_type select novnc'\nosc_apt_install /,
          );
        }
      }
    }
  });

  it("leaves out what the cluster does not build: Heartbeat with ha: single, Ceph without its section", () => {
    const data = readYaml(LAB_SMALL_EXAMPLE) as {
      ha: string;
      networks: { management: Record<string, unknown> };
      hosts: unknown[];
      ceph?: unknown;
      volumeBackends?: unknown;
    };
    data.ha = "single";
    delete data.networks.management.vip;
    delete data.networks.management.vipName;
    data.hosts.splice(1, 1);
    delete data.ceph;
    delete data.volumeBackends;
    const early = installs(script(clusterOf(data), "controller1_controller_packages"));
    expect(early).toEqual(
      expect.arrayContaining(["mariadb-server", "rabbitmq-server", "keystone", "neutron-server"]),
    );
    for (const absent of ["heartbeat", "ceph-mon", "ceph-mgr"]) expect(early).not.toContain(absent);
  });
});
