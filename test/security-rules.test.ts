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
import { IniFile, secretPlaceholder } from "../lib/core/ini-file";
import { DEBIAN_12_ZED } from "../lib/core/releases";
import { hostSecretFile, ShellScript } from "../lib/core/shell-script";
import { Step, StepTarget } from "../lib/core/step";
import { TerraformData } from "../lib/core/terraform-data";
import { HorizonDashboard } from "../lib/services/horizon";
import {
  findingsOf,
  formatFinding,
  isWildcardListen,
  LISTENERS,
  SECURITY_RULES,
  SecurityChecks,
  SecurityFinding,
  securityFindings,
  suppressSecurityRule,
} from "../lib/security";
import { standaloneControlPlane } from "./service-helpers";
import { buildStack, EXAMPLES, exampleInventory, tempDir } from "./support";

/** Stands for a secret's value in the constructs that break OSC-SEC1; never in a finding. */
const MADE_UP = "Made-Up-Value-42";

const TARGET: StepTarget = {
  hostName: "h1",
  connection: { type: "ssh", host: "192.0.2.10", user: "root", privateKey: '${file("~/.ssh/id_ed25519")}' },
};

function newStack(): TerraformStack {
  return new TerraformStack(Testing.app({ outdir: tempDir("security") }), "sec");
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
function realControlPlane(): TerraformStack {
  const { stack, context, keystone } = standaloneControlPlane(DEBIAN_12_ZED);
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

  it("finds nothing but suppressed listeners on a control plane built from the library's constructs", () => {
    const findings = securityFindings(real);
    expect(findings.filter((f) => !f.suppressed)).toEqual([]);
    expect(new Set(findings.map((f) => f.ruleId))).toEqual(new Set(["OSC-NET1"]));
  });
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
        .setIniKey("/etc/keystone/keystone-uwsgi.ini", "uwsgi", "processes", "2")
        .restartIfChanged(["glance-api", "keystone"]),
    );
    expect(messages(step, "OSC-NET1")).toEqual([
      "glance-api listens on 0.0.0.0: /etc/glance/glance-api.conf [DEFAULT] bind_host is not set",
      "/etc/keystone/keystone-uwsgi.ini [uwsgi] http-socket is not set: uwsgi listens where the package's file says (every address)",
    ]);
  });

  it("passes daemons bound to their host's address", () => {
    const step = ownStep((s) =>
      s
        .writeFile(
          "/etc/glance/glance-api.conf",
          new IniFile({ DEFAULT: { bind_host: "192.0.2.10" } }).render(),
        )
        .setIniKey("/etc/keystone/keystone-uwsgi.ini", "uwsgi", "http-socket", "192.0.2.10:5000")
        .restartIfChanged(["glance-api", "keystone"]),
    );
    expect(found(step, "OSC-NET1")).toEqual([]);
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
      ]),
    );
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
  it("is on every stack with a step, once", () => {
    const stack = newStack();
    ownStep((s) => s.raw("true"), stack, "one");
    ownStep((s) => s.raw("true"), stack, "two");
    expect(Aspects.of(stack).all.filter((a) => a instanceof SecurityChecks)).toHaveLength(1);
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
  it.each(EXAMPLES.map((f) => [path.basename(f), f]))(
    "%s has no unsuppressed finding; what is suppressed is issue 13's listeners",
    (_name, file) => {
      const findings = securityFindings(buildStack(exampleInventory(file)));
      expect(findings.filter((f) => !f.suppressed).map(formatFinding)).toEqual([]);
      for (const finding of findings) {
        expect(finding.ruleId).toBe("OSC-NET1");
        expect(finding.suppressed?.reason).toMatch(/^TODO issue 13 listeners: /);
      }
    },
  );
});
