/**
 * The services the checks know, one file each as in lib/services/, in the order the checks ask
 * them (control-plane's GETs, openstack-api's commands and results, api-keepalive,
 * api-cold-start). Add a service here.
 */
import { releaseProfile } from "../../../lib/core/releases";
import { cinder } from "./cinder";
import { ApiSpec, ServiceChecks } from "./client";
import { glance } from "./glance";
import { horizon } from "./horizon";
import { keystone } from "./keystone";
import { neutron } from "./neutron";
import { nova } from "./nova";
import { placement } from "./placement";
import { swift } from "./swift";

/** Units and APIs in this order; openstack-api asks keystone, nova, cinder, neutron, then glance. */
export const SERVICES: readonly ServiceChecks[] = [
  keystone,
  glance,
  placement,
  nova,
  neutron,
  cinder,
  swift,
  horizon,
];

/** The order of openstack-api's commands and results: os-token, os-endpoints, os-compute-services, os-volume-services, os-network, os-image, os-object-store. */
export const VIA_VIP_ORDER: readonly ServiceChecks[] = [keystone, nova, cinder, neutron, glance, swift];

/** The APIs the library registers in the catalog. */
export const API_SERVICES: readonly ApiSpec[] = SERVICES.flatMap((s) => (s.api ? [s.api] : []));

/** The systemd units the library runs on a controller for the control plane (each service's, for the release). */
export function controlPlaneUnits(release: string): string[] {
  const profile = releaseProfile(release);
  return [...new Set(SERVICES.flatMap((s) => s.units(profile)))];
}
