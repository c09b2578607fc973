/**
 * cinder-volume on the storage hosts: the seed's LVM backends (cinder.conf, packages, the volume
 * group check run in bash, the iSCSI target, order, secrets), a layout with storage on the
 * controllers and a storage-only host with two LIO backends, Ubuntu's names, hosts without
 * backends, Host's own checks, and shellcheck and a terraform plan with canary values over them.
 */
import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { TerraformStack, Testing } from "cdktf";
import { Inventory, parseInventory } from "../lib/cluster/inventory";
import { OpenStackCluster } from "../lib/cluster/openstack-cluster";
import { DEBIAN_12_ZED } from "../lib/core/releases";
import { SECRET_CATALOG } from "../lib/cluster/components";
import { secretVariableName } from "../lib/core/secrets-file";
import { Step } from "../lib/core/step";
import { Host } from "../lib/hosts/host";
import { StorageNode } from "../lib/hosts/storage-node";
import { VolumeBackendSpec } from "../lib/services/volume-backends";
import { dependsOn, fileIn, installLine, plainSecrets } from "./service-helpers";
import {
  EXAMPLES_DIR,
  ini,
  LAB_SMALL_EXAMPLE,
  listFiles,
  readYaml,
  SEED_EXAMPLE,
  sshKey,
  StackJson,
  synthJson,
  synthToDir,
  tempDir,
  terraform,
} from "./support";

const CINDER_CONF = "/etc/cinder/cinder.conf";
const TGT_SNIPPET = "/etc/tgt/conf.d/cinder_tgt.conf";
const TGT_DROP_IN = "/etc/systemd/system/tgt.service.d/openstack-cdktf.conf";
const SEED_VIP = "192.168.10.10";
const LAB_VIP = "10.211.0.10";

/** The `{{secret:NAME}}` placeholders of a text, sorted. */
function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{\{secret:([a-z0-9_]+)\}\}/g)].map((m) => m[1]))].sort();
}

/** A script's commands: its lines without comments and without the files' contents (heredocs). */
function commands(script: string): string[] {
  const out: string[] = [];
  let heredoc: string | undefined;
  for (const line of script.split("\n")) {
    if (heredoc !== undefined) {
      if (line === heredoc) heredoc = undefined;
      continue;
    }
    if (line === "" || line.startsWith("#")) continue;
    out.push(line);
    heredoc = /<<'(\w+)'$/.exec(line)?.[1];
  }
  return out;
}

/** The secret variables an expression refers to, sorted. */
function secretVars(expression: string | undefined): string[] {
  return [...new Set([...(expression ?? "").matchAll(/var\.secret_([a-z0-9_]+)/g)].map((m) => m[1]))].sort();
}

function stepOf(cluster: OpenStackCluster, id: string): Step {
  const step = cluster.steps.find((s) => s.logicalId === id);
  if (!step) throw new Error(`no step ${id}`);
  return step;
}

function hostOf(cluster: OpenStackCluster, name: string): Host {
  const host = cluster.hosts.find((h) => h.hostName === name);
  if (!host) throw new Error(`no host ${name}`);
  return host;
}

function synth(inventory: Inventory): { cluster: OpenStackCluster; json: StackJson } {
  const { stack, json } = synthJson(inventory);
  return { cluster: stack.cluster, json };
}

const LVM = { name: "lvm-1", driver: "lvm", volumeGroup: "cinder-volumes" };
const LIO_BACKENDS = [
  { name: "fast", driver: "lvm", volumeGroup: "ssd+vg_1.a", targetHelper: "lioadm" },
  { name: "slow", driver: "lvm", volumeGroup: "hdd", targetHelper: "lioadm" },
];

/**
 * lab-small's networks with storage on both controllers (the inventory's default backend), a
 * compute host without storage, and a storage-only host with two LIO backends of its own.
 */
function storageLayoutData(): Record<string, unknown> {
  const data = readYaml(LAB_SMALL_EXAMPLE);
  delete data.ceph;
  data.cluster = "storagelayout";
  data.volumeBackends = [LVM];
  data.hosts = [
    { name: "controller1", address: "10.211.0.11", roles: ["controller", "storage"] },
    { name: "controller2", address: "10.211.0.12", roles: ["controller", "storage"] },
    { name: "compute1", address: "10.211.0.21", tunnelAddress: "10.213.0.21", roles: ["compute"] },
    { name: "storage1", address: "10.211.0.41", roles: ["storage"], volumeBackends: LIO_BACKENDS },
    { name: "network1", address: "10.211.0.31", tunnelAddress: "10.213.0.31", roles: ["network"] },
  ];
  return data;
}

