import type { ReleaseName } from "./index";
import { ReleaseProfile } from "./profile";

/**
 * A component's data for each supported release (packages, units, paths), declared next to the
 * component's code (kolla-style: one service, one place). The type asks for every release: a new
 * release adds its entry to each component's tables.
 */
export type ByRelease<T> = Readonly<Record<ReleaseName, T>>;

/** A component's packages for each supported release. */
export type PackagesByRelease = ByRelease<readonly string[]>;

/** The entry of `table` for `release`; a release the table does not know is an error. */
export function forRelease<T>(what: string, table: ByRelease<T>, release: ReleaseProfile): T {
  const entry = (table as Readonly<Record<string, T>>)[release.name];
  if (entry === undefined) {
    throw new Error(
      `${what}: got release ${JSON.stringify(release.name)}: expected one of ${Object.keys(table).join(", ")}`,
    );
  }
  return entry;
}

/** The packages of `table` for `release`; a release the table does not know is an error. */
export function packagesFor(
  what: string,
  table: PackagesByRelease,
  release: ReleaseProfile,
): readonly string[] {
  return forRelease(`${what} packages`, table, release);
}

/** `table` with `f` applied to each release's entry. */
export function mapReleases<T, U>(
  table: ByRelease<T>,
  f: (entry: T, release: ReleaseName) => U,
): ByRelease<U> {
  return Object.fromEntries(
    Object.entries(table).map(([name, entry]) => [name, f(entry as T, name as ReleaseName)]),
  ) as ByRelease<U>;
}
