import type { ReleaseName } from "./index";
import { ReleaseProfile } from "./profile";

/**
 * A component's packages for each supported release, declared next to the component's code
 * (kolla-style: one service, one place). The type asks for every release: a new release adds
 * its names to each component's table.
 */
export type PackagesByRelease = Readonly<Record<ReleaseName, readonly string[]>>;

/** The packages of `table` for `release`; a release the table does not know is an error. */
export function packagesFor(
  what: string,
  table: PackagesByRelease,
  release: ReleaseProfile,
): readonly string[] {
  const packages = (table as Readonly<Record<string, readonly string[]>>)[release.name];
  if (!packages) {
    throw new Error(
      `${what} packages: got release ${JSON.stringify(release.name)}: expected one of ${Object.keys(table).join(", ")}`,
    );
  }
  return packages;
}
