import { componentPackages } from "../../components";
import { lazyView } from "../lazy-view";
import type { ReleaseName } from "./index";
import { ReleaseProfile } from "./profile";

/**
 * A release profile's `packages`: the platform's lists, given here, and each service's, from the
 * table in the service's own file (lib/components.ts lists them). The services' part is read
 * when first used: their modules import modules that import the profiles.
 */
export function withComponentPackages(
  release: ReleaseName,
  platform: PlatformPackages,
): ReleaseProfile["packages"] {
  return lazyView({ ...platform } as ReleaseProfile["packages"], () => ({
    ...platform,
    ...componentPackages(release),
  })) as ReleaseProfile["packages"];
}

/** The lists a profile gives itself: the base system's and the platform's. */
export type PlatformPackages = Pick<
  ReleaseProfile["packages"],
  "base" | "timeSync" | "database" | "heartbeat" | "rabbitmq" | "memcached" | "client"
>;
