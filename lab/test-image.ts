/**
 * The lab's test image: a tiny guest for smoke tests of Nova (libvirt/qemu, x86_64) and Neutron,
 * built once per machine from Debian 12's packages only (Debian's cloud kernel, busybox-static,
 * dropbear, and the few tools Tempest's guest commands name that busybox lacks) and cached like
 * the base root filesystem (lab/rootfs.ts): built into a temp dir and renamed when complete, in a
 * dir whose name carries a hash of the recipe.
 *
 * The result is one raw disk image that SeaBIOS boots (MBR, one FAT partition, SYSLINUX loading
 * the kernel and an initramfs) - one Glance image, see GLANCE. Nothing runs from the disk after
 * that, so any disk bus SeaBIOS boots from would boot it; the NIC must be virtio, and so must the
 * disks for the guest's disk watch (lab/test-image/disk-watch.sh: /sys/block/vd*), which is how
 * a hot-plugged Cinder volume is seen (Nova gives it the image's hw_disk_bus). The guest's PID 1
 * (lab/test-image/init.sh) prints what it did to the serial console, which is the instance's
 * console log, in lines that start with "TESTVM " (parseConsoleLine/summarizeConsole read them).
 *
 *   npx ts-node lab/test-image.ts      builds it if needed and prints the paths (JSON)
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { buildIntoCache } from "./cache-build";
import { CACHE_DIR } from "./config";
import { run } from "./exec";
import { ensurePackages } from "./packages";

const SUITE = "bookworm";
export const TEST_IMAGE_NAME = `testvm-${SUITE}`;
/** Metapackage: the build takes the kernel package it depends on at the time. */
const KERNEL_PACKAGE = "linux-image-cloud-amd64";
/**
 * busybox for everything; dropbear for SSH; and what Tempest runs in a guest over SSH that
 * busybox has not (it is written for CirrOS): curl (metadata GET and POST), util-linux's lsblk,
 * blkid (the config drive by label) and mkfs, dosfstools' mkfs.fat. With the shared libraries
 * they link against, which every package named here provides.
 */
const PACKAGES = [
  "busybox-static",
  "curl",
  "dosfstools",
  "dropbear-bin",
  "util-linux",
  "libblkid1",
  "libbrotli1",
  "libc6",
  "libcom-err2",
  "libcrypt1",
  "libcurl4",
  "libffi8",
  "libgmp10",
  "libgnutls30",
  "libgssapi-krb5-2",
  "libhogweed6",
  "libidn2-0",
  "libk5crypto3",
  "libkeyutils1",
  "libkrb5-3",
  "libkrb5support0",
  "libldap-2.5-0",
  "libmount1",
  "libnettle8",
  "libnghttp2-14",
  "libp11-kit0",
  "libpcre2-8-0",
  "libpsl5",
  "librtmp1",
  "libsasl2-2",
  "libselinux1",
  "libsmartcols1",
  "libssh2-1",
  "libssl3",
  "libtasn1-6",
  "libtomcrypt1",
  "libtommath1",
  "libudev1",
  "libunistring2",
  "libzstd1",
  "zlib1g",
];
/** Copied with every library they need (from the packages above). */
const DYNAMIC_BINARIES = [
  "usr/sbin/dropbear",
  "usr/bin/dropbearkey",
  "usr/bin/curl",
  "bin/lsblk",
  "sbin/blkid",
  "sbin/mkfs",
  "sbin/mkfs.fat",
];
/** Other names of those binaries, as their packages install them (mkfs -t vfat runs mkfs.vfat). */
const BINARY_LINKS: Readonly<Record<string, string>> = { "sbin/mkfs.vfat": "/sbin/mkfs.fat" };
/**
 * Loaded in dependency order by init. The cloud kernel has virtio and the PCI transport as
 * modules (CONFIG_VIRTIO=m, CONFIG_VIRTIO_PCI=m) and af_packet (udhcpc), serial console and
 * devtmpfs built in. button + evdev: the ACPI power button, for busybox acpid. virtio_scsi,
 * sd_mod, sr_mod and isofs: disks and the config drive on the virtio-scsi bus (GLANCE's
 * hw_cdrom_bus; the cloud kernel has no AHCI, q35's default CD-ROM bus).
 */
