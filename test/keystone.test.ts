/**
 * KeystoneService's behaviour, read from the rendered step scripts (not the snapshot): a
 * bootstrap without an admin token, Fernet and credential keys from the cluster secrets, a
 * root-only admin-openrc; and keystone-register.py run for real, through openstacksdk, against
 * a fake Keystone on 127.0.0.1, to show that a second registration changes nothing.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { FakeKeystone, pythonWithOpenstack, runAsync } from "./fake-keystone";
import { fileIn, installLine, iniSection, labSmall, plainSecrets, stepScript } from "./service-helpers";
import { tempDir } from "./support";

const { cluster, json } = labSmall();
const script = (id: string) => stepScript(cluster, id);
const CONTROLLERS = ["controller1", "controller2"];
const KEYSTONE_CONF = "/etc/keystone/keystone.conf";
const ADMIN_OPENRC = "/root/admin-openrc";
const REGISTER_PATH = "/usr/local/lib/openstack-cdktf/keystone-register.py";
const KEY_FILES = ["fernet", "credential"].flatMap((repo) =>
  [0, 1].map((index) => ({
    repo,
    file: `/etc/keystone/${repo}-keys/${index}`,
    secret: `keystone_${repo}_key_${index}`,
  })),
);

/** Every step of the cluster that is Keystone's: its controller steps and the registrations. */
const keystoneSteps = cluster.steps.filter((s) => /_keystone(_|$)/.test(s.logicalId));

/** The secrets a host's secrets step delivers. */
function delivered(hostName: string): readonly string[] {
  const host = cluster.hosts.find((h) => h.hostName === hostName);
  if (!host) throw new Error(`no host ${hostName}`);
  return host.secretsDelivered;
}

/** The fields of an `osc_install_file TAG PATH OWNER GROUP MODE [--fill-secrets]` line. */
function install(text: string, file: string): { owner: string; group: string; mode: number; fill: boolean } {
  const [, , , owner, group, mode, fill] = installLine(text, file).split(" ");
  return { owner, group, mode: parseInt(mode, 8), fill: fill === "--fill-secrets" };
}

