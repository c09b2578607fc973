import * as fs from "fs";
import * as path from "path";
import { serviceAvailability, tempestConf } from "../lab/tempest/config";
import { CloudFacts } from "../lab/tempest/facts";
import { parseTempestOutput, tempestPassed } from "../lab/tempest/results";
import {
  EXCLUDE_LIST,
  excludeLines,
  releaseExcludeList,
  TEMPEST_SELECTIONS,
  tempestSelection,
  tempestWorkers,
} from "../lab/tempest/run";
import { RELEASE_NAMES } from "../lib/core/releases";

const VIP = "http://10.211.0.10";
/** The control plane as the small lab has it today: no compute or volume worker, no public network. */
const controlPlane: CloudFacts = {
  identityUrl: `${VIP}:5000/v3`,
  region: "RegionOne",
  publicUrls: {
    identity: `${VIP}:5000/v3`,
    image: `${VIP}:9292`,
    placement: `${VIP}:8778`,
    compute: `${VIP}:8774/v2.1`,
    network: `${VIP}:9696`,
    volumev3: `${VIP}:8776/v3/4f6c`,
  },
  computeServicesUp: ["nova-conductor", "nova-scheduler"],
  volumeServicesUp: ["cinder-scheduler"],
  networkExtensions: ["agent", "external-net", "port-security", "router"],
  externalNetworks: [],
  imageImportMethods: ["copy-image", "glance-direct", "web-download"],
  dashboardUrl: `${VIP}/horizon/`,
};
const admin = { username: "admin", password: "pa$sword", projectName: "admin", domainName: "Default" };
const paths = { logDir: "/var/log/t", logFile: "t.log", lockDir: "/var/lock/t" };
/** The one external network, as Neutron lists it. */
const EXT = { id: "ext-1", name: "external" };

/** INI text -> section -> key -> value (keys are unique in tempest.conf). */
function parseIni(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section = "";
  for (const line of text.split("\n")) {
    const header = /^\[(.+)\]$/.exec(line);
    if (header) out[(section = header[1])] = {};
    const kv = /^([^=]+?) = (.*)$/.exec(line);
    if (kv) out[section][kv[1]] = kv[2];
  }
  return out;
}

