/** Installs the lab's own tools on the machine from Debian's packages when they are missing. */
import * as fs from "fs";
import { run, tryRun } from "./exec";

const POLICY_RC = "/usr/sbin/policy-rc.d";

function installed(pkg: string): boolean {
  const r = tryRun("dpkg-query", ["-W", "-f=${Status}", pkg]);
  return r.code === 0 && r.stdout.includes("install ok installed");
}

export function ensurePackages(packages: readonly string[]): void {
  const missing = packages.filter((p) => !installed(p));
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(" ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  run("apt-get", ["update", "-q"], { env });
  // The packages' own daemons must not start (squid's would listen on 0.0.0.0:3128): the lab
  // runs its own proxy, bound to its bridge. A policy-rc.d that is already there is left alone.
  const ours = !fs.existsSync(POLICY_RC);
  if (ours)
    fs.writeFileSync(POLICY_RC, "#!/bin/sh\n# openstack-cdktf lab: no daemon starts\nexit 101\n", {
      mode: 0o755,
    });
  try {
    run("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing], { env });
  } finally {
    if (ours) fs.rmSync(POLICY_RC, { force: true });
  }
}
