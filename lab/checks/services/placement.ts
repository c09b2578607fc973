/** Placement (lib/services/placement.ts): its API and unit (control-plane, api-keepalive, api-cold-start). */
import { forRelease } from "../../../lib/core/releases/packages";
import { PLACEMENT_API, PLACEMENT_RELEASES } from "../../../lib/services/placement";
import { ServiceChecks } from "./client";

export const placement: ServiceChecks = {
  name: "placement",
  api: { ...PLACEMENT_API, path: "/", listPath: "/resource_providers" },
  units: (release) => forRelease("placement", PLACEMENT_RELEASES, release).units,
};