const MODULES = [
  "virtio_pci",
  "virtio_net",
  "virtio_blk",
  "virtio_scsi",
  "sd_mod",
  "sr_mod",
  "isofs",
  "button",
  "evdev",
];
/** The last console= is /dev/console, init's output: the serial port. */
export const KERNEL_CMDLINE = "console=tty0 console=ttyS0,115200n8";
/** Guest files from lab/test-image/, by their path in the image. */
const GUEST_FILES: Readonly<Record<string, string>> = {
  init: "init.sh",
  "etc/udhcpc.sh": "udhcpc.sh",
  "etc/disk-watch.sh": "disk-watch.sh",
  "etc/acpi/PWRF/00000080": "power-button.sh",
  // Tempest prefixes root's commands with sudo, as CirrOS's user needs; the guest's user is root.
  "usr/bin/sudo": "sudo.sh",
};
export const GUEST_SOURCE_DIR = path.join(__dirname, "test-image");
/** Build tools on the machine: syslinux installs through mtools onto the image file, no mount. */
const BUILD_TOOLS = ["syslinux", "syslinux-common", "mtools"];
const MBR_BIN = "/usr/lib/syslinux/mbr/mbr.bin";
/** Where the FAT partition starts: 1 MiB, as partitioning tools align. */
const PARTITION_OFFSET = 1024 * 1024;
/** Bumped when the build below changes, so that the cache key changes with it. */
const RECIPE_VERSION = 6;

/** Files of a built image, in its dir. */
export const TEST_IMAGE_FILES = {
  /** Raw disk image: MBR + FAT partition with SYSLINUX, vmlinuz and initrd.gz. Upload this. */
  disk: "disk.img",
  /** The same kernel and initramfs, for booting them directly (qemu -kernel, Glance aki/ari). */
  kernel: "vmlinuz",
  initrd: "initrd.gz",
  /** Package versions, sizes, kernel release and command line: written last. */
  manifest: "manifest.json",
} as const;

export type TestImageFiles = { readonly [K in keyof typeof TEST_IMAGE_FILES]: string };

/**
 * How to register the disk image with Glance. Smallest RAM measured under qemu (TCG, pc and
 * q35, qemu-smoke.sh): 112 MiB boots and runs everything; 104 MiB panics unpacking the
 * initramfs (26.7 MB unpacked since it carries Tempest's tools; 80 MiB was enough without
 * them). min_ram leaves some room above that: the lab's day-one flavor (128 MiB).
 */
export const GLANCE = {
  diskFormat: "raw",
  containerFormat: "bare",
  minRamMb: 128,
  minDiskGb: 1,
  properties: {
    hw_architecture: "x86_64",
    hw_vif_model: "virtio",
    hw_disk_bus: "virtio",
    // The config drive on virtio-scsi (the guest loads sr_mod and isofs): Nova's default CD-ROM
    // bus is IDE on pc and SATA on q35, and the cloud kernel has no AHCI driver.
    hw_cdrom_bus: "scsi",
    hw_scsi_model: "virtio-scsi",
    os_type: "linux",
  },
} as const;

/** `openstack` arguments that upload the disk image (run them with the admin or a project's credentials). */
export function glanceImageCreateArgs(name: string, file: string): string[] {
  return [
    "image", "create", name, "--file", file,
    "--disk-format", GLANCE.diskFormat, "--container-format", GLANCE.containerFormat,
    "--min-ram", String(GLANCE.minRamMb), "--min-disk", String(GLANCE.minDiskGb),
    ...Object.entries(GLANCE.properties).flatMap(([k, v]) => ["--property", `${k}=${v}`]),
  ]; // prettier-ignore
}

// ---------------------------------------------------------------------------------------------
// Console lines

/** Every line of the guest meant for the lab starts with this word. */
export const CONSOLE_TAG = "TESTVM";

/**
 * The lines init.sh, udhcpc.sh and disk-watch.sh print, after "TESTVM ". Kernel or program
 * output may precede the tag on the same console line; CR (serial) is ignored.
 *
 * The disk lines come from "ready" on, one per change of /sys/block/vd*, looked at every 0.5 s:
 * `disk <name> size=<bytes>` for each disk there at the start (vda, the image) and for each disk
 * that appears (a hot-plugged Cinder volume: vdb) or changes size; `disk <name> removed` when
 * one goes (a detached volume).
 */
export const CONSOLE_LINES = {
  boot: /^boot kernel=(\S+)$/,
  dhcp: /^dhcp ip=(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2}) router=(\S+) mtu=(\S+)$/,
  dhcpFailed: /^dhcp failed$/,
  metadata: /^metadata uuid=([0-9a-fA-F-]+)$/,
  metadataFailed: /^metadata failed$/,
  sshd: /^sshd port=(\d+) keys=(\d+)$/,
  sshdFailed: /^sshd failed$/,
  httpd: /^httpd port=(\d+)$/,
  httpdFailed: /^httpd failed$/,
  ready: /^ready$/,
  ping: /^ping (\S+) (ok|fail)$/,
  disk: /^disk (vd[a-z]+) size=(\d+)$/,
  diskRemoved: /^disk (vd[a-z]+) removed$/,
  poweroff: /^poweroff$/,
} as const;

