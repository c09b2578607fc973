import { DEBIAN_12_ZED } from "./debian-12-zed";
import { DEBIAN_13_EPOXY } from "./debian-13-epoxy";
import { ReleaseProfile } from "./profile";
import { UBUNTU_2404_CARACAL } from "./ubuntu-2404-caracal";

export type { ReleaseProfile } from "./profile";
export { DEBIAN_12_ZED } from "./debian-12-zed";
export { DEBIAN_13_EPOXY } from "./debian-13-epoxy";
export { UBUNTU_2404_CARACAL } from "./ubuntu-2404-caracal";

export const RELEASE_NAMES = ["debian-12-zed", "debian-13-epoxy", "ubuntu-2404-caracal"] as const;
/** A supported release's name: the inventory's `release:` value, such as `debian-12-zed`. */
export type ReleaseName = (typeof RELEASE_NAMES)[number];

/**
 * An inventory's release when it names none: the current Debian with its own OpenStack. A cloud
 * built with another release is never moved to it: each host records its release, and its first
 * step refuses another (lib/hosts/base-system.ts, `releaseGuard`).
 */
export const DEFAULT_RELEASE: ReleaseName = "debian-13-epoxy";

const PROFILES: Record<ReleaseName, ReleaseProfile> = {
  "debian-12-zed": DEBIAN_12_ZED,
  "debian-13-epoxy": DEBIAN_13_EPOXY,
  "ubuntu-2404-caracal": UBUNTU_2404_CARACAL,
};

/** The profile for a release name; throws with the supported names when it is unknown. */
export function releaseProfile(name: string): ReleaseProfile {
  const profile = PROFILES[name as ReleaseName];
  if (!profile) {
    throw new Error(`release: got "${name}": expected one of ${RELEASE_NAMES.join(", ")}`);
  }
  return profile;
}