function storageLayout(): Inventory {
  return parseInventory(storageLayoutData(), "storage-layout.yaml", EXAMPLES_DIR);
}

describe("cinder-volume on the seed's storage hosts (an LVM backend each, tgtadm)", () => {
  const { cluster, json } = synth(parseInventory(readYaml(SEED_EXAMPLE), SEED_EXAMPLE, EXAMPLES_DIR));
  const storageHosts = cluster.hostsWithRole("storage");
  const text = (id: string) => stepOf(cluster, id).scriptText;
  const body = (id: string) => stepOf(cluster, id).scriptBody;

  it("installs the packages early, and starts cinder-volume after the controllers' Cinder and the message bus", () => {
    expect(storageHosts.map((h) => h.hostName)).toEqual(["compute1", "compute2", "compute3", "compute4"]);
    expect(cluster.cinder.volumeStepList.map((s) => s.logicalId)).toEqual(
      storageHosts.map((h) => `${h.hostName}_cinder_volume`),
    );
    for (const host of storageHosts) {
      const name = host.hostName;
      // The packages need only the host's own earlier steps (they come before the compute ones).
      expect(dependsOn(json, `${name}_storage_packages`)).toEqual([`${name}_base`]);
      expect(body(`${name}_storage_packages`)).toBe(
        "# The storage role's packages, early.\nosc_apt_install swift-account swift-container swift-object rsync cinder-volume lvm2 thin-provisioning-tools tgt\nosc_step_done\n",
      );
      expect(dependsOn(json, `${name}_cinder_volume`).filter((d) => !d.startsWith(name))).toEqual([
        "controller1_rabbitmq",
        "controller2_rabbitmq",
        "controller1_cinder",
        "controller2_cinder",
      ]);
      expect(host.steps.map((s) => s.logicalId).at(-1)).toBe(`${name}_cinder_volume`);
    }
  });

  it("writes cinder.conf whole: the controllers' settings, its own address, Glance and the backend through the VIP", () => {
    const script = text("compute1_cinder_volume");
    expect(installLine(script, CINDER_CONF)).toBe(
      `osc_install_file cinder_volume ${CINDER_CONF} root cinder 0640 --fill-secrets <<'OSC_EOF'`,
    );
    const conf = ini(fileIn(script, CINDER_CONF));
    expect(Object.keys(conf)).toEqual([
      "DEFAULT",
      "database",
      "keystone_authtoken",
      "lvm",
      "oslo_concurrency",
    ]);
    expect(conf.DEFAULT).toEqual({
      auth_strategy: "keystone",
      enabled_backends: "lvm",
      glance_api_servers: `http://${SEED_VIP}:9292`,
      my_ip: "192.168.10.21",
      state_path: "/var/lib/cinder",
      transport_url: `rabbit://openstack:{{secret:rabbitmq_password}}@${SEED_VIP}:5672/`,
    });
    expect(conf.lvm).toEqual({
      target_helper: "tgtadm",
      target_protocol: "iscsi",
      volume_backend_name: "lvm",
      volume_driver: "cinder.volume.drivers.lvm.LVMVolumeDriver",
      volume_group: "cinder-volumes",
    });
    const controller = ini(fileIn(text("controller1_cinder"), CINDER_CONF));
    expect(conf.database).toEqual(controller.database);
    expect(conf.keystone_authtoken).toEqual(controller.keystone_authtoken);
    expect(conf.oslo_concurrency).toEqual(controller.oslo_concurrency);
    // The seed's controllers hold no volumes.
    expect(controller.DEFAULT.enabled_backends).toBeUndefined();
    expect(ini(fileIn(text("compute4_cinder_volume"), CINDER_CONF)).DEFAULT.my_ip).toBe("192.168.10.24");
  });

  it("keeps secrets out: placeholders only, each one a trigger of the step and delivered to its host", () => {
    for (const host of storageHosts) {
      const id = `${host.hostName}_cinder_volume`;
      const step = stepOf(cluster, id);
      const used = placeholders(step.scriptText);
      expect(used).toEqual(["cinder_db_password", "cinder_keystone_password", "rabbitmq_password"]);
      expect(secretVars(json.resource.terraform_data[id].triggers_replace?.inputs)).toEqual(used);
      expect(plainSecrets(step.scriptBody)).toEqual([]);
      expect(JSON.stringify(json.resource.terraform_data[id].provisioner)).not.toContain("var.");
      // The host receives exactly what its steps' files use.
      const usedOnHost = placeholders(host.steps.map((s) => s.scriptText).join("\n"));
      expect({ host: host.hostName, delivered: [...host.secretsDelivered] }).toEqual({
        host: host.hostName,
        delivered: usedOnHost,
      });
    }
  });

  it("checks the volume group before it changes anything, keeps tgtd's snippet, and restarts only on a change", () => {
    expect(commands(body("compute1_cinder_volume"))).toEqual([
      "osc_apt_install cinder-volume lvm2 thin-provisioning-tools tgt",
      "if ! vgs cinder-volumes >/dev/null 2>&1; then echo 'volume group cinder-volumes (backend lvm) is missing on compute1: expected it made beforehand (vgcreate cinder-volumes DEVICE)' >&2; exit 1; fi",
      `osc_install_file cinder_volume ${CINDER_CONF} root cinder 0640 --fill-secrets <<'OSC_EOF'`,
      "install -d -o cinder -g cinder -m 0750 /var/lib/cinder/tmp",
      `osc_install_file tgt ${TGT_SNIPPET} root root 0644 <<'OSC_EOF'`,
      `osc_install_file tgt ${TGT_DROP_IN} root root 0644 <<'OSC_EOF'`,
      "if osc_changed tgt; then",
      "  systemctl daemon-reload",
      "fi",
      // Restarted only when its files changed (or it is down): a restart drops iSCSI sessions.
      "osc_restart_if_changed tgt tgt",
      "osc_restart_if_changed cinder_volume cinder-volume",
      "osc_step_done",
    ]);
    // The snippet is the one Debian's cinder-volume ships, so writing it changes nothing there.
    expect(fileIn(text("compute1_cinder_volume"), TGT_SNIPPET)).toBe("include /var/lib/cinder/volumes/*\n");
    // The iSCSI portal on the management address (Cinder's my_ip), not tgtd's every address.
    expect(fileIn(text("compute1_cinder_volume"), TGT_DROP_IN)).toContain(
      "[Service]\nExecStart=\nExecStart=/usr/sbin/tgtd -f --iscsi portal=192.168.10.21:3260\n",
    );
  });
});