export type ConsoleEvent =
  | { kind: "boot"; kernel: string }
  | { kind: "dhcp"; ip: string; prefix: number; router?: string; mtu?: number }
  | { kind: "dhcp-failed" }
  | { kind: "metadata"; uuid: string }
  | { kind: "metadata-failed" }
  | { kind: "sshd"; port: number; keys: number }
  | { kind: "sshd-failed" }
  | { kind: "httpd"; port: number }
  | { kind: "httpd-failed" }
  | { kind: "ready" }
  | { kind: "ping"; target: string; ok: boolean }
  | { kind: "disk"; name: string; bytes: number }
  | { kind: "disk-removed"; name: string }
  | { kind: "poweroff" };

/** The event of one console line, or undefined for any other line. */
export function parseConsoleLine(line: string): ConsoleEvent | undefined {
  const at = line.lastIndexOf(`${CONSOLE_TAG} `);
  if (at < 0) return undefined;
  const text = line
    .slice(at + CONSOLE_TAG.length + 1)
    .replace(/\r/g, "")
    .trim();
  const L = CONSOLE_LINES;
  let m: RegExpExecArray | null;
  if ((m = L.boot.exec(text))) return { kind: "boot", kernel: m[1] };
  if ((m = L.dhcp.exec(text))) {
    const event: ConsoleEvent = { kind: "dhcp", ip: m[1], prefix: Number(m[2]) };
    if (m[3] !== "none") event.router = m[3];
    if (m[4] !== "none") event.mtu = Number(m[4]);
    return event;
  }
  if (L.dhcpFailed.test(text)) return { kind: "dhcp-failed" };
  if ((m = L.metadata.exec(text))) return { kind: "metadata", uuid: m[1].toLowerCase() };
  if (L.metadataFailed.test(text)) return { kind: "metadata-failed" };
  if ((m = L.sshd.exec(text))) return { kind: "sshd", port: Number(m[1]), keys: Number(m[2]) };
  if (L.sshdFailed.test(text)) return { kind: "sshd-failed" };
  if ((m = L.httpd.exec(text))) return { kind: "httpd", port: Number(m[1]) };
  if (L.httpdFailed.test(text)) return { kind: "httpd-failed" };
  if (L.ready.test(text)) return { kind: "ready" };
  if ((m = L.ping.exec(text))) return { kind: "ping", target: m[1], ok: m[2] === "ok" };
  if ((m = L.disk.exec(text))) return { kind: "disk", name: m[1], bytes: Number(m[2]) };
  if ((m = L.diskRemoved.exec(text))) return { kind: "disk-removed", name: m[1] };
  if (L.poweroff.test(text)) return { kind: "poweroff" };
  return undefined;
}

/** Every event of a console log, in order. */
export function parseConsoleLog(log: string): ConsoleEvent[] {
  return log
    .split("\n")
    .map(parseConsoleLine)
    .filter((e): e is ConsoleEvent => e !== undefined);
}

export interface PingTally {
  readonly ok: number;
  readonly fail: number;
  /** The latest result. */
  readonly last: boolean;
}

/** What a console log says, the latest boot's (a log can hold several boots). */
export interface ConsoleSummary {
  readonly boots: number;
  readonly kernel?: string;
  /** The latest lease; undefined before one (or after "dhcp failed" with none since). */
  readonly dhcp?: { ip: string; prefix: number; router?: string; mtu?: number };
  readonly dhcpFailed: boolean;
  readonly uuid?: string;
  readonly metadataFailed: boolean;
  readonly sshd?: { port: number; keys: number };
  readonly httpd?: { port: number };
  readonly ready: boolean;
  readonly pings: Readonly<Record<string, PingTally>>;
  /** The virtio disks the guest has now, name -> bytes (empty before its disk watch started). */
  readonly disks: Readonly<Record<string, number>>;
  readonly poweredOff: boolean;
}

