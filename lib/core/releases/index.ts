import { DEBIAN_12_ZED } from "./debian-12-zed";
import { ReleaseProfile } from "./profile";
import { UBUNTU_2404_CARACAL } from "./ubuntu-2404-caracal";

export type { ReleaseProfile } from "./profile";
export { DEBIAN_12_ZED } from "./debian-12-zed";
export { UBUNTU_2404_CARACAL } from "./ubuntu-2404-caracal";

export const RELEASE_NAMES = ["debian-12-zed", "ubuntu-2404-caracal"] as const;
/** A supported release's name: the inventory's `release:` value, such as `debian-12-zed`. */
export type ReleaseName = (typeof RELEASE_NAMES)[number];

const PROFILES: Record<ReleaseName, ReleaseProfile> = {
  "debian-12-zed": DEBIAN_12_ZED,
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
