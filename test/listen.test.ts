/**
 * Every daemon the library installs listens on the addresses it needs and no other: each
 * controller's APIs on its management address and the VIP (uwsgi's sockets, Apache's `Listen`,
 * a socket of ours on the VIP for a daemon that binds one address), RabbitMQ's epmd and Erlang
 * distribution, chrony, tgtd, libvirt's NAT network; Debian 12, Ubuntu 24.04 and `ha: single`.
 * The shell parts run here in sh or bash, with what the packages' scripts do around them.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { TerraformStack, Testing } from "cdktf";
import { parseInventory } from "../lib/cluster/inventory";
import { OpenStackCluster } from "../lib/cluster/openstack-cluster";
import {
  apacheListen,
  apachePortsConf,
  erlangAddress,
  vipForwardUnit,
  vipForwardUnits,
} from "../lib/core/listen";
import { DEBIAN_12_ZED } from "../lib/core/releases";
import { forRelease } from "../lib/core/releases/packages";
import { CINDER_RELEASES } from "../lib/services/cinder";
import { KEYSTONE_RELEASES } from "../lib/services/keystone";
import { NOVA_RELEASES } from "../lib/services/nova";
import { PLACEMENT_RELEASES } from "../lib/services/placement";
import { ShellScript } from "../lib/core/shell-script";
import { Step } from "../lib/core/step";
import { epmdDropIn, rabbitmqEnv } from "../lib/platform/rabbitmq";
import { uwsgiDefaults, uwsgiUnit } from "../lib/services/control-plane-context";
import { fileIn, iniSection } from "./service-helpers";
import { LAB_SMALL_EXAMPLE, readYaml, tempDir } from "./support";

const VIP = "10.211.0.10";

/** The parts of lab-small's inventory the tests change. */
interface LabSmall {
  release: string;
  ha: string;
  networks: { management: { vip?: string; vipName?: string } };
  hosts: { name: string }[];
}

/** lab-small, edited, synthesized: its steps by id. */
function cluster(edit: (d: LabSmall) => void = () => {}): (id: string) => Step {
  const data = readYaml(LAB_SMALL_EXAMPLE);
  edit(data as unknown as LabSmall);
  const stack = new TerraformStack(Testing.app(), "t");
  const c = new OpenStackCluster(stack, "c", {
    inventory: parseInventory(data, LAB_SMALL_EXAMPLE, path.dirname(LAB_SMALL_EXAMPLE)),
  });
  return (id) => {
    const step = c.steps.find((s) => s.logicalId === id);
    if (!step) throw new Error(`no step ${id}`);
    return step;
  };
}

const debianSteps = cluster();
const ubuntuSteps = cluster((d) => (d.release = "ubuntu-2404-caracal"));
const singleSteps = cluster((d) => {
  d.ha = "single";
  delete d.networks.management.vip;
  delete d.networks.management.vipName;
  d.hosts = d.hosts.filter((h) => h.name !== "controller2");
});
/** A step's own commands by id. */
const debian = (id: string): string => debianSteps(id).scriptBody;
const ubuntu = (id: string): string => ubuntuSteps(id).scriptBody;
const single = (id: string): string => singleSteps(id).scriptBody;