export function summarizeConsole(log: string): ConsoleSummary {
  const events = parseConsoleLog(log);
  const lastBoot = events.map((e) => e.kind).lastIndexOf("boot");
  const boots = events.filter((e) => e.kind === "boot").length;
  let s: {
    -readonly [K in keyof ConsoleSummary]: ConsoleSummary[K];
  } = {
    boots,
    dhcpFailed: false,
    metadataFailed: false,
    ready: false,
    pings: {},
    disks: {},
    poweredOff: false,
  };
  const pings: Record<string, PingTally> = {};
  const disks: Record<string, number> = {};
  for (const e of events.slice(Math.max(lastBoot, 0))) {
    switch (e.kind) {
      case "boot":
        s = { ...s, kernel: e.kernel };
        break;
      case "dhcp":
        s = { ...s, dhcp: { ip: e.ip, prefix: e.prefix, router: e.router, mtu: e.mtu } };
        break;
      case "dhcp-failed":
        s = { ...s, dhcpFailed: true };
        break;
      case "metadata":
        s = { ...s, uuid: e.uuid };
        break;
      case "metadata-failed":
        s = { ...s, metadataFailed: true };
        break;
      case "sshd":
        s = { ...s, sshd: { port: e.port, keys: e.keys } };
        break;
      case "httpd":
        s = { ...s, httpd: { port: e.port } };
        break;
      case "ready":
        s = { ...s, ready: true };
        break;
      case "ping": {
        const t = pings[e.target] ?? { ok: 0, fail: 0, last: false };
        pings[e.target] = { ok: t.ok + (e.ok ? 1 : 0), fail: t.fail + (e.ok ? 0 : 1), last: e.ok };
        break;
      }
      case "disk":
        disks[e.name] = e.bytes;
        break;
      case "disk-removed":
        delete disks[e.name];
        break;
      case "poweroff":
        s = { ...s, poweredOff: true };
        break;
      default:
        break;
    }
  }
  return { ...s, pings, disks };
}

/** What the guest's HTTP server answers to GET / (port 80). */
export function httpAnswer(uuid: string | undefined): string {
  return `${CONSOLE_TAG} ${uuid ?? "unknown"}\n`;
}

/** User data that makes the guest ping each address every 2 s ("TESTVM ping <ip> ok|fail"). */
export function pingUserData(targets: readonly string[]): string {
  for (const t of targets) {
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(t)) throw new Error(`not an IPv4 address: ${t}`);
  }
  return targets.map((t) => `ping=${t}\n`).join("");
}

// ---------------------------------------------------------------------------------------------
// Recipe and cache

export interface TestImageRecipe {
  readonly version: number;
  readonly suite: string;
  readonly kernelPackage: string;
  readonly packages: readonly string[];
  readonly modules: readonly string[];
  readonly binaries: readonly string[];
  readonly cmdline: string;
  /** sha256 of each guest file, by its path in the image. */
  readonly guestFiles: Readonly<Record<string, string>>;
}

export function testImageRecipe(
  readGuestFile: (file: string) => string | Buffer = (f) => fs.readFileSync(path.join(GUEST_SOURCE_DIR, f)),
): TestImageRecipe {
  const guestFiles: Record<string, string> = {};
  for (const [dest, src] of Object.entries(GUEST_FILES)) {
    guestFiles[dest] = createHash("sha256").update(readGuestFile(src)).digest("hex");
  }
  return {
    version: RECIPE_VERSION,
    suite: SUITE,
    kernelPackage: KERNEL_PACKAGE,
    packages: PACKAGES,
    modules: MODULES,
    binaries: DYNAMIC_BINARIES,
    cmdline: KERNEL_CMDLINE,
    guestFiles,
  };
}

export function recipeHash(recipe: TestImageRecipe): string {
  return createHash("sha256").update(JSON.stringify(recipe)).digest("hex").slice(0, 12);
}

export function testImagePath(recipe: TestImageRecipe = testImageRecipe()): string {
  return path.join(CACHE_DIR, "test-image", `${TEST_IMAGE_NAME}-${recipeHash(recipe)}`);
}

/** Returns the cached image, building it first if needed (5 to 15 s with a warm mirror, once per machine). */
export function ensureTestImage(): { dir: string; built: boolean; files: TestImageFiles } {
  const recipe = testImageRecipe();
  const dir = testImagePath(recipe);
  const files = Object.fromEntries(
    Object.entries(TEST_IMAGE_FILES).map(([k, f]) => [k, path.join(dir, f)]),
  ) as unknown as TestImageFiles;
  if (fs.existsSync(files.manifest)) return { dir, built: false, files };
  ensurePackages(BUILD_TOOLS);
  buildIntoCache(dir, "the test image", (tmp) => {
    fs.mkdirSync(tmp);
    build(tmp, recipe);
    fs.rmSync(path.join(tmp, "work"), { recursive: true, force: true });
  });
  return { dir, built: true, files };
}

