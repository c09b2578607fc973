import type { ByRelease, PackagesByRelease } from "./releases/packages";
import type { SecretSpec } from "./secret-spec";

/**
 * The API a component registers in Keystone's catalog: its catalog type (`image`), and the port
 * it listens on, on every controller and the VIP.
 */
export interface ApiDeclaration {
  readonly type: string;
  readonly port: number;
}

/**
 * What a component (a service or a platform construct) declares about itself, in its own file,
 * kolla-style: the secrets it uses, its packages, and its API. lib/cluster/components.ts lists the
 * components (the services' from `SERVICES`, lib/cluster/services.ts); the secret catalog and
 * the release profiles' `packages` are assembled from there.
 */
export interface ComponentDeclaration {
  readonly name: string;
  /** @default none */
  readonly secrets?: readonly SecretSpec[];
  /**
   * The components the cluster builds before this one (their names): what its constructor
   * references, or whose steps its own wait for. The cluster orders its services by these.
   * @default none
   */
  readonly needs?: readonly string[];
  /** Package tables by the name a release profile's `packages` gives them (`glance`, `novaCompute`). @default none */
  readonly packages?: Readonly<Record<string, PackagesByRelease>>;
  /**
   * Its packages on a controller, installed early: every controller installs all components'
   * in one step of its own after the base system (`controller_packages`), in parallel with the
   * other hosts, and the component's own steps then find them installed. @default none
   */
  readonly controllerPackages?: PackagesByRelease;
  /**
   * debconf answers (`debconf-set-selections` lines) its packages' maintainer scripts read,
   * given before they install, wherever that is. @default none
   */
  readonly debconf?: ByRelease<readonly string[]>;
  /**
   * The API it registers in Keystone's catalog (type and port); the lab's checks must ask each
   * one (test/lab-checks.test.ts). @default none
   */
  readonly api?: ApiDeclaration;
}