function sh(script: string, shell = "sh"): string {
  const r = spawnSync(shell, ["-c", script], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${shell} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

describe("uwsgi's APIs (Debian): a socket per address, in place of the init script's every address", () => {
  test("each ini file's init script, /etc/default file and unit share one name, a unit of the release", () => {
    const apis = [KEYSTONE_RELEASES, PLACEMENT_RELEASES, CINDER_RELEASES, NOVA_RELEASES].map((table) =>
      forRelease("api", table, DEBIAN_12_ZED),
    );
    expect(apis.flatMap((api) => api.uwsgiConfigs ?? []).map(uwsgiUnit)).toEqual([
      "keystone",
      "placement-api",
      "cinder-api",
      "nova-api",
      "nova-api-metadata",
    ]);
    const units = apis.flatMap((api) => api.units);
    for (const unit of ["keystone", "placement-api", "cinder-api", "nova-api", "nova-api-metadata"])
      expect(units).toContain(unit);
    expect(() => uwsgiUnit("/etc/keystone/keystone.ini")).toThrow("expected /etc/SERVICE/UNIT-uwsgi.ini");
  });

  test.each([
    ["controller1_keystone", "/etc/default/keystone"],
    ["controller2_placement", "/etc/default/placement-api"],
    ["controller1_cinder", "/etc/default/cinder-api"],
    ["controller2_nova", "/etc/default/nova-api"],
    ["controller2_nova", "/etc/default/nova-api-metadata"],
  ])("%s: %s, sourced as the init script sources it, leaves uwsgi the two addresses", (step, file) => {
    const own = step.startsWith("controller1") ? "10.211.0.11" : "10.211.0.12";
    const defaults = fileIn(debian(step), file);
    expect(defaults).toBe(uwsgiDefaults([own, VIP]));
    // openstack-pkg-tools' init script: its own variables, DAEMON_ARGS for every address, then the file.
    const dir = tempDir("uwsgi-default");
    fs.writeFileSync(path.join(dir, "default"), defaults);
    const args = sh(
      [
        "UWSGI_PORT=5000",
        "UWSGI_INI_PATH=/etc/x/x-uwsgi.ini",
        'DAEMON_ARGS="--http-socket ${UWSGI_BIND_IP}:${UWSGI_PORT} --ini ${UWSGI_INI_PATH}"',
        `[ -r ${dir}/default ] && . ${dir}/default`,
        "echo $DAEMON_ARGS",
      ].join("\n"),
    );
    expect(args).toBe(`--http-socket ${own}:5000 --http-socket ${VIP}:5000 --ini /etc/x/x-uwsgi.ini\n`);
  });

  test("IPv6 addresses are bracketed; with ha: single, the controller's own address only", () => {
    expect(uwsgiDefaults(["fd00::11"])).toContain(
      'DAEMON_ARGS="--http-socket [fd00::11]:${UWSGI_PORT} --ini',
    );
    expect(fileIn(single("controller1_keystone"), "/etc/default/keystone")).toBe(
      uwsgiDefaults(["10.211.0.11"]),
    );
  });
});

describe("daemons that bind one address: their own, and a socket of ours on the VIP", () => {
  test.each([
    ["glance", "/etc/glance/glance-api.conf", "DEFAULT", "bind_host", "glance-api", 9292],
    ["neutron", "/etc/neutron/neutron.conf", "DEFAULT", "bind_host", "neutron-server", 9696],
    ["swift", "/etc/swift/proxy-server.conf", "DEFAULT", "bind_ip", "swift-proxy", 8080],
    ["nova", "/etc/nova/nova.conf", "vnc", "novncproxy_host", "nova-novncproxy", 6080],
  ])("%s: %s [%s] %s, and %s on the VIP's port %i", (service, file, section, key, name, port) => {
    const body = debian(`controller2_${service}`);
    expect(iniSection(fileIn(body, file), section)[key]).toBe("10.211.0.12");
    const unit = vipForwardUnit(name);
    const units = vipForwardUnits({ name, vip: VIP, port, target: "10.211.0.12" });
    expect(fileIn(body, `/etc/systemd/system/${unit}.socket`)).toBe(units.socket);
    expect(fileIn(body, `/etc/systemd/system/${unit}.service`)).toBe(units.service);
    expect(units.socket).toContain(`\n[Socket]\nListenStream=${VIP}:${port}\n`);
    expect(units.socket).toContain("\nFreeBind=true\n");
    expect(units.service).toContain(
      `\nExecStart=/lib/systemd/systemd-socket-proxyd --connections-max=4096 10.211.0.12:${port}\n`,
    );
    // A change stops the relay before the socket restarts (systemd refuses a socket whose service runs).
    const lines = body.split("\n");
    const tag = `vip_${name.replace(/-/g, "_")}`;
    const at = lines.indexOf(`if osc_changed ${tag}; then`);
    expect(lines.slice(at, at + 5)).toEqual([
      `if osc_changed ${tag}; then`,
      "  systemctl daemon-reload",
      `  systemctl stop ${unit}.service`,
      "fi",
      `osc_restart_if_changed ${tag} ${unit}.socket`,
    ]);
    // After the daemon's restart: bound to every address still (the package's default), it would
    // hold the VIP's port too.
    const restart = lines.findIndex((l) => l.startsWith(`osc_restart_if_changed ${service} `));
    expect(restart).toBeGreaterThan(0);
    expect(at).toBeGreaterThan(restart);
    // Each controller answers on its own address: the step waits there.
    expect(body).toContain(`\nosc_wait_port 10.211.0.12 ${port} `);
  });

  test("no VIP (ha: single): the daemons on the controller's address, no socket of ours", () => {
    expect(
      iniSection(fileIn(single("controller1_neutron"), "/etc/neutron/neutron.conf"), "DEFAULT").bind_host,
    ).toBe("10.211.0.11");
    for (const service of ["glance", "neutron", "swift", "nova"])
      expect(single(`controller1_${service}`)).not.toContain("openstack-cdktf-vip-");
  });

  test("the unit names are checked", () => {
    expect(() => vipForwardUnit("Glance API")).toThrow("expected lowercase letters");
  });
});

describe("Apache", () => {
  test("ports.conf: port 80 (and 443, should TLS be turned on) on the controller's address and the VIP", () => {
    const conf = fileIn(debian("controller1_horizon"), "/etc/apache2/ports.conf");
    expect(conf).toBe(apachePortsConf(["10.211.0.11", VIP]));
    expect(conf.split("\n").filter((l) => /^\s*Listen /.test(l))).toEqual([
      "Listen 10.211.0.11:80",
      `Listen ${VIP}:80`,
      "\tListen 10.211.0.11:443",
      `\tListen ${VIP}:443`,
      "\tListen 10.211.0.11:443",
      `\tListen ${VIP}:443`,
    ]);
    expect(apachePortsConf(["fd00::11"])).toContain("\nListen [fd00::11]:80\n");
  });

  /** Runs a script's apacheListen lines (those naming `file`), osc_install_file writing FILE whole. */
  function rewrite(body: string, file: string): { status: number | null; stderr: string; stdout: string } {
    // From the check that the file has the line to the removal of the rewritten copy.
    const all = body.split("\n");
    const start = all.findIndex((l) => l.startsWith("grep -Eq ") && l.includes(file));
    expect(start).toBeGreaterThanOrEqual(0);
    const lines = all.slice(start, all.indexOf('rm -f "$osc_lines"', start) + 1);
    expect(lines).toHaveLength(5);
    expect(lines.filter((l) => l.includes(file))).toHaveLength(3);
    const program = [
      "set -Eeuo pipefail",
      'osc_install_file() { local tmp; tmp=$(mktemp); cat >"$tmp"; if cmp -s "$tmp" "$2"; then rm -f "$tmp"; else echo changed; mv "$tmp" "$2"; fi; }',
      ...lines,
    ].join("\n");
    const r = spawnSync("bash", ["-c", program], { encoding: "utf8" });
    return { status: r.status, stderr: r.stderr, stdout: r.stdout };
  }

  test("Ubuntu's Keystone, Placement and Cinder sites: their Listen lines on the two addresses, the rest kept", () => {
    const dir = tempDir("apache-site");
    const cases: [string, string, number][] = [
      ["controller1_keystone", "/etc/apache2/sites-available/keystone.conf", 5000],
      ["controller1_placement", "/etc/apache2/sites-available/placement-api.conf", 8778],
      ["controller1_cinder", "/etc/apache2/conf-available/cinder-wsgi.conf", 8776],
    ];
    for (const [step, file, port] of cases) {
      // The file as the package ships it, under a temporary root.
      const copy = path.join(dir, path.basename(file));
      const site = `Listen ${port}\n\n<VirtualHost *:${port}>\n    WSGIDaemonProcess x processes=5\n</VirtualHost>\n`;
      fs.writeFileSync(copy, site);
      const body = ubuntu(step).split(file).join(copy);
      expect(rewrite(body, copy)).toMatchObject({ status: 0, stdout: "changed\n" });
      expect(fs.readFileSync(copy, "utf8")).toBe(
        `Listen 10.211.0.11:${port}\nListen ${VIP}:${port}\n\n<VirtualHost *:${port}>\n    WSGIDaemonProcess x processes=5\n</VirtualHost>\n`,
      );
      // Again: nothing changes.
      expect(rewrite(body, copy)).toMatchObject({ status: 0, stdout: "" });
      // The step that restarts Apache gives it its ports.conf too (not the package's every address).
      expect(fileIn(ubuntu(step), "/etc/apache2/ports.conf")).toBe(apachePortsConf(["10.211.0.11", VIP]));
      // A file without the port's Listen line: the step stops, naming it.
      fs.writeFileSync(copy, "<VirtualHost *:80>\n</VirtualHost>\n");
      const missing = rewrite(body, copy);
      expect(missing.status).toBe(1);
      expect(missing.stderr).toContain(`no "Listen ${port}" line`);
    }
    // Debian's are under uwsgi: no Apache site is touched.
    expect(debian("controller1_keystone")).not.toContain("perl -ne");
  });

  test("apacheListen quotes what it is given", () => {
    const script = new ShellScript({ step: "s", host: "h" });
    apacheListen(script, "/etc/apache2/sites-available/it's.conf", 5000, ["10.0.0.1"], "keystone");
    expect(script.renderBody()).toContain("'/etc/apache2/sites-available/it'\"'\"'s.conf'");
  });
});

describe("Nova on Ubuntu: eventlet's nova-api binds one address for each API", () => {
  test("osapi_compute_listen and metadata_listen are the controller's; sockets of ours take the VIP", () => {
    const body = ubuntu("controller1_nova");
    expect(iniSection(fileIn(body, "/etc/nova/nova.conf"), "DEFAULT")).toMatchObject({
      osapi_compute_listen: "10.211.0.11",
      metadata_listen: "10.211.0.11",
    });
    for (const name of ["nova-api", "nova-api-metadata", "nova-novncproxy"])
      expect(body).toContain(`/etc/systemd/system/${vipForwardUnit(name)}.socket`);
    // Debian's uwsgi binds both addresses itself.
    expect(
      iniSection(fileIn(debian("controller1_nova"), "/etc/nova/nova.conf"), "DEFAULT").osapi_compute_listen,
    ).toBe(undefined);
    expect(debian("controller1_nova")).not.toContain(`${vipForwardUnit("nova-api")}.socket`);
  });
});

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

  test("the VIP's units are the controllers' only", () => {
    for (const step of ["compute1_nova_compute", "network1_neutron_agents", "compute1_swift_storage"])
      expect(debian(step)).not.toContain("openstack-cdktf-vip-");
  });
});

