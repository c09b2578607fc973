import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, TerraformOutput, TerraformStack, Testing } from "cdktf";
import { Construct } from "constructs";
import { parseInventory } from "../lib/cluster/inventory";
import { OpenStackStack } from "../lib/cluster/openstack-stack";
import { DEBIAN_12_ZED, UBUNTU_2404_CARACAL } from "../lib/core/releases";
import { Role } from "../lib/core/roles";
import { SECRET_CATALOG } from "../lib/cluster/components";
import { declareSecrets } from "../lib/core/secret-catalog";
import { sha256Hex } from "../lib/core/step";
import { StepScripts } from "../lib/core/step-scripts";
import { BaseSystem } from "../lib/hosts/base-system";
import { ComputeNode } from "../lib/hosts/compute-node";
import { ControllerNode } from "../lib/hosts/controller-node";
import { Host } from "../lib/hosts/host";
import { NetworkNode } from "../lib/hosts/network-node";
import {
  buildStack,
  EXAMPLES,
  exampleInventory,
  LAB_SMALL_EXAMPLE,
  readYaml,
  REPO,
  SEED_EXAMPLE,
  StackJson,
  synthJson,
  tempDir,
  remoteExecScripts,
} from "./support";

const SEED_HOSTS = [
  "controller1",
  "controller2",
  "compute1",
  "compute2",
  "compute3",
  "compute4",
  "network1",
  "network2",
];

/** The files a script writes with osc_install_file, by path. */
function installedFiles(script: string): Map<string, string> {
  const files = new Map<string, string>();
  const lines = script.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const head = /^osc_install_file \S+ (\S+) \S+ \S+ \S+(?: --fill-secrets)? <<'(\w+)'$/.exec(lines[i]);
    if (!head) continue;
    const end = lines.indexOf(head[2], i + 1);
    files.set(head[1], `${lines.slice(i + 1, end).join("\n")}\n`);
    i = end;
  }
  return files;
}

/** The secret variables an expression refers to, sorted. */
function secretVars(expression: string | undefined): string[] {
  return [...new Set([...(expression ?? "").matchAll(/var\.secret_([a-z0-9_]+)/g)].map((m) => m[1]))].sort();
}

/** The secrets delivered to every host of these roles (not those delivered only where a step uses them). */
function secretsFor(roles: readonly Role[]): string[] {
  return SECRET_CATALOG.filter((s) => !s.onUse && s.roles.some((r) => roles.includes(r)))
    .map((s) => s.name)
    .sort();
}

const seed = synthJson(exampleInventory(SEED_EXAMPLE));
const cluster = seed.stack.cluster;
const tfData = seed.json.resource.terraform_data;

