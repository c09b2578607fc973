import { Construct } from "constructs";
import { Step } from "../core/step";
import { CinderService } from "../services/cinder";
import { preinstall, RoleNode, RoleNodeProps } from "./role-node";

/** Holds Cinder volumes: cinder-volume and its backends (`Host.volumeBackends`). */
export class StorageNode extends RoleNode {
  readonly role = "storage" as const;
  private packagesStep?: Step;

  constructor(scope: Construct, id: string, props: RoleNodeProps) {
    super(scope, id, props, "storage");
  }

  /**
   * cinder-volume's packages, in a step of their own that needs nothing but the base system, so
   * that they install while the controllers install theirs. Called before the host's other
   * roles place their steps, it comes before those too; `placeServices` calls it otherwise.
   * Returns the step, or none on a host without volume backends. One step: a second call returns it.
   */
  preinstallPackages(services: { readonly cinder: CinderService }): Step | undefined {
    if (this.host.volumeBackends.length === 0) return undefined;
    this.packagesStep ??= preinstall(this, "storage_packages", services.cinder.volumePackages(this.host));
    return this.packagesStep;
  }

  /**
   * Places Cinder's volume service on this host: its packages first (`preinstallPackages`), then
   * cinder-volume, which starts once the controllers' Cinder is up. A host without volume
   * backends gets neither. Returns the services' steps.
   */
  placeServices(services: { readonly cinder: CinderService }): Step[] {
    if (this.host.volumeBackends.length === 0) return [];
    this.preinstallPackages(services);
    return [services.cinder.volumeHost(this.host)];
  }
}
