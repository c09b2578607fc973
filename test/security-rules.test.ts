/**
 * The security checks (lib/security/): for every rule, a construct that breaks it and one that
 * does not; suppressions; the Aspect in synth; the reference examples. Values that stand for
 * secrets here are made up, and no finding may quote them.
 */
import * as fs from "fs";
import * as path from "path";
import { Construct, IConstruct } from "constructs";
import { App, Aspects, TerraformStack, TerraformVariable, Testing } from "cdktf";
import { ClusterSecrets } from "../lib/core/cluster-secrets";
import { declareSecrets } from "../lib/core/secret-catalog";
import { KEYSTONE_SECRETS } from "../lib/services/keystone";
import { IniFile, secretPlaceholder } from "../lib/core/ini-file";
import { parseInventory } from "../lib/cluster/inventory";
import { OpenStackStack } from "../lib/cluster/openstack-stack";
import { apacheListen, apachePortsConf, vipForward } from "../lib/core/listen";
import { DEBIAN_12_ZED, UBUNTU_2404_CARACAL } from "../lib/core/releases";
import { hostSecretFile, ShellScript } from "../lib/core/shell-script";
import { Step, StepTarget } from "../lib/core/step";
import { TerraformData } from "../lib/core/terraform-data";
import { Endpoint } from "../lib/core/endpoint";
import { epmdAddresses, epmdDropIn, rabbitmqEnv } from "../lib/platform/rabbitmq";
import { tgtDropIn } from "../lib/services/cinder";
import { uwsgiApi } from "../lib/services/control-plane-context";
import { HorizonDashboard } from "../lib/services/horizon";
import {
  findingsOf,
  formatFinding,
  isWildcardListen,
  LISTENERS,
  SECURITY_RULES,
  addSecurityChecks,
  SecurityChecks,
  SecurityFinding,
  securityFindings,
  suppressSecurityRule,
} from "../lib/security";
import { standaloneControlPlane } from "./service-helpers";
import { buildStack, EXAMPLES, LAB_SMALL_EXAMPLE, readYaml, tempDir } from "./support";

/** Stands for a secret's value in the constructs that break OSC-SEC1; never in a finding. */
const MADE_UP = "Made-Up-Value-42";

const TARGET: StepTarget = {
  hostName: "h1",
  connection: { type: "ssh", host: "192.0.2.10", user: "root", privateKey: '${file("~/.ssh/id_ed25519")}' },
};

/** A stack of one's own, with the security checks added as the README says. */
function newStack(): TerraformStack {
  const stack = new TerraformStack(Testing.app({ outdir: tempDir("security") }), "sec");
  addSecurityChecks(stack);
  return stack;
}

/** A step of one's own, as a platform team writes it with ShellScript. */
function ownStep(build: (script: ShellScript) => void, scope: Construct = newStack(), name = "own"): Step {
  const script = new ShellScript({ step: `h1_${name}`, host: "h1" });
  build(script);
  return new Step(scope, name, { target: TARGET, script });
}

/** A step that writes one file (root-owned 0640, secrets filled unless told otherwise). */
function fileStep(file: string, content: string, options: { mode?: string; group?: string } = {}): Step {
  return ownStep((s) =>
    s.writeFile(file, content, { mode: options.mode ?? "0640", group: options.group, secrets: true }),
  );
}

/** A rule's findings on a construct and everything under it. */
function found(scope: IConstruct, ruleId: string): SecurityFinding[] {
  return securityFindings(scope).filter((f) => f.ruleId === ruleId);
}

function messages(scope: IConstruct, ruleId: string): string[] {
  return found(scope, ruleId).map((f) => f.message);
}

/** Two controllers with the database, broker, cache, Keystone and Horizon from single constructs. */
function realControlPlane(release = DEBIAN_12_ZED): TerraformStack {
  const { stack, context, keystone } = standaloneControlPlane(release);
  new HorizonDashboard(stack, "horizon", { context, keystone, allowedHosts: ["10.9.0.100", "dashboard"] });
  return stack;
}
const real = realControlPlane();

describe("the rule pack", () => {
  it("has nine rules, each with a unique id, a name and a reason", () => {
    expect(SECURITY_RULES.map((r) => r.id)).toEqual([
      "OSC-NET1",
      "OSC-LOG1",
      "OSC-IAM1",
      "OSC-IAM2",
      "OSC-WEB1",
      "OSC-SEC1",
      "OSC-SEC2",
      "OSC-SEC3",
      "OSC-TLS1",
    ]);
    for (const rule of SECURITY_RULES) {
      expect(rule.name).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(rule.reason.length).toBeGreaterThan(40);
    }
  });

  it.each([DEBIAN_12_ZED, UBUNTU_2404_CARACAL])(
    "finds nothing on a control plane built from the library's constructs ($name)",
    (release) => {
      const stack = release === DEBIAN_12_ZED ? real : realControlPlane(release);
      expect(securityFindings(stack).map(formatFinding)).toEqual([]);
    },
  );
});

