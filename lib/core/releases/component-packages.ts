import { componentPackages } from "../../components";
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
  let all: Record<string, readonly string[]> | undefined;
  const assembled = () => (all ??= { ...platform, ...componentPackages(release) });
  return new Proxy(platform as ReleaseProfile["packages"], {
    get: (_target, key) => Reflect.get(assembled(), key),
    has: (_target, key) => Reflect.has(assembled(), key),
    ownKeys: () => Reflect.ownKeys(assembled()),
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(assembled(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}

/** The lists a profile gives itself: the base system's and the platform's. */
export type PlatformPackages = Pick<
  ReleaseProfile["packages"],
  "base" | "timeSync" | "database" | "heartbeat" | "rabbitmq" | "memcached" | "client"
>;