describe("the volume group check, run in bash", () => {
  /** Runs a step's `vgs` lines with a fake vgs that records its arguments and exits `status`. */
  function runCheck(script: string, status: number): { status: number | null; stderr: string; args: string } {
    const dir = tempDir("vgs");
    const log = path.join(dir, "args");
    fs.writeFileSync(
      path.join(dir, "vgs"),
      `#!/bin/sh\nfor a in "$@"; do printf '<%s>' "$a"; done >>${log}\necho "  Volume group not found" >&2\nexit ${status}\n`,
      { mode: 0o755 },
    );
    const checks = script.split("\n").filter((l) => l.startsWith("if ! vgs "));
    const result = spawnSync("bash", ["-c", ["set -Eeuo pipefail", ...checks, "echo checked"].join("\n")], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
    return {
      status: result.status,
      stderr: result.stderr,
      args: fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "",
    };
  }

  const { cluster } = synth(storageLayout());
  const script = stepOf(cluster, "storage1_cinder_volume").scriptText;

  it("fails with one line naming the host and the group when the group is missing", () => {
    const missing = runCheck(script, 5);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(
      "volume group ssd+vg_1.a (backend fast) is missing on storage1: expected it made beforehand (vgcreate ssd+vg_1.a DEVICE)\n",
    );
    expect(missing.args).toBe("<ssd+vg_1.a>");
  });

  it("passes every group, each as one word, when they exist", () => {
    const present = runCheck(script, 0);
    expect(present.stderr).toBe("");
    expect(present.status).toBe(0);
    expect(present.args).toBe("<ssd+vg_1.a><hdd>");
  });
});

describe("storage on the controllers, and a storage-only host with two LIO backends", () => {
  const { cluster, json } = synth(storageLayout());
  const text = (id: string) => stepOf(cluster, id).scriptText;

  it("keeps one cinder.conf on a controller: the controller's, with the backend in it", () => {
    for (const [name, address] of [
      ["controller1", "10.211.0.11"],
      ["controller2", "10.211.0.12"],
    ]) {
      const conf = ini(fileIn(text(`${name}_cinder`), CINDER_CONF));
      expect(conf.DEFAULT).toMatchObject({
        enabled_backends: "lvm-1",
        glance_api_servers: `http://${LAB_VIP}:9292`,
        my_ip: address,
      });
      expect(conf["lvm-1"]).toEqual({
        target_helper: "tgtadm",
        target_protocol: "iscsi",
        volume_backend_name: "lvm-1",
        volume_driver: "cinder.volume.drivers.lvm.LVMVolumeDriver",
        volume_group: "cinder-volumes",
      });
      // Written by one step of the host only.
      const writers = hostOf(cluster, name).steps.filter((s) => s.scriptText.includes(` ${CINDER_CONF} `));
      expect(writers.map((s) => s.logicalId)).toEqual([`${name}_cinder`]);
      const volume = text(`${name}_cinder_volume`);
      expect(volume).not.toContain(CINDER_CONF);
      expect(volume).toContain("\nif ! vgs cinder-volumes >/dev/null 2>&1; then echo ");
      expect(volume).toContain("\nosc_restart_if_changed cinder_volume cinder-volume\n");
      // No file of the volume step needs a secret: the controller's step has them.
      expect(json.resource.terraform_data[`${name}_cinder_volume`].triggers_replace?.inputs).toBeUndefined();
      // The controller's step restarts a running cinder-volume when it changes the file.
      expect(text(`${name}_cinder`)).toContain(
        "\nif osc_changed cinder; then\n  if systemctl is-active --quiet cinder-volume; then systemctl restart cinder-volume; fi\nfi\n",
      );
    }
    expect(dependsOn(json, "controller1_cinder_volume")).toContain("controller2_cinder");
    expect(dependsOn(json, "controller2_cinder_volume")).toContain("controller1_cinder");
  });

  it("gives the storage-only host both backends over LIO: rtslib, no tgtd, and a guard against one", () => {
    expect(hostOf(cluster, "storage1").steps.map((s) => s.logicalId)).toEqual([
      "storage1_converged",
      "storage1_secrets",
      "storage1_hosts_file",
      "storage1_base",
      "storage1_storage_packages",
      "storage1_swift_storage",
      "storage1_cinder_volume",
    ]);
    const script = text("storage1_cinder_volume");
    const conf = ini(fileIn(script, CINDER_CONF));
    expect(conf.DEFAULT.enabled_backends).toBe("fast,slow");
    expect(conf.fast).toMatchObject({
      volume_group: "ssd+vg_1.a",
      target_helper: "lioadm",
      volume_backend_name: "fast",
    });
    expect(conf.slow).toMatchObject({
      volume_group: "hdd",
      target_helper: "lioadm",
      volume_backend_name: "slow",
    });
    expect(script).toContain(
      "\nosc_apt_install cinder-volume lvm2 thin-provisioning-tools python3-rtslib-fb\n",
    );
    expect(script).not.toContain(TGT_SNIPPET);
    expect(script).not.toContain("osc_restart_if_changed tgt");
    expect(script).toContain(
      "\nif systemctl is-active --quiet tgt; then echo 'tgt is running on storage1: expected no tgtd with targetHelper lioadm (both serve iSCSI on port 3260): stop and disable it' >&2; exit 1; fi\n",
    );
  });

  it("delivers to each storage host exactly the secrets its steps use", () => {
    const storage1 = hostOf(cluster, "storage1");
    expect(storage1.secretsDelivered).toEqual([
      "cinder_db_password",
      "cinder_keystone_password",
      "rabbitmq_password",
      "swift_hash_path_prefix",
      "swift_hash_path_suffix",
    ]);
    expect(placeholders(storage1.steps.map((s) => s.scriptText).join("\n"))).toEqual(
      storage1.secretsDelivered,
    );
    // A host with neither storage nor controller role gets no Cinder secret.
    for (const name of ["compute1", "network1"]) {
      expect(hostOf(cluster, name).secretsDelivered.filter((s) => s.startsWith("cinder_"))).toEqual([]);
    }
  });

  it("passes shellcheck in every script the layout adds", () => {
    const dir = tempDir("cinder-volume-shellcheck");
    const files = ["controller1_cinder", "controller1_cinder_volume", "storage1_cinder_volume"].map((id) => {
      const file = path.join(dir, `${id}.sh`);
      fs.writeFileSync(file, text(id));
      return file;
    });
    const check = spawnSync("shellcheck", ["--format=gcc", "--severity=style", ...files], {
      encoding: "utf8",
    });
    expect(`${check.stdout}${check.stderr}`).toBe("");
    expect(check.status).toBe(0);
  });

  it("plans with canary values: none reaches the plan's output or a file under the output folder", () => {
    const work = tempDir("cinder-volume-canary");
    const data = storageLayoutData();
    data.ssh = { user: "root", privateKeyFile: sshKey(work) };
    const outdir = path.join(work, "out");
    const { stackDir } = synthToDir(parseInventory(data, "storage-layout.yaml", work), outdir);
    const canaries = SECRET_CATALOG.map((s) => `CANARY-${s.name}-${randomBytes(8).toString("hex")}`);
    const varFile = path.join(work, "secrets.tfvars.json");
    fs.writeFileSync(
      varFile,
      JSON.stringify(
        Object.fromEntries(SECRET_CATALOG.map((s, i) => [secretVariableName(s.name), canaries[i]])),
      ),
      { mode: 0o600 },
    );
    const init = terraform(["init", "-input=false", "-no-color"], stackDir);
    const plan = terraform(["plan", "-input=false", "-no-color", `-var-file=${varFile}`], stackDir);
    expect([init.status, plan.status]).toEqual([0, 0]);
    expect(plan.stdout).toContain("storage1_cinder_volume");
    const output = [init.stdout, init.stderr, plan.stdout, plan.stderr].join("\n");
    const needles = canaries.flatMap((c) => [
      c,
      Buffer.from(c).toString("base64"),
      Buffer.from(c).toString("base64url"),
    ]);
    expect(needles.filter((n) => output.includes(n))).toEqual([]);
    const found: string[] = [];
    for (const rel of listFiles(outdir)) {
      const content = fs.readFileSync(path.join(outdir, rel));
      for (const n of needles) if (content.includes(Buffer.from(n))) found.push(`${rel}: ${n}`);
    }
    expect(found).toEqual([]);
    expect(fs.readFileSync(varFile, "utf8")).toContain(canaries[0]);
  });
});

describe("cinder-volume on Ubuntu 24.04", () => {
  it("uses the same package and unit names", () => {
    const data = readYaml(SEED_EXAMPLE);
    data.release = "ubuntu-2404-caracal";
    const { cluster } = synth(parseInventory(data, SEED_EXAMPLE, EXAMPLES_DIR));
    const script = stepOf(cluster, "compute1_cinder_volume").scriptText;
    expect(script).toContain("\nosc_apt_install cinder-volume lvm2 thin-provisioning-tools tgt\n");
    expect(script).toContain(`\nosc_install_file tgt ${TGT_SNIPPET} root root 0644 <<'OSC_EOF'\n`);
    expect(script).toContain("\nosc_restart_if_changed tgt tgt\n");
    expect(script).toContain("\nosc_restart_if_changed cinder_volume cinder-volume\n");
    expect(ini(fileIn(script, CINDER_CONF)).lvm.target_helper).toBe("tgtadm");
  });
});

describe("storage hosts without backends (the small lab layout without Ceph and backends)", () => {
  const data = readYaml(LAB_SMALL_EXAMPLE);
  delete data.ceph;
  delete data.volumeBackends;
  const { cluster } = synth(parseInventory(data, LAB_SMALL_EXAMPLE, EXAMPLES_DIR));

  it("get no cinder-volume (only Swift's storage packages); the controllers' cinder.conf has no backend", () => {
    // Swift's storage servers alone: their packages, early, and their step.
    expect(
      cluster.steps.map((s) => s.logicalId).filter((id) => /cinder_volume|storage_packages/.test(id)),
    ).toEqual(["compute1_storage_packages"]);
    expect(stepOf(cluster, "compute1_storage_packages").scriptText).not.toContain("cinder-volume");
    expect(cluster.cinder.volumeStepList).toEqual([]);
    const storage = hostOf(cluster, "compute1");
    expect(storage.hasRole("storage")).toBe(true);
    expect(storage.volumeBackends).toEqual([]);
    expect(fileIn(stepOf(cluster, "controller1_cinder").scriptText, CINDER_CONF)).not.toContain(
      "enabled_backends",
    );
    expect(stepOf(cluster, "controller1_cinder").scriptText).not.toContain("cinder-volume");
  });

  it("refuse volumeHost with one line; StorageNode places Swift's part alone there", () => {
    const storage = hostOf(cluster, "compute1");
    expect(() => cluster.cinder.volumeHost(storage)).toThrow(
      /^CinderService\.volumeHost compute1: volumeBackends: got none: expected at least one backend \(a storage host without backends runs no cinder-volume\)$/,
    );
    const node = storage.node.children.find((c) => c instanceof StorageNode) as StorageNode;
    const services = { cinder: cluster.cinder, swift: cluster.swift };
    expect(node.placeServices(services).map((s) => s.logicalId)).toEqual(["compute1_swift_storage"]);
    expect(node.preinstallPackages(services).scriptText).not.toContain("cinder-volume");
  });
});

describe("volumeHost and Host's backends, in TypeScript", () => {
  it("returns the same step on a second call", () => {
    const { cluster } = synth(storageLayout());
    const storage1 = hostOf(cluster, "storage1");
    const step = cluster.cinder.volumeHost(storage1);
    expect(cluster.cinder.volumeHost(storage1)).toBe(step);
    const node = storage1.node.children.find((c) => c instanceof StorageNode) as StorageNode;
    const services = { cinder: cluster.cinder, swift: cluster.swift };
    expect(node.placeServices(services)).toEqual([cluster.swift.storageHost(storage1)]);
    expect(node.placeVolumeService(services)).toEqual([step]);
    expect(node.preinstallPackages(services).logicalId).toBe("storage1_storage_packages");
    expect(node.preinstallPackages(services).scriptText).toContain(" cinder-volume ");
    expect(storage1.steps.filter((s) => /cinder_volume|storage_packages/.test(s.logicalId))).toHaveLength(2);
  });

  it.each([
    [
      [{ ...LVM, name: "database" }],
      'volumeBackends[0].name: got "database": expected a backend name that is not one of cinder.conf\'s own sections',
    ],
    [
      [{ ...LVM, name: "lvm-1\n[x]" }],
      'volumeBackends[0].name: got "lvm-1\\n[x]": expected a backend name of',
    ],
    [
      [{ ...LVM, volumeGroup: "-vg" }],
      'volumeBackends[0].volumeGroup: got "-vg": expected a volume group name',
    ],
    [
      [{ ...LVM, driver: "nfs" }],
      'volumeBackends[0].driver: got "nfs": expected a volume backend driver: lvm, rbd',
    ],
    [
      [{ name: "ceph", driver: "rbd", pool: "volumes, allow *" }],
      'volumeBackends[0].pool: got "volumes, allow *": expected a pool name of lowercase letters',
    ],
    [
      [LVM, { ...LVM, name: "lvm-2", volumeGroup: "other", targetHelper: "lioadm" }],
      'volumeBackends[1].targetHelper: got "lioadm": expected the target helper of the host\'s other backends (tgtadm)',
    ],
  ])("Host refuses %j with one line", (backends, message) => {
    const stack = new TerraformStack(Testing.app({ outdir: tempDir("bad-backends") }), "s");
    let error = "";
    try {
      new Host(stack, "h", {
        name: "stor1",
        address: "10.0.0.41",
        release: DEBIAN_12_ZED,
        volumeBackends: backends as unknown as VolumeBackendSpec[],
      });
    } catch (err) {
      error = (err as Error).message;
    }
    expect(error.startsWith(`Host stor1 ${message}`)).toBe(true);
    expect(error).not.toContain("\n");
  });

  it("fills in the release's target helper", () => {
    const stack = new TerraformStack(Testing.app({ outdir: tempDir("backends") }), "s");
    const host = new Host(stack, "h", {
      name: "stor1",
      address: "10.0.0.41",
      release: DEBIAN_12_ZED,
      volumeBackends: [{ name: "lvm-1", driver: "lvm", volumeGroup: "cinder-volumes" }],
    });
    expect(host.volumeBackends).toEqual([
      { name: "lvm-1", driver: "lvm", volumeGroup: "cinder-volumes", targetHelper: "tgtadm" },
    ]);
  });
});
