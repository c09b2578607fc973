import * as net from "net";
import * as path from "path";
import { IConstruct } from "constructs";
import { SecurityRule } from "../rule";
import { normalKey, Setting, stepOf, stepSettings, where } from "../settings";

/** Keys that name the address a daemon listens on. */
const LISTEN_KEYS = new Set([
  "bind",
  "bind_host",
  "bind_ip",
  "bind_address",
  "bindaddress",
  "listen",
  "listen_address",
  "listen_host",
  "novncproxy_host",
  "serialproxy_host",
  "spicehtml5proxy_host",
  "management.tcp.ip",
]);
/** uwsgi's sockets (in its `[uwsgi]` section only: the words are common). */
const UWSGI_SOCKETS = new Set(["http_socket", "https_socket", "uwsgi_socket", "socket", "http", "https"]);

function isListenKey(s: Setting): boolean {
  const key = s.name;
  if (LISTEN_KEYS.has(key)) return true;
  if (/_listen(_address)?$/.test(key) || /_bind_(host|address)$/.test(key)) return true;
  if (/^listeners\.(tcp|ssl)\./.test(key)) return true;
  if (s.section === "uwsgi" && UWSGI_SOCKETS.has(key)) return true;
  // memcached's `-l ADDRESS`, rsyncd's `address = ADDRESS`.
  if (key === "_l") return path.posix.basename(s.file) === "memcached.conf";
  return key === "address" && path.posix.basename(s.file) === "rsyncd.conf";
}

/**
 * Whether a listen value means every address: empty, `*`, `0.0.0.0`, `::`, or a port alone
 * (`:5000`, `5672`, `*:80`). A list (`a,b`) is a wildcard when any item is one.
 */
export function isWildcardListen(value: string): boolean {
  if (value.includes("${")) return false; // a Terraform expression: not known at synth
  const items = value.split(/[,\s]+/).filter((v) => v !== "");
  if (items.length === 0) return true;
  return items.some((item) => {
    if (item.startsWith("/") || item.startsWith("@") || item.startsWith("unix:")) return false;
    if (/^\d+$/.test(item)) return true;
    let host = item;
    if (net.isIP(item) === 0) {
      const m = /^(.*):(\d+)$/.exec(item);
      if (m) host = m[1];
    }
    host = host.replace(/^\[(.*)\]$/, "$1");
    return host === "" || host === "*" || host === "0.0.0.0" || (net.isIPv6(host) && /^[0:]+$/.test(host));
  });
}

/**
 * Daemons that listen on every address unless their file names one, and the key that does. A
 * step that (re)starts `unit` must set `key` (in a file it writes or a key it sets) to an
 * address. `unlessUwsgi`: the key is moot where the step runs the daemon under uwsgi (Debian's
 * APIs), whose socket is checked instead.
 */
interface Listener {
  readonly unit: string;
  readonly file: string;
  readonly section: string;
  readonly key: string | RegExp;
  /** What the daemon does without the key. */
  readonly otherwise: string;
  /** Only when the file sets this key (chrony serves time only with `allow`). */
  readonly onlyWith?: string;
  readonly unlessUwsgi?: boolean;
}

const EVERY = "every address";
export const LISTENERS: readonly Listener[] = [
  {
    unit: "glance-api",
    file: "/etc/glance/glance-api.conf",
    section: "DEFAULT",
    key: "bind_host",
    otherwise: "0.0.0.0",
  },
  {
    unit: "neutron-server",
    file: "/etc/neutron/neutron.conf",
    section: "DEFAULT",
    key: "bind_host",
    otherwise: "0.0.0.0",
  },
  {
    unit: "nova-api",
    file: "/etc/nova/nova.conf",
    section: "DEFAULT",
    key: "osapi_compute_listen",
    otherwise: "0.0.0.0",
    unlessUwsgi: true,
  },
  {
    unit: "nova-api",
    file: "/etc/nova/nova.conf",
    section: "DEFAULT",
    key: "metadata_listen",
    otherwise: "0.0.0.0",
    unlessUwsgi: true,
  },
  {
    unit: "nova-novncproxy",
    file: "/etc/nova/nova.conf",
    section: "vnc",
    key: "novncproxy_host",
    otherwise: "0.0.0.0",
  },
  {
    unit: "swift-proxy",
    file: "/etc/swift/proxy-server.conf",
    section: "DEFAULT",
    key: "bind_ip",
    otherwise: "0.0.0.0",
  },
  ...["account", "container", "object"].map((kind) => ({
    unit: `swift-${kind}`,
    file: `/etc/swift/${kind}-server.conf`,
    section: "DEFAULT",
    key: "bind_ip",
    otherwise: "0.0.0.0",
  })),
  { unit: "memcached", file: "/etc/memcached.conf", section: "", key: "-l", otherwise: EVERY },
  {
    unit: "rabbitmq-server",
    file: "/etc/rabbitmq/rabbitmq.conf",
    section: "",
    key: /^listeners\.tcp\./,
    otherwise: `${EVERY} (listeners.tcp.default = 5672)`,
  },
  { unit: "rsync", file: "/etc/rsyncd.conf", section: "", key: "address", otherwise: EVERY },
  {
    unit: "chrony",
    file: "/etc/chrony/chrony.conf",
    section: "",
    key: "bindaddress",
    otherwise: EVERY,
    onlyWith: "allow",
  },
  {
    unit: "apache2",
    file: "/etc/apache2/ports.conf",
    section: "",
    key: "Listen",
    otherwise: `${EVERY} (the package's Listen 80)`,
  },
];

function matches(s: Setting, file: string, section: string, key: string | RegExp): boolean {
  return (
    s.file === file &&
    s.section === section &&
    (typeof key === "string" ? s.name === normalKey(key) : key.test(s.key))
  );
}

/** OSC-NET1: every daemon listens on named addresses (its host's, the VIP), never on all of them. */
export const WILDCARD_BIND: SecurityRule = {
  id: "OSC-NET1",
  name: "WildcardBind",
  reason:
    "A daemon that listens on every address is reachable from every network its host is on (provider, tunnel, a public one), not only the management network.",
  check(node: IConstruct): readonly string[] {
    const step = stepOf(node);
    if (!step) return [];
    const settings = stepSettings(step);
    const out: string[] = [];
    for (const s of settings) {
      if (isListenKey(s) && isWildcardListen(s.value)) {
        out.push(`${where(s)} = ${s.value || '""'}: listens on every address`);
      }
    }
    // Listeners left to a default that is every address.
    const uwsgiFiles = [...new Set(step.iniEdits.filter((e) => e.section === "uwsgi").map((e) => e.path))];
    for (const l of LISTENERS) {
      if (!step.restartedUnits.includes(l.unit)) continue;
      if (l.unlessUwsgi && uwsgiFiles.length > 0) continue;
      if (l.onlyWith && !settings.some((s) => matches(s, l.file, l.section, l.onlyWith as string))) continue;
      if (!settings.some((s) => matches(s, l.file, l.section, l.key))) {
        const key = typeof l.key === "string" ? l.key : l.key.source;
        out.push(
          `${l.unit} listens on ${l.otherwise}: ${l.file}${l.section ? ` [${l.section}]` : ""} ${key} is not set`,
        );
      }
    }
    for (const file of uwsgiFiles) {
      const socket = settings.some((s) => s.file === file && s.section === "uwsgi" && isListenKey(s));
      if (!socket) {
        out.push(
          `${file} [uwsgi] http-socket is not set: uwsgi listens where the package's file says (every address)`,
        );
      }
    }
    return out;
  },
};
