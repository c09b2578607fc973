import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEBIAN_12_ZED, UBUNTU_2404_CARACAL } from "../lib/core/releases";
import { HorizonDashboard } from "../lib/services/horizon";
import {
  dependsOn,
  fileIn,
  iniSection,
  installLine,
  labSmall,
  plainSecrets,
  pythonGlobals,
  standaloneControlPlane,
  stepScript,
} from "./service-helpers";

const { cluster, json } = labSmall();
const script = (id: string) => stepScript(cluster, id);
const SETTINGS = "/etc/openstack-dashboard/local_settings.py";
const LAST_SNIPPET = "/etc/openstack-dashboard/local_settings.d/_9999_openstack_cdktf.py";

describe("CinderService (controller part) in the small lab layout", () => {
  const conf1 = fileIn(script("controller1_cinder"), "/etc/cinder/cinder.conf");
  const conf2 = fileIn(script("controller2_cinder"), "/etc/cinder/cinder.conf");

  it("runs on both controllers, after its database and Keystone records", () => {
    expect(cluster.steps.map((s) => s.logicalId).filter((id) => /cinder/.test(id))).toEqual([
      "controller1_db_cinder",
      "controller1_keystone_cinderv3",
      "controller1_cinder",
      "controller2_cinder",
      "compute1_cinder_volume",
    ]);
    expect(dependsOn(json, "controller1_cinder")).toEqual(
      expect.arrayContaining(["controller1_db_cinder", "controller1_keystone_cinderv3"]),
    );
    // The second controller starts after the first has created the schema.
    expect(dependsOn(json, "controller2_cinder")).toContain("controller1_cinder");
  });

  it("registers cinderv3 as volumev3 (not compute) with the project in the URL", () => {
    const spec = JSON.parse(
      fileIn(script("controller1_keystone_cinderv3"), "/etc/openstack-cdktf/keystone/cinderv3.json"),
    );
    expect(spec.user).toEqual({
      name: "cinder",
      password: "{{secret:cinder_keystone_password}}",
      roles: ["admin", "service"],
    });
    expect(spec.service.name).toBe("cinderv3");
    expect(spec.service.type).toBe("volumev3");
    expect(spec.service.endpoints).toEqual({
      public: "http://10.211.0.10:8776/v3/%(project_id)s",
      internal: "http://10.211.0.10:8776/v3/%(project_id)s",
      admin: "http://10.211.0.10:8776/v3/%(project_id)s",
    });
    expect(JSON.stringify(json)).not.toMatch(/"type": ?"compute"[^}]*cinder/);
  });

  it("writes cinder.conf whole: RabbitMQ and the database through the VIP, my_ip, no backend", () => {
    expect(iniSection(conf1, "DEFAULT")).toEqual({
      transport_url: "rabbit://openstack:{{secret:rabbitmq_password}}@10.211.0.10:5672/",
      auth_strategy: "keystone",
      my_ip: "10.211.0.11",
      state_path: "/var/lib/cinder",
    });
    expect(iniSection(conf2, "DEFAULT").my_ip).toBe("10.211.0.12");
    expect(conf1).not.toContain("enabled_backends");
    expect(iniSection(conf1, "database").connection).toBe(
      "mysql+pymysql://cinder:{{secret:cinder_db_password}}@10.211.0.10/cinder?charset=utf8",
    );
    expect(iniSection(conf1, "keystone_authtoken")).toMatchObject({
      www_authenticate_uri: "http://10.211.0.10:5000",
      auth_url: "http://10.211.0.10:5000",
      memcached_servers: "10.211.0.11:11211,10.211.0.12:11211",
      username: "cinder",
      password: "{{secret:cinder_keystone_password}}",
      project_name: "service",
    });
    expect(iniSection(conf1, "oslo_concurrency")).toEqual({ lock_path: "/var/lib/cinder/tmp" });
    expect(installLine(script("controller1_cinder"), "/etc/cinder/cinder.conf")).toMatch(
      / root cinder 0640 --fill-secrets /,
    );
    expect(plainSecrets(conf1)).toEqual([]);
  });

  it("starts API and scheduler after the schema exists, with the API's uwsgi processes set", () => {
    const first = script("controller1_cinder");
    expect(first).toContain("\nosc_apt_install cinder-api cinder-scheduler\n");
    expect(first).toContain("\ninstall -d -o cinder -g cinder -m 0750 /var/lib/cinder/tmp\n");
    expect(first).toContain("\nosc_ini_set cinder /etc/cinder/cinder-api-uwsgi.ini uwsgi processes 2\n");
    expect(first).toContain("\nosc_as cinder cinder-manage db sync\n");
    expect(first.indexOf("cinder-manage db sync")).toBeLessThan(
      first.indexOf("osc_restart_if_changed cinder"),
    );
    expect(first).toContain("\nosc_restart_if_changed cinder cinder-api cinder-scheduler\n");
    expect(first).toContain("\nosc_wait_port 10.211.0.11 8776 120\n");
    expect(script("controller2_cinder")).not.toContain("db sync");
    const inputs = json.resource.terraform_data.controller2_cinder.triggers_replace?.inputs ?? "";
    for (const secret of ["cinder_db_password", "cinder_keystone_password", "rabbitmq_password"]) {
      expect(inputs).toContain(`var.secret_${secret}`);
    }
  });

  it("gives a volume host the same settings with its own my_ip, to add a backend to", () => {
    const storage = cluster.hostsWithRole("storage")[0];
    const conf = cluster.cinder.volumeHostConfig(storage);
    conf.set("DEFAULT", "enabled_backends", "lvm");
    const text = conf.render();
    expect(iniSection(text, "DEFAULT")).toMatchObject({ my_ip: "10.211.0.21", enabled_backends: "lvm" });
    expect(iniSection(text, "database")).toEqual(iniSection(conf1, "database"));
    expect(iniSection(text, "keystone_authtoken")).toEqual(iniSection(conf1, "keystone_authtoken"));
    // A fresh file each time: the controllers' file did not get the backend.
    expect(cluster.cinder.volumeHostConfig(storage).render()).not.toContain("enabled_backends");
    expect([...cluster.cinder.secrets].sort()).toEqual([
      "cinder_db_password",
      "cinder_keystone_password",
      "rabbitmq_password",
    ]);
  });
});

