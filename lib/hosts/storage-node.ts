import { Construct } from "constructs";
import { Step } from "../core/step";
import { Host } from "./host";
import { preinstall, RoleNode, RoleNodeProps } from "./role-node";

/**
 * The services a storage host runs a part of, by what the host asks of each (`SwiftService`,
 * `CinderService`, `CephCluster` fit): the host layer names no service.
 */
export interface StorageServices {
  readonly swift: {
    storagePackages(host: Host): readonly string[];
    storageHost(host: Host): Step;
  };
  readonly cinder: {
    volumePackages(host: Host): readonly string[];
    volumeHost(host: Host): Step;
  };
  /** The cluster's Ceph, whose OSD (and maybe a monitor) this host runs. */
  readonly ceph?: { hostPackages(host: Host): readonly string[] };
}

/**
 * Holds data: Swift's account, container and object servers on every storage host, a Ceph OSD
 * where the cluster has Ceph, and cinder-volume with its backends (`Host.volumeBackends`) where
 * the host has any.
 */
export class StorageNode extends RoleNode {
  /** The role this construct gives its host: `storage`. */
  readonly role = "storage" as const;
  private packagesStep?: Step;

  constructor(scope: Construct, id: string, props: RoleNodeProps) {
    super(scope, id, props, "storage");
  }

  /**
   * The storage services' packages, in a step of their own that needs nothing but the base
   * system, so that they install while the controllers install theirs. Called before the host's
   * other roles place their steps, it comes before those too; `placeServices` calls it otherwise.
   * One step: a second call returns it.
   */
  preinstallPackages(services: StorageServices): Step {
    if (this.packagesStep) return this.packagesStep;
    const cinder = this.host.volumeBackends.length > 0 ? services.cinder.volumePackages(this.host) : [];
    const ceph = services.ceph ? services.ceph.hostPackages(this.host) : [];
    const packages = [...new Set([...services.swift.storagePackages(this.host), ...ceph, ...cinder])];
    this.packagesStep = preinstall(this, "storage_packages", packages);
    return this.packagesStep;
  }

  /**
   * Places the storage services on this host: their packages first (`preinstallPackages`), then
   * Swift's storage servers (once the first controller has checked the rings). Returns the
   * services' steps. The cluster places Ceph's steps next, then `placeVolumeService`.
   */
  placeServices(services: StorageServices): Step[] {
    this.preinstallPackages(services);
    return [services.swift.storageHost(this.host)];
  }

  /**
   * With volume backends, cinder-volume (once the controllers' Cinder is up, and for RBD once
   * Ceph's pools are): after `placeServices` and Ceph's steps. Returns its step, if any.
   */
  placeVolumeService(services: StorageServices): Step[] {
    return this.host.volumeBackends.length > 0 ? [services.cinder.volumeHost(this.host)] : [];
  }
}
