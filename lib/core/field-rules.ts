import * as net from "net";
import * as ipaddr from "ipaddr.js";

/**
 * Rules for values that land in config files, shell words and Terraform's JSON, shared by the
 * inventory's schema (lib/cluster/inventory-schema.ts) and the constructs that take the same
 * values from TypeScript (`Host`). Each rule admits only what is safe everywhere the value lands.
 */

/**
 * Control characters (Unicode Cc: newline, NUL, ESC, DEL…), invisible formatting ones (Cf:
 * zero-width, bidi overrides, BOM) and line or paragraph separators (Zl, Zp). No value needs
 * one, and each can end a config line, hide text from a reviewer or split a Terraform string.
 */
export const CONTROL_CHARACTER = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** One DNS label (RFC 1123): ASCII letters, digits and '-' inside, 1 to 63 characters. */
const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const DNS_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

/**
 * A DNS name (RFC 1123 labels, at most 253 characters) whose last label is not all digits: a
 * resolver reads `10.0.0.256` or `1.2.3` as a (bad) address, never as a name.
 */
export function isDnsName(value: string): boolean {
  return value.length <= 253 && DNS_NAME.test(value) && !/(^|\.)[0-9]+$/.test(value);
}

/** A server reached by name or address (NTP, SSH bastion): a word in chrony.conf and Terraform's JSON. */
export function isHostOrIPv4(value: string): boolean {
  return net.isIPv4(value) || isDnsName(value);
}
export const HOST_OR_IPV4_EXPECTED = "a hostname (RFC 1123: letters, digits, '-' and '.') or an IPv4 address";

/**
 * A network interface name. Linux takes 1 to 15 bytes other than '/', ':', whitespace and
 * control characters, never `.` or `..`; this is the part of that which is also a plain word in
 * a shell command, in Heartbeat's haresources (fields split at ':' and '/') and in ha.cf, and
 * never an option (no leading '-').
 */
export const INTERFACE_NAME = /^(?!-)(?!\.\.?$)[A-Za-z0-9_.-]{1,15}$/;
export const INTERFACE_NAME_EXPECTED =
  "a network interface name: 1 to 15 letters, digits, '_', '.' or '-', not starting with '-', not '.' or '..'";

/** A Unix user name (useradd's default rule, at most 32 characters): a path part of its upload folder. */
export const UNIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
export const UNIX_USER_EXPECTED =
  "a Unix user name: lowercase letters, digits, '_' and '-', not starting with a digit or '-', at most 32 characters";

/** Terraform's connection timeout, a Go duration: a few digits and a unit. */
export const SSH_TIMEOUT = /^[1-9][0-9]{0,3}[smh]$/;
export const SSH_TIMEOUT_EXPECTED = "a duration such as 5m (1 to 9999, then s, m or h)";

/** The public key types Terraform's SSH client (golang.org/x/crypto/ssh) checks host keys of. */
const SSH_KEY_TYPES = [
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
];

/**
 * A public key as `<type> <base64>`, whose base64 decodes to a key blob of that type (the blob
 * starts with its type's name). Terraform writes a host key into a known_hosts line of its own,
 * so a comment, a newline or a second key would add to that file; and the base64 alphabet holds
 * none of Terraform's template sequences (`${`, `%{`).
 */
export function isSshPublicKey(value: string): boolean {
  const match = /^([a-z0-9@.-]+) ([A-Za-z0-9+/]+={0,2})$/.exec(value);
  if (!match || !SSH_KEY_TYPES.includes(match[1]) || match[2].length % 4 !== 0) return false;
  const blob = Buffer.from(match[2], "base64");
  if (blob.length < 4) return false;
  const typeLength = blob.readUInt32BE(0);
  return typeLength === match[1].length && blob.subarray(4, 4 + typeLength).toString("latin1") === match[1];
}
export const SSH_PUBLIC_KEY_EXPECTED =
  "a public key as '<type> <base64>' without a comment, such as the first two words of the host's /etc/ssh/ssh_host_ed25519_key.pub";