describe("HorizonDashboard in the small lab layout", () => {
  const text1 = script("controller1_horizon");
  const settings = fileIn(text1, SETTINGS);
  const snippet = fileIn(text1, LAST_SNIPPET);
  const values = pythonGlobals(settings, [
    "DEBUG",
    "WEBROOT",
    "ALLOWED_HOSTS",
    "SECRET_KEY",
    "SESSION_ENGINE",
    "CACHES",
    "OPENSTACK_HOST",
    "OPENSTACK_KEYSTONE_URL",
    "OPENSTACK_KEYSTONE_DEFAULT_DOMAIN",
    "OPENSTACK_KEYSTONE_DEFAULT_ROLE",
  ]);
  const caches = {
    default: {
      BACKEND: "django.core.cache.backends.memcached.PyMemcacheCache",
      LOCATION: ["10.211.0.11:11211", "10.211.0.12:11211"],
      OPTIONS: { ignore_exc: true, connect_timeout: 1, timeout: 2 },
    },
  };

  it("runs on both controllers, after their other control-plane steps", () => {
    expect(cluster.horizon.steps.map((s) => s.logicalId)).toEqual([
      "controller1_horizon",
      "controller2_horizon",
    ]);
    expect(dependsOn(json, "controller1_horizon")).toContain("controller1_cinder");
    expect(dependsOn(json, "controller2_horizon")).toContain("controller2_cinder");
    expect(cluster.horizon.url).toBe("http://10.211.0.10/horizon/");
  });

  it("allows exactly the VIP, its name and the controllers' names and addresses", () => {
    expect(values.ALLOWED_HOSTS).toEqual([
      "10.211.0.10",
      "controller",
      "controller1",
      "10.211.0.11",
      "controller2",
      "10.211.0.12",
    ]);
    expect(settings).not.toMatch(/["']\*["']/);
  });

  it("is valid Python with the dashboard's settings: webroot, Keystone through the VIP, memcached sessions", () => {
    expect(values).toEqual({
      DEBUG: false,
      WEBROOT: "/horizon/",
      ALLOWED_HOSTS: expect.any(Array),
      SECRET_KEY: "{{secret:horizon_secret_key}}",
      SESSION_ENGINE: "django.contrib.sessions.backends.cache",
      CACHES: caches,
      OPENSTACK_HOST: "10.211.0.10",
      OPENSTACK_KEYSTONE_URL: "http://10.211.0.10:5000/v3",
      OPENSTACK_KEYSTONE_DEFAULT_DOMAIN: "Default",
      OPENSTACK_KEYSTONE_DEFAULT_ROLE: "member",
    });
    expect(plainSecrets(settings)).toEqual([]);
    expect(plainSecrets('SECRET_KEY = "hunter2"\npassword = hunter2\n')).toHaveLength(2);
  });

  it("keeps the settings and the key readable by Apache's group only, filled on the host", () => {
    expect(installLine(text1, SETTINGS)).toMatch(
      /^osc_install_file horizon \S+ root www-data 0640 --fill-secrets /,
    );
    expect(installLine(text1, LAST_SNIPPET)).toMatch(/^osc_install_file horizon \S+ root www-data 0640 <</);
    const inputs = json.resource.terraform_data.controller1_horizon.triggers_replace?.inputs ?? "";
    expect(inputs).toContain("var.secret_horizon_secret_key");
  });

  it("overrides Debian's later snippets (WEBROOT '/', LocMemCache) with a last one", () => {
    expect(pythonGlobals(snippet, ["WEBROOT", "CACHES"])).toEqual({ WEBROOT: "/horizon/", CACHES: caches });
  });

  it("installs Apache's Horizon site, rebuilds static files when the settings change, checks the login page", () => {
    expect(text1).toContain("\nosc_apt_install openstack-dashboard-apache python3-pymemcache\n");
    expect(text1).toContain("osc_mark_changed horizon; a2ensite -q openstack-dashboard-alias-only; fi");
    expect(text1).toContain(
      "python3 /usr/share/openstack-dashboard/manage.py collectstatic --noinput --clear",
    );
    expect(text1).toContain("python3 /usr/share/openstack-dashboard/manage.py compress --force");
    expect(text1).toContain("\nosc_restart_if_changed horizon apache2\n");
    expect(text1).toContain("http://10.211.0.11/horizon/auth/login/");
    expect(script("controller2_horizon")).toContain("http://10.211.0.12/horizon/auth/login/");
  });
});

describe("HorizonDashboard's offline compression (pyScss is not thread-safe)", () => {
  const GUARD = "/etc/openstack-dashboard/local_settings.d/_0001_openstack_cdktf_compress.py";
  const text = script("controller1_horizon");
  /** Workers of a pool asked for 4, after the guard ran with these command-line arguments. */
  const workersAfter = (source: string, argv: string[]): number => {
    const program = [
      "import sys",
      `sys.argv = ${JSON.stringify(argv)}`,
      "exec(compile(sys.stdin.read(), 'settings.py', 'exec'), {})",
      "import concurrent.futures",
      "print(concurrent.futures.ThreadPoolExecutor(max_workers=4)._max_workers)",
    ].join("\n");
    const result = spawnSync("python3", ["-c", program], { input: source, encoding: "utf8" });
    if (result.status !== 0) throw new Error(result.stderr);
    return Number(result.stdout.trim());
  };

  it("installs the one-thread guard as a settings snippet before the package (its postinst compresses)", () => {
    const guard = fileIn(text, GUARD);
    expect(text.indexOf(`osc_install_file horizon ${GUARD} `)).toBeGreaterThan(0);
    expect(text.indexOf(`osc_install_file horizon ${GUARD} `)).toBeLessThan(
      text.indexOf("\nosc_apt_install openstack-dashboard"),
    );
    // The one-thread part is in local_settings.py too (releases without snippets); the
    // deferral below is the snippet's alone (only a file written before the package helps).
    const oneThread = guard.slice(0, guard.indexOf("\n# Written by openstack-cdktf: while")).trim();
    expect(oneThread).toContain("_OscOneWorkerPool");
    expect(fileIn(text, SETTINGS)).toContain(oneThread);
  });

  it("leaves the package's collectstatic and compress to the step while the step installs it", () => {
    const guard = fileIn(text, GUARD);
    const install = text.indexOf("\nosc_apt_install openstack-dashboard");
    expect(text.lastIndexOf("\nexport OSC_HORIZON_STATIC_LATER=yes\n", install)).toBeGreaterThan(
      text.indexOf(`osc_install_file horizon ${GUARD} `),
    );
    expect(text.indexOf("\nunset OSC_HORIZON_STATIC_LATER\n")).toBeGreaterThan(install);
    expect(text.indexOf("\nunset OSC_HORIZON_STATIC_LATER\n")).toBeLessThan(
      text.indexOf("manage.py collectstatic"),
    );
    /** Runs the guard as settings with these arguments; what it printed, its status and whether the stamp is left. */
    const run = (argv: string[], env: Record<string, string>) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "osc-horizon-"));
      const stamp = path.join(dir, "stamp");
      fs.writeFileSync(stamp, "x\n");
      const program = [
        "import sys",
        `sys.argv = ${JSON.stringify(argv)}`,
        "exec(compile(sys.stdin.read(), 'settings.py', 'exec'), {})",
        "print('settings loaded')",
      ].join("\n");
      const source = guard.split("/etc/openstack-cdktf/horizon-static.sha256").join(stamp);
      const result = spawnSync("python3", ["-c", program], {
        input: source,
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", ...env },
      });
      const stampLeft = fs.existsSync(stamp);
      fs.rmSync(dir, { recursive: true, force: true });
      return { status: result.status, out: result.stdout.trim(), err: result.stderr.trim(), stampLeft };
    };
    const deferred = { OSC_HORIZON_STATIC_LATER: "yes" };
    for (const command of ["collectstatic", "compress"]) {
      expect(run(["manage.py", command, "--noinput"], deferred)).toEqual({
        status: 0,
        out: "",
        err: `openstack-cdktf: manage.py ${command} left to the horizon step`,
        stampLeft: false,
      });
      // Outside the step's install (an upgrade, a trigger): the package rebuilds as it always does.
      expect(run(["manage.py", command], {})).toMatchObject({
        status: 0,
        out: "settings loaded",
        stampLeft: true,
      });
    }
    expect(run(["mod_wsgi"], deferred)).toMatchObject({ status: 0, out: "settings loaded", stampLeft: true });
  });

  it("gives `manage.py compress` one worker, and every other command (Apache's Horizon) its own pools", () => {
    const guard = fileIn(text, GUARD);
    expect(workersAfter(guard, ["/usr/share/openstack-dashboard/manage.py", "compress", "--force"])).toBe(1);
    expect(workersAfter(guard + "\n" + guard, ["manage.py", "compress"])).toBe(1);
    expect(workersAfter(guard, ["manage.py", "collectstatic"])).toBe(4);
    expect(workersAfter(guard, ["mod_wsgi"])).toBe(4);
  });
});

