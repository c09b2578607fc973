/**
 * Fixed facts of the lab: where it keeps things and which addresses it may use.
 * The lab only ever creates and talks to addresses inside these ranges (see lab/README.md).
 */
import * as path from "path";

/** Caches survive `down` and are shared by every clone on the machine (CI reuses them). */
export const CACHE_DIR = "/var/cache/openstack-cdktf-lab";
/** Per-run state (pids, overlays, console logs); survives a crash so the next `down` can clean up. */
export const STATE_DIR = "/var/lib/openstack-cdktf-lab";
export const STATE_FILE = path.join(STATE_DIR, "state.json");
export const HOSTS_DIR = path.join(STATE_DIR, "hosts");
export const LOG_DIR = path.join(STATE_DIR, "logs");

/** `<cluster>-<what>-<time>`: a lab log's name in LOG_DIR (or its directory's), sorted by time. */
export function logName(cluster: string, what: string, now = new Date()): string {
  return `${cluster}-${what}-${now.toISOString().replace(/[:.]/g, "-")}`;
}
export const KNOWN_HOSTS = path.join(STATE_DIR, "known_hosts");
/**
 * Terraform state of deploys onto the lab's hosts. It describes hosts that live only as long
 * as the lab, so it is kept with them (not in the clone) and removed by `up` and `down`.
 */
export const TF_STATE_DIR = path.join(STATE_DIR, "terraform");
/** Tempest's workspace: its tempest.conf holds the admin password of lab hosts, so it goes with them. */
export const TEMPEST_DIR = path.join(STATE_DIR, "tempest");
export function labTfState(cluster: string): string {
  return path.join(TF_STATE_DIR, `${cluster}.tfstate`);
}

export const REPO_ROOT = path.resolve(__dirname, "..");
export const DEFAULT_INVENTORY = path.join(REPO_ROOT, "examples", "lab-small.yaml");

export interface LabNetwork {
  readonly bridge: string;
  /** The network the inventory's addresses must fall into. */
  readonly cidr: string;
  /** Address (with prefix) on the host side of the bridge, if the host takes part. */
  readonly hostAddress?: string;
  /** Letter in veth names: osl<letter><index>. */
  readonly vethTag: string;
}

export const MANAGEMENT: LabNetwork = {
  bridge: "osclab0",
  cidr: "10.211.0.0/24",
  hostAddress: "10.211.0.1/24",
  vethTag: "m",
};
export const PROVIDER: LabNetwork = {
  bridge: "osclabp0",
  cidr: "10.212.0.0/24",
  hostAddress: "10.212.0.1/24",
  vethTag: "p",
};
export const TUNNEL: LabNetwork = { bridge: "osclabt0", cidr: "10.213.0.0/24", vethTag: "t" };
export const NETWORKS = [MANAGEMENT, PROVIDER, TUNNEL] as const;

/** Network namespaces are named osclab-<host>; `down` also sweeps this prefix after a crash. */
export const NETNS_PREFIX = "osclab-";
/** Host-side veth names: osl + network tag + host index (kernel limit is 15 characters). */
export const VETH_PATTERN = /^osl[mpt]\d+$/;

export const PROXY_ADDRESS = "10.211.0.1";
export const PROXY_PORT = 3142;
export const PROXY_URL = `http://${PROXY_ADDRESS}:${PROXY_PORT}`;

/** Packages the lab needs on the machine itself. */
export const HOST_PACKAGES = [
  "systemd-container",
  "debootstrap",
  "squid",
  "openssh-client",
  "iproute2",
  // The provider bridge's checksum offload off (lab/network.ts); pings to floating IPs.
  "ethtool",
  "iputils-ping",
];