describe("each step declares where its daemons listen (ShellScript.listen), as its files bind them", () => {
  const OWN: Record<string, string> = { controller1: "10.211.0.11", controller2: "10.211.0.12" };
  /** The addresses a step declares a TCP listener on at `port`, sorted. */
  const declaredAt = (step: Step, port: number): string[] =>
    step.listeners
      .filter((l) => l.port === port && l.protocol === "tcp")
      .map((l) => l.address)
      .sort();

  test.each([
    ["keystone", 5000, true],
    ["glance", 9292, true],
    ["nova", 8774, true],
    ["nova", 8775, true],
    ["nova", 6080, true],
    ["neutron", 9696, true],
    ["placement", 8778, true],
    ["cinder", 8776, true],
    ["swift", 8080, true],
    ["horizon", 80, true],
    ["mysql", 3306, true],
    ["rabbitmq", 5672, true],
    ["memcached", 11211, false],
  ])("%s: port %i on each controller's address (and the VIP: %s)", (service, port, vip) => {
    for (const steps of [debianSteps, ubuntuSteps]) {
      for (const host of ["controller1", "controller2"]) {
        const expected = [OWN[host], ...(vip ? [VIP] : [])].sort();
        expect(declaredAt(steps(`${host}_${service}`), port)).toEqual(expected);
      }
    }
    // No VIP (ha: single): the controller's own address only.
    expect(declaredAt(singleSteps(`controller1_${service}`), port)).toEqual(["10.211.0.11"]);
  });

  test("what holds each socket: the daemon on its own address, a socket of ours on the VIP", () => {
    const tcp = (daemon: string, address: string, port: number) => ({
      daemon,
      address,
      port,
      protocol: "tcp",
    });
    expect(debianSteps("controller2_glance").listeners).toEqual([
      tcp("glance-api", "10.211.0.12", 9292),
      tcp("openstack-cdktf-vip-glance-api.socket", VIP, 9292),
    ]);
    expect(debianSteps("controller1_rabbitmq").listeners).toEqual([
      tcp("rabbitmq-server", "10.211.0.11", 5672),
      tcp("rabbitmq-server", VIP, 5672),
      tcp("rabbitmq-server", "10.211.0.11", 25672),
      tcp("epmd.socket", "127.0.0.1", 4369),
      tcp("epmd.socket", "10.211.0.11", 4369),
    ]);
    expect(ubuntuSteps("controller1_keystone").listeners).toEqual([
      tcp("apache2", "10.211.0.11", 5000),
      tcp("apache2", VIP, 5000),
      tcp("apache2", "10.211.0.11", 80),
      tcp("apache2", VIP, 80),
    ]);
  });

  test("the other hosts' daemons: chrony where it serves time, Swift's storage, qemu's consoles, Ceph's monitor", () => {
    const declared = (step: Step) =>
      step.listeners.map((l) => `${l.daemon} ${l.address}:${l.port}/${l.protocol}`);
    expect(declared(debianSteps("controller1_base"))).toEqual(["chrony 10.211.0.11:123/udp"]);
    expect(declared(debianSteps("compute1_base"))).toEqual([]);
    expect(declared(debianSteps("compute1_swift_storage"))).toEqual([
      "rsync 10.211.0.21:873/tcp",
      "swift-account 10.211.0.21:6202/tcp",
      "swift-container 10.211.0.21:6201/tcp",
      "swift-object 10.211.0.21:6200/tcp",
    ]);
    expect(declared(debianSteps("compute1_nova_compute"))).toEqual(["qemu 10.211.0.21:5900/tcp"]);
    expect(declared(debianSteps("compute1_ceph_mon"))).toEqual([
      "ceph-mon@compute1 10.211.0.21:3300/tcp",
      "ceph-mon@compute1 10.211.0.21:6789/tcp",
    ]);
    expect(declared(debianSteps("controller1_swift"))).toContain(
      "openstack-cdktf-swift-rings.socket 10.211.0.11:6210/tcp",
    );
  });
});