function build(out: string, recipe: TestImageRecipe): void {
  const work = path.join(out, "work");
  const debs = path.join(work, "debs");
  const root = path.join(work, "root");
  fs.mkdirSync(debs, { recursive: true });
  fs.mkdirSync(root);

  const kernelPackage = withAptLists(() =>
    kernelPackageOf(run("apt-cache", ["depends", KERNEL_PACKAGE]), KERNEL_PACKAGE),
  );
  withAptLists(() => run("apt-get", ["download", "-q", kernelPackage, ...PACKAGES], { cwd: debs }));
  const packages: Record<string, string> = {};
  for (const deb of fs.readdirSync(debs).sort()) {
    const file = path.join(debs, deb);
    const [name, version] = run("dpkg-deb", ["-f", file, "Package", "Version"])
      .trim()
      .split("\n")
      .map((l) => l.replace(/^[^:]*:\s*/, ""));
    packages[name] = version;
    run("dpkg-deb", ["-x", file, root]);
  }

  const releases = fs.readdirSync(path.join(root, "lib", "modules"));
  if (releases.length !== 1) throw new Error(`expected one kernel in ${kernelPackage}, found ${releases}`);
  const release = releases[0];
  fs.copyFileSync(path.join(root, "boot", `vmlinuz-${release}`), path.join(out, TEST_IMAGE_FILES.kernel));

  const initrd = initramfs(root, release, recipe);
  fs.writeFileSync(path.join(out, TEST_IMAGE_FILES.initrd), zlib.gzipSync(initrd.cpio, { level: 9 }));

  const disk = path.join(out, TEST_IMAGE_FILES.disk);
  writeDisk(disk, path.join(out, TEST_IMAGE_FILES.kernel), path.join(out, TEST_IMAGE_FILES.initrd));

  const size = (f: string) => fs.statSync(path.join(out, f)).size;
  const manifest = {
    name: TEST_IMAGE_NAME,
    recipe,
    recipeHash: recipeHash(recipe),
    kernelRelease: release,
    cmdline: KERNEL_CMDLINE,
    packages,
    modules: initrd.modules,
    libraries: initrd.libraries,
    sizes: {
      disk: size(TEST_IMAGE_FILES.disk),
      kernel: size(TEST_IMAGE_FILES.kernel),
      initrd: size(TEST_IMAGE_FILES.initrd),
      initrdUncompressed: initrd.cpio.length,
    },
    glance: GLANCE,
    builtAt: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(out, TEST_IMAGE_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Runs an apt query or download; on failure refreshes the package lists once and tries again. */
function withAptLists<T>(fn: () => T): T {
  try {
    return fn();
  } catch {
    run("apt-get", ["update", "-q"], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    return fn();
  }
}

/** The kernel image package a metapackage depends on, from `apt-cache depends <meta>`. */
export function kernelPackageOf(aptCacheDepends: string, meta: string): string {
  const m = /^\s*Depends: (linux-image-[0-9]\S*)$/m.exec(aptCacheDepends);
  if (!m)
    throw new Error(`apt-cache depends ${meta}: no linux-image-<version> package among its dependencies`);
  return m[1];
}

// ---------------------------------------------------------------------------------------------
// initramfs

function initramfs(
  root: string,
  release: string,
  recipe: TestImageRecipe,
): { cpio: Buffer; modules: string[]; libraries: string[] } {
  const tree = new CpioTree();
  // /mnt: where Tempest mounts the config drive and volumes, as on CirrOS.
  for (const d of ["proc", "sys", "dev", "run", "mnt", "etc/dropbear"]) tree.dir(d);
  tree.dir("root", 0o700);
  tree.dir("tmp", 0o1777);
  tree.symlink("var/run", "/run");
  tree.device("dev/console", 0o600, 5, 1);

  // busybox and every applet as a symlink to it.
  tree.file("bin/busybox", fs.readFileSync(path.join(root, "bin", "busybox")), 0o755);
  const applets = run(path.join(root, "bin", "busybox"), ["--list-full"])
    .split("\n")
    .filter(Boolean);
  for (const applet of applets) {
    // --list-full names busybox itself too.
    if (applet !== "bin/busybox" && applet !== "linuxrc") tree.symlink(applet, "/bin/busybox");
  }

  // dropbear and its libraries, from the extracted packages (never the machine's own).
  const libraries = new Set<string>();
  const pending: string[] = [];
  for (const bin of DYNAMIC_BINARIES) {
    const data = fs.readFileSync(path.join(root, bin));
    tree.file(bin, data, 0o755);
    const { needed, interpreter: interp } = elfDynamicInfo(data);
    pending.push(...needed);
    if (interp && !libraries.has(path.basename(interp))) {
      libraries.add(path.basename(interp));
      const real = resolveInRoot(root, interp);
      tree.file(path.join("lib", "x86_64-linux-gnu", path.basename(interp)), fs.readFileSync(real), 0o755);
      if (path.dirname(interp) !== "/lib/x86_64-linux-gnu")
        tree.symlink(interp.slice(1), `/lib/x86_64-linux-gnu/${path.basename(interp)}`);
    }
  }
  while (pending.length > 0) {
    const soname = pending.shift() as string;
    if (libraries.has(soname)) continue;
    libraries.add(soname);
    const found = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"]
      .map((d) => path.join(d, soname))
      .find((p) => fs.existsSync(path.join(root, p)));
    if (!found) throw new Error(`${soname} is in none of the packages ${PACKAGES.join(", ")}`);
    const data = fs.readFileSync(resolveInRoot(root, `/${found}`));
    tree.file(path.join("lib", "x86_64-linux-gnu", soname), data, 0o755);
    pending.push(...elfDynamicInfo(data).needed);
  }
  for (const [link, target] of Object.entries(BINARY_LINKS)) tree.symlink(link, target);

  // Kernel modules, flat, and their load order.
  const moduleDir = path.join(root, "lib", "modules", release);
  const byName = new Map<string, string>();
  for (const file of walk(moduleDir)) {
    if (file.endsWith(".ko")) byName.set(path.basename(file, ".ko").replace(/-/g, "_"), file);
  }
  const moduleFile = (name: string) => {
    const f = byName.get(name.replace(/-/g, "_"));
    if (!f) throw new Error(`kernel ${release} has no module ${name} (built in? see its config)`);
    return f;
  };
  const order = moduleLoadOrder(MODULES, (name) => moduleDepends(fs.readFileSync(moduleFile(name))));
  for (const name of order) tree.file(`lib/modules/${name}.ko`, fs.readFileSync(moduleFile(name)), 0o644);
  tree.file("etc/modules", order.map((m) => `${m}\n`).join(""), 0o644);

  for (const [dest, src] of Object.entries(GUEST_FILES)) {
    tree.file(dest, fs.readFileSync(path.join(GUEST_SOURCE_DIR, src)), 0o755);
  }
  tree.file("etc/passwd", "root:*:0:0:root:/root:/bin/sh\n", 0o644);
  tree.file("etc/group", "root:x:0:\n", 0o644);
  tree.file("etc/shells", "/bin/sh\n", 0o644);
  tree.file("etc/hosts", "127.0.0.1 localhost\n", 0o644);
  tree.file("etc/os-release", `NAME="lab test image"\nID=testvm\nVERSION_ID=${recipeHash(recipe)}\n`, 0o644);
  return { cpio: tree.toBuffer(), modules: order, libraries: [...libraries] };
}

/** The file a path names inside an extracted tree, following symlinks (absolute ones inside it too). */
function resolveInRoot(root: string, p: string): string {
  let todo = p.split("/").filter(Boolean);
  let done: string[] = [];
  for (let hops = 0; todo.length > 0;) {
    const name = todo.shift() as string;
    if (name === "..") done.pop();
    if (name === "." || name === "..") continue;
    const full = path.join(root, ...done, name);
    if (!fs.lstatSync(full).isSymbolicLink()) {
      done.push(name);
      continue;
    }
    if (++hops > 40) throw new Error(`too many symlinks resolving ${p} in ${root}`);
    const target = fs.readlinkSync(full);
    if (target.startsWith("/")) done = [];
    todo = [...target.split("/").filter(Boolean), ...todo];
  }
  return path.join(root, ...done);
}

function* walk(dir: string): Generator<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

/** The modules a .ko needs loaded first: its .modinfo "depends=" (as `modinfo -F depends`). */
export function moduleDepends(ko: Buffer): string[] {
  let at = -1;
  for (;;) {
    at = ko.indexOf("depends=", at + 1, "latin1");
    if (at < 0) return [];
    if (at === 0 || ko[at - 1] === 0) break;
  }
  const end = ko.indexOf(0, at);
  const value = ko.subarray(at + "depends=".length, end < 0 ? undefined : end).toString("latin1");
  return value.split(",").filter(Boolean);
}

/** Dependencies before dependents, each once; throws on a cycle. */
export function moduleLoadOrder(wanted: readonly string[], dependsOf: (name: string) => string[]): string[] {
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, chain: string[]) => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting")
      throw new Error(`module dependency cycle: ${[...chain, name].join(" -> ")}`);
    state.set(name, "visiting");
    for (const dep of dependsOf(name)) visit(dep, [...chain, name]);
    state.set(name, "done");
    order.push(name);
  };
  for (const name of wanted) visit(name, []);
  return order;
}

/** An x86_64 ELF file's program interpreter and DT_NEEDED libraries (as `readelf -d` shows them). */
export function elfDynamicInfo(elf: Buffer): { interpreter?: string; needed: string[] } {
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1)
    throw new Error("not a 64-bit little-endian ELF file");
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  const segments = Array.from({ length: phnum }, (_, i) => {
    const o = phoff + i * phentsize;
    return {
      type: elf.readUInt32LE(o),
      offset: Number(elf.readBigUInt64LE(o + 8)),
      vaddr: Number(elf.readBigUInt64LE(o + 16)),
      filesz: Number(elf.readBigUInt64LE(o + 32)),
    };
  });
  const cstring = (o: number) => elf.subarray(o, elf.indexOf(0, o)).toString("latin1");
  const interp = segments.find((s) => s.type === 3);
  const dynamic = segments.find((s) => s.type === 2);
  const result: { interpreter?: string; needed: string[] } = { needed: [] };
  if (interp) result.interpreter = cstring(interp.offset);
  if (!dynamic) return result;
  const entries: { tag: number; val: number }[] = [];
  for (let o = dynamic.offset; o + 16 <= dynamic.offset + dynamic.filesz; o += 16) {
    const tag = Number(elf.readBigInt64LE(o));
    if (tag === 0) break;
    entries.push({ tag, val: Number(elf.readBigUInt64LE(o + 8)) });
  }
  const strtab = entries.find((e) => e.tag === 5)?.val;
  if (strtab === undefined) return result;
  const load = segments.find((s) => s.type === 1 && s.vaddr <= strtab && strtab < s.vaddr + s.filesz);
  if (!load) throw new Error("DT_STRTAB is in no loaded segment");
  const strOffset = strtab - load.vaddr + load.offset;
  result.needed = entries.filter((e) => e.tag === 1).map((e) => cstring(strOffset + e.val));
  return result;
}

/** A cpio archive in the "newc" format the kernel unpacks; owned by root, mtime 0. */
export class CpioTree {
  private readonly entries = new Map<string, { mode: number; data: Buffer; rdev?: [number, number] }>();

  dir(p: string, perm = 0o755): this {
    this.parents(p);
    this.entries.set(clean(p), { mode: 0o040000 | perm, data: Buffer.alloc(0) });
    return this;
  }

  file(p: string, data: string | Buffer, perm = 0o644): this {
    this.parents(p);
    this.entries.set(clean(p), { mode: 0o100000 | perm, data: Buffer.from(data) });
    return this;
  }

  symlink(p: string, target: string): this {
    this.parents(p);
    this.entries.set(clean(p), { mode: 0o120777, data: Buffer.from(target) });
    return this;
  }

  device(p: string, perm: number, major: number, minor: number): this {
    this.parents(p);
    this.entries.set(clean(p), { mode: 0o020000 | perm, data: Buffer.alloc(0), rdev: [major, minor] });
    return this;
  }

  get paths(): string[] {
    return [...this.entries.keys()];
  }

  toBuffer(): Buffer {
    const chunks: Buffer[] = [];
    let ino = 1;
    const add = (name: string, mode: number, data: Buffer, rdev: [number, number] = [0, 0]) => {
      const fields = [
        ino++,
        mode,
        0,
        0,
        (mode & 0o170000) === 0o040000 ? 2 : 1,
        0,
        data.length,
        0,
        0,
        ...rdev,
      ];
      const nameBytes = Buffer.from(`${name}\0`);
      const header = `070701${fields.map(hex8).join("")}${hex8(nameBytes.length)}${hex8(0)}`;
      chunks.push(pad4(Buffer.concat([Buffer.from(header, "latin1"), nameBytes])), pad4(data));
    };
    // Parents first (they were inserted before their children).
    for (const [name, e] of this.entries) add(name, e.mode, e.data, e.rdev);
    add("TRAILER!!!", 0, Buffer.alloc(0));
    return Buffer.concat(chunks);
  }

  private parents(p: string): void {
    const parts = clean(p).split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (!this.entries.has(dir)) this.entries.set(dir, { mode: 0o040755, data: Buffer.alloc(0) });
    }
  }
}