describe("the seed cluster (examples/furyu-8-node.yaml)", () => {
  it("has the eight hosts with their roles", () => {
    expect(cluster.hosts.map((h) => h.hostName)).toEqual(SEED_HOSTS);
    expect(cluster.hosts.map((h) => h.roles.join("+"))).toEqual([
      "controller",
      "controller",
      "compute+storage",
      "compute+storage",
      "compute+storage",
      "compute+storage",
      "network",
      "network",
    ]);
    expect(cluster.hostsWithRole("storage").map((h) => h.hostName)).toEqual([
      "compute1",
      "compute2",
      "compute3",
      "compute4",
    ]);
  });

  it("has a secrets, a hosts_file and a base step on every host, the platform on controllers, with stable ids", () => {
    const platform = ["heartbeat", "mysql", "rabbitmq", "memcached"];
    // Each control-plane service: its databases and Keystone records from the first controller
    // (just before its step there), then its step on every controller.
    const services: { first: string[]; step: string }[] = [
      { first: ["db_keystone"], step: "keystone" },
      { first: ["keystone_swift"], step: "swift" },
      { first: ["db_glance", "keystone_glance"], step: "glance" },
      { first: ["db_placement", "keystone_placement"], step: "placement" },
      { first: ["db_cinder", "keystone_cinderv3"], step: "cinder" },
      { first: [], step: "horizon" },
      { first: ["db_nova_api", "db_nova", "db_nova_cell0", "keystone_nova"], step: "nova" },
      { first: ["db_neutron", "keystone_neutron"], step: "neutron" },
    ];
    // `converged` is declared with the host and runs last (it depends on every other step there).
    const ids = SEED_HOSTS.flatMap((h) => [
      `${h}_converged`,
      `${h}_secrets`,
      // /etc/hosts in a step of its own: a new member re-runs only this one on the others.
      `${h}_hosts_file`,
      `${h}_base`,
      // Every package of the controller, early: both controllers install in parallel.
      ...(h.startsWith("controller")
        ? [`${h}_controller_packages`, ...platform.map((p) => `${h}_${p}`)]
        : []),
      ...(h.startsWith("controller")
        ? services.flatMap((s) => [...(h === "controller1" ? s.first : []), s.step].map((id) => `${h}_${id}`))
        : []),
      // After the services: every agent alive, and the compute hosts mapped into cell1.
      ...(h === "controller1" ? [`${h}_neutron_agents_alive`, `${h}_nova_discover_hosts`] : []),
      // The data plane: nova-compute and the agents on compute hosts, the agents on network hosts,
      // Swift's storage servers and cinder-volume on the storage hosts (the compute hosts, each
      // with an LVM backend). (The roles' packages first: they install while the controllers
      // install theirs.)
      ...(h.startsWith("compute")
        ? [
            `${h}_storage_packages`,
            `${h}_compute_packages`,
            `${h}_nova_compute`,
            `${h}_neutron_agents`,
            `${h}_swift_storage`,
            `${h}_cinder_volume`,
          ]
        : []),
      ...(h.startsWith("network") ? [`${h}_network_packages`, `${h}_neutron_agents`] : []),
    ]);
    expect(cluster.steps.map((s) => s.logicalId)).toEqual(ids);
    expect(Object.keys(seed.json.resource)).toEqual(["terraform_data"]);
    expect(Object.keys(tfData).sort()).toEqual([...ids].sort());
    expect([...cluster.baseSteps.entries()].map(([host, step]) => [host, step.logicalId])).toEqual(
      SEED_HOSTS.map((h) => [h, `${h}_base`]),
    );
  });

  it("connects to every host as root with the key from ~/.ssh, expanded by Terraform", () => {
    cluster.hosts.forEach((host, i) => {
      expect(tfData[`${host.hostName}_base`].connection).toEqual({
        type: "ssh",
        host: `192.168.10.${[11, 12, 21, 22, 23, 24, 31, 32][i]}`,
        user: "root",
        port: 22,
        timeout: "5m",
        private_key:
          '${var.ssh_private_key != null ? var.ssh_private_key : file(pathexpand("~/.ssh/id_ed25519"))}',
      });
    });
  });

  it("delivers to each host exactly the secrets its roles need", () => {
    for (const host of cluster.hosts) {
      const expected = secretsFor(host.roles);
      expect({ host: host.hostName, secrets: [...host.secretsDelivered] }).toEqual({
        host: host.hostName,
        secrets: expected,
      });
      const resource = tfData[`${host.hostName}_secrets`];
      const upload = resource.provisioner.find((p) => p.file)?.file;
      expect(upload?.destination).toBe("/root/.openstack-cdktf-upload/secrets");
      expect(secretVars(upload?.content)).toEqual(expected);
      // A new value for any of them re-runs the step.
      expect(secretVars(resource.triggers_replace?.inputs)).toEqual(expected);
      // Values travel in the upload only, never in a script (a script file is not a template,
      // and the remote-exec blocks name no variable).
      for (const p of resource.provisioner)
        expect(JSON.stringify(p["remote-exec"] ?? {})).not.toContain("var.");
    }
    expect(cluster.hosts[0].secretsDelivered).toEqual(
      SECRET_CATALOG.filter((s) => !s.onUse)
        .map((s) => s.name)
        .sort(),
    );
  });

  it("keeps controller-only secrets off compute and network hosts", () => {
    const controllerOnly = ["mysql_root_password", "mysql_replication_password", "heartbeat_auth_key"];
    for (const host of cluster.hosts.filter((h) => !h.hasRole("controller"))) {
      for (const name of [
        ...controllerOnly,
        "rabbitmq_erlang_cookie",
        "keystone_fernet_key_0",
        "glance_db_password",
      ]) {
        expect(host.secretsDelivered).not.toContain(name);
      }
    }
    const compute = cluster.hosts[2];
    expect(compute.secretsDelivered).toEqual(
      expect.arrayContaining(["nova_keystone_password", "cinder_keystone_password", "rabbitmq_password"]),
    );
    expect(compute.secretsDelivered).not.toContain("metadata_proxy_secret");
    const network = cluster.hosts[6];
    // No file on a network host uses Neutron's Keystone password: the agents authenticate to nothing.
    expect(network.secretsDelivered).toEqual(["metadata_proxy_secret", "rabbitmq_password"]);
  });

  it("lists every member and the VIP in each host's /etc/hosts, from its hosts_file step, before base", () => {
    // One file for every host, beside the scripts; each step uploads it and carries its hash.
    const hosts = StepScripts.of(seed.stack).dataFile("etc_hosts.txt");
    expect(hosts).toBeDefined();
    for (const host of cluster.hosts) {
      const script = tfStepScript(`${host.hostName}_hosts_file`);
      expect([...installedFiles(script).keys()]).toEqual([]);
      expect(script).toContain(`hosts_sha256=${sha256Hex(hosts ?? "")}\n`);
      expect(script).toContain('osc_install_file config /etc/hosts root root 0644 <"$upload"');
      expect(script).not.toContain("192.168.10.31 network1"); // no member's line: only the hash
      expect(tfData[`${host.hostName}_hosts_file`].provisioner).toContainEqual({
        file: {
          source: "${path.module}/scripts/etc_hosts.txt",
          destination: "/root/.openstack-cdktf-upload/etc_hosts",
        },
      });
      expect(installedFiles(tfStepScript(`${host.hostName}_base`)).has("/etc/hosts")).toBe(false);
      expect(tfData[`${host.hostName}_base`].depends_on).toContain(
        `terraform_data.${host.hostName}_hosts_file`,
      );
      const entries = (hosts ?? "").split("\n").filter((l) => /^\d+\.\d+\.\d+\.\d+ /.test(l));
      expect(entries).toEqual([
        "127.0.0.1 localhost",
        "192.168.10.10 controller",
        "192.168.10.11 controller1",
        "192.168.10.12 controller2",
        "192.168.10.21 compute1",
        "192.168.10.22 compute2",
        "192.168.10.23 compute3",
        "192.168.10.24 compute4",
        "192.168.10.31 network1",
        "192.168.10.32 network2",
      ]);
      expect(installedFiles(tfStepScript(`${host.hostName}_base`)).get("/etc/hostname")).toBe(
        `${host.hostName}\n`,
      );
    }
  });

  it("makes the controllers the time servers of the management network, and points the others at them", () => {
    for (const host of cluster.hosts) {
      const chrony =
        installedFiles(tfStepScript(`${host.hostName}_base`)).get("/etc/chrony/chrony.conf") ?? "";
      const directives = chrony.split("\n").filter((l) => /^(server|allow|local) /.test(l));
      if (host.hasRole("controller")) {
        expect(directives).toEqual([
          "server 0.debian.pool.ntp.org iburst",
          "server 1.debian.pool.ntp.org iburst",
          "local stratum 10",
          "allow 192.168.10.0/24",
        ]);
      } else {
        expect(directives).toEqual(["server controller1 iburst", "server controller2 iburst"]);
      }
    }
  });

  it("installs the release's base packages and restarts chrony only on change", () => {
    const script = tfStepScript("compute1_base");
    expect(script).toContain("\nosc_apt_install ca-certificates crudini curl iproute2 procps chrony\n");
    expect(script).toContain("\nosc_restart_if_changed chrony chrony\n");
  });

  it("matches the snapshot of its synthesized JSON", () => {
    // Nothing machine-dependent is expected (the key path is ~/...); normalize in case.
    const text = JSON.stringify(seed.json, null, 2)
      .split(REPO)
      .join("<repo>")
      .split(os.homedir())
      .join("<home>");
    expect(text).not.toContain("<repo>");
    expect(JSON.parse(text)).toMatchSnapshot();
  });

  it("matches the snapshot of its steps' scripts, each as its file holds it (the prelude is not copied)", () => {
    const bodies = Object.fromEntries(cluster.steps.map((s) => [s.logicalId, s.scriptBody]));
    expect(Object.keys(bodies)).toHaveLength(cluster.steps.length);
    for (const body of Object.values(bodies)) expect(body).not.toContain("osc_on_error()");
    expect(bodies).toMatchSnapshot();
  });
});