describe("tempest.conf from the cloud's facts", () => {
  const conf = parseIni(tempestConf(controlPlane, admin, paths));

  it("offers Tempest only the services that can serve their tests", () => {
    expect(serviceAvailability(controlPlane)).toEqual({
      cinder: false, // scheduler only: no cinder-volume
      glance: true,
      horizon: true,
      neutron: true,
      nova: false, // conductor and scheduler only: no nova-compute
      swift: false, // not in the catalog
    });
    expect(conf["service_available"]).toEqual({
      cinder: "false",
      glance: "true",
      horizon: "true",
      neutron: "true",
      nova: "false",
      swift: "false",
    });
    const withVolumes = { ...controlPlane, volumeServicesUp: ["cinder-scheduler", "cinder-volume"] };
    expect(serviceAvailability(withVolumes).cinder).toBe(true);
    const noHorizon = { ...controlPlane, dashboardUrl: undefined };
    expect(parseIni(tempestConf(noHorizon, admin, paths))["dashboard"]).toBeUndefined();
  });

  it("authenticates as the cloud's admin against Keystone v3 on the VIP, with dynamic credentials", () => {
    expect(conf["auth"]).toMatchObject({
      admin_username: "admin",
      admin_project_name: "admin",
      admin_domain_name: "Default",
      use_dynamic_credentials: "true",
      create_isolated_networks: "true",
    });
    // oslo.config would read "$sword" as a variable: a literal dollar is doubled.
    expect(conf["auth"]["admin_password"]).toBe("pa$$sword");
    expect(conf["identity"]).toMatchObject({
      uri_v3: `${VIP}:5000/v3`,
      region: "RegionOne",
      auth_version: "v3",
    });
    expect(conf["identity-feature-enabled"]["api_v2_admin"]).toBe("false");
  });

  it("takes Neutron's extensions and the image import methods as the cloud reports them", () => {
    expect(conf["network-feature-enabled"]["api_extensions"]).toBe("agent,external-net,port-security,router");
    expect(conf["network-feature-enabled"]["port_security"]).toBe("true");
    expect(conf["image-feature-enabled"]["import_image"]).toBe("true");
    const noDirect = { ...controlPlane, imageImportMethods: ["web-download"] };
    expect(parseIni(tempestConf(noDirect, admin, paths))["image-feature-enabled"]["import_image"]).toBe(
      "false",
    );
  });

  it("names the public network only when the cloud has exactly one", () => {
    expect(conf["network"]["public_network_id"]).toBeUndefined();
    expect(conf["network"]["floating_network_name"]).toBeUndefined();
    const one = parseIni(tempestConf({ ...controlPlane, externalNetworks: [EXT] }, admin, paths));
    expect(one["network"]).toMatchObject({ public_network_id: "ext-1", floating_network_name: "external" });
    const two = [
      { id: "a", name: "x" },
      { id: "b", name: "y" },
    ];
    expect(() => tempestConf({ ...controlPlane, externalNetworks: two }, admin, paths)).toThrow(
      /external networks \["a","b"\]: expected at most one/,
    );
  });

  it("logs and locks where it is told, and points at Horizon's login page", () => {
    expect(conf["DEFAULT"]).toMatchObject({ log_dir: "/var/log/t", log_file: "t.log" });
    expect(conf["oslo_concurrency"]["lock_path"]).toBe("/var/lock/t");
    expect(conf["dashboard"]).toEqual({
      dashboard_url: `${VIP}/horizon/`,
      login_url: `${VIP}/horizon/auth/login/`,
    });
    expect(conf["validation"]["run_validation"]).toBe("false");
  });

  it("refuses a cloud with nova-compute up until it has an image and a flavor to boot", () => {
    const compute = { ...controlPlane, computeServicesUp: ["nova-compute", "nova-conductor"] };
    expect(() => tempestConf(compute, admin, paths)).toThrow(
      /nova-compute is up but .*image_ref\/flavor_ref/,
    );
    const refs = { imageRef: "img-1", imageRefAlt: "img-2", flavorRef: "fl-1", flavorRefAlt: "fl-2" };
    const withRefs = parseIni(tempestConf(compute, admin, paths, refs));
    expect(withRefs["service_available"]["nova"]).toBe("true");
    expect(withRefs["compute"]).toMatchObject({
      image_ref: "img-1",
      image_ref_alt: "img-2",
      flavor_ref: "fl-1",
      flavor_ref_alt: "fl-2",
    });
    // No version document answered: no range, rather than a made-up one.
    expect(withRefs["compute"]["max_microversion"]).toBeUndefined();
    const ranged = parseIni(
      tempestConf(
        {
          ...compute,
          computeMicroversions: { min: "2.1", max: "2.96" },
          volumeMicroversions: { min: "3.0", max: "3.70" },
        },
        admin,
        paths,
        refs,
      ),
    );
    expect(ranged["compute"]).toMatchObject({ min_microversion: "2.1", max_microversion: "2.96" });
    expect(ranged["volume"]).toMatchObject({ min_microversion: "3.0", max_microversion: "3.70" });
    // No external network: no floating IP to log in through.
    expect(withRefs["validation"]).toEqual({ run_validation: "false" });
    const reachable = parseIni(tempestConf({ ...compute, externalNetworks: [EXT] }, admin, paths, refs));
    expect(reachable["validation"]).toEqual({
      run_validation: "true",
      connect_method: "floating",
      auth_method: "keypair",
      ip_version_for_ssh: "4",
      image_ssh_user: "root",
      image_alt_ssh_user: "root",
    });
    // Scenario tests upload the guest from the file given, with its properties.
    expect(withRefs["scenario"]).toBeUndefined();
    const image = {
      file: "/w/disk.img",
      diskFormat: "raw",
      containerFormat: "bare",
      properties: { hw_vif_model: "virtio", hw_cdrom_bus: "scsi" },
    };
    expect(parseIni(tempestConf(compute, admin, paths, refs, image))["scenario"]).toEqual({
      img_file: "/w/disk.img",
      img_disk_format: "raw",
      img_container_format: "bare",
      img_properties: "hw_vif_model:virtio,hw_cdrom_bus:scsi",
    });
    // A control plane alone boots nothing to log in to.
    const noCompute = parseIni(tempestConf({ ...controlPlane, externalNetworks: [EXT] }, admin, paths));
    expect(noCompute["validation"]).toEqual({ run_validation: "false" });
  });

  it("refuses a password with a line break (it would end the INI value)", () => {
    expect(() => tempestConf(controlPlane, { ...admin, password: "a\nb" }, paths)).toThrow(/line break/);
  });
});