describe("OSC-NET1 WildcardBind", () => {
  it.each([
    "0.0.0.0",
    "::",
    "[::]:5000",
    ":5000",
    "*:80",
    "*",
    "5672",
    "",
    "10.0.0.1,0.0.0.0",
    "0.0.0.0:9292",
  ])("%j is every address", (value) => {
    expect(isWildcardListen(value)).toBe(true);
  });

  it.each([
    "10.0.0.1",
    "10.0.0.1:5000",
    "[fd00::1]:5000",
    "fd00::1",
    "/run/uwsgi/x.sock",
    "10.0.0.1,10.0.0.10",
  ])("%j is not", (value) => {
    expect(isWildcardListen(value)).toBe(false);
  });

  it("finds a listen address set to every address", () => {
    const conf = new IniFile({ DEFAULT: { bind_host: "0.0.0.0", bind_port: 9292 } });
    const step = fileStep("/etc/glance/glance-api.conf", conf.render());
    expect(found(step, "OSC-NET1")).toEqual([
      expect.objectContaining({
        ruleId: "OSC-NET1",
        path: "sec/own",
        message: "/etc/glance/glance-api.conf [DEFAULT] bind_host = 0.0.0.0: listens on every address",
      }),
    ]);
  });

  it("finds a daemon left to a default of every address, and a uwsgi API without its socket", () => {
    const step = ownStep((s) =>
      s
        .writeFile("/etc/glance/glance-api.conf", new IniFile({ DEFAULT: { workers: 2 } }).render())
        .setIniKey("/etc/myapi/api.ini", "uwsgi", "processes", "2")
        .restartIfChanged(["glance-api", "myapi"]),
    );
    expect(messages(step, "OSC-NET1")).toEqual([
      "glance-api listens on 0.0.0.0: /etc/glance/glance-api.conf [DEFAULT] bind_host is not set",
      "/etc/myapi/api.ini [uwsgi] http-socket is not set: uwsgi listens where the package's file says (every address)",
    ]);
  });

  it("passes daemons bound to their host's address, as the step declares", () => {
    const step = ownStep((s) =>
      s
        .writeFile(
          "/etc/glance/glance-api.conf",
          new IniFile({ DEFAULT: { bind_host: "192.0.2.10" } }).render(),
        )
        .setIniKey("/etc/myapi/api.ini", "uwsgi", "http-socket", "192.0.2.10:5000")
        .restartIfChanged(["glance-api", "myapi"])
        .listen("glance-api", "192.0.2.10", 9292)
        .listen("myapi", "192.0.2.10", 5000),
    );
    expect(found(step, "OSC-NET1")).toEqual([]);
  });

  it.each([
    ["0.0.0.0", "0.0.0.0:9292"],
    ["::", "[::]:9292"],
    ["*", "*:9292"],
    ["", ":9292"],
  ])("refuses a declared wildcard (%j), naming the step, the address and the port", (address, shown) => {
    const step = ownStep((s) => s.listen("glance-api", ["192.0.2.10", address], 9292));
    expect(messages(step, "OSC-NET1")).toEqual([
      `step h1_own declares glance-api on ${shown}/tcp: listens on every address`,
    ]);
  });

  it("finds a bind on an address the step does not declare, or in a step that declares none", () => {
    const conf = new IniFile({ DEFAULT: { bind_host: "192.0.2.99" } }).render();
    const other = ownStep((s) =>
      s
        .writeFile("/etc/glance/glance-api.conf", conf)
        .listen("glance-api", ["192.0.2.10", "192.0.2.100"], 9292),
    );
    expect(messages(other, "OSC-NET1")).toEqual([
      "/etc/glance/glance-api.conf [DEFAULT] bind_host = 192.0.2.99: binds 192.0.2.99: expected an address step h1_own declares (192.0.2.10, 192.0.2.100)",
    ]);
    const none = ownStep((s) => s.setIniKey("/etc/x/x.conf", "DEFAULT", "bind_host", "192.0.2.10"));
    expect(messages(none, "OSC-NET1")).toEqual([
      "/etc/x/x.conf [DEFAULT] bind_host = 192.0.2.10: binds 192.0.2.10: expected an address step h1_own declares (it declares none: ShellScript.listen)",
    ]);
    // Inside a command line too; an IPv6 address is the same however it is written.
    const args = ownStep((s) =>
      s
        .writeFile(
          "/etc/default/x-api",
          'DAEMON_ARGS="--http-socket [FD00:0::10]:5000 --http-socket 192.0.2.99:5000"\n',
        )
        .listen("x-api", "fd00::10", 5000),
    );
    expect(messages(args, "OSC-NET1")).toEqual([
      "/etc/default/x-api DAEMON_ARGS: --http-socket 192.0.2.99:5000: binds 192.0.2.99: expected an address step h1_own declares (fd00::10)",
    ]);
  });

  it("passes the library's memcached, RabbitMQ and MariaDB (each on its host's address and the VIP)", () => {
    const platform = /^own\/(mc|mq|db)\//;
    expect(real.node.findAll().filter((n) => platform.test(n.node.path)).length).toBeGreaterThan(3);
    expect(found(real, "OSC-NET1").filter((f) => platform.test(f.path))).toEqual([]);
  });

  it("knows the listeners of the daemons the library runs", () => {
    expect(LISTENERS.map((l) => l.unit)).toEqual(
      expect.arrayContaining([
        "glance-api",
        "neutron-server",
        "swift-proxy",
        "memcached",
        "apache2",
        "chrony",
        "epmd.socket",
        "rabbitmq-server",
        "tgt",
      ]),
    );
  });
});

/**
 * The forms in which the library's listeners name their addresses, each read by OSC-NET1: a
 * construct that breaks the rule in that form, and the library's own, which does not.
 */