function tfStepScript(id: string): string {
  const step = cluster.steps.find((s) => s.logicalId === id);
  if (!step) throw new Error(`no step ${id}`);
  return step.scriptText;
}

describe("the lab examples", () => {
  const labSmall = buildStack(exampleInventory(LAB_SMALL_EXAMPLE));

  it("serve time from the controllers' own clocks when ntpServers is empty", () => {
    const controller = labSmall.cluster.hosts[0];
    const chrony = installedFiles(labSmall.cluster.baseSteps.get(controller.hostName)?.scriptText ?? "");
    expect(
      (chrony.get("/etc/chrony/chrony.conf") ?? "")
        .split("\n")
        .filter((l) => /^(server|allow|local) /.test(l)),
    ).toEqual(["local stratum 10", "allow 10.211.0.0/24"]);
  });

  it("and only they write the apt proxy", () => {
    const proxyFile = "/etc/apt/apt.conf.d/01openstack-cdktf-proxy";
    for (const file of EXAMPLES) {
      const stack = file === LAB_SMALL_EXAMPLE ? labSmall : buildStack(exampleInventory(file));
      const proxy = stack.cluster.inventory.aptProxy;
      for (const step of stack.cluster.baseSteps.values()) {
        const written = installedFiles(step.scriptText).get(proxyFile);
        if (proxy) {
          expect(written).toBe(`Acquire::http::Proxy "${proxy}";\n`);
        } else {
          expect(written).toBeUndefined();
          expect(step.scriptText).toContain(`rm -f ${proxyFile}`);
        }
      }
      for (const step of stack.cluster.steps) {
        expect({ step: step.logicalId, proxy: step.scriptText.includes("Acquire::http::Proxy") }).toEqual({
          step: step.logicalId,
          proxy: Boolean(proxy) && step.logicalId.endsWith("_base"),
        });
      }
    }
    expect(EXAMPLES.filter((f) => exampleInventory(f).aptProxy).map((f) => f.slice(REPO.length + 1))).toEqual(
      ["examples/lab-furyu-8-node.yaml", "examples/lab-small-zed.yaml", "examples/lab-small.yaml"],
    );
  });
});