describe("tempest run output", () => {
  const output = [
    "{0} tempest.api.identity.admin.v3.test_users.UsersV3TestJSON.test_get_user [0.412s] ... ok",
    "{1} tempest.api.identity.admin.v3.test_roles.RolesV3TestJSON.test_role_create_update_show_list[id-18afc6c0] [1.207s] ... FAILED",
    "{1} setUpClass (tempest.api.network.admin.test_dhcp_agent_scheduler.DHCPAgentSchedulersTestJSON) ... FAILED",
    "{0} tempest.api.image.v2.test_images.ImportImagesTest.test_image_import [0.000000s] ... SKIPPED: not enabled",
    "",
    "==============================",
    "Failed 2 tests - output below:",
    "==============================",
    "",
    "======",
    "Totals",
    "======",
    "Ran: 4 tests in 36.5310 sec.",
    " - Passed: 1",
    " - Skipped: 1",
    " - Expected Fail: 0",
    " - Unexpected Success: 0",
    " - Failed: 2",
    "Sum of execute time for each test: 1.6190 sec.",
  ].join("\n");

  it("reads the totals and the failed tests, setUpClass failures included", () => {
    const s = parseTempestOutput(output);
    expect(s).toEqual({
      ran: 4,
      seconds: 36.531,
      passed: 1,
      skipped: 1,
      failed: 2,
      expectedFail: 0,
      unexpectedSuccess: 0,
      failures: [
        "tempest.api.identity.admin.v3.test_roles.RolesV3TestJSON.test_role_create_update_show_list[id-18afc6c0]",
        "setUpClass (tempest.api.network.admin.test_dhcp_agent_scheduler.DHCPAgentSchedulersTestJSON)",
      ],
    });
    expect(tempestPassed(s)).toBe(false);
  });

  it("passes only a run that ran tests and failed none", () => {
    const clean = output.replace(" - Failed: 2", " - Failed: 0").replace(/^.*FAILED$/gm, "");
    expect(tempestPassed(parseTempestOutput(clean))).toBe(true);
    const none = clean.replace("Ran: 4 tests", "Ran: 0 tests");
    expect(tempestPassed(parseTempestOutput(none))).toBe(false);
    // A run that died before its totals is a failure, not a pass.
    expect(parseTempestOutput(output.slice(0, output.indexOf("Totals")))).toBeUndefined();
    expect(tempestPassed(undefined)).toBe(false);
  });
});

