/** Cinder (lib/services/cinder.ts): through the VIP, cinder-scheduler up on every controller. */
import { API_PORTS } from "../../../lib/core/openstack-api";
import { controllerServices, ServiceChecks } from "./client";

/** Per controller, in `openstack volume service list`. */
export const CONTROLLER_VOLUME_BINARIES = ["cinder-scheduler"];

export const cinder: ServiceChecks = {
  name: "cinder",
  api: { type: "volumev3", port: API_PORTS.volumev3, path: "/", listPath: "/v3/{project}/volumes" },
  units: (u) => u.cinderController,
  viaVip: controllerServices("volume", "os-volume-services", CONTROLLER_VOLUME_BINARIES),
};
