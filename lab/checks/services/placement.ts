/** Placement (lib/services/placement.ts): its API and unit (control-plane, api-keepalive, api-cold-start). */
import { API_PORTS } from "../../../lib/core/openstack-api";
import { ServiceChecks } from "./client";

export const placement: ServiceChecks = {
  name: "placement",
  api: { type: "placement", port: API_PORTS.placement, path: "/", listPath: "/resource_providers" },
  units: (u) => [u.placement],
};