describe("the Tempest selection and its exclusion list", () => {
  it("full selects the smoke tests and the identity, image and network API suites", () => {
    const re = new RegExp(TEMPEST_SELECTIONS.full);
    expect(re.test("tempest.api.identity.admin.v3.test_users.UsersV3TestJSON.test_get_user[id-1]")).toBe(
      true,
    );
    expect(re.test("tempest.api.image.v2.test_images.BasicOperationsImagesTest.test_x[id-2]")).toBe(true);
    expect(re.test("tempest.api.network.test_ports.PortsTestJSON.test_x[id-3]")).toBe(true);
    expect(re.test("tempest.api.compute.servers.test_create_server.ServersTestJSON.test_x[id-4,smoke]")).toBe(
      true,
    );
    expect(re.test("tempest.api.compute.servers.test_create_server.ServersTestJSON.test_x[id-4]")).toBe(
      false,
    );
    expect(re.test("tempest.api.volume.test_volumes_get.VolumesGetTest.test_x[id-5,slow]")).toBe(false);
  });

  it("ci selects the smoke tests that boot no guest, in their IPv4 classes, and nothing else", () => {
    const re = new RegExp(TEMPEST_SELECTIONS.ci);
    const ids: [string, boolean][] = [
      ["tempest.api.identity.admin.v3.test_groups.GroupsV3TestJSON.test_x[id-1,smoke]", true],
      ["tempest.api.network.test_routers.RoutersTest.test_x[id-2,smoke]", true],
      ["tempest.api.compute.flavors.test_flavors.FlavorsV2TestJSON.test_get_flavor[id-3,smoke]", true],
      ["tempest.api.volume.test_volumes_get.VolumesGetTest.test_x[id-4,smoke]", true],
      // Not smoke: left to the full selection.
      ["tempest.api.network.test_ports.PortsTestJSON.test_x[id-5]", false],
      ["tempest.api.identity.admin.v3.test_users.UsersV3TestJSON.test_get_user[id-6]", false],
      // They boot the guest: verify's vm-* checks boot it in the same run.
      ["tempest.api.compute.servers.test_create_server.ServersTestJSON.test_x[id-7,smoke]", false],
      [
        "tempest.scenario.test_network_basic_ops.TestNetworkBasicOps.test_x[compute,id-8,network,smoke]",
        false,
      ],
      // The IPv6 classes repeat their IPv4 parents' tests on IPv6 subnets.
      ["tempest.api.network.test_routers.RoutersIpV6Test.test_x[id-9,smoke]", false],
      ["tempest.api.network.test_security_groups.SecGroupIPv6Test.test_x[id-10,smoke]", false],
      ["tempest.api.network.test_ports.PortsIpV6TestJSON.test_x[id-11,smoke]", false],
      ["tempest.api.network.test_networks.NetworksTest.test_list_networks[id-12,smoke]", true],
    ];
    expect(ids.map(([id]) => [id, re.test(id)])).toEqual(ids);
    // Everything ci runs, full runs too.
    const full = new RegExp(TEMPEST_SELECTIONS.full);
    for (const [id, selected] of ids)
      if (selected) expect({ id, full: full.test(id) }).toEqual({ id, full: true });
  });

  it("compute selects the compute and volume API suites and the basic scenarios", () => {
    const re = new RegExp(TEMPEST_SELECTIONS.compute);
    const ids: [string, boolean][] = [
      ["tempest.api.compute.servers.test_create_server.ServersTestJSON.test_x[id-1]", true],
      ["tempest.api.compute.admin.test_migrations.MigrationsAdminTest.test_x[id-2]", true],
      ["tempest.api.volume.test_volumes_get.VolumesGetTest.test_x[id-3,smoke]", true],
      ["tempest.scenario.test_server_basic_ops.TestServerBasicOps.test_server_basic_ops[id-4,smoke]", true],
      ["tempest.scenario.test_network_basic_ops.TestNetworkBasicOps.test_x[id-5]", true],
      ["tempest.scenario.test_minimum_basic.TestMinimumBasicScenario.test_x[id-6]", true],
      // Other scenarios and suites: not basic, or not compute and volume.
      ["tempest.scenario.test_network_advanced_server_ops.TestNetworkAdvancedServerOps.test_x[id-7]", false],
      ["tempest.scenario.test_volume_boot_pattern.TestVolumeBootPattern.test_x[id-8]", false],
      ["tempest.api.network.test_ports.PortsTestJSON.test_x[id-9,smoke]", false],
      ["tempest.api.image.v2.test_images.BasicOperationsImagesTest.test_x[id-10]", false],
    ];
    expect(ids.map(([id]) => [id, re.test(id)])).toEqual(ids);
  });

  it("names a selection or refuses in one line", () => {
    expect(tempestSelection("ci")).toBe("ci");
    expect(() => tempestSelection("smoke")).toThrow(
      'tempest selection: got "smoke", expected one of full, ci, compute',
    );
    expect(() => tempestSelection("toString")).toThrow(/expected one of full, ci/);
  });

  const entries = (text: string) =>
    text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
  const lines = RELEASE_NAMES.flatMap((release) => entries(excludeLines(release)));

  it("has entries (a list that parses to nothing would exclude nothing and test nothing)", () => {
    expect(entries(fs.readFileSync(EXCLUDE_LIST, "utf8")).length).toBeGreaterThan(0);
  });

  it("joins every release's list with the release's own, and has no list for a release that does not exist", () => {
    const common = entries(fs.readFileSync(EXCLUDE_LIST, "utf8"));
    for (const release of RELEASE_NAMES) {
      const own = fs.existsSync(releaseExcludeList(release))
        ? entries(fs.readFileSync(releaseExcludeList(release), "utf8"))
        : [];
      expect(entries(excludeLines(release))).toEqual([...common, ...own]);
    }
    expect(entries(excludeLines("debian-13-epoxy"))).toContain(
      String.raw`^tempest\.api\.image\.v2\.admin\.test_image_task\.ImageTaskCreate\.test_task_create_fake_image_location  # Glance 30 refuses the task's made-up URI at creation (import filter, 400); Tempest 43 expects a task that fails later`,
    );
    const lists = fs.readdirSync(path.dirname(EXCLUDE_LIST)).filter((f) => /^exclude-.*\.txt$/.test(f));
    expect(
      lists
        .map((f) => f.slice("exclude-".length, -".txt".length))
        .every((r) => (RELEASE_NAMES as readonly string[]).includes(r)),
    ).toBe(true);
  });

  it("gives every excluded test a reason, and excludes a class or a test, never a suite", () => {
    for (const line of lines) {
      const [regex, ...reason] = line.split("#");
      expect({ line, reason: reason.join("#").trim().length >= 20 }).toEqual({ line, reason: true });
      const pattern = regex.trim();
      expect(() => new RegExp(pattern)).not.toThrow();
      // Anchored, and naming a module, a class in it and at most one test: nothing broader.
      const dotted = pattern.replace(/\\\./g, ".");
      const narrow = /^\^tempest\.(api\.[\w.]+|scenario)\.test_\w+\.[A-Z]\w+(\.test_\w+)?$/.test(dotted);
      expect({ pattern, narrow }).toEqual({ pattern, narrow: true });
      expect(pattern).not.toMatch(/\.\*/);
    }
  });
});

describe("Tempest's workers", () => {
  test("four for the small layout, two once the lab's hosts crowd the machine's cores", () => {
    expect([1, 4, 5, 8, 12].map(tempestWorkers)).toEqual([4, 4, 2, 2, 2]);
  });
});