function clean(p: string): string {
  const c = path.posix.normalize(p).replace(/^\/+|\/+$/g, "");
  if (!c || c.startsWith("..")) throw new Error(`bad path in the image: ${p}`);
  return c;
}

function hex8(n: number): string {
  return n.toString(16).toUpperCase().padStart(8, "0");
}

function pad4(b: Buffer): Buffer {
  const extra = (4 - (b.length % 4)) % 4;
  return extra ? Buffer.concat([b, Buffer.alloc(extra)]) : b;
}

// ---------------------------------------------------------------------------------------------
// Disk

export const SYSLINUX_CFG = `SERIAL 0 115200
DEFAULT testvm
PROMPT 0
TIMEOUT 0
LABEL testvm
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND ${KERNEL_CMDLINE}
`;

const MIB = 1024 * 1024;

/**
 * MBR with syslinux's boot code and one bootable FAT partition at 1 MiB holding SYSLINUX,
 * vmlinuz and initrd.gz; sized to fit them with 1 MiB to spare.
 */
function writeDisk(disk: string, kernel: string, initrd: string): void {
  const payload = fs.statSync(kernel).size + fs.statSync(initrd).size;
  const fsBytes = Math.ceil(payload / MIB + 1) * MIB;
  const total = PARTITION_OFFSET + fsBytes;
  fs.writeFileSync(disk, "");
  fs.truncateSync(disk, total);
  const image = `${disk}@@${PARTITION_OFFSET}`;
  const env = { ...process.env, MTOOLS_SKIP_CHECK: "1" };
  const sectors = fsBytes / 512;
  const geometry = ["-T", String(sectors), "-h", "64", "-s", "32", "-H", String(PARTITION_OFFSET / 512)];
  run("mformat", ["-i", image, ...geometry, "-v", "TESTVM", "-N", "7e57d15c", "::"], { env });
  const cfg = path.join(path.dirname(disk), "syslinux.cfg");
  fs.writeFileSync(cfg, SYSLINUX_CFG);
  run("mcopy", ["-i", image, kernel, "::vmlinuz"], { env });
  run("mcopy", ["-i", image, initrd, "::initrd.gz"], { env });
  run("mcopy", ["-i", image, cfg, "::syslinux.cfg"], { env });
  fs.rmSync(cfg);
  run("syslinux", ["--install", "--offset", String(PARTITION_OFFSET), disk], { env });
  const fd = fs.openSync(disk, "r+");
  try {
    // mformat chose FAT12 or FAT16 by size; the boot sector says which.
    const label = Buffer.alloc(8);
    fs.readSync(fd, label, 0, 8, PARTITION_OFFSET + 0x36);
    const type = label.toString("latin1") === "FAT12   " ? 0x01 : 0x0e;
    fs.writeSync(fd, mbr(fs.readFileSync(MBR_BIN), PARTITION_OFFSET / 512, sectors, type), 0, 512, 0);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Sector 0: boot code, a fixed disk signature, one active partition (type 0x0e FAT16 LBA by
 * default; the boot code and SeaBIOS go by the active flag, the type is for the reader).
 */
export function mbr(bootCode: Buffer, startLba: number, sectors: number, type = 0x0e): Buffer {
  if (bootCode.length > 440) throw new Error(`MBR boot code of ${bootCode.length} bytes (at most 440)`);
  const s = Buffer.alloc(512);
  bootCode.copy(s, 0);
  s.writeUInt32LE(0x7e57d15c, 440);
  const e = 446;
  s[e] = 0x80; // active: the partition the boot code loads
  // CHS fields unused (the boot code and SeaBIOS use LBA): the "beyond CHS" marker.
  s.set([0xfe, 0xff, 0xff], e + 1);
  s[e + 4] = type;
  s.set([0xfe, 0xff, 0xff], e + 5);
  s.writeUInt32LE(startLba, e + 8);
  s.writeUInt32LE(sectors, e + 12);
  s[510] = 0x55;
  s[511] = 0xaa;
  return s;
}

if (require.main === module) {
  const start = performance.now();
  const { dir, built, files } = ensureTestImage();
  const seconds = Number(((performance.now() - start) / 1000).toFixed(1));
  console.log(
    JSON.stringify(
      { dir, built, seconds, files, glance: glanceImageCreateArgs(TEST_IMAGE_NAME, files.disk) },
      null,
      2,
    ),
  );
}
