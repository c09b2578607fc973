/** Installs the lab's own tools on the machine from Debian's packages when they are missing. */
import { run, tryRun } from "./exec";

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
  run("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing], { env });
}
