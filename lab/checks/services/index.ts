/**
 * The OpenStack control-plane checks, in verify's order: per controller (control-plane), through
 * the VIP (openstack-api: every service's part), each service's own checks (Horizon login and
 * compress pool), connection reuse (api-keepalive), concurrent requests to freshly restarted
 * APIs on the standby (api-cold-start). The services: catalog.ts.
 */
import { Check } from "../types";
import { openstackApi } from "./api";
import { SERVICES } from "./catalog";
import { apiColdStart } from "./cold-start";
import { controlPlane } from "./control-plane";
import { apiKeepalive } from "./keepalive";

export const controlPlaneChecks: readonly Check[] = [
  controlPlane,
  openstackApi,
  ...SERVICES.flatMap((s) => s.checks ?? []),
  apiKeepalive,
  apiColdStart,
];