describe("HorizonDashboard on its own", () => {
  it("refuses '*', wildcards and an empty list; brackets IPv6; sends an allowed Host when needed", () => {
    const { stack, context, keystone } = standaloneControlPlane(DEBIAN_12_ZED);
    const make = (id: string, allowedHosts: string[]) =>
      new HorizonDashboard(stack, id, { context, keystone, allowedHosts });
    expect(() => make("h1", ["*"])).toThrow(
      'HorizonDashboard allowedHosts: got "*": expected a hostname or an IP address (no wildcards)',
    );
    expect(() => make("h2", [".example.org"])).toThrow(/got "\.example\.org"/);
    expect(() => make("h3", [])).toThrow("HorizonDashboard allowedHosts: got []");
    const horizon = make("h4", ["Dash.Example.org", "fd00::10", "dash.example.org"]);
    expect(horizon.allowedHosts).toEqual(["dash.example.org", "[fd00::10]"]);
    // The controllers' own addresses are not allowed here, so the check names an allowed host.
    expect(horizon.steps[0].scriptText).toContain(
      "-H 'Host: dash.example.org' http://10.9.0.1/horizon/auth/login/",
    );
  });

  it("uses Ubuntu's horizon group and no Debian snippet there", () => {
    const { stack, context, keystone } = standaloneControlPlane(UBUNTU_2404_CARACAL);
    const horizon = new HorizonDashboard(stack, "horizon", {
      context,
      keystone,
      allowedHosts: ["10.9.0.100"],
    });
    const text = horizon.steps[0].scriptText;
    expect(installLine(text, SETTINGS)).toMatch(/ root horizon 0640 --fill-secrets /);
    expect(text).not.toContain("local_settings.d");
    expect(text).not.toContain("a2ensite");
    expect(text).toContain("\nosc_apt_install openstack-dashboard python3-pymemcache\n");
  });
});
