/**
 * DayOne: the step exists only with the inventory's `dayOne`, on the first controller, after
 * the steps it is given; its spec holds the inventory's names and addresses and no secret; bad
 * settings are refused in one line. And day-one.py, as the step installs it, run for real
 * through openstacksdk against a fake Keystone, Nova and Neutron on 127.0.0.1: the first run
 * creates everything, a second run changes nothing, and what exists is left alone.
 */
import { componentPackages } from "../lib/cluster/components";
import * as fs from "fs";
import * as path from "path";
import { TerraformStack, Testing } from "cdktf";
import { parseInventory } from "../lib/cluster/inventory";
import { OpenStackCluster } from "../lib/cluster/openstack-cluster";
import { UBUNTU_2404_CARACAL } from "../lib/core/releases";
import { Step } from "../lib/core/step";
import { Host } from "../lib/hosts/host";
import { DayOne } from "../lib/services/day-one";
import { DayOneSettings } from "../lib/services/day-one-settings";
import { FakeKeystone, pythonWithOpenstack, runAsync } from "./fake-keystone";
import { FakeNovaNeutron } from "./fake-nova-neutron";
import { dependsOn, fileIn, installLine, plainSecrets } from "./service-helpers";
import { LAB_SMALL_EXAMPLE, readYaml, SEED_EXAMPLE, StackJson, tempDir } from "./support";

/** Settings as plain data, for each bad case to change one thing in a fresh copy. */
type Data = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SPEC_PATH = "/etc/openstack-cdktf/day-one.json";
const SCRIPT_PATH = "/usr/local/lib/openstack-cdktf/day-one.py";

function clusterOf(data: Record<string, unknown>): { cluster: OpenStackCluster; json: StackJson } {
  const stack = new TerraformStack(Testing.app({ outdir: tempDir("day-one") }), "t");
  const cluster = new OpenStackCluster(stack, "cluster", { inventory: parseInventory(data) });
  return { cluster, json: JSON.parse(Testing.synth(stack)) as StackJson };
}

const lab = clusterOf(readYaml(LAB_SMALL_EXAMPLE));
const dayOneStep = (): Step => {
  const step = lab.cluster.dayOne?.step;
  if (!step) throw new Error("lab-small has no day-one step");
  return step;
};

/** The lab-small example's day one, resolved (as `parseInventory` gives it). */
function labSettings(): DayOneSettings {
  const settings = lab.cluster.inventory.dayOne;
  if (!settings) throw new Error("lab-small has no dayOne");
  return settings;
}

