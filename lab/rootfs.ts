/**
 * The Debian base root filesystem of a release (bookworm for Debian 12, trixie for Debian 13),
 * built once per machine and suite and shared read-only by every host through an overlay mount.
 * Built into a temp dir and renamed when complete, so that an interrupted build is never reused.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { CACHE_DIR } from "./config";
import { buildIntoCache } from "./cache-build";
import { run } from "./exec";
import { ReleaseProfile } from "../lib/core/releases";

/** The Debian suites the lab can boot: those of the Debian releases the library deploys. */
export const LAB_SUITES = ["bookworm", "trixie"] as const;
export type LabSuite = (typeof LAB_SUITES)[number];

/** The suite the lab boots for a release; the lab has no Ubuntu archive to build hosts from. */
export function labSuite(release: ReleaseProfile): LabSuite {
  const suite = LAB_SUITES.find((s) => s === release.codename);
  if (release.distribution !== "debian" || !suite) {
    throw new Error(
      `release: got ${release.name}: the lab boots Debian hosts only (${LAB_SUITES.join(", ")}); this release can be synthesized, not deployed here`,
    );
  }
  return suite;
}
const MIRROR = "http://deb.debian.org/debian";
/** What a freshly installed small server has: systemd, sshd, and basic network tools. */
const INCLUDE = [
  "systemd",
  "systemd-sysv",
  "dbus",
  "openssh-server",
  // As on an installed server (openssh-server recommends it): logins get a logind session and
  // root's user manager, which the lab keeps running (keepRootUserManager in containers.ts).
  "libpam-systemd",
  "iproute2",
  "ca-certificates",
  "iputils-ping",
  "arping",
  "procps",
  "curl",
  "less",
];
/** Bumped when the customisation below changes, so that the cache key changes with it. */
const RECIPE_VERSION = 1;

const sources = (suite: LabSuite) => `deb http://deb.debian.org/debian ${suite} main
deb http://deb.debian.org/debian ${suite}-updates main
deb http://deb.debian.org/debian-security ${suite}-security main
`;

export function baseRootfsPath(suite: LabSuite): string {
  // Bookworm's key is the one it has always had (SUITE was its only name), so its cache stays valid.
  const key = createHash("sha256")
    .update(JSON.stringify({ SUITE: suite, MIRROR, INCLUDE, RECIPE_VERSION }))
    .digest("hex")
    .slice(0, 12);
  return path.join(CACHE_DIR, "rootfs", `${suite}-${key}`);
}

/** Returns the cached base of `suite`, building it first if needed. */
export function ensureBaseRootfs(suite: LabSuite): { dir: string; built: boolean } {
  const dir = baseRootfsPath(suite);
  if (fs.existsSync(path.join(dir, "etc", "os-release"))) return { dir, built: false };
  buildIntoCache(dir, `the Debian ${suite} base root filesystem`, (tmp) => {
    run("debootstrap", ["--variant=minbase", `--include=${INCLUDE.join(",")}`, suite, tmp, MIRROR]);
    customize(tmp, suite);
  });
  return { dir, built: true };
}

/** Makes the tree a template: no identity of its own, no DNS, apt sources like an installed server. */
function customize(root: string, suite: LabSuite): void {
  const etc = path.join(root, "etc");
  for (const f of fs.readdirSync(path.join(etc, "ssh"))) {
    if (f.startsWith("ssh_host_")) fs.rmSync(path.join(etc, "ssh", f));
  }
  // Empty machine-id: each host gets its own; "uninitialized" would trigger first-boot units.
  fs.writeFileSync(path.join(etc, "machine-id"), "");
  fs.rmSync(path.join(root, "var", "lib", "dbus", "machine-id"), { force: true });
  fs.writeFileSync(path.join(etc, "hostname"), "localhost\n");
  // No name server is reachable from the lab: names come from /etc/hosts; lookups fail fast.
  fs.rmSync(path.join(etc, "resolv.conf"), { force: true });
  fs.writeFileSync(path.join(etc, "resolv.conf"), "# lab host: no DNS server; names are in /etc/hosts\n");
  fs.writeFileSync(path.join(etc, "apt", "sources.list"), sources(suite));
  fs.writeFileSync(path.join(etc, "fstab"), "# lab host: no file systems of its own\n");
  run("chroot", [root, "apt-get", "clean"]);
}
