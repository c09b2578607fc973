/** The four roles of the seed's cloud. One host may hold several (compute + storage). */
export const ROLES = ["controller", "compute", "storage", "network"] as const;
export type Role = (typeof ROLES)[number];
