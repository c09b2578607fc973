import { Construct } from "constructs";
import { Step } from "../core/step";
import { SwiftService } from "../services/swift";
import { preinstall, RoleNode, RoleNodeProps } from "./role-node";

/** Holds data: Swift's account, container and object servers (and Cinder's volumes). */
export class StorageNode extends RoleNode {
  readonly role = "storage" as const;

  constructor(scope: Construct, id: string, props: RoleNodeProps) {
    super(scope, id, props, "storage");
  }

  /**
   * Places the storage services' parts on this host: their packages first, in a step that needs
   * nothing but the base system, then Swift's storage servers, which start once the first
   * controller has checked the rings. Returns the services' steps.
   */
  placeServices(services: { readonly swift: SwiftService }): Step[] {
    preinstall(this, "storage_packages", services.swift.storagePackages(this.host));
    return [services.swift.storageHost(this.host)];
  }
}