/** Runs bash on `program`; fails the test on a non-zero exit. */
function bash(program: string, env: Record<string, string> = {}): string {
  const result = spawnSync("bash", ["-c", program], { encoding: "utf8", env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`bash failed (${result.status}):\n${result.stderr}`);
  return result.stdout;
}

/** A secrets directory as the secrets step leaves it on a host: one file per secret. */
function secretsDir(values: Record<string, string>): string {
  const dir = tempDir("keystone-secrets");
  for (const [name, value] of Object.entries(values)) fs.writeFileSync(path.join(dir, name), value);
  return dir;
}

/** The prelude's `osc_fill_secrets` function, as the script defines it. */
function fillSecretsFunction(text: string): string {
  const match = /^osc_fill_secrets\(\) \{\n[\s\S]*?\n\}\n/m.exec(text);
  if (!match) throw new Error("the script does not define osc_fill_secrets");
  return match[0];
}

describe("KeystoneService bootstrap", () => {
  it("has no admin token anywhere: not in keystone.conf, not in any Keystone script", () => {
    expect(keystoneSteps.map((s) => s.logicalId)).toEqual(
      expect.arrayContaining(["controller1_keystone", "controller2_keystone", "controller1_keystone_glance"]),
    );
    for (const step of keystoneSteps) expect(step.scriptText).not.toMatch(/admin_token|ADMIN_TOKEN/i);
    for (const host of CONTROLLERS) {
      const conf = fileIn(script(`${host}_keystone`), KEYSTONE_CONF);
      expect(conf).not.toMatch(/admin_token/i);
      expect(iniSection(conf, "DEFAULT")).toEqual({ log_dir: "/var/log/keystone" });
      expect(iniSection(conf, "token")).toEqual({ provider: "fernet" });
    }
  });

  it("runs keystone-manage bootstrap once, on the first controller, with the password from the secrets directory", () => {
    const text = script("controller1_keystone");
    const bootstrap = text.split("\n").filter((l) => l.includes("keystone-manage bootstrap"));
    expect(bootstrap).toHaveLength(1);
    expect(bootstrap[0]).toMatch(/^osc_as keystone keystone-manage bootstrap /);
    // The password is never on the command line, where `ps` would show it.
    expect(bootstrap[0]).not.toContain("--bootstrap-password");
    expect(text).toContain('\nOS_BOOTSTRAP_PASSWORD=$(cat "$OSC_SECRETS_DIR/keystone_admin_password")\n');
    expect(text.split("\n").filter((l) => /OS_BOOTSTRAP_PASSWORD=/.test(l))).toHaveLength(1);
    expect(script("controller2_keystone")).not.toContain("keystone-manage bootstrap");
    expect(script("controller2_keystone")).not.toContain("OS_BOOTSTRAP_PASSWORD");
    // The secret reaches the host that bootstraps.
    expect(delivered("controller1")).toContain("keystone_admin_password");
    // Nor is any other password of Keystone's written literally: keystone.conf and every
    // registration's spec carry placeholders only.
    for (const host of CONTROLLERS)
      expect(plainSecrets(fileIn(script(`${host}_keystone`), KEYSTONE_CONF))).toEqual([]);
    const registrations = keystoneSteps.filter((s) => /^controller1_keystone_/.test(s.logicalId));
    expect(registrations.length).toBeGreaterThanOrEqual(5);
    for (const step of registrations) {
      const name = step.logicalId.replace("controller1_keystone_", "");
      const spec = fileIn(step.scriptText, `/etc/openstack-cdktf/keystone/${name}.json`);
      expect(spec).toContain(`"password": "{{secret:${name.replace(/v3$/, "")}_keystone_password}}"`);
      expect(plainSecrets(spec)).toEqual([]);
    }
  });

  it("hands keystone-manage bootstrap the secret file's content through the environment, then unsets it", () => {
    const text = script("controller1_keystone");
    const lines = text.split("\n");
    const start = lines.findIndex((l) => l.startsWith("OS_BOOTSTRAP_PASSWORD="));
    const end = lines.indexOf("unset OS_BOOTSTRAP_PASSWORD");
    expect(start).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(start);
    // The bootstrap lines, run with stand-ins for runuser and keystone-manage.
    const program = [
      "set -euo pipefail",
      'osc_as() { shift; "$@"; }',
      'keystone-manage() { printf "password=%s args=%s\\n" "${OS_BOOTSTRAP_PASSWORD:-}" "$*"; }',
      ...lines.slice(start, end + 1),
      'printf "after=%s\\n" "${OS_BOOTSTRAP_PASSWORD:-unset}"',
    ].join("\n");
    const out = bash(program, {
      OSC_SECRETS_DIR: secretsDir({ keystone_admin_password: "Adm1n-from-secrets" }),
    });
    expect(out).toContain("password=Adm1n-from-secrets args=bootstrap --bootstrap-admin-url ");
    expect(out).toContain("--bootstrap-region-id RegionOne");
    expect(out).toContain("after=unset\n");
  });
});

describe("KeystoneService Fernet and credential keys", () => {
  it("installs every key from a cluster secret, the same on every controller", () => {
    for (const { file, secret } of KEY_FILES) {
      for (const host of CONTROLLERS) {
        expect(fileIn(script(`${host}_keystone`), file)).toBe(`{{secret:${secret}}}\n`);
        expect(install(script(`${host}_keystone`), file).fill).toBe(true);
        expect(delivered(host)).toContain(secret);
        // Each controller's secrets step uploads the value of one and the same Terraform variable.
        const upload = json.resource.terraform_data[`${host}_secrets`].provisioner.find((p) => p.file)?.file;
        expect(upload?.content).toContain(`\n${secret} \${base64encode(var.secret_${secret})}\n`);
      }
    }
  });

  it("never makes keys on a node: no fernet_setup, credential_setup or rotation", () => {
    for (const step of keystoneSteps) {
      expect(step.scriptText).not.toMatch(/fernet_setup|credential_setup|fernet_rotate|credential_rotate/);
    }
  });

  it("keeps the keys owned by keystone and readable by nobody else", () => {
    for (const host of CONTROLLERS) {
      const text = script(`${host}_keystone`);
      for (const { repo, file } of KEY_FILES) {
        const { owner, group, mode } = install(text, file);
        expect({ file, owner, group }).toEqual({ file, owner: "keystone", group: "keystone" });
        expect({ file, groupOrOther: mode & 0o077 }).toEqual({ file, groupOrOther: 0 });
        expect(mode & 0o400).toBe(0o400);
        expect(text).toContain(`\ninstall -d -o keystone -g keystone -m 0700 /etc/keystone/${repo}-keys\n`);
        // The directory exists, with its mode, before its first key is written.
        expect(text.indexOf(`-m 0700 /etc/keystone/${repo}-keys\n`)).toBeLessThan(
          text.indexOf(installLine(text, file)),
        );
      }
    }
  });

  it("points keystone.conf at the repositories it installs, with room for the keys it writes", () => {
    for (const host of CONTROLLERS) {
      const text = script(`${host}_keystone`);
      const conf = fileIn(text, KEYSTONE_CONF);
      const fernet = iniSection(conf, "fernet_tokens");
      expect(fernet.key_repository).toBe("/etc/keystone/fernet-keys/");
      expect(Number(fernet.max_active_keys)).toBeGreaterThanOrEqual(2);
      expect(iniSection(conf, "credential").key_repository).toBe("/etc/keystone/credential-keys/");
      // keystone.conf holds the database password: root-owned, group keystone, no others.
      const { owner, group, mode, fill } = install(text, KEYSTONE_CONF);
      expect({ owner, group, other: mode & 0o007, fill }).toEqual({
        owner: "root",
        group: "keystone",
        other: 0,
        fill: true,
      });
    }
  });
});

describe("KeystoneService admin-openrc", () => {
  it("is root's alone (0600) on every controller, with the password only as a secret placeholder", () => {
    for (const host of CONTROLLERS) {
      const text = script(`${host}_keystone`);
      expect(install(text, ADMIN_OPENRC)).toEqual({ owner: "root", group: "root", mode: 0o600, fill: true });
      const openrc = fileIn(text, ADMIN_OPENRC);
      const passwords = openrc.split("\n").filter((l) => /PASSWORD/.test(l));
      expect(passwords).toEqual(["export OS_PASSWORD='{{secret:keystone_admin_password}}'"]);
      expect(plainSecrets(openrc)).toEqual([]);
    }
  });

  it("gives the admin password from the secrets directory once filled on the host", () => {
    const text = script("controller1_keystone");
    const openrc = fileIn(text, ADMIN_OPENRC);
    const dir = secretsDir({ keystone_admin_password: "Adm1n-from-secrets" });
    const out = bash(
      `${fillSecretsFunction(text)}\nfilled=$(osc_fill_secrets <<'OSC_EOF'\n${openrc}OSC_EOF\n)\n` +
        'eval "$filled"\nprintf "%s %s %s" "$OS_USERNAME" "$OS_PASSWORD" "$OS_PROJECT_NAME"',
      { OSC_SECRETS_DIR: dir },
    );
    expect(out).toBe("admin Adm1n-from-secrets admin");
  });
});

describe("keystone-register.py against a fake Keystone", () => {
  const ADMIN_PASSWORD = "Adm1n-from-secrets";
  const GLANCE_PASSWORD = "Gl4nce-from-secrets";
  const work = tempDir("keystone-register");
  const register = path.join(work, "keystone-register.py");
  // The script as the first controller installs it, and the spec the glance step writes.
  fs.writeFileSync(register, fileIn(script("controller1_keystone"), REGISTER_PATH));
  const glanceSpecText = fileIn(
    script("controller1_keystone_glance"),
    "/etc/openstack-cdktf/keystone/glance.json",
  );
  let python: string;
  let keystone: FakeKeystone;
  let authUrl: string;

  beforeAll(() => {
    python = pythonWithOpenstack();
  });

  beforeEach(async () => {
    keystone = new FakeKeystone(ADMIN_PASSWORD);
    authUrl = await keystone.start();
  });

  afterEach(async () => {
    await keystone.stop();
  });

  /** The glance spec with its secret filled, and optionally changed. */
  function glanceSpec(change: (spec: GlanceSpec) => void = () => undefined): string {
    expect(glanceSpecText).toContain('"password": "{{secret:glance_keystone_password}}"');
    const spec = JSON.parse(
      glanceSpecText.replace("{{secret:glance_keystone_password}}", GLANCE_PASSWORD),
    ) as GlanceSpec;
    change(spec);
    const file = path.join(work, `glance-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(file, JSON.stringify(spec));
    return file;
  }

  /** The environment `. /root/admin-openrc` gives, filled, with the auth URL on the fake. */
  function openrcEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const line of fileIn(script("controller1_keystone"), ADMIN_OPENRC).split("\n")) {
      const m = /^export (OS_\w+)=(.*)$/.exec(line);
      if (m) env[m[1]] = m[2].replace(/^'(.*)'$/, "$1");
    }
    expect(env.OS_PASSWORD).toBe("{{secret:keystone_admin_password}}");
    env.OS_PASSWORD = ADMIN_PASSWORD;
    env.OS_AUTH_URL = authUrl;
    return env;
  }

  /** Runs the register script as the step does; fails the test on a non-zero exit. */
  async function run(specFile: string): Promise<string> {
    const home = tempDir("keystone-register-home");
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, LANG: "C.UTF-8", ...openrcEnv() };
    const result = await runAsync(python, [register, specFile], env);
    if (result.status !== 0)
      throw new Error(`keystone-register.py failed (${result.status}):\n${result.stderr}`);
    return result.stdout;
  }

  const writes = () => keystone.writes().map((r) => `${r.method} ${r.url.replace(/\?.*$/, "")}`);

  it("creates the service project, user, role assignment, service and endpoints, then changes nothing", async () => {
    const spec = glanceSpec();
    const first = await run(spec);
    expect(first).toContain(
      "keystone records: project service, user glance, role admin for glance, role service, role service for glance",
    );
    const project = keystone.store.projects.find((p) => p.name === "service");
    const user = keystone.store.users.find((u) => u.name === "glance");
    const service = keystone.store.services.find((s) => s.name === "glance");
    expect(writes()).toEqual([
      "POST /v3/projects",
      "POST /v3/users",
      `PUT /v3/projects/${project?.id}/users/${user?.id}/roles/r-admin`,
      // The service role does not exist before 2023.2's bootstrap: made once, then assigned.
      "POST /v3/roles",
      `PUT /v3/projects/${project?.id}/users/${user?.id}/roles/${keystone.store.roles.find((r) => r.name === "service")?.id}`,
      "POST /v3/services",
      "POST /v3/endpoints",
      "POST /v3/endpoints",
      "POST /v3/endpoints",
    ]);
    expect(user).toMatchObject({
      password: GLANCE_PASSWORD,
      domain_id: "default",
      default_project_id: project?.id,
    });
    expect(service).toMatchObject({ type: "image" });
    expect(
      keystone.store.endpoints.map((e) => [e.interface, e.url, e.region_id, e.service_id]).sort(),
    ).toEqual(
      ["admin", "internal", "public"].map((i) => [i, "http://10.211.0.10:9292", "RegionOne", service?.id]),
    );
    // Logged in as the admin of admin-openrc.
    expect(keystone.logins()[0]).toBe("admin");

    keystone.clearRequests();
    const second = await run(spec);
    expect(second).toBe("keystone records: no change\n");
    expect(keystone.writes()).toEqual([]);
    // It did look: the user's password was checked by logging in as glance.
    expect(keystone.logins()).toContain("glance");
    expect(keystone.store.endpoints).toHaveLength(3);
    expect(keystone.store.services).toHaveLength(1);
    expect(keystone.store.users).toHaveLength(2);
  });

  it("creates the roles a service's policy names once (Swift's ResellerAdmin)", async () => {
    await run(glanceSpec());
    keystone.clearRequests();
    const withRoles = glanceSpec((spec) => {
      (spec as GlanceSpec & { roles?: string[] }).roles = ["ResellerAdmin"];
    });
    expect(await run(withRoles)).toBe("keystone records: role ResellerAdmin\n");
    expect(writes()).toEqual(["POST /v3/roles"]);
    expect(keystone.store.roles.filter((r) => r.name === "ResellerAdmin")).toHaveLength(1);
    keystone.clearRequests();
    expect(await run(withRoles)).toBe("keystone records: no change\n");
    expect(keystone.writes()).toEqual([]);
  });

  it("updates only the endpoint whose URL changed", async () => {
    await run(glanceSpec());
    const before = keystone.store.endpoints.map((e) => ({ ...e }));
    const publicEndpoint = keystone.store.endpoints.find((e) => e.interface === "public");
    keystone.clearRequests();
    const out = await run(
      glanceSpec((spec) => {
        spec.service.endpoints.public = "https://cloud.example:9292";
      }),
    );
    expect(out).toBe("keystone records: public endpoint -> https://cloud.example:9292\n");
    expect(keystone.writes()).toEqual([
      {
        method: "PATCH",
        url: `/v3/endpoints/${publicEndpoint?.id}`,
        body: { endpoint: { url: "https://cloud.example:9292" } },
      },
    ]);
    expect(keystone.store.endpoints.map((e) => [e.id, e.interface, e.url])).toEqual(
      before.map((e) => [e.id, e.interface, e.interface === "public" ? "https://cloud.example:9292" : e.url]),
    );
  });

  it("resets only the password of a service user whose password no longer authenticates", async () => {
    await run(glanceSpec());
    const user = keystone.store.users.find((u) => u.name === "glance");
    if (user) user.password = "an-old-password";
    keystone.clearRequests();
    const out = await run(glanceSpec());
    expect(out).toBe("keystone records: password of glance\n");
    expect(writes()).toEqual([`PATCH /v3/users/${user?.id}`]);
    expect(user?.password).toBe(GLANCE_PASSWORD);
  });

  it("creates the service project from the bootstrap's empty spec, once", async () => {
    const text = script("controller1_keystone");
    const file = path.join(work, "service-project.json");
    fs.writeFileSync(file, fileIn(text, "/etc/openstack-cdktf/keystone/service-project.json"));
    expect(await run(file)).toBe("keystone records: project service\n");
    expect(keystone.writes()).toEqual([
      {
        method: "POST",
        url: "/v3/projects",
        body: { project: expect.objectContaining({ name: "service", domain_id: "default" }) },
      },
    ]);
    keystone.clearRequests();
    expect(await run(file)).toBe("keystone records: no change\n");
    expect(keystone.writes()).toEqual([]);
  });
});

interface GlanceSpec {
  service: { endpoints: Record<string, string> };
}
