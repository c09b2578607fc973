/**
 * Where the cloud's APIs answer and where its admin credentials live on a controller: what the
 * services in lib/services/ configure, and what the lab's checks (lab/checks/services/) ask.
 */

/** The port each API listens on (every controller, and the VIP), by catalog type. */
export const API_PORTS = {
  identity: 5000,
  image: 9292,
  placement: 8778,
  compute: 8774,
  network: 9696,
  volumev3: 8776,
  "object-store": 8080,
} as const;

/** root's shell settings for the cloud's admin on every controller (written by KeystoneService, 0600). */
export const ADMIN_OPENRC = "/root/admin-openrc";

/** Where Apache serves Horizon (Django's WEBROOT). */
export const HORIZON_WEBROOT = "/horizon/";
