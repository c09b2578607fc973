/** Nova (lib/services/nova.ts): through the VIP, nova-conductor and nova-scheduler up on every controller. */
import { API_PORTS } from "../../../lib/core/openstack-api";
import { novaRelease } from "../../../lib/services/nova";
import { controllerServices, ServiceChecks } from "./client";

/** Per controller, in `openstack compute service list`. */
export const CONTROLLER_COMPUTE_BINARIES = ["nova-conductor", "nova-scheduler"];

export const nova: ServiceChecks = {
  name: "nova",
  api: { type: "compute", port: API_PORTS.compute, path: "/", listPath: "/v2.1/servers" },
  units: (release) => novaRelease(release).units,
  viaVip: controllerServices("compute", "os-compute-services", CONTROLLER_COMPUTE_BINARIES),
};