describe("OSC-NET1 reads each form a listener's address takes", () => {
  const HOST = "192.0.2.10";
  const VIP = "192.0.2.100";
  const KEYSTONE_INI = "/etc/keystone/keystone-uwsgi.ini";

  describe("Debian's uwsgi APIs: /etc/default/UNIT's DAEMON_ARGS, in place of the init script's", () => {
    /** Keystone's uwsgi ini tuned, its unit restarted, and /etc/default/keystone as given. */
    function keystone(defaults?: string, ini: Record<string, string> = {}): Step {
      return ownStep((s) => {
        s.setIniKey(KEYSTONE_INI, "uwsgi", "processes", "2");
        for (const [key, value] of Object.entries(ini)) s.setIniKey(KEYSTONE_INI, "uwsgi", key, value);
        if (defaults !== undefined) s.writeFile("/etc/default/keystone", defaults);
        s.restartIfChanged(["keystone"]).listen("keystone", HOST, 5000);
      });
    }

    it.each([
      [
        "no /etc/default/keystone",
        undefined,
        "keystone listens on every address: /etc/default/keystone DAEMON_ARGS is not set, so /etc/init.d/keystone runs uwsgi with --http-socket :PORT (every address)",
      ],
      [
        "a socket on every address",
        'DAEMON_ARGS="--http-socket :${UWSGI_PORT} --ini ${UWSGI_INI_PATH}"\n',
        "/etc/default/keystone DAEMON_ARGS: --http-socket :${UWSGI_PORT}: listens on every address",
      ],
      [
        "one of two sockets on 0.0.0.0",
        `DAEMON_ARGS="--http-socket ${HOST}:5000 --http-socket=0.0.0.0:5000"\n`,
        "/etc/default/keystone DAEMON_ARGS: --http-socket 0.0.0.0:5000: listens on every address",
      ],
      [
        "the init script's arguments kept",
        `DAEMON_ARGS="$DAEMON_ARGS --http-socket ${HOST}:5000"\n`,
        "keystone listens on every address: /etc/default/keystone DAEMON_ARGS keeps the init script's, so /etc/init.d/keystone runs uwsgi with --http-socket :PORT (every address)",
      ],
    ])("finds %s", (_what, defaults, message) => {
      expect(messages(keystone(defaults), "OSC-NET1")).toEqual([message]);
    });

    it("finds a socket in the ini alone: the init script's own socket stays beside it", () => {
      expect(messages(keystone(undefined, { "http-socket": `${HOST}:5000` }), "OSC-NET1")).toEqual([
        expect.stringMatching(
          /^keystone listens on every address: \/etc\/default\/keystone DAEMON_ARGS is not set/,
        ),
      ]);
    });

    it("passes uwsgiApi's sockets on the host's address and the VIP (IPv6 too), and ones in the ini", () => {
      for (const addresses of [[HOST, VIP], ["fd00::10"]]) {
        const step = ownStep((s) => {
          uwsgiApi(s, KEYSTONE_INI, 2, "keystone", addresses, 5000);
          s.restartIfChanged(["keystone"]);
        });
        expect(step.files.map((f) => f.path)).toContain("/etc/default/keystone");
        expect(found(step, "OSC-NET1")).toEqual([]);
      }
      const ini = keystone('DAEMON_ARGS="--ini ${UWSGI_INI_PATH}"\n', { "http-socket": `${HOST}:5000` });
      expect(found(ini, "OSC-NET1")).toEqual([]);
    });
  });

  describe("systemd sockets: ListenStream=", () => {
    const SOCKET = "/etc/systemd/system/x-vip.socket";

    it.each(["9292", "[::]:9292", "0.0.0.0:9292"])("finds ListenStream=%s", (listen) => {
      const step = ownStep((s) => s.writeFile(SOCKET, `[Socket]\nListenStream=${listen}\nFreeBind=true\n`));
      expect(messages(step, "OSC-NET1")).toEqual([
        `${SOCKET} [Socket] ListenStream = ${listen}: listens on every address`,
      ]);
    });

    it("passes vipForward's socket on the VIP (an empty ListenStream= names no address)", () => {
      const step = ownStep((s) => vipForward(s, { name: "glance-api", vip: VIP, port: 9292, target: HOST }));
      expect(step.files.map((f) => f.path)).toContain(
        "/etc/systemd/system/openstack-cdktf-vip-glance-api.socket",
      );
      expect(found(step, "OSC-NET1")).toEqual([]);
      const reset = ownStep((s) =>
        s
          .writeFile(SOCKET, `[Socket]\nListenStream=\nListenStream=${VIP}:9292\n`)
          .listen("x-vip.socket", VIP, 9292),
      );
      expect(found(reset, "OSC-NET1")).toEqual([]);
    });
  });

  describe("RabbitMQ: epmd's socket drop-in, Erlang's distribution", () => {
    const DROP_IN = "/etc/systemd/system/epmd.socket.d/openstack-cdktf.conf";
    const ENV = "/etc/rabbitmq/rabbitmq-env.conf";

    /** A broker on the host's address, with these files beside its rabbitmq.conf, declared as RabbitMq does. */
    function broker(files: Record<string, string>, address = HOST): Step {
      return ownStep((s) => {
        s.writeFile(
          "/etc/rabbitmq/rabbitmq.conf",
          `listeners.tcp.1 = ${Endpoint.of(address).hostPort(5672)}\n`,
        );
        for (const [file, content] of Object.entries(files)) s.writeFile(file, content);
        s.restartIfChanged(["epmd.socket", "rabbitmq-server"])
          .listen("rabbitmq-server", address, 5672)
          .listen("rabbitmq-server", address, 25672)
          .listen("epmd.socket", epmdAddresses(address), 4369);
      });
    }
    const env = rabbitmqEnv(HOST);
    const dropIn = epmdDropIn(HOST);

    it("finds epmd left on erlang-base's every address, or added to without emptying it first", () => {
      expect(messages(broker({ [ENV]: env }), "OSC-NET1")).toEqual([
        "epmd.socket listens on every address (erlang-base's ListenStream=[::]:4369): /etc/systemd/system/epmd.socket.d/*.conf [Socket] ListenStream is not set",
        "rabbitmq-server listens on every address with its epmd (erlang-base's epmd.socket: ListenStream=[::]:4369): /etc/systemd/system/epmd.socket.d/*.conf [Socket] ListenStream is not set",
      ]);
      const added = broker({ [ENV]: env, [DROP_IN]: `[Socket]\nListenStream=${HOST}:4369\n` });
      expect(messages(added, "OSC-NET1")).toEqual([
        expect.stringContaining("epmd.socket listens on every address"),
        expect.stringContaining("rabbitmq-server listens on every address with its epmd"),
      ]);
      expect(messages(added, "OSC-NET1")[0]).toMatch(
        /ListenStream adds to the package's list without emptying it first \(ListenStream=\)$/,
      );
      const wildcard = broker({ [ENV]: env, [DROP_IN]: "[Socket]\nListenStream=\nListenStream=[::]:4369\n" });
      expect(messages(wildcard, "OSC-NET1")).toEqual([
        `${DROP_IN} [Socket] ListenStream = [::]:4369: listens on every address`,
      ]);
    });

    it("finds Erlang's distribution on every address, and a self-started epmd's too", () => {
      expect(messages(broker({ [DROP_IN]: dropIn }), "OSC-NET1")).toEqual([
        "rabbitmq-server listens on every address (Erlang's distribution, :25672): /etc/rabbitmq/rabbitmq-env.conf SERVER_ADDITIONAL_ERL_ARGS is not set",
      ]);
      const noInterface = broker({ [DROP_IN]: dropIn, [ENV]: 'SERVER_ADDITIONAL_ERL_ARGS="+K true"\n' });
      expect(messages(noInterface, "OSC-NET1")).toEqual([
        "rabbitmq-server listens on every address (Erlang's distribution, :25672): /etc/rabbitmq/rabbitmq-env.conf SERVER_ADDITIONAL_ERL_ARGS has no -kernel inet_dist_use_interface",
      ]);
      const zeros = broker({
        [DROP_IN]: dropIn,
        [ENV]:
          'SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {0,0,0,0}"\nERL_EPMD_ADDRESS=0.0.0.0\n',
      });
      expect(messages(zeros, "OSC-NET1")).toEqual([
        `${ENV} SERVER_ADDITIONAL_ERL_ARGS: inet_dist_use_interface {0,0,0,0}: listens on every address`,
        `${ENV} ERL_EPMD_ADDRESS = 0.0.0.0: listens on every address`,
      ]);
    });

    it("passes the library's drop-in and rabbitmq-env.conf (IPv6 too)", () => {
      expect(found(broker({ [ENV]: env, [DROP_IN]: dropIn }), "OSC-NET1")).toEqual([]);
      const v6 = broker({ [ENV]: rabbitmqEnv("fd00::10"), [DROP_IN]: epmdDropIn("fd00::10") }, "fd00::10");
      expect(found(v6, "OSC-NET1")).toEqual([]);
    });
  });

  describe("chrony: bindaddress where it serves time", () => {
    const CHRONY = "/etc/chrony/chrony.conf";
    const chrony = (lines: string): Step =>
      ownStep((s) =>
        s
          .writeFile(CHRONY, `server 192.0.2.1 iburst\n${lines}`)
          .restartIfChanged(["chrony"])
          .listen("chrony", HOST, 123, "udp"),
      );

    it("finds a time server without bindaddress, or bound to every address", () => {
      expect(messages(chrony("allow 192.0.2.0/24\n"), "OSC-NET1")).toEqual([
        `chrony listens on every address: ${CHRONY} bindaddress is not set`,
      ]);
      expect(messages(chrony("allow 192.0.2.0/24\nbindaddress 0.0.0.0\n"), "OSC-NET1")).toEqual([
        `${CHRONY} bindaddress = 0.0.0.0: listens on every address`,
      ]);
    });

    it("passes one bound to its address, and a client (no allow: it serves no time)", () => {
      expect(found(chrony(`allow 192.0.2.0/24\nbindaddress ${HOST}\n`), "OSC-NET1")).toEqual([]);
      expect(found(chrony(""), "OSC-NET1")).toEqual([]);
    });
  });

  describe("Apache: Listen in ports.conf and in a package's site", () => {
    const SITE = "/etc/apache2/sites-available/keystone.conf";
    const MATCH = { ere: "^Listen 5000$", perl: "^Listen 5000$" };

    it("finds Apache on the package's ports.conf, a Listen of a port alone, and a site's Listen *:PORT", () => {
      const restart = ownStep((s) => s.restartIfChanged(["apache2"]));
      expect(messages(restart, "OSC-NET1")).toEqual([
        "apache2 listens on every address (the package's Listen 80): /etc/apache2/ports.conf Listen is not set",
      ]);
      const ports = ownStep((s) =>
        s
          .writeFile(
            "/etc/apache2/ports.conf",
            `Listen ${HOST}:80\n<IfModule ssl_module>\n\tListen 443\n</IfModule>\n`,
          )
          .listen("apache2", HOST, 80),
      );
      expect(messages(ports, "OSC-NET1")).toEqual([
        "/etc/apache2/ports.conf Listen = 443: listens on every address",
      ]);
      const site = ownStep((s) =>
        s
          .replaceLines(SITE, MATCH, [`Listen ${HOST}:5000`, "Listen *:5000"], { missing: "no Listen 5000" })
          .listen("apache2", HOST, 5000),
      );
      expect(messages(site, "OSC-NET1")).toEqual([`${SITE} Listen = *:5000: listens on every address`]);
    });

    it("passes apachePortsConf and apacheListen on the host's address and the VIP", () => {
      const step = ownStep((s) => {
        s.writeFile("/etc/apache2/ports.conf", apachePortsConf([HOST, VIP]));
        apacheListen(s, SITE, 5000, [HOST, VIP], "keystone");
        s.restartIfChanged(["apache2"]);
      });
      expect(step.lineEdits.map((e) => e.lines)).toEqual([[`Listen ${HOST}:5000`, `Listen ${VIP}:5000`]]);
      expect(found(step, "OSC-NET1")).toEqual([]);
    });
  });

  describe("tgtd: its iSCSI portal in a drop-in's ExecStart", () => {
    const DROP_IN = "/etc/systemd/system/tgt.service.d/openstack-cdktf.conf";
    const tgt = (dropIn?: string): Step =>
      ownStep((s) => {
        if (dropIn !== undefined) s.writeFile(DROP_IN, dropIn);
        s.restartIfChanged(["tgt"]).listen("tgt", HOST, 3260);
      });

    it("finds tgtd without a portal (every address), or with one on every address", () => {
      expect(messages(tgt(), "OSC-NET1")).toEqual([
        "tgt listens on every address (tgtd -f: its iSCSI portal, :3260): /etc/systemd/system/tgt.service.d/*.conf [Service] ExecStart is not set",
      ]);
      expect(messages(tgt("[Service]\nLimitNOFILE=4096\n"), "OSC-NET1")).toEqual([
        expect.stringMatching(/ExecStart is not set$/),
      ]);
      expect(
        messages(
          tgt("[Service]\nExecStart=\nExecStart=/usr/sbin/tgtd -f --iscsi portal=0.0.0.0:3260\n"),
          "OSC-NET1",
        ),
      ).toEqual([`${DROP_IN} [Service] ExecStart: --iscsi portal=0.0.0.0:3260: listens on every address`]);
    });

    it("passes tgtDropIn's portal on the host's address", () => {
      expect(found(tgt(tgtDropIn(HOST)), "OSC-NET1")).toEqual([]);
    });
  });
});

