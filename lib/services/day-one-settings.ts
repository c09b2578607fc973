import * as ipaddr from "ipaddr.js";
import { cidrsOverlap, PHYSNET, PHYSNET_EXPECTED } from "../core/field-rules";

/**
 * What the day-one content is made of (kolla-ansible's init-runonce, opt-in): a flavor, an
 * external network with its subnet, a tenant network with its subnet, and a router between
 * them. The inventory's `dayOne:` section resolves to these settings; `DayOne` builds them.
 */
export interface DayOneSettings {
  /** A public flavor for first instances; one of that name that exists is left as it is, whatever its sizes. */
  readonly flavor: {
    /** The flavor's name, e.g. `m1.tiny`. */
    readonly name: string;
    /** Virtual CPUs. */
    readonly vcpus: number;
    /** Memory, in MiB (Nova's `ram`). */
    readonly ramMiB: number;
    /** Root disk, in GiB (Nova's `disk`). */
    readonly diskGiB: number;
  };
  /** Flat on `physnet`, external (routers' gateways, floating IPs), not shared, no DHCP. */
  readonly external: {
    /** The network's name; its subnet is `<name>-subnet`. */
    readonly name: string;
    /** The provider physical network it is flat on: Neutron's `providerPhysnet` (the inventory's `networks.provider.physnet`). */
    readonly physnet: string;
    /** The provider LAN as an IPv4 network in CIDR form (`10.212.0.0/24`): the subnet's range. */
    readonly cidr: string;
    /** The provider network's router; inside `cidr`, outside the pool. */
    readonly gateway: string;
    /** The addresses Neutron hands out (router gateways, floating IPs): the LAN's others stay free. */
    readonly allocationPool: {
      /** The pool's first address. */
      readonly start: string;
      /** The pool's last address (included). */
      readonly end: string;
    };
  };
  /** A network of the default tenant type (VXLAN) in the admin project; its gateway is the first address, DHCP on. */
  readonly tenant: {
    /** The network's name (not the external one's, compared without case); its subnet is `<name>-subnet`. */
    readonly name: string;
    /** The subnet, an IPv4 network in CIDR form that does not overlap `external.cidr`. */
    readonly cidr: string;
  };
  /** HA or not as Neutron's `l3_ha` decides. */
  readonly router: {
    /** The router's name; it joins the tenant subnet to the external network. */
    readonly name: string;
  };
}

/** The defaults of everything but the external network's addresses, which only the site knows. */
export const DAY_ONE_DEFAULTS = {
  /** The flavor: 1 vCPU, 128 MiB of RAM, a 1 GiB disk. */
  flavor: {
    /** The flavor's name. */
    name: "m1.tiny",
    /** Virtual CPUs. */
    vcpus: 1,
    /** Memory, in MiB. */
    ramMiB: 128,
    /** Root disk, in GiB. */
    diskGiB: 1,
  },
  /** The external network's name; its addresses have no default. */
  externalName: "external",
  /** The tenant network. */
  tenant: {
    /** The tenant network's name. */
    name: "tenant",
    /** The tenant subnet (IPv4 CIDR). */
    cidr: "192.168.100.0/24",
  },
  /** The router's name. */
  routerName: "router",
} as const;

/** A flavor's, network's or router's name: safe as a word anywhere, and within Nova's and Neutron's limits. */
export const DAY_ONE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const DAY_ONE_NAME_EXPECTED =
  "a name of letters, digits, '_', '.' and '-', starting with a letter or digit, at most 64 characters";
/** Nova keeps vCPUs, RAM and disk in 32-bit integers. */
const MAX_FLAVOR_NUMBER = 2147483647;
export const FLAVOR_NUMBER_EXPECTED = `a whole number from 1 to ${MAX_FLAVOR_NUMBER}`;
/** One problem with day-one settings, its field relative to them (`external.gateway`). */
export interface DayOneProblem {
  readonly field: string;
  readonly value: unknown;
  readonly expected: string;
}

/** The subnet's gateway: its first address. */
export function firstAddress(cidr: string): string {
  return fromNumber(toNumber(ipaddr.IPv4.networkAddressFromCIDR(cidr).toString()) + 1);
}

/**
 * The first problem with the settings, or none. Neutron refuses most of these only after the
 * networks before them were made, so they are refused before anything runs.
 */
