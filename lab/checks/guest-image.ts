/**
 * What the data-plane checks need of the lab's test image (lab/test-image.ts builds it): the raw
 * disk file on the lab machine and how to register it with Glance (GuestImage), and what its
 * serial console says (GuestConsole, from the "TESTVM …" lines its init prints; its disks,
 * guestDiskEvents).
 *
 * The checks ask `guestImage()`: lab/test-image.ts's image (built once per machine and recipe,
 * then cached). `cachedGuestImage` reads the newest build cached under
 * CACHE_DIR/test-image/<name>-<hash>/ without building.
 */
import * as fs from "fs";
import * as path from "path";
import { CACHE_DIR } from "../config";
import { ConsoleEvent, ensureTestImage, GLANCE, parseConsoleLog } from "../test-image";

export interface GuestImage {
  /** The raw disk image on the lab machine. */
  readonly file: string;
  readonly diskFormat: string;
  readonly containerFormat: string;
  readonly minRamMb?: number;
  readonly minDiskGb?: number;
  /** Glance properties (hw_vif_model, hw_disk_bus, …). */
  readonly properties: Readonly<Record<string, string>>;
}

/** Where the checks get the image: replace with the test image module's own (ensureTestImage). */
export type GuestImageSource = () => GuestImage;

interface Manifest {
  readonly builtAt?: string;
  readonly glance?: {
    readonly diskFormat?: string;
    readonly containerFormat?: string;
    readonly minRamMb?: number;
    readonly minDiskGb?: number;
    readonly properties?: Record<string, string>;
  };
}

/** The newest complete build under `root` (by manifest.json's builtAt, else its mtime). */
export function cachedGuestImage(root = path.join(CACHE_DIR, "test-image")): GuestImage {
  const dirs = fs.existsSync(root) ? fs.readdirSync(root) : [];
  const builds = dirs
    .map((d) => path.join(root, d))
    .filter((d) => fs.existsSync(path.join(d, "manifest.json")) && fs.existsSync(path.join(d, "disk.img")))
    .map((d) => {
      const manifest = JSON.parse(fs.readFileSync(path.join(d, "manifest.json"), "utf8")) as Manifest;
      const at = Date.parse(manifest.builtAt ?? "") || fs.statSync(path.join(d, "manifest.json")).mtimeMs;
      return { dir: d, manifest, at };
    })
    .sort((a, b) => b.at - a.at);
  const newest = builds[0];
  if (!newest) throw new Error(`no test image built under ${root} (disk.img + manifest.json)`);
  const g = newest.manifest.glance;
  if (!g?.diskFormat || !g.containerFormat)
    throw new Error(`${newest.dir}/manifest.json: no glance.diskFormat/containerFormat`);
  return {
    file: path.join(newest.dir, "disk.img"),
    diskFormat: g.diskFormat,
    containerFormat: g.containerFormat,
    minRamMb: g.minRamMb,
    minDiskGb: g.minDiskGb,
    properties: g.properties ?? {},
  };
}

/** The image the checks boot. */
export let guestImage: GuestImageSource = () => ({
  file: ensureTestImage().files.disk,
  ...GLANCE,
  properties: { ...GLANCE.properties },
});

/** For the test image module (or a test) to provide its own. */
export function setGuestImageSource(source: GuestImageSource): void {
  guestImage = source;
}

/** `openstack image create` arguments for the image (file = its path on the host that uploads). */
export function imageCreateArgs(image: GuestImage, name: string, file: string): string[] {
  return [
    "image", "create", "--file", file, "--disk-format", image.diskFormat,
    "--container-format", image.containerFormat, "--private",
    ...(image.minRamMb !== undefined ? ["--min-ram", String(image.minRamMb)] : []),
    ...(image.minDiskGb !== undefined ? ["--min-disk", String(image.minDiskGb)] : []),
    ...Object.entries(image.properties).flatMap(([k, v]) => ["--property", `${k}=${v}`]),
    "-f", "json", name,
  ]; // prettier-ignore
}

// ---------------------------------------------------------------------------------------------
// The console: "TESTVM <what>" lines (lab/test-image/init.sh), possibly after other output on
// the same line, CRs from the serial port ignored.

export interface GuestConsole {
  /** Boots seen; the fields below are the latest boot's. */
  readonly boots: number;
  readonly dhcp?: { readonly ip: string; readonly prefix: number };
  readonly dhcpFailed: boolean;
  readonly uuid?: string;
  readonly metadataFailed: boolean;
  readonly ready: boolean;
  /** Per target: the results in order (true = ok). */
  readonly pings: Readonly<Record<string, readonly boolean[]>>;
}

const TAG = "TESTVM ";

export function parseGuestConsole(log: string): GuestConsole {
  let boots = 0;
  let s: {
    dhcp?: { ip: string; prefix: number };
    dhcpFailed: boolean;
    uuid?: string;
    metadataFailed: boolean;
    ready: boolean;
    pings: Record<string, boolean[]>;
  } = { dhcpFailed: false, metadataFailed: false, ready: false, pings: {} };
  for (const raw of log.split("\n")) {
    const at = raw.lastIndexOf(TAG);
    if (at < 0) continue;
    const text = raw
      .slice(at + TAG.length)
      .replace(/\r/g, "")
      .trim();
    let m: RegExpExecArray | null;
    if (/^boot kernel=\S+$/.test(text)) {
      boots++;
      s = { dhcpFailed: false, metadataFailed: false, ready: false, pings: {} };
    } else if ((m = /^dhcp ip=(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2}) /.exec(text)))
      s.dhcp = { ip: m[1], prefix: Number(m[2]) };
    else if (text === "dhcp failed") s.dhcpFailed = true;
    else if ((m = /^metadata uuid=([0-9a-fA-F-]+)$/.exec(text))) s.uuid = m[1].toLowerCase();
    else if (text === "metadata failed") s.metadataFailed = true;
    else if (text === "ready") s.ready = true;
    else if ((m = /^ping (\S+) (ok|fail)$/.exec(text))) (s.pings[m[1]] ??= []).push(m[2] === "ok");
  }
  return { boots, ...s };
}

/** The user data that makes the guest ping each address every 2 s. */
export function pingUserData(targets: readonly string[]): string {
  for (const t of targets)
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(t)) throw new Error(`not an IPv4 address: ${t}`);
  return targets.map((t) => `ping=${t}\n`).join("");
}

/** A "TESTVM disk …" line: a virtio disk there or appeared (with its size), or gone. */
export type GuestDiskEvent = Extract<ConsoleEvent, { kind: "disk" | "disk-removed" }>;

/**
 * The disk lines of the latest boot, in order (lab/test-image/disk-watch.sh: every disk there
 * when the guest is ready, then one line per change), parsed by lab/test-image.ts.
 */
export function guestDiskEvents(log: string): GuestDiskEvent[] {
  const events = parseConsoleLog(log);
  const lastBoot = events.map((e) => e.kind).lastIndexOf("boot");
  return events
    .slice(Math.max(lastBoot, 0))
    .filter((e): e is GuestDiskEvent => e.kind === "disk" || e.kind === "disk-removed");
}