describe("OSC-LOG1 DebugMode", () => {
  it("finds debug on in an oslo.config file and in Django's settings", () => {
    const conf = fileStep("/etc/nova/nova.conf", new IniFile({ DEFAULT: { debug: true } }).render());
    expect(found(conf, "OSC-LOG1")).toEqual([
      expect.objectContaining({
        path: "sec/own",
        message: "/etc/nova/nova.conf [DEFAULT] debug = true: debug is on",
      }),
    ]);
    const django = fileStep("/etc/openstack-dashboard/local_settings.py", "DEBUG = True\n");
    expect(messages(django, "OSC-LOG1")).toEqual([
      "/etc/openstack-dashboard/local_settings.py DEBUG = True: debug is on",
    ]);
  });

  it("passes debug off, and the library's services", () => {
    const conf = fileStep("/etc/nova/nova.conf", new IniFile({ DEFAULT: { debug: false } }).render());
    expect(found(conf, "OSC-LOG1")).toEqual([]);
    expect(found(real, "OSC-LOG1")).toEqual([]);
  });
});

describe("OSC-IAM1 AdminToken", () => {
  it("finds Keystone's admin token and its middleware", () => {
    const conf = new IniFile({ DEFAULT: { admin_token: secretPlaceholder("keystone_admin_password") } });
    expect(messages(fileStep("/etc/keystone/keystone.conf", conf.render()), "OSC-IAM1")).toEqual([
      "/etc/keystone/keystone.conf [DEFAULT] admin_token is set: an admin token",
    ]);
    const paste = new IniFile({ "pipeline:api_v3": { pipeline: "cors admin_token_auth service_v3" } });
    expect(messages(fileStep("/etc/keystone/keystone-paste.ini", paste.render()), "OSC-IAM1")).toEqual([
      "/etc/keystone/keystone-paste.ini [pipeline:api_v3] pipeline has admin_token_auth: the admin token's middleware",
    ]);
  });

  it("passes KeystoneService, which bootstraps the admin with a password", () => {
    const keystoneSteps = real.node.findAll().filter((n) => n.node.path.startsWith("own/keystone/"));
    expect(keystoneSteps.length).toBeGreaterThan(0);
    expect(found(real, "OSC-IAM1")).toEqual([]);
  });
});