describe("inventory switches", () => {
  it("resource: null_resource switches every step", () => {
    const data = { ...readYaml(SEED_EXAMPLE), resource: "null_resource" };
    const { json } = synthJson(parseInventory(data, SEED_EXAMPLE));
    expect(Object.keys(json.resource)).toEqual(["null_resource"]);
    expect(Object.keys(json.resource.null_resource).sort()).toEqual(Object.keys(tfData).sort());
    for (const [id, resource] of Object.entries(json.resource.null_resource)) {
      // The same triggers, but a `converged` step names the other steps by their new type.
      const expected = JSON.parse(
        JSON.stringify(tfData[id].triggers_replace).replace(/terraform_data\./g, "null_resource."),
      ) as unknown;
      expect(resource.triggers).toEqual(expected);
      expect(resource.triggers_replace).toBeUndefined();
    }
    expect(json.provider).toEqual({ null: [{}] });
  });

  it("ubuntu-2404-caracal changes package names, not step ids", () => {
    const data = { ...readYaml(SEED_EXAMPLE), release: "ubuntu-2404-caracal" };
    const stack = buildStack(parseInventory(data, SEED_EXAMPLE));
    expect(stack.cluster.steps.map((s) => s.logicalId)).toEqual(cluster.steps.map((s) => s.logicalId));
    expect(stack.cluster.hosts[0].release).toBe(UBUNTU_2404_CARACAL);
    // Ubuntu serves the APIs with Apache mod_wsgi: no uwsgi ini file is written or tuned there.
    for (const step of stack.cluster.steps) expect(step.scriptText).not.toMatch(/uwsgi\.ini/);
    const debianKeystone = cluster.steps.find((s) => s.logicalId === "controller1_keystone");
    expect(debianKeystone?.scriptText).toContain(
      "\nosc_ini_set keystone /etc/keystone/keystone-uwsgi.ini uwsgi threads 1\n",
    );
  });

  it("a non-root SSH user with a bastion uploads to its home and connects through the bastion", () => {
    const data = readYaml(SEED_EXAMPLE);
    data.ssh = {
      user: "deploy",
      agent: true,
      bastion: { host: "jump.example.org", port: 2222, privateKeyFile: "/keys/jump" },
    };
    const { json } = synthJson(parseInventory(data, SEED_EXAMPLE));
    const secrets = json.resource.terraform_data.compute1_secrets;
    expect(secrets.connection).toEqual({
      type: "ssh",
      host: "192.168.10.21",
      user: "deploy",
      port: 22,
      timeout: "5m",
      agent: "true",
      bastion_host: "jump.example.org",
      bastion_user: "deploy",
      bastion_port: 2222,
      bastion_private_key:
        '${var.ssh_bastion_private_key != null ? var.ssh_bastion_private_key : file(pathexpand("/keys/jump"))}',
    });
    expect(secrets.provisioner.find((p) => p.file)?.file?.destination).toBe(
      "/home/deploy/.openstack-cdktf-upload/secrets",
    );
  });
});