describe("DayOne in a cluster", () => {
  it("is one step, on the first controller, only when the inventory has dayOne", () => {
    const ids = lab.cluster.steps.map((s) => s.logicalId).filter((id) => id.includes("day_one"));
    expect(ids).toEqual(["controller1_day_one"]);
    expect(lab.cluster.hosts[0].steps).toContain(dayOneStep());
    expect(Object.keys(lab.json.resource.terraform_data)).toContain("controller1_day_one");
    // Owned by the construct (Aspects and findAll see it there).
    expect(dayOneStep().node.path).toBe("t/cluster/day_one/controller1/day_one");

    const seed = clusterOf(readYaml(SEED_EXAMPLE));
    expect(seed.cluster.dayOne).toBeUndefined();
    expect(seed.cluster.steps.filter((s) => s.logicalId.includes("day_one"))).toEqual([]);
    const noDayOne = readYaml(LAB_SMALL_EXAMPLE);
    delete noDayOne.dayOne;
    expect(clusterOf(noDayOne).cluster.steps.filter((s) => s.logicalId.includes("day_one"))).toEqual([]);
  });

  it("runs after Nova's and Neutron's steps on every controller", () => {
    const after = dependsOn(lab.json, "controller1_day_one");
    // Those on the other controller are named; those on its own host come earlier in its chain.
    expect(after).toEqual(expect.arrayContaining(["controller2_nova", "controller2_neutron"]));
    const chain = lab.cluster.hosts[0].steps.map((s) => s.logicalId);
    const at = chain.indexOf("controller1_day_one");
    for (const id of ["controller1_nova", "controller1_neutron", "controller1_keystone"]) {
      expect({ id, before: chain.indexOf(id) < at }).toEqual({ id, before: true });
    }
    expect(after).toContain(chain[at - 1]);
    // No step waits for day one but the host's last one.
    for (const id of Object.keys(lab.json.resource.terraform_data)) {
      if (id !== "controller1_converged")
        expect(dependsOn(lab.json, id)).not.toContain("controller1_day_one");
    }
  });

  it("writes the inventory's names and addresses into its spec, and names them on the construct", () => {
    const dayOne = lab.cluster.dayOne as DayOne;
    const text = dayOneStep().scriptText;
    expect(JSON.parse(fileIn(text, SPEC_PATH))).toEqual({
      flavor: { name: "m1.tiny", vcpus: 1, ram: 128, disk: 1 },
      external: {
        name: "external",
        physnet: "provider",
        subnet: "external-subnet",
        cidr: "10.212.0.0/24",
        gateway: "10.212.0.1",
        allocation_pool: { start: "10.212.0.100", end: "10.212.0.199" },
      },
      tenant: { name: "tenant", subnet: "tenant-subnet", cidr: "192.168.100.0/24", gateway: "192.168.100.1" },
      router: { name: "router" },
    });
    expect({
      flavor: dayOne.flavorName,
      external: dayOne.externalNetworkName,
      externalSubnet: dayOne.externalSubnetName,
      tenant: dayOne.tenantNetworkName,
      tenantSubnet: dayOne.tenantSubnetName,
      router: dayOne.routerName,
    }).toEqual({
      flavor: "m1.tiny",
      external: "external",
      externalSubnet: "external-subnet",
      tenant: "tenant",
      tenantSubnet: "tenant-subnet",
      router: "router",
    });
  });

  it("installs its script and openstacksdk, and runs the script with admin-openrc in a subshell", () => {
    const text = dayOneStep().scriptText;
    const body = dayOneStep().scriptBody.split("\n");
    expect(body).toContain("osc_apt_install python3-openstacksdk");
    expect(installLine(text, SCRIPT_PATH)).toBe(
      `osc_install_file day_one ${SCRIPT_PATH} root root 0755 <<'OSC_EOF'`,
    );
    expect(fileIn(text, SCRIPT_PATH)).toBe(
      fs.readFileSync(path.join(__dirname, "..", "lib", "services", "day-one.py"), "utf8"),
    );
    expect(body.slice(-3)).toEqual([
      `( set +u; . /root/admin-openrc; python3 ${SCRIPT_PATH} ${SPEC_PATH} )`,
      "osc_step_done",
      "",
    ]);
    expect(componentPackages("debian-12-zed").dayOne).toEqual(["python3-openstacksdk"]);
    expect(componentPackages("ubuntu-2404-caracal").dayOne).toEqual(["python3-openstacksdk"]);
  });

  it("carries no secret: no placeholder in its files, no secret delivered for it", () => {
    const text = dayOneStep().scriptText;
    expect(installLine(text, SPEC_PATH)).toBe(
      `osc_install_file day_one ${SPEC_PATH} root root 0644 <<'OSC_EOF'`,
    );
    expect(dayOneStep().scriptBody).not.toContain("{{secret:");
    expect(dayOneStep().scriptBody).not.toContain("--fill-secrets");
    expect(plainSecrets(fileIn(text, SPEC_PATH))).toEqual([]);
    expect(lab.json.resource.terraform_data.controller1_day_one.triggers_replace?.inputs ?? "").not.toContain(
      "var.",
    );
  });
});

