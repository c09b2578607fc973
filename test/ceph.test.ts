/**
 * Ceph RBD volumes in the small lab layout (examples/lab-small.yaml): CephCluster's steps and
 * their order, ceph.conf, the keyrings (placeholders only, modes, who gets which secret), the
 * OSD on a file or a disk, cinder's rbd backend and libvirt's secret with the same UUID, the
 * monitors' choice, the construct's own refusals, and shellcheck over every script it adds.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { TerraformStack, Testing } from "cdktf";
import { parseInventory } from "../lib/cluster/inventory";
import { OpenStackCluster } from "../lib/cluster/openstack-cluster";
import { DEBIAN_12_ZED } from "../lib/core/releases";
import { Host } from "../lib/hosts/host";
import { CephCluster, CephClusterProps, chooseMonitors, osdBlockClaim } from "../lib/platform/ceph-cluster";
import { dependsOn, fileIn, iniSection, installLine, labSmall, stepScript } from "./service-helpers";
import { EXAMPLES_DIR, LAB_SMALL_EXAMPLE, readYaml, StackJson, tempDir } from "./support";

const CEPH_STEPS = [
  "controller1_ceph_mon",
  "controller2_ceph_mon",
  "compute1_ceph_mon",
  "compute1_ceph_osd",
  "controller1_ceph_pools",
  "compute1_ceph_libvirt_secret",
];

function hostOf(cluster: OpenStackCluster, name: string): Host {
  const host = cluster.hosts.find((h) => h.hostName === name);
  if (!host) throw new Error(`no host ${name}`);
  return host;
}

function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{\{secret:([a-z0-9_]+)\}\}/g)].map((m) => m[1]))].sort();
}

describe("Ceph in the small lab layout", () => {
  let cluster: OpenStackCluster;
  let json: StackJson;
  beforeAll(() => {
    ({ cluster, json } = labSmall());
  });
  const script = (id: string) => stepScript(cluster, id);

  it("puts three monitors on the controllers and the storage host, managers on the controllers, an OSD on the storage host", () => {
    const ids = cluster.steps.map((s) => s.logicalId).filter((id) => id.includes("ceph"));
    expect(ids.sort()).toEqual([...CEPH_STEPS].sort());
    const conf = fileIn(script("controller1_ceph_mon"), "/etc/ceph/ceph.conf");
    expect(iniSection(conf, "global")).toMatchObject({
      fsid: cluster.ceph?.fsid,
      mon_initial_members: "controller1, controller2, compute1",
      mon_host:
        "[v2:10.211.0.11:3300,v1:10.211.0.11:6789],[v2:10.211.0.12:3300,v1:10.211.0.12:6789],[v2:10.211.0.21:3300,v1:10.211.0.21:6789]",
      public_network: "10.211.0.0/24",
      auth_cluster_required: "cephx",
      auth_allow_insecure_global_id_reclaim: "false",
      // One OSD: one replica, which Ceph must be told to allow.
      osd_pool_default_size: "1",
      osd_pool_default_min_size: "1",
      mon_allow_pool_size_one: "true",
    });
    expect(iniSection(conf, "osd")).toEqual({ osd_memory_target: String(1024 * 1024 * 1024) });
    expect(script("controller1_ceph_mon")).toContain("osc_restart_if_changed ceph_mon ceph-mgr@controller1");
    expect(script("compute1_ceph_mon")).not.toContain("ceph-mgr");
  });

  it("orders them: OSD after every monitor, pools after the OSD, cinder-volume after the pools, qemu's key after nova-compute", () => {
    const monitors = ["controller1_ceph_mon", "controller2_ceph_mon", "compute1_ceph_mon"];
    expect(dependsOn(json, "compute1_ceph_osd")).toEqual(expect.arrayContaining(monitors));
    expect(dependsOn(json, "controller1_ceph_pools")).toEqual(
      expect.arrayContaining([...monitors, "compute1_ceph_osd"]),
    );
    expect(dependsOn(json, "compute1_cinder_volume")).toContain("controller1_ceph_pools");
    // On the storage host the Ceph steps come after its OpenStack services: they wait for the controllers.
    const compute1 = hostOf(cluster, "compute1").steps.map((s) => s.logicalId);
    expect(compute1.indexOf("compute1_ceph_mon")).toBeGreaterThan(compute1.indexOf("compute1_swift_storage"));
    expect(compute1.indexOf("compute1_ceph_libvirt_secret")).toBeGreaterThan(
      compute1.indexOf("compute1_nova_compute"),
    );
    // Packages early, with the storage host's others.
    expect(script("compute1_storage_packages")).toMatch(/^osc_apt_install .*\bceph-osd\b.*$/m);
    expect(script("compute1_storage_packages")).toMatch(/^osc_apt_install .*\bpython3-rbd\b.*$/m);
  });

  it("keeps keys out of the scripts: placeholders in root- or ceph-only keyrings, the OSD's key on stdin", () => {
    const mon = script("controller1_ceph_mon");
    expect(installLine(mon, "/etc/ceph/ceph.client.admin.keyring")).toContain(
      " root root 0600 --fill-secrets",
    );
    expect(installLine(mon, "/var/lib/ceph/tmp/mon-bootstrap.keyring")).toContain(
      " ceph ceph 0600 --fill-secrets",
    );
    expect(placeholders(fileIn(mon, "/var/lib/ceph/tmp/mon-bootstrap.keyring"))).toEqual([
      "ceph_admin_key",
      "ceph_bootstrap_osd_key",
      "ceph_mgr_key",
      "ceph_mon_key",
    ]);
    const osd = script("compute1_ceph_osd");
    expect(osd).toContain(
      `printf '{"cephx_secret": "%s"}' "$(cat /var/lib/ceph/osd/openstack-cdktf-osd.key)" | ceph`,
    );
    expect(osd).not.toContain("ceph.client.admin.keyring");
    const pools = script("controller1_ceph_pools");
    expect(fileIn(pools, "/etc/ceph/openstack-cdktf.clients.keyring")).toBe(
      '[client.cinder]\n\tkey = {{secret:ceph_cinder_key}}\n\tcaps mon = "profile rbd"\n\tcaps osd = "profile rbd pool=volumes"\n',
    );
    const volume = script("compute1_cinder_volume");
    expect(installLine(volume, "/etc/ceph/ceph.client.cinder.keyring")).toContain(
      " root cinder 0640 --fill-secrets",
    );
    for (const id of CEPH_STEPS) expect(script(id)).not.toMatch(/key = (?!\{\{secret:)/);
    // The compute host gets the client's key (for libvirt) and none of the cluster's own keys.
    const delivered = hostOf(cluster, "compute1").secretsDelivered;
    expect(delivered).toEqual(expect.arrayContaining(["ceph_cinder_key", "ceph_admin_key"]));
    expect(hostOf(cluster, "network1").secretsDelivered.filter((s) => s.startsWith("ceph_"))).toEqual([]);
  });

  it("makes the OSD's file once, sparse, and BlueStore on it once (a re-run finds `ready`)", () => {
    const osd = script("compute1_ceph_osd");
    expect(osd).toContain(
      "if [ ! -e /var/lib/ceph/osd-block.img ]; then install -d -m 0750 /var/lib/ceph; truncate -s 8G /var/lib/ceph/osd-block.img; fi",
    );
    expect(osd).toContain('if [ ! -e "$osd_dir/ready" ]; then');
    expect(osd).toContain(
      'runuser -u ceph -- ceph-osd --cluster ceph -i "$osd_id" --mkfs --osd-uuid "$osd_uuid"',
    );
    expect(osd).toContain('osc_restart_if_changed ceph_osd "ceph-osd@$osd_id"');
  });

  it("gives cinder's rbd backend the UUID of the libvirt secret that holds the same client's key", () => {
    const volume = script("compute1_cinder_volume");
    const backend = iniSection(fileIn(volume, "/etc/cinder/cinder.conf"), "ceph");
    const uuid = cluster.ceph?.client("cinder").libvirtSecretUuid;
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(backend).toMatchObject({
      volume_driver: "cinder.volume.drivers.rbd.RBDDriver",
      rbd_pool: "volumes",
      rbd_user: "cinder",
      rbd_secret_uuid: uuid,
      rbd_ceph_conf: "/etc/ceph/ceph.conf",
    });
    const secret = script("compute1_ceph_libvirt_secret");
    expect(fileIn(secret, "/etc/ceph/libvirt-secret-cinder.xml")).toContain(`<uuid>${uuid}</uuid>`);
    expect(secret).toContain(
      `virsh secret-set-value --secret ${uuid} --file "$OSC_SECRETS_DIR/ceph_cinder_key"`,
    );
    expect(secret).toMatch(/^osc_apt_install qemu-block-extra$/m);
    // One writer of ceph.conf per host: the storage host's first Ceph step; later ones keep a copy.
    expect(volume).not.toContain("osc_install_file cinder_volume /etc/ceph/ceph.conf ");
    expect(volume).toContain("osc_install_file cinder_volume /var/lib/ceph/cinder_volume.ceph.conf ");
  });

  it("keeps the fsid and the libvirt UUID when synthesized again, and changes them with the cluster's name", () => {
    const again = labSmall().cluster.ceph;
    expect(again?.fsid).toBe(cluster.ceph?.fsid);
    const data = readYaml(LAB_SMALL_EXAMPLE);
    data.cluster = "other";
    const other = new OpenStackCluster(new TerraformStack(Testing.app(), "t"), "cluster", {
      inventory: parseInventory(data, LAB_SMALL_EXAMPLE, EXAMPLES_DIR),
    });
    expect(other.ceph?.fsid).not.toBe(cluster.ceph?.fsid);
  });

  it("passes shellcheck in every script it adds", () => {
    const dir = tempDir("ceph-shellcheck");
    const files = [...CEPH_STEPS, "compute1_cinder_volume"].map((id) => {
      const file = path.join(dir, `${id}.sh`);
      fs.writeFileSync(file, script(id));
      return file;
    });
    const check = spawnSync("shellcheck", ["--format=gcc", "--severity=style", ...files], {
      encoding: "utf8",
    });
    expect(`${check.stdout}${check.stderr}`).toBe("");
    expect(check.status).toBe(0);
  });
});

describe("Ceph in the 8-host lab layout", () => {
  it("has three replicas over four OSDs, a pool that serves with one lost, and no size-one exception", () => {
    const data = readYaml(path.join(EXAMPLES_DIR, "lab-furyu-8-node.yaml"));
    const cluster = new OpenStackCluster(new TerraformStack(Testing.app(), "t"), "cluster", {
      inventory: parseInventory(data, "lab-furyu-8-node.yaml", EXAMPLES_DIR),
    });
    const conf = fileIn(stepScript(cluster, "controller1_ceph_mon"), "/etc/ceph/ceph.conf");
    expect(iniSection(conf, "global")).toMatchObject({
      mon_initial_members: "controller1, controller2, compute1",
      osd_pool_default_size: "3",
      osd_pool_default_min_size: "2",
    });
    expect(conf).not.toContain("mon_allow_pool_size_one");
    const osds = cluster.steps.map((s) => s.logicalId).filter((id) => id.endsWith("_ceph_osd"));
    expect(osds).toEqual([
      "compute1_ceph_osd",
      "compute2_ceph_osd",
      "compute3_ceph_osd",
      "compute4_ceph_osd",
    ]);
  });
});

describe("chooseMonitors", () => {
  it.each([
    [
      ["c1", "c2"],
      ["s1", "s2"],
      ["c1", "c2", "s1"],
    ],
    [["c1", "c2"], ["s1"], ["c1", "c2", "s1"]],
    [["c1", "c2"], [], ["c1"]],
    [["c1"], ["s1"], ["c1"]],
    [["c1"], ["c1"], ["c1"]],
    [["c1", "c2", "c3"], ["s1"], ["c1", "c2", "c3"]],
    [
      ["c1", "c2"],
      ["c2", "s1"],
      ["c1", "c2", "s1"],
    ],
  ])("controllers %j, storage %j: %j", (controllers, storage, expected) => {
    expect(chooseMonitors(controllers, storage)).toEqual(expected);
  });
});

describe("CephCluster's own refusals", () => {
  const hosts = () => {
    const stack = new TerraformStack(Testing.app(), "t");
    const make = (name: string, address: string) =>
      new Host(stack, name, { name, address, release: DEBIAN_12_ZED, privateKeyFile: "/dev/null" });
    return { stack, a: make("a", "10.0.0.1"), b: make("b", "10.0.0.2"), c: make("c", "10.0.0.3") };
  };
  const base = (h: ReturnType<typeof hosts>) => ({
    clusterName: "t",
    monitors: [h.a],
    managers: [h.a],
    osds: [{ host: h.b, osd: { file: "/var/lib/ceph/osd.img", sizeGiB: 4 } }],
    publicNetwork: "10.0.0.0/24",
    pools: ["volumes"],
    clients: [{ name: "cinder", secret: "ceph_cinder_key", pools: ["volumes"] }],
  });

  type Refusal = [string, (h: ReturnType<typeof hosts>) => Partial<CephClusterProps>, RegExp];
  it.each<Refusal>([
    [
      "two monitors",
      (h: ReturnType<typeof hosts>) => ({ monitors: [h.a, h.b] }),
      /monitors: got 2 \(a, b\): expected an odd number$/,
    ],
    [
      "a manager that is no monitor",
      (h: ReturnType<typeof hosts>) => ({ managers: [h.c] }),
      /managers: got c: expected one of the monitors$/,
    ],
    ["no OSD", () => ({ osds: [] }), /osds: got none: expected at least one storage host$/],
    [
      "an OSD file with a shell word",
      (h: ReturnType<typeof hosts>) => ({ osds: [{ host: h.b, osd: { file: "/x/$(id)", sizeGiB: 4 } }] }),
      /osd of b: file: got "\/x\/\$\(id\)": expected an absolute file path/,
    ],
    ...[
      "/etc/shadow",
      "/etc/ceph/ceph.conf",
      "/var/lib/ceph/osd/ceph-0/block",
      "/srv/node/swift/osd.img",
      "/dev/vda",
    ].map(
      (file) =>
        [
          `an OSD file at ${file}, where the library may not format`,
          (h: ReturnType<typeof hosts>) => ({ osds: [{ host: h.b, osd: { file, sizeGiB: 4 } }] }),
          /osd of b: file: got ".*": expected .* under \/var\/lib\/ceph\/ \(outside its daemons' folders/,
        ] as Refusal,
    ),
    [
      "a pool name with a capability in it",
      () => ({ pools: ["volumes, allow *"] }),
      /got name "volumes, allow \*": expected lowercase/,
    ],
    [
      "a client of a pool that is not made",
      () => ({ clients: [{ name: "cinder", secret: "ceph_cinder_key", pools: ["images"] }] }),
      /client cinder: got pool images: expected one of the pools$/,
    ],
    [
      "pgNum not a power of two",
      () => ({ pgNum: 48 }),
      /pgNum: got 48: expected a power of two from 1 to 4096$/,
    ],
  ])("refuses %s with one line", (_name, change, message) => {
    const h = hosts();
    expect(() => new CephCluster(h.stack, "ceph", { ...base(h), ...change(h) })).toThrow(message);
  });

  it("places its steps once, and says so when asked for the pools before", () => {
    const h = hosts();
    const ceph = new CephCluster(h.stack, "ceph", base(h));
    expect(() => ceph.poolsStep).toThrow(/poolsStep: not placed yet: call place\(\) first$/);
    const first = ceph.place();
    expect(ceph.place()).toBe(first);
    expect(ceph.poolsStep).toBe(first.pools);
    expect(h.b.steps.map((s) => s.logicalId)).toEqual(expect.arrayContaining(["b_ceph_osd"]));
  });
});

describe("the OSD's disk guard, run by bash as the ceph_osd step runs it", () => {
  /** Runs the guard for `osd` with `root` as /var/lib/ceph/osd; returns the exit code and stderr. */
  function guard(
    root: string,
    osd: Parameters<typeof osdBlockClaim>[1],
  ): { code: number | null; stderr: string } {
    const script = `set -euo pipefail\n${osdBlockClaim("cmp1", osd, root)}\necho guarded\n`;
    const run = spawnSync("bash", ["-c", script], { encoding: "utf8" });
    if (run.status === 0) expect(run.stdout).toBe("guarded\n");
    return { code: run.status, stderr: run.stderr };
  }
  const claimOf = (root: string) => fs.readFileSync(path.join(root, "openstack-cdktf-osd.block"), "utf8");

  it("claims a file that is not there yet, and a re-run (the file made since) keeps its claim", () => {
    const root = tempDir("osd-root");
    const file = path.join(root, "..", `${path.basename(root)}-osd.img`);
    expect(guard(root, { file, sizeGiB: 2 })).toEqual({ code: 0, stderr: "" });
    expect(claimOf(root)).toBe(`${file}\n`);
    fs.writeFileSync(file, "BlueStore made here");
    expect(guard(root, { file, sizeGiB: 2 })).toEqual({ code: 0, stderr: "" });
  });

  it("refuses a file that exists and was never claimed, and leaves it as it was", () => {
    const root = tempDir("osd-root");
    const file = path.join(tempDir("someone"), "shadow");
    fs.writeFileSync(file, "root:$y$...:19000:0:99999:7:::\n");
    const result = guard(root, { file, sizeGiB: 2 });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `Ceph OSD of cmp1: file ${file}: exists and was not made by openstack-cdktf: expected a path where nothing is (remove it by hand if its data may go)\n`,
    );
    expect(fs.readFileSync(file, "utf8")).toBe("root:$y$...:19000:0:99999:7:::\n");
    expect(fs.existsSync(path.join(root, "openstack-cdktf-osd.block"))).toBe(false);
  });

  it("adopts the file an OSD of a cloud built before the claim links to, and refuses moving the OSD", () => {
    const root = tempDir("osd-root");
    const file = path.join(tempDir("ceph"), "osd-block.img");
    fs.writeFileSync(file, "BlueStore");
    fs.mkdirSync(path.join(root, "ceph-3"));
    fs.symlinkSync(file, path.join(root, "ceph-3", "block"));
    expect(guard(root, { file, sizeGiB: 8 })).toEqual({ code: 0, stderr: "" });
    expect(claimOf(root)).toBe(`${file}\n`);
    const moved = guard(root, { file: `${file}.new`, sizeGiB: 8 });
    expect(moved.code).toBe(1);
    expect(moved.stderr).toBe(
      `Ceph OSD of cmp1: file ${file}.new: this host's OSD is on ${file}: expected the same (moving an OSD would leave its data behind)\n`,
    );
  });

  describe("on real block devices (loop devices over files)", () => {
    const attached: string[] = [];
    /** A loop device over a 16 MiB file; `mkfs` puts an ext4 filesystem on it first. */
    function loopDevice(mkfs: boolean): string {
      const image = path.join(tempDir("disk"), "disk.img");
      fs.writeFileSync(image, Buffer.alloc(16 * 1024 * 1024));
      if (mkfs) expect(spawnSync("mkfs.ext4", ["-q", "-F", image]).status).toBe(0);
      const losetup = spawnSync("losetup", ["--find", "--show", image], { encoding: "utf8" });
      expect(losetup.stderr).toBe("");
      const device = losetup.stdout.trim();
      attached.push(device);
      return device;
    }
    afterAll(() => {
      for (const device of attached) spawnSync("losetup", ["-d", device]);
    });

    it("refuses a disk with a filesystem, claims an empty one, and refuses what is no block device", () => {
      const used = loopDevice(true);
      const root = tempDir("osd-root");
      const refused = guard(root, { device: used });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        new RegExp(`^Ceph OSD of cmp1: device ${used}: holds data \\(blkid -p finds`),
      );
      expect(fs.existsSync(path.join(root, "openstack-cdktf-osd.block"))).toBe(false);

      const empty = loopDevice(false);
      expect(guard(root, { device: empty })).toEqual({ code: 0, stderr: "" });
      expect(claimOf(root)).toBe(`${empty}\n`);
      // Once BlueStore is on it (blkid would now find it), the claim is what lets the re-run through.
      expect(guard(root, { device: empty })).toEqual({ code: 0, stderr: "" });

      const notBlock = guard(tempDir("osd-root"), { device: "/dev/null" });
      expect(notBlock).toEqual({
        code: 1,
        stderr:
          "Ceph OSD of cmp1: device /dev/null: not a block device: expected the disk the inventory names\n",
      });
    });
  });
});
