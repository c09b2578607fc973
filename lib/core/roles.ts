/** The four roles of the seed's cloud. One host may hold several (compute + storage). */
export const ROLES = ["controller", "compute", "storage", "network"] as const;
/** One of `ROLES`: what a host does in the cloud, and which role construct it gets. */
export type Role = (typeof ROLES)[number];