describe("DayOne on its own", () => {
  function build(change: (s: Data) => void = () => undefined): DayOne {
    const stack = new TerraformStack(Testing.app({ outdir: tempDir("day-one-own") }), "own");
    const ctl = new Host(stack, "ctl", { name: "ctl", address: "10.9.0.1", release: UBUNTU_2404_CARACAL });
    const net = new Host(stack, "net", { name: "net", address: "10.9.0.2", release: UBUNTU_2404_CARACAL });
    const agent = net.addStep("agent", net.script("agent").run("true"));
    const settings = JSON.parse(JSON.stringify(labSettings())) as Data;
    change(settings);
    return new DayOne(stack, "day_one", {
      host: ctl,
      settings: settings as unknown as DayOneSettings,
      after: [agent],
    });
  }

  it("waits for steps on other hosts through depends_on", () => {
    const dayOne = build();
    const json = JSON.parse(Testing.synth(dayOne.node.scope as TerraformStack)) as StackJson;
    expect(dependsOn(json, "ctl_day_one")).toEqual(["net_agent"]);
    expect(dayOne.step.scriptBody).toContain("\nosc_apt_install python3-openstacksdk\n");
  });

  /** [what is wrong, the change, the message] */
  const BAD: [string, (s: Data) => void, string][] = [
    [
      "a name with a space",
      (s) => (s.router.name = "my router"),
      "DayOne router.name: got \"my router\": expected a name of letters, digits, '_', '.' and '-', starting with a letter or digit, at most 64 characters",
    ],
    [
      "a name starting with '-'",
      (s) => (s.flavor.name = "-tiny"),
      "DayOne flavor.name: got \"-tiny\": expected a name of letters, digits, '_', '.' and '-', starting with a letter or digit, at most 64 characters",
    ],
    [
      "the same name for both networks",
      (s) => (s.tenant.name = "external"),
      'DayOne tenant.name: got "external": expected a name other than the external network\'s (external.name "external"), compared without case',
    ],
    [
      "no RAM",
      (s) => (s.flavor.ramMiB = 0),
      "DayOne flavor.ramMiB: got 0: expected a whole number from 1 to 2147483647",
    ],
    [
      "half a vCPU",
      (s) => (s.flavor.vcpus = 0.5),
      "DayOne flavor.vcpus: got 0.5: expected a whole number from 1 to 2147483647",
    ],
    [
      "a physnet with a space",
      (s) => (s.external.physnet = "pro vider"),
      "DayOne external.physnet: got \"pro vider\": expected a physical network name such as provider: lowercase letters, digits, '_' and '-', starting with a letter, at most 64 characters",
    ],
    [
      "a CIDR with host bits",
      (s) => (s.external.cidr = "10.212.0.5/24"),
      'DayOne external.cidr: got "10.212.0.5/24": expected its network address (10.212.0.0/24)',
    ],
    [
      "a /31 tenant network",
      (s) => (s.tenant.cidr = "192.168.100.0/31"),
      'DayOne tenant.cidr: got "192.168.100.0/31": expected an IPv4 network in CIDR form with a prefix of at most 30 bits, such as 10.212.0.0/24',
    ],
    [
      "a gateway outside the external network",
      (s) => (s.external.gateway = "10.99.0.1"),
      'DayOne external.gateway: got "10.99.0.1": expected an IPv4 address inside 10.212.0.0/24, not its network or broadcast address',
    ],
    [
      "a pool end on the broadcast address",
      (s) => (s.external.allocationPool.end = "10.212.0.255"),
      'DayOne external.allocationPool.end: got "10.212.0.255": expected an IPv4 address inside 10.212.0.0/24, not its network or broadcast address',
    ],
    [
      "a pool that ends before it starts",
      (s) => (s.external.allocationPool = { start: "10.212.0.199", end: "10.212.0.100" }),
      'DayOne external.allocationPool: got "10.212.0.199-10.212.0.100": expected a start no later than the end',
    ],
    [
      "a pool with the gateway in it",
      (s) => (s.external.allocationPool = { start: "10.212.0.1", end: "10.212.0.50" }),
      'DayOne external.allocationPool: got "10.212.0.1-10.212.0.50": expected a range without the gateway 10.212.0.1',
    ],
    [
      "a tenant network that overlaps the external one",
      (s) => (s.tenant.cidr = "10.212.0.0/16"),
      'DayOne tenant.cidr: got "10.212.0.0/16": expected a network that does not overlap the external network 10.212.0.0/24',
    ],
  ];

  it.each(BAD)("refuses %s in one line", (_what, change, message) => {
    let error: Error | undefined;
    try {
      build(change);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toBe(message);
    expect(error?.message).not.toContain("\n");
  });
});

describe("day-one.py against a fake Keystone, Nova and Neutron", () => {
  const ADMIN_PASSWORD = "Adm1n-from-secrets";
  const work = tempDir("day-one-py");
  const script = path.join(work, "day-one.py");
  const specFile = path.join(work, "day-one.json");
  // The script and the spec as the step writes them.
  fs.writeFileSync(script, fileIn(dayOneStep().scriptText, SCRIPT_PATH));
  fs.writeFileSync(specFile, fileIn(dayOneStep().scriptText, SPEC_PATH));
  let python: string;
  let cloud: FakeNovaNeutron;
  let keystone: FakeKeystone;
  let authUrl: string;

  beforeAll(() => {
    python = pythonWithOpenstack();
  });

  beforeEach(async () => {
    cloud = new FakeNovaNeutron();
    await cloud.start();
    keystone = new FakeKeystone(ADMIN_PASSWORD, cloud.catalog);
    authUrl = await keystone.start();
  });

  afterEach(async () => {
    await cloud.stop();
    await keystone.stop();
  });

  /** The environment `. /root/admin-openrc` gives (Keystone's step writes it), on the fakes. */
  function openrcEnv(): Record<string, string> {
    const keystoneStep = lab.cluster.steps.find((s) => s.logicalId === "controller1_keystone");
    const env: Record<string, string> = {};
    for (const line of fileIn(keystoneStep?.scriptText ?? "", "/root/admin-openrc").split("\n")) {
      const m = /^export (OS_\w+)=(.*)$/.exec(line);
      if (m) env[m[1]] = m[2].replace(/^'(.*)'$/, "$1");
    }
    expect(env.OS_PASSWORD).toBe("{{secret:keystone_admin_password}}");
    return { ...env, OS_PASSWORD: ADMIN_PASSWORD, OS_AUTH_URL: authUrl };
  }

  /** Runs the script as the step does. */
  async function run(): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const home = tempDir("day-one-home");
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, LANG: "C.UTF-8", ...openrcEnv() };
    return runAsync(python, [script, specFile], env);
  }

  async function runOk(): Promise<string> {
    const result = await run();
    if (result.status !== 0) throw new Error(`day-one.py failed (${result.status}):\n${result.stderr}`);
    return result.stdout;
  }

  const find = (collection: string, name: string) => cloud.store[collection].find((i) => i.name === name);

  it("creates the flavor, both networks and subnets, the router, its gateway and interface; then changes nothing", async () => {
    expect(await runOk()).toBe(
      "day one: flavor m1.tiny, network external, subnet external-subnet, network tenant, " +
        "subnet tenant-subnet, router router, gateway of router on external, interface of router on tenant-subnet\n",
    );
    const external = find("networks", "external");
    const tenant = find("networks", "tenant");
    const tenantSubnet = find("subnets", "tenant-subnet");
    const router = find("routers", "router");
    expect(cloud.writes()).toEqual([
      "POST /compute/v2.1/flavors",
      "POST /network/v2.0/networks",
      "POST /network/v2.0/subnets",
      "POST /network/v2.0/networks",
      "POST /network/v2.0/subnets",
      "POST /network/v2.0/routers",
      `PUT /network/v2.0/routers/${router?.id}`,
      `PUT /network/v2.0/routers/${router?.id}/add_router_interface`,
    ]);
    const sent = cloud.requests.filter((r) => r.method !== "GET").map((r) => r.body);
    expect(sent).toEqual([
      {
        flavor: { name: "m1.tiny", vcpus: 1, ram: 128, disk: 1, "os-flavor-access:is_public": true },
      },
      {
        network: {
          name: "external",
          "router:external": true,
          shared: false,
          "provider:network_type": "flat",
          "provider:physical_network": "provider",
        },
      },
      {
        subnet: {
          name: "external-subnet",
          network_id: external?.id,
          ip_version: 4,
          cidr: "10.212.0.0/24",
          gateway_ip: "10.212.0.1",
          enable_dhcp: false,
          allocation_pools: [{ start: "10.212.0.100", end: "10.212.0.199" }],
        },
      },
      // No provider attributes: Neutron's default tenant type (VXLAN), in the admin project.
      { network: { name: "tenant" } },
      {
        subnet: {
          name: "tenant-subnet",
          network_id: tenant?.id,
          ip_version: 4,
          cidr: "192.168.100.0/24",
          gateway_ip: "192.168.100.1",
          enable_dhcp: true,
        },
      },
      // No `ha`: Neutron's l3_ha decides.
      { router: { name: "router" } },
      { router: { external_gateway_info: { network_id: external?.id } } },
      { subnet_id: tenantSubnet?.id },
    ]);
    // Looked up in the admin project only.
    expect(cloud.requests.filter((r) => /\/(networks|routers)\?/.test(r.url)).map((r) => r.url)).toEqual([
      "/network/v2.0/networks?name=external&project_id=p-admin",
      "/network/v2.0/networks?name=tenant&project_id=p-admin",
      "/network/v2.0/routers?name=router&project_id=p-admin",
    ]);
    expect(keystone.logins()).toEqual(["admin"]);

    cloud.clearRequests();
    const second = await run();
    expect(second).toEqual({ status: 0, stdout: "day one: no change\n", stderr: "" });
    expect(cloud.writes()).toEqual([]);
    expect(Object.fromEntries(Object.entries(cloud.store).map(([k, v]) => [k, v.length]))).toEqual({
      flavors: 1,
      networks: 2,
      subnets: 2,
      routers: 1,
      ports: 2,
    });
  });

  it("leaves what exists alone and adds only what is missing: a router without gateway or interface", async () => {
    cloud.add("flavors", { name: "m1.tiny", vcpus: 1, ram: 64, disk: 1 });
    const external = cloud.add("networks", {
      name: "external",
      "router:external": true,
      "provider:network_type": "flat",
      "provider:physical_network": "provider",
    });
    cloud.add("subnets", {
      name: "external-subnet",
      network_id: external.id,
      cidr: "10.212.0.0/24",
      gateway_ip: "10.212.0.1",
      enable_dhcp: false,
      allocation_pools: [{ start: "10.212.0.100", end: "10.212.0.199" }],
    });
    const tenant = cloud.add("networks", { name: "tenant" });
    cloud.add("subnets", { name: "tenant-subnet", network_id: tenant.id, cidr: "192.168.100.0/24" });
    const router = cloud.add("routers", { name: "router" });
    // Someone else's network of the same name, in another project, is not ours.
    cloud.add("networks", { name: "tenant", project_id: "p-other", tenant_id: "p-other" });

    const result = await run();
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      "day one: gateway of router on external, interface of router on tenant-subnet\n",
    );
    // The flavor differs: reported, not changed (a flavor cannot be changed in place).
    expect(result.stderr).toBe(
      "day one: note: flavor m1.tiny has 1 vCPUs, 64 MiB, 1 GiB, not 1, 128, 1: left as it is\n",
    );
    expect(cloud.writes()).toEqual([
      `PUT /network/v2.0/routers/${router.id}`,
      `PUT /network/v2.0/routers/${router.id}/add_router_interface`,
    ]);
  });

  it("fails in one line when a network of the external network's name is not external", async () => {
    cloud.add("networks", { name: "external" });
    const result = await run();
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      "day one: network external exists but is not external: a router's gateway cannot be on it\n",
    );
    expect(cloud.writes()).toEqual(["POST /compute/v2.1/flavors"]);
  });
});