export function dayOneProblem(settings: DayOneSettings): DayOneProblem | undefined {
  const { flavor, external, tenant, router } = settings;
  const names: [string, string][] = [
    ["flavor.name", flavor.name],
    ["external.name", external.name],
    ["tenant.name", tenant.name],
    ["router.name", router.name],
  ];
  for (const [field, value] of names) {
    if (typeof value !== "string" || !DAY_ONE_NAME.test(value)) {
      return { field, value, expected: DAY_ONE_NAME_EXPECTED };
    }
  }
  // The script finds each network by its name in the admin project, and Neutron's database
  // compares names without case: `Tenant` and `tenant` are one network there.
  if (tenant.name.toLowerCase() === external.name.toLowerCase()) {
    return {
      field: "tenant.name",
      value: tenant.name,
      expected: `a name other than the external network's (external.name ${JSON.stringify(external.name)}), compared without case`,
    };
  }
  for (const key of ["vcpus", "ramMiB", "diskGiB"] as const) {
    const value = flavor[key];
    if (!Number.isSafeInteger(value) || value < 1 || value > MAX_FLAVOR_NUMBER) {
      return { field: `flavor.${key}`, value, expected: FLAVOR_NUMBER_EXPECTED };
    }
  }
  if (typeof external.physnet !== "string" || !PHYSNET.test(external.physnet)) {
    return {
      field: "external.physnet",
      value: external.physnet,
      expected: PHYSNET_EXPECTED,
    };
  }
  const cidrProblem =
    subnetProblem("external.cidr", external.cidr) ?? subnetProblem("tenant.cidr", tenant.cidr);
  if (cidrProblem) return cidrProblem;
  const usable = (field: string, value: string): DayOneProblem | undefined =>
    usableAddress(value, external.cidr)
      ? undefined
      : {
          field,
          value,
          expected: `an IPv4 address inside ${external.cidr}, not its network or broadcast address`,
        };
  const { start, end } = external.allocationPool;
  const addressProblem =
    usable("external.gateway", external.gateway) ??
    usable("external.allocationPool.start", start) ??
    usable("external.allocationPool.end", end);
  if (addressProblem) return addressProblem;
  if (toNumber(start) > toNumber(end)) {
    return {
      field: "external.allocationPool",
      value: `${start}-${end}`,
      expected: "a start no later than the end",
    };
  }
  const gateway = toNumber(external.gateway);
  if (gateway >= toNumber(start) && gateway <= toNumber(end)) {
    return {
      field: "external.allocationPool",
      value: `${start}-${end}`,
      expected: `a range without the gateway ${external.gateway}`,
    };
  }
  // The router joins both subnets, and Neutron refuses a router on two overlapping ones.
  if (cidrsOverlap(external.cidr, tenant.cidr)) {
    return {
      field: "tenant.cidr",
      value: tenant.cidr,
      expected: `a network that does not overlap the external network ${external.cidr}`,
    };
  }
  return undefined;
}

/** Neutron takes a subnet's network address only (`10.0.0.0/24`, not `10.0.0.5/24`), with room for a gateway and hosts. */
function subnetProblem(field: string, cidr: string): DayOneProblem | undefined {
  const expected = "an IPv4 network in CIDR form with a prefix of at most 30 bits, such as 10.212.0.0/24";
  if (typeof cidr !== "string" || !ipaddr.IPv4.isValidCIDRFourPartDecimal(cidr)) {
    return { field, value: cidr, expected };
  }
  const [address, bits] = ipaddr.IPv4.parseCIDR(cidr);
  if (bits > 30) return { field, value: cidr, expected };
  const network = ipaddr.IPv4.networkAddressFromCIDR(cidr).toString();
  if (address.toString() !== network) {
    return { field, value: cidr, expected: `its network address (${network}/${bits})` };
  }
  return undefined;
}

function usableAddress(address: string, cidr: string): boolean {
  if (typeof address !== "string" || !ipaddr.IPv4.isValidFourPartDecimal(address)) return false;
  const [network, bits] = ipaddr.IPv4.parseCIDR(cidr);
  const parsed = ipaddr.IPv4.parse(address);
  return (
    parsed.match(network, bits) &&
    address !== ipaddr.IPv4.networkAddressFromCIDR(cidr).toString() &&
    address !== ipaddr.IPv4.broadcastAddressFromCIDR(cidr).toString()
  );
}

function toNumber(address: string): number {
  return ipaddr.IPv4.parse(address)
    .toByteArray()
    .reduce((n, byte) => n * 256 + byte, 0);
}

function fromNumber(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}
