/** Nova (lib/services/nova.ts): through the VIP, nova-conductor and nova-scheduler up on every controller. */
import { NOVA_API, novaRelease } from "../../../lib/services/nova";
import { controllerServices, ServiceChecks } from "./client";

/** Per controller, in `openstack compute service list`. */
export const CONTROLLER_COMPUTE_BINARIES = ["nova-conductor", "nova-scheduler"];

export const nova: ServiceChecks = {
  name: "nova",
  api: { ...NOVA_API, path: "/", listPath: "/v2.1/servers" },
  units: (release) => novaRelease(release).units,
  viaVip: controllerServices("compute", "os-compute-services", CONTROLLER_COMPUTE_BINARIES),
};
