/**
 * Where daemons listen: the library binds each daemon to the addresses it needs (the host's
 * management address, on a controller the VIP) and no other. The lab's `listeners` check
 * (lab/checks/listeners.ts) fails on anything else.
 */
import * as net from "net";

/** An IP address as an Erlang term: `{10,0,0,1}`, or eight 16-bit numbers for IPv6. */
export function erlangAddress(address: string): string {
  if (net.isIPv4(address)) return `{${address.split(".").map(Number).join(",")}}`;
  if (!net.isIPv6(address) || address.includes(".")) {
    throw new Error(`erlangAddress: got ${JSON.stringify(address)}: expected an IPv4 or IPv6 address`);
  }
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return `{${groups.map((g) => parseInt(g, 16)).join(",")}}`;
}