describe("constructs used on their own", () => {
  class MyStack extends TerraformStack {
    readonly host: Host;

    constructor(scope: Construct, id: string) {
      super(scope, id);
      // The whole catalog, as OpenStackCluster declares it: the role's host receives its secrets.
      declareSecrets(this, SECRET_CATALOG);
      this.host = new Host(this, "db", { name: "db1", address: "10.0.0.5", release: DEBIAN_12_ZED });
      new ControllerNode(this.host, "controller", { host: this.host });
      const base = new BaseSystem(this.host, "base_system", {
        members: [{ name: "db1", address: "10.0.0.5" }],
        timeServers: ["pool.ntp.org"],
        serveTimeTo: ["10.0.0.0/24"],
      });
      new TerraformOutput(this, "base_id", { value: base.step.resource.fqn });
    }
  }

  it("a user's own stack with Host, ControllerNode and BaseSystem synthesizes", () => {
    const app = Testing.app({ outdir: tempDir("own-stack") });
    const stack = new MyStack(app, "mine");
    const json = JSON.parse(Testing.synth(stack)) as StackJson & { output: Record<string, unknown> };
    expect(Object.keys(json.resource.terraform_data).sort()).toEqual([
      "db1_base",
      "db1_converged",
      "db1_hosts_file",
      "db1_secrets",
    ]);
    expect(Object.keys(json.variable ?? {}).filter((v) => v.startsWith("secret_"))).toHaveLength(
      SECRET_CATALOG.filter((s) => !s.onUse).length,
    );
    expect(stack.host.roles).toEqual(["controller"]);
    expect(secretVars(json.resource.terraform_data.db1_secrets.triggers_replace?.inputs)).toEqual(
      secretsFor(["controller"]),
    );
    expect(Object.keys(json.output)).toEqual(["base_id"]);
    // And the whole app synthesizes to disk, each step's script beside the JSON.
    expect(() => app.synth()).not.toThrow();
    const scripts = remoteExecScripts(path.join(app.outdir, "stacks", "mine"));
    // /etc/hosts is the uploaded scripts/etc_hosts.txt, whose hash the hosts_file script carries.
    const hosts = fs.readFileSync(
      path.join(app.outdir, "stacks", "mine", "scripts", "etc_hosts.txt"),
      "utf8",
    );
    expect(hosts).toContain("\n10.0.0.5 db1\n");
    expect(scripts.get("db1_hosts_file-2")).toContain(`hosts_sha256=${sha256Hex(hosts)}\n`);
    expect(scripts.get("db1_base-0")).toContain("\nallow 10.0.0.0/24\n");
  });

  it("two stacks in one app each declare their own secret variables", () => {
    const app = new App({ outdir: tempDir("two-stacks") });
    const a = new MyStack(app, "one");
    const b = new MyStack(app, "two");
    for (const stack of [a, b]) {
      const json = JSON.parse(Testing.synth(stack)) as StackJson;
      expect(Object.keys(json.variable ?? {}).filter((v) => v.startsWith("secret_"))).toHaveLength(
        SECRET_CATALOG.filter((s) => !s.onUse).length,
      );
    }
  });

  it("a compute-only host gets only compute secrets", () => {
    const app = Testing.app({ outdir: tempDir("compute-only") });
    const stack = new TerraformStack(app, "c");
    const host = new Host(stack, "c1", {
      name: "cmp-1",
      address: "10.0.0.21",
      release: DEBIAN_12_ZED,
      user: "ops",
    });
    declareSecrets(stack, SECRET_CATALOG);
    new ComputeNode(host, "compute", { host });
    expect(host.secretsDelivered).toEqual(secretsFor(["compute"]));
    const json = JSON.parse(Testing.synth(stack)) as StackJson;
    expect(Object.keys(json.resource.terraform_data)).toEqual(["cmp_1_converged", "cmp_1_secrets"]);
  });

  it.each([
    [{ name: "Bad_Name", address: "10.0.0.1" }, 'Host name: got "Bad_Name": expected a hostname'],
    [{ name: "ok", address: "10.0.0.300" }, 'Host ok address: got "10.0.0.300": expected an IPv4 address'],
    [
      { name: "ok", address: "10.0.0.1", user: "Root" },
      'Host ok user: got "Root": expected a Unix user name',
    ],
  ])("Host refuses %j", (props, message) => {
    const stack = new TerraformStack(Testing.app({ outdir: tempDir("bad-host") }), "s");
    expect(() => new Host(stack, "h", { ...props, release: DEBIAN_12_ZED })).toThrow(message);
  });

  it("NetworkNode refuses a host without a provider interface", () => {
    const stack = new TerraformStack(Testing.app({ outdir: tempDir("bad-network") }), "s");
    const host = new Host(stack, "n", { name: "net1", address: "10.0.0.31", release: DEBIAN_12_ZED });
    expect(() => new NetworkNode(host, "network", { host })).toThrow(
      "NetworkNode net1: providerInterface: got none: expected the interface on the provider network",
    );
  });

  it("OpenStackStack is named after the cluster", () => {
    const stack = new OpenStackStack(Testing.app({ outdir: tempDir("named") }), {
      inventory: exampleInventory(LAB_SMALL_EXAMPLE),
    });
    expect(stack.node.id).toBe("labsmall");
  });
});

describe("converged: every host's last step", () => {
  const { json } = synthJson(exampleInventory(LAB_SMALL_EXAMPLE));
  const steps = json.resource.terraform_data;
  const dependsOn = (id: string): string[] => [
    ...((steps[id] as { depends_on?: string[] }).depends_on ?? []),
  ];
  const onHost = (host: string) =>
    Object.keys(steps).filter((id) => id.startsWith(`${host}_`) && id !== `${host}_converged`);

  it.each(["controller1", "compute1"])(
    "on %s runs after every other step there, and again when one of them is replaced",
    (host) => {
      const others = onHost(host);
      expect(others.length).toBeGreaterThan(1);
      const after = dependsOn(`${host}_converged`);
      expect([...after].sort()).toEqual(others.map((id) => `terraform_data.${id}`).sort());
      expect(steps[`${host}_converged`].triggers_replace?.inputs).toBe(
        `\${sha256(join(",", [${after.map((a) => `${a}.id`).join(", ")}]))}`,
      );
    },
  );

  it("is its host's last step: no step depends on it", () => {
    for (const id of Object.keys(steps))
      expect(dependsOn(id).filter((d) => d.endsWith("_converged"))).toEqual([]);
  });
});