/** Characters that end or escape a quoted config value or a shell word, and whitespace. */
const UNSAFE_IN_URL = /["'`\\;${}\s]/;

/**
 * What is wrong with a proxy URL for apt, or undefined. It lands in apt.conf.d as
 * `Acquire::http::Proxy "<url>";`: a quote there would end the string and could add an apt
 * hook that runs as root. So the URL must be what the WHATWG URL parser makes of it (it
 * percent-encodes quotes, spaces and control characters), http or https, and hold no
 * credentials (that file and the step's script are not secret) and nothing that ends a word.
 */
export function proxyUrlProblem(value: string): string | undefined {
  const expected = "an http:// or https:// URL such as http://10.0.0.1:3142";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return expected;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return expected;
  if (url.username || url.password) {
    return `${expected}, without a user or password (apt.conf.d and the step's script are readable by all)`;
  }
  if (url.search || url.hash) return `${expected}, without a query or fragment`;
  // The parser keeps port 0 (it refuses above 65535); apt would connect to no proxy at all.
  if (url.port === "0") return `${expected}, with a port from 1 to 65535`;
  // Like every address in the inventory (see IPV6_NOT_SUPPORTED in the schema).
  if (url.hostname.startsWith("["))
    return `${expected}, with a hostname or IPv4 address (IPv6 is not supported yet)`;
  // The parser adds '/' to an empty path: `http://h:3142` is already in its form.
  const written = url.pathname === "/" && !value.endsWith("/") ? `${value}/` : value;
  if (written !== url.href) return `${expected}, written as the URL parser writes it: ${quote(url.href)}`;
  if (UNSAFE_IN_URL.test(value)) return `${expected}, without quotes, '\\', ';', '$', '{', '}' or spaces`;
  return undefined;
}

/** How many characters of a long string an error message quotes. */
const QUOTED_PREFIX = 60;
/** How many characters of JSON (a list, an object) an error message quotes. */
const QUOTED_JSON = 80;

/**
 * A value quoted for a one-line error message: JSON, so control characters are escaped, and
 * short, so a huge value is not echoed whole (`"aaaa…"… (5000 characters)`).
 */
export function quote(value: unknown): string {
  // YAML's .inf and .nan, which JSON would print as null.
  if (typeof value === "number" && !Number.isFinite(value)) {
    return Number.isNaN(value) ? ".nan" : value > 0 ? ".inf" : "-.inf";
  }
  if (typeof value === "string") {
    if (value.length <= QUOTED_PREFIX) return escapeInvisible(JSON.stringify(value));
    return `${escapeInvisible(JSON.stringify(value.slice(0, QUOTED_PREFIX)))}… (${value.length} characters)`;
  }
  let text: string;
  try {
    text = escapeInvisible(JSON.stringify(value) ?? String(value));
  } catch {
    text = Array.isArray(value) ? "a list" : "an object"; // a cycle (a YAML alias inside its own anchor)
  }
  return text.length <= QUOTED_JSON ? text : `${text.slice(0, QUOTED_JSON)}… (${text.length} characters)`;
}

/**
 * `text` for a terminal, on one line: every control or invisible character (a newline, an
 * escape sequence's ESC, a bidi override) as `\uXXXX`, so a file name cannot forge a second
 * line of output or change the terminal's colours.
 */
export function printable(text: string): string {
  return escapeInvisible(text);
}

/** JSON escapes C0 control characters only: the others (DEL, C1, bidi overrides, U+2028…) as `\uXXXX` too. */
function escapeInvisible(json: string): string {
  return json.replace(
    new RegExp(CONTROL_CHARACTER.source, "gu"),
    (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
  );
}

/** Whether two IPv4 networks in CIDR form share an address (one holds the other, or they are one). */
export function cidrsOverlap(a: string, b: string): boolean {
  const [na, ba] = ipaddr.IPv4.parseCIDR(a);
  const [nb, bb] = ipaddr.IPv4.parseCIDR(b);
  return na.match(nb, bb) || nb.match(na, ba);
}

/**
 * Heartbeat's haresources splits the VIP at `::`, ha.cf's `ucast` takes IPv4 only, and MariaDB's
 * grants would open to every host for an IPv6 network: refused until they are done.
 */
export const IPV6_NOT_SUPPORTED =
  "IPv6 is not supported yet: Heartbeat's haresources, ha.cf's ucast and MariaDB's grants take IPv4 only";

/** Networks that cannot hold a cluster: "this network", loopback, multicast, class E. */
const NOT_HOST_NETWORKS = ["0.0.0.0/8", "127.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4"].map((c) =>
  ipaddr.IPv4.parseCIDR(c),
);

/**
 * What is wrong with a network of the cluster's hosts, or undefined. The management network is opened in MariaDB's grants
 * (`user@'10.0.0.0/255.255.255.0'`), chrony's `allow`, rsync's `hosts allow` and Ceph's
 * `public_network`; the tunnel network's prefix is each tunnel address's netmask. So: written as
 * its network address (MariaDB matches no client against `10.0.0.5/255.255.255.0`), a prefix
 * from /8 (a shorter one opens the database to much of the Internet, `0.0.0.0/0` to all of it)
 * to /30 (room for two hosts), not loopback, multicast or reserved space.
 */
export function hostNetworkProblem(value: string): string | undefined {
  const expected = "an IPv4 network in CIDR form with a prefix from /8 to /30, such as 10.20.0.0/24";
  const [address, bits, ...rest] = value.split("/");
  if (address !== undefined && net.isIPv6(address)) return `${expected} (${IPV6_NOT_SUPPORTED})`;
  if (rest.length > 0 || !net.isIPv4(address) || !/^[0-9]{1,2}$/.test(bits ?? "")) return expected;
  const prefix = Number(bits);
  if (prefix < 8 || prefix > 30) return expected;
  const network = ipaddr.IPv4.networkAddressFromCIDR(value).toString();
  if (network !== address) return `its network address (${network}/${prefix})`;
  const parsed = ipaddr.IPv4.parse(address);
  if (NOT_HOST_NETWORKS.some(([n, b]) => parsed.match(n, b))) {
    return `${expected}, outside 0.0.0.0/8, 127.0.0.0/8 (loopback), 224.0.0.0/4 (multicast) and 240.0.0.0/4`;
  }
  return undefined;
}

/** Each network's parse, once per CIDR: a large inventory checks every host against the same few. */
const parsedNetworks = new Map<string, [ipaddr.IPv4, number]>();

/** Whether an address lies in an IPv4 network in CIDR form (an IPv6 address never does). */
export function inIPv4Network(address: string, cidr: string): boolean {
  if (!net.isIPv4(address)) return false;
  let network = parsedNetworks.get(cidr);
  if (!network) {
    network = ipaddr.IPv4.parseCIDR(cidr);
    parsedNetworks.set(cidr, network);
  }
  return ipaddr.IPv4.parse(address).match(network[0], network[1]);
}

/**
 * The problem with a construct's management network and the hosts that must be in it, as one
 * line (`what` names the construct), or undefined: the rule the inventory applies to
 * `networks.management.cidr` and its hosts' addresses.
 */
export function managementNetworkProblem(
  what: string,
  cidr: string,
  hosts: readonly { readonly hostName: string; readonly address: string }[],
): string | undefined {
  const problem = hostNetworkProblem(cidr);
  if (problem) return `${what} managementCidr: got ${quote(cidr)}: expected ${problem}`;
  const outside = hosts.find((h) => !inIPv4Network(h.address, cidr));
  if (outside) {
    return `${what} ${outside.hostName} address: got ${quote(outside.address)}: expected an address inside managementCidr ${cidr} (whose hosts alone its grants admit)`;
  }
  return undefined;
}

/**
 * A host's name (and the VIP's): its hostname, a line in every /etc/hosts, a word in ha.cf,
 * haresources, Ceph's and Nova's configs and the scripts, part of the steps' Terraform ids. One
 * lowercase DNS label that starts with a letter: a name of digits (`10`, `0x10`) is read as an
 * address by resolvers.
 */
export const HOSTNAME = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const HOSTNAME_EXPECTED =
  "a hostname: lowercase letters, digits and '-', 1 to 63 characters, starting with a letter, not ending with '-'";

/** The lines Debian's /etc/hosts has for loopback and IPv6 multicast; BaseSystem keeps them. */
export const OWN_HOSTS_LINES: readonly (readonly [string, readonly string[]])[] = [
  ["127.0.0.1", ["localhost"]],
  ["::1", ["localhost", "ip6-localhost", "ip6-loopback"]],
  ["ff02::1", ["ip6-allnodes"]],
  ["ff02::2", ["ip6-allrouters"]],
];

/** Names /etc/hosts already gives to other addresses: no member or VIP may take one. */
export const HOSTS_FILE_OWN_NAMES: readonly string[] = [
  ...new Set(OWN_HOSTS_LINES.flatMap(([, names]) => names)),
];

/** What a host's (or the VIP's) name must be, or undefined when it is one. */
export function hostNameProblem(name: unknown): string | undefined {
  if (typeof name !== "string" || !HOSTNAME.test(name)) return HOSTNAME_EXPECTED;
  if (HOSTS_FILE_OWN_NAMES.includes(name)) {
    return `a name that /etc/hosts does not already give to another address (${HOSTS_FILE_OWN_NAMES.join(", ")})`;
  }
  return undefined;
}

/**
 * A cluster member's or the cluster's address: in /etc/hosts, ha.cf, haresources, every config
 * file and URL, and the SSH connection. Dotted-quad IPv4 (Node's `net.isIPv4`: four decimal
 * numbers, no leading zeros, ASCII digits only).
 */
export function ipv4AddressProblem(value: unknown): string | undefined {
  if (typeof value === "string" && net.isIPv4(value)) return undefined;
  return typeof value === "string" && net.isIPv6(value)
    ? `an IPv4 address (${IPV6_NOT_SUPPORTED})`
    : "an IPv4 address";
}

/**
 * Why an address cannot be a host's in its network (`cidr`, or the address with a prefix
 * length): the network's own address and its broadcast address are no host's. Undefined when it
 * can, or when the prefix leaves no such edge (/31, /32).
 */
export function networkEdgeProblem(address: string, cidr: string, networkName: string): string | undefined {
  const [, bits] = cidr.split("/");
  if (Number(bits) > 30) return undefined;
  let edges = edgeAddresses.get(cidr);
  if (!edges) {
    edges = {
      network: ipaddr.IPv4.networkAddressFromCIDR(cidr).toString(),
      broadcast: ipaddr.IPv4.broadcastAddressFromCIDR(cidr).toString(),
    };
    edgeAddresses.set(cidr, edges);
  }
  const { network, broadcast } = edges;
  if (address !== network && address !== broadcast) return undefined;
  return `an address inside the ${networkName} network ${network}/${bits} other than its network address ${network} and broadcast address ${broadcast}`;
}

/** Each network's edge addresses, once per CIDR: a large inventory checks every host against the same few. */
const edgeAddresses = new Map<string, { network: string; broadcast: string }>();

/** ML2's flat_networks and bridge_mappings (`physnet:br-provider`), Neutron's API: Neutron's length limit. */
export const PHYSNET = /^[a-z][a-z0-9_-]{0,63}$/;
export const PHYSNET_EXPECTED =
  "a physical network name such as provider: lowercase letters, digits, '_' and '-', starting with a letter, at most 64 characters";