describe("OSC-IAM2 DefaultAccounts", () => {
  it("finds RabbitMQ's guest allowed from other hosts and MariaDB without grants", () => {
    const broker = fileStep(
      "/etc/rabbitmq/rabbitmq.conf",
      "listeners.tcp.1 = 192.0.2.10:5672\nloopback_users.guest = false\n",
    );
    expect(messages(broker, "OSC-IAM2")).toEqual([
      "/etc/rabbitmq/rabbitmq.conf loopback_users.guest = false: RabbitMQ's guest may log in from other hosts",
    ]);
    const db = fileStep(
      "/etc/mysql/mariadb.conf.d/99-x.cnf",
      new IniFile({ mysqld: { "skip-grant-tables": "on" } }).render(),
    );
    expect(messages(db, "OSC-IAM2")).toEqual([
      "/etc/mysql/mariadb.conf.d/99-x.cnf [mysqld] skip-grant-tables: MariaDB without authentication",
    ]);
  });

  it("passes the library's RabbitMq (guest on loopback only, then deleted) and MysqlHaPair", () => {
    const steps = real.node.findAll().filter((n) => /^own\/(mq|db)\//.test(n.node.path));
    expect(steps.length).toBeGreaterThan(0);
    expect(found(real, "OSC-IAM2")).toEqual([]);
  });
});

describe("OSC-WEB1 AllowedHostsWildcard", () => {
  it("finds * in a dashboard's ALLOWED_HOSTS of one's own", () => {
    const step = fileStep("/etc/openstack-dashboard/local_settings.py", 'ALLOWED_HOSTS = ["horizon", "*"]\n');
    expect(messages(step, "OSC-WEB1")).toEqual([
      '/etc/openstack-dashboard/local_settings.py ALLOWED_HOSTS = ["horizon", "*"]: any Host header is accepted',
    ]);
  });

  it("passes HorizonDashboard, which names its hosts (and refuses *)", () => {
    expect(found(real, "OSC-WEB1")).toEqual([]);
    const { stack, context, keystone } = standaloneControlPlane(DEBIAN_12_ZED);
    expect(() => new HorizonDashboard(stack, "h", { context, keystone, allowedHosts: ["*"] })).toThrow(
      /no wildcards/,
    );
  });
});

describe("OSC-SEC1 SecretNotPlaceholder", () => {
  it("finds a secret written as a value: a key, a URL, SQL, a command line", () => {
    const conf = new IniFile({
      keystone_authtoken: { password: MADE_UP },
      database: { connection: `mysql+pymysql://glance:${MADE_UP}@10.0.0.10/glance` },
    });
    const step = ownStep((s) =>
      s
        .writeFile("/etc/glance/glance-api.conf", conf.render(), {
          group: "glance",
          mode: "0640",
          secrets: true,
        })
        .writeFile("/root/user.sql", `CREATE USER 'x'@'10.0.0.%' IDENTIFIED BY '${MADE_UP}';\n`, {
          mode: "0600",
        })
        .run("openstack", "user", "create", "--password", MADE_UP, "x"),
    );
    const findings = found(step, "OSC-SEC1");
    expect(findings.map((f) => f.message)).toEqual([
      "/etc/glance/glance-api.conf [keystone_authtoken] password: the value is not a {{secret:NAME}} placeholder",
      "/etc/glance/glance-api.conf: a URL's password is not a placeholder",
      "/root/user.sql: a password in SQL is not a placeholder",
      "a command has a password that is neither a placeholder nor read from the secrets directory",
    ]);
    expect(findings.map(formatFinding).join("\n")).not.toContain(MADE_UP);
    const sql = ownStep((s) => s.raw(`mysql -e "CREATE USER 'x'@'%' IDENTIFIED BY '${MADE_UP}'"`));
    expect(messages(sql, "OSC-SEC1")).toEqual([
      "a command has a password that is neither a placeholder nor read from the secrets directory",
    ]);
  });

  it("finds a password in a Terraform resource's connection", () => {
    const stack = newStack();
    new TerraformData(stack, "d", {
      triggersReplace: {},
      connection: { type: "ssh", host: "192.0.2.10", password: MADE_UP },
    });
    expect(messages(stack, "OSC-SEC1")).toEqual([
      "connection.password: a secret written into the Terraform JSON: expected a variable or file()",
    ]);
  });

  it("passes placeholders, secrets read from their files, and the library's services", () => {
    const conf = new IniFile({
      keystone_authtoken: { password: secretPlaceholder("glance_keystone_password") },
      database: {
        connection: `mysql+pymysql://glance:${secretPlaceholder("glance_db_password")}@10.0.0.10/glance`,
      },
    });
    const step = ownStep((s) =>
      s
        .writeFile("/etc/glance/glance-api.conf", conf.render(), {
          group: "glance",
          mode: "0640",
          secrets: true,
        })
        .raw(`OS_PASSWORD=$(cat ${hostSecretFile("keystone_admin_password")}) openstack token issue`),
    );
    expect(found(step, "OSC-SEC1")).toEqual([]);
    expect(found(real, "OSC-SEC1")).toEqual([]);
  });
});

describe("OSC-SEC2 SecretFileReadable", () => {
  const conf = new IniFile({
    database: { connection: `mysql+pymysql://k:${secretPlaceholder("keystone_db_password")}@db/k` },
  });

  it("finds a file with secrets that others, or a group of users, may read", () => {
    const world = fileStep("/etc/keystone/keystone.conf", conf.render(), { mode: "0644", group: "keystone" });
    expect(found(world, "OSC-SEC2")).toEqual([
      expect.objectContaining({
        path: "sec/own",
        message: "/etc/keystone/keystone.conf (root:keystone 0644) holds secrets: others may read it",
      }),
    ]);
    const users = fileStep("/etc/keystone/keystone.conf", conf.render(), { mode: "0640", group: "users" });
    expect(messages(users, "OSC-SEC2")).toEqual([
      "/etc/keystone/keystone.conf (root:users 0640) holds secrets: group users is no service's own",
    ]);
  });

  it("passes a file readable by root and the service's group, and the library's files", () => {
    const step = fileStep("/etc/keystone/keystone.conf", conf.render(), { mode: "0640", group: "keystone" });
    expect(found(step, "OSC-SEC2")).toEqual([]);
    expect(found(real, "OSC-SEC2")).toEqual([]);
  });
});

describe("OSC-SEC3 SecretVariable", () => {
  it("finds a secret's variable that is not sensitive, or has a default", () => {
    const stack = newStack();
    new TerraformVariable(stack, "secret_x", { type: "string" });
    new TerraformVariable(stack, "db_password", { type: "string", sensitive: true, default: MADE_UP });
    const findings = found(stack, "OSC-SEC3");
    expect(findings.map((f) => `${f.path}: ${f.message}`)).toEqual([
      "sec/secret_x: variable secret_x is not sensitive",
      "sec/db_password: variable db_password has a default: a value in the Terraform JSON",
    ]);
    expect(findings.map(formatFinding).join("\n")).not.toContain(MADE_UP);
  });

  it("passes the variables ClusterSecrets declares, and a variable that is no secret", () => {
    const stack = newStack();
    declareSecrets(stack, KEYSTONE_SECRETS);
    ClusterSecrets.of(stack).expression("keystone_db_password");
    new TerraformVariable(stack, "region", { type: "string", default: "RegionOne" });
    expect(stack.node.findAll().filter((n) => n instanceof TerraformVariable)).toHaveLength(2);
    expect(found(stack, "OSC-SEC3")).toEqual([]);
    expect(found(real, "OSC-SEC3")).toEqual([]);
  });
});

describe("OSC-TLS1 TlsVerifyDisabled", () => {
  it("finds certificate checks turned off in a config file and on a command line", () => {
    const conf = new IniFile({ keystone_authtoken: { insecure: true } });
    const step = ownStep((s) =>
      s.writeFile("/etc/nova/nova.conf", conf.render()).run("curl", "-fsSk", "https://10.0.0.10:5000/v3"),
    );
    expect(messages(step, "OSC-TLS1")).toEqual([
      "/etc/nova/nova.conf [keystone_authtoken] insecure = true: certificates are not checked",
      "a command skips certificate checks (curl -k)",
    ]);
  });

  it("passes checks left on, and the library's services", () => {
    const conf = new IniFile({ keystone_authtoken: { insecure: false } });
    const step = ownStep((s) =>
      s.writeFile("/etc/nova/nova.conf", conf.render()).run("curl", "-fsS", "https://10.0.0.10:5000/v3"),
    );
    expect(found(step, "OSC-TLS1")).toEqual([]);
    expect(found(real, "OSC-TLS1")).toEqual([]);
  });
});

describe("suppressions", () => {
  const REASON = "a lab host whose nova logs debug on purpose (issue 99)";

  function debugStep(scope: Construct = newStack()): Step {
    return ownStep(
      (s) => s.writeFile("/etc/nova/nova.conf", new IniFile({ DEFAULT: { debug: true } }).render()),
      scope,
    );
  }

  it("lists a suppressed finding with its reason, and synth succeeds", () => {
    const stack = newStack();
    const step = debugStep(stack);
    suppressSecurityRule(step, "OSC-LOG1", REASON);
    const [finding] = found(stack, "OSC-LOG1");
    expect(finding.suppressed).toEqual({ ruleId: "OSC-LOG1", reason: REASON, path: "sec/own" });
    expect(formatFinding(finding)).toBe(
      `OSC-LOG1 DebugMode at sec/own: /etc/nova/nova.conf [DEFAULT] debug = true: debug is on (suppressed: ${REASON})`,
    );
    expect(() => Testing.synth(stack, true)).not.toThrow();
  });

  it("covers the construct's children, and only the rule it names", () => {
    const stack = newStack();
    const group = new Construct(stack, "lab");
    ownStep(
      (s) =>
        s.writeFile(
          "/etc/nova/nova.conf",
          new IniFile({ DEFAULT: { debug: true }, keystone_authtoken: { insecure: true } }).render(),
        ),
      group,
    );
    suppressSecurityRule(group, "OSC-LOG1", REASON);
    const [debug] = found(stack, "OSC-LOG1");
    expect(debug.suppressed?.path).toBe("sec/lab");
    expect(formatFinding(debug)).toContain(`(suppressed at sec/lab: ${REASON})`);
    expect(found(stack, "OSC-TLS1")[0].suppressed).toBeUndefined();
  });

  it.each([
    ["no reason", "OSC-LOG1", "", /expected a justification of at least 20 characters/],
    ["blanks", "OSC-LOG1", "      ", /expected a justification/],
    ["a word", "OSC-LOG1", "TODO", /got reason "TODO"/],
    ["an unknown rule", "OSC-NOPE", REASON, /got rule "OSC-NOPE": expected one of OSC-NET1, /],
  ])("refuses %s", (_what, ruleId, reason, error) => {
    const step = debugStep();
    expect(() => suppressSecurityRule(step, ruleId, reason)).toThrow(error);
    expect(findingsOf(step).every((f) => !f.suppressed)).toBe(true);
  });

  it("refuses a second suppression of the same rule on the same construct", () => {
    const step = debugStep();
    suppressSecurityRule(step, "OSC-LOG1", REASON);
    expect(() => suppressSecurityRule(step, "OSC-LOG1", REASON)).toThrow(
      /OSC-LOG1 is already suppressed here/,
    );
  });
});

describe("the Aspect in synth", () => {
  const checksOn = (stack: TerraformStack) =>
    Aspects.of(stack).all.filter((a) => a instanceof SecurityChecks);

  it("is on an OpenStackStack once, added by the stack, not by its steps", () => {
    const stack = buildStack(parseInventory(readYaml(LAB_SMALL_EXAMPLE), LAB_SMALL_EXAMPLE));
    expect(checksOn(stack)).toHaveLength(1);
    expect(addSecurityChecks(stack)).toBe(checksOn(stack)[0]);
    expect(checksOn(stack)).toHaveLength(1);
    const plain = new TerraformStack(Testing.app({ outdir: tempDir("security") }), "plain");
    ownStep((s) => s.raw("true"), plain, "one");
    expect(checksOn(plain)).toHaveLength(0);
  });

  it("an OpenStackStack may leave them out (securityChecks: false)", () => {
    const inventory = parseInventory(readYaml(LAB_SMALL_EXAMPLE), LAB_SMALL_EXAMPLE);
    const stack = new OpenStackStack(Testing.app({ outdir: tempDir("security") }), {
      inventory,
      securityChecks: false,
    });
    expect(checksOn(stack)).toHaveLength(0);
  });

  it("runs each rule once per construct over two synths", () => {
    const stack = newStack();
    ownStep((s) => s.raw("true"), stack, "one");
    let calls = 0;
    const counting = {
      id: "OSC-X1",
      name: "Counting",
      reason: "counts its checks",
      check: () => (calls++, []),
    };
    const checks = new SecurityChecks([counting]);
    Aspects.of(stack).add(checks);
    Testing.synth(stack, true);
    const once = calls;
    Testing.synth(stack, true);
    expect(once).toBeGreaterThan(0);
    expect(calls).toBe(once);
  });

  it("fails a synth with validations on an unsuppressed finding, naming the rule and the construct", () => {
    const stack = newStack();
    ownStep(
      (s) => s.writeFile("/etc/nova/nova.conf", new IniFile({ DEFAULT: { debug: true } }).render()),
      stack,
    );
    expect(() => Testing.synth(stack, true)).toThrow(
      /\[sec\/own\] OSC-LOG1 DebugMode: \/etc\/nova\/nova.conf \[DEFAULT\] debug = true: debug is on/,
    );
  });

  it("fails app.synth() before it writes the stack's JSON or scripts", () => {
    const outdir = tempDir("security-app");
    const app = new App({ outdir, stackTraces: false });
    const stack = new TerraformStack(app, "sec");
    addSecurityChecks(stack);
    ownStep(
      (s) => s.writeFile("/etc/nova/nova.conf", new IniFile({ DEFAULT: { debug: true } }).render()),
      stack,
    );
    expect(() => app.synth()).toThrow(/OSC-LOG1 DebugMode/);
    expect(fs.existsSync(path.join(outdir, "stacks", "sec", "cdk.tf.json"))).toBe(false);
    expect(fs.existsSync(path.join(outdir, "stacks", "sec", "scripts"))).toBe(false);
  });

  it("lets the same stack synthesize once the finding is suppressed", () => {
    const stack = newStack();
    const step = ownStep(
      (s) => s.writeFile("/etc/nova/nova.conf", new IniFile({ DEFAULT: { debug: true } }).render()),
      stack,
    );
    expect(() => Testing.synth(stack, true)).toThrow(/OSC-LOG1/);
    suppressSecurityRule(step, "OSC-LOG1", "debug logs wanted while issue 99 is open");
    expect(() => Testing.synth(stack, true)).not.toThrow();
  });
});

describe("the reference examples", () => {
  const releases = ["debian-12-zed", "ubuntu-2404-caracal"];
  it.each(EXAMPLES.flatMap((f) => releases.map((release) => [path.basename(f), release, f])))(
    "%s (%s) has no finding, and nothing suppressed",
    (_name, release, file) => {
      const data = { ...readYaml(file), release };
      const findings = securityFindings(buildStack(parseInventory(data, file, path.dirname(file))));
      expect(findings.map(formatFinding)).toEqual([]);
    },
  );

  it("lab-small with ha: single (no VIP) has no finding", () => {
    const data = readYaml(LAB_SMALL_EXAMPLE) as {
      ha: string;
      networks: { management: Record<string, unknown> };
      hosts: { name: string }[];
    };
    data.ha = "single";
    delete data.networks.management.vip;
    delete data.networks.management.vipName;
    data.hosts = data.hosts.filter((h) => h.name !== "controller2");
    const stack = buildStack(parseInventory(data, LAB_SMALL_EXAMPLE, path.dirname(LAB_SMALL_EXAMPLE)));
    expect(stack.cluster.hosts.map((h) => h.hostName)).not.toContain("controller2");
    expect(securityFindings(stack).map(formatFinding)).toEqual([]);
  });
});
