/**
 * OSC-NET1: where a step's daemons listen. A step declares it (`ShellScript.listen`), from the
 * values its files are written from; the rule refuses a declared wildcard, and reads the binds
 * in the step's files back: each on an address the step declares, none on every address. What a
 * declaration cannot show (a daemon whose file leaves out its address and listens everywhere,
 * Debian's uwsgi init scripts) is known per daemon below (`LISTENERS`).
 */
import * as net from "net";
import * as path from "path";
import { stepRule } from "../rule";
import { normalKey, Setting, stepSettings, where } from "../settings";
// A type only: step.ts adds the checks to its stack, so this module must not load it.
import type { Step } from "../../core/step";

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
  // Where an epmd that Erlang starts itself listens (rabbitmq-env.conf).
  "erl_epmd_address",
]);
/** systemd's network listeners, in a `.socket` unit or one of its drop-ins (`[Socket]`). */
const SOCKET_KEYS = new Set(["listenstream", "listendatagram", "listensequentialpacket"]);
/** uwsgi's sockets (in its `[uwsgi]` section only: the words are common). */
const UWSGI_SOCKETS = new Set(["http_socket", "https_socket", "uwsgi_socket", "socket", "http", "https"]);

/** A `.socket` unit, or a drop-in of one (`/etc/systemd/system/epmd.socket.d/x.conf`). */
function isSocketUnit(file: string): boolean {
  return file.endsWith(".socket") || /\.socket\.d\/[^/]+\.conf$/.test(file);
}

/** systemd's `ListenStream=` and its kind in a socket unit. Empty, it empties the list: no address. */
function isSocketKey(s: Setting): boolean {
  return s.section === "Socket" && SOCKET_KEYS.has(s.name) && isSocketUnit(s.file);
}

function isListenKey(s: Setting): boolean {
  const key = s.name;
  if (LISTEN_KEYS.has(key)) return true;
  if (isSocketKey(s)) return true;
  if (/_listen(_address)?$/.test(key) || /_bind_(host|address)$/.test(key)) return true;
  if (/^listeners\.(tcp|ssl)\./.test(key)) return true;
  if (s.section === "uwsgi" && UWSGI_SOCKETS.has(key)) return true;
  // memcached's `-l ADDRESS`, rsyncd's `address = ADDRESS`.
  if (key === "_l") return path.posix.basename(s.file) === "memcached.conf";
  return key === "address" && path.posix.basename(s.file) === "rsyncd.conf";
}

/**
 * The addresses a listen value names, one per item of a list (`a,b`), without port or brackets
 * (`10.0.0.1:5000`, `[fd00::1]:5000`); a port alone (`:5000`, `5672`) or nothing names "" (every
 * address); a socket file, or a Terraform expression (not known at synth), none.
 */
export function listenHosts(value: string): string[] {
  if (value.includes("${")) return [];
  const items = value.split(/[,\s]+/).filter((v) => v !== "");
  if (items.length === 0) return [""];
  return items.flatMap((item) => {
    if (item.startsWith("/") || item.startsWith("@") || item.startsWith("unix:")) return [];
    if (/^\d+$/.test(item)) return [""];
    const m = net.isIP(item) === 0 ? /^(.*):(\d+)$/.exec(item) : null;
    return [(m ? m[1] : item).replace(/^\[(.*)\]$/, "$1")];
  });
}

/** Every address: empty, `*`, `0.0.0.0`, `::` (however written). */
export function isWildcardAddress(host: string): boolean {
  return host === "" || host === "*" || host === "0.0.0.0" || (net.isIPv6(host) && /^[0:]+$/.test(host));
}

/** Whether a listen value means every address (`listenHosts`): a list is when any item is. */
export function isWildcardListen(value: string): boolean {
  return listenHosts(value).some(isWildcardAddress);
}

/** An address in one spelling, to compare (IPv6 compressed, lower case). */
function sameAddress(host: string): string {
  return net.isIPv6(host) ? new URL(`http://[${host}]`).hostname.slice(1, -1) : host;
}

/** uwsgi's sockets on a command line (`--http-socket ADDRESS:PORT`, `--socket=…`). */
const UWSGI_SOCKET_ARG =
  /(?:^|\s)(--(?:https?|https?-socket|http11-socket|uwsgi-socket|fastcgi-socket|scgi-socket|socket))(?:=|\s+)(\S+)/g;

/**
 * A listen value with a shell variable for its port (`10.0.0.1:${UWSGI_PORT}`, as an init
 * script's defaults file writes it) as one with a port: the address is what counts.
 */
function withPortNumber(value: string): string {
  return value.replace(/:\$(\{[A-Za-z_]\w*\}|[A-Za-z_]\w*)$/, ":0");
}

/** The uwsgi sockets a command line names: `--http-socket` and its kind, with their values. */
export function uwsgiSocketArgs(commandLine: string): { option: string; value: string }[] {
  return [...commandLine.matchAll(UWSGI_SOCKET_ARG)].map((m) => ({ option: m[1], value: m[2] }));
}

/** An Erlang address term (`{10,0,0,1}`, eight numbers for IPv6) as an address; undefined if not one. */
export function erlangTermAddress(term: string): string | undefined {
  const parts = term
    .replace(/^\{|\}$/g, "")
    .split(",")
    .map((p) => p.trim());
  if (!parts.every((p) => /^\d+$/.test(p))) return undefined;
  if (parts.length === 4) return parts.join(".");
  if (parts.length === 8) return parts.map((p) => Number(p).toString(16)).join(":");
  return undefined;
}

/**
 * The binds a setting makes, each with what names it after the setting's place: a listen key's
 * value (` = VALUE`), and the addresses a value holds inside a command line or a term
 * (`: --http-socket VALUE`): uwsgi's `--http-socket` (an init script's DAEMON_ARGS), tgtd's
 * `--iscsi portal=` (a unit's ExecStart), Erlang's `inet_dist_use_interface` (rabbitmq-env.conf).
 */
function bindsOf(s: Setting): { what: string; value: string }[] {
  const v = s.value;
  const out: { what: string; value: string }[] = [];
  // An empty ListenStream= empties a socket's list: it names no address.
  if (isListenKey(s) && !(isSocketKey(s) && v === "")) out.push({ what: ` = ${v || '""'}`, value: v });
  if (v.includes("--")) {
    for (const arg of uwsgiSocketArgs(v)) {
      out.push({ what: `: ${arg.option} ${arg.value}`, value: withPortNumber(arg.value) });
    }
  }
  if (s.name === "execstart" && /\btgtd\b/.test(v)) {
    for (const m of v.matchAll(/--iscsi\s+(\S+)/g)) {
      for (const p of m[1].matchAll(/(?:^|,)portal=([^,\s]+)/g)) {
        out.push({ what: `: --iscsi portal=${p[1]}`, value: p[1] });
      }
    }
  }
  if (v.includes("inet_dist_use_interface")) {
    for (const m of v.matchAll(/inet_dist_use_interface\s+'?(\{[^}]*\})/g)) {
      const address = erlangTermAddress(m[1]);
      // A term that is no address: Erlang refuses it and the broker does not start.
      if (address) out.push({ what: `: inet_dist_use_interface ${m[1]}`, value: address });
    }
  }
  return out;
}

/**
 * Daemons that listen on every address unless their file names one, and the key that does. A
 * step that (re)starts `unit` must set `key` (in a file it writes, a key it sets or lines it
 * replaces) to an address. `unlessUwsgi`: the key is moot where the step runs the daemon under
 * uwsgi (Debian's APIs), whose socket is checked instead (`uwsgiProblem`).
 */
interface ListenDefault {
  readonly unit: string;
  /** The file; a `*` in its name stands for any name (a unit's drop-ins: `x.socket.d/*.conf`). */
  readonly file: string;
  readonly section: string;
  readonly key: string | RegExp;
  /** The key as a finding names it. @default the key (a RegExp's source) */
  readonly keyText?: string;
  /** What the daemon does without the key. */
  readonly otherwise: string;
  /** Only when the file sets this key (chrony serves time only with `allow`). */
  readonly onlyWith?: string;
  readonly unlessUwsgi?: boolean;
  /** What the key's value must hold to name an address (tgtd's `--iscsi portal=` in ExecStart). */
  readonly valueHas?: { readonly pattern: RegExp; readonly text: string };
  /**
   * The key is a list the package's unit has already (a socket's `ListenStream`): a drop-in
   * names addresses only after it empties the list (`ListenStream=`), else the package's stay.
   */
  readonly resets?: boolean;
}

const EVERY = "every address";
export const LISTENERS: readonly ListenDefault[] = [
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
  ...[
    ["epmd.socket", "(erlang-base's ListenStream=[::]:4369)"],
    ["rabbitmq-server", "with its epmd (erlang-base's epmd.socket: ListenStream=[::]:4369)"],
  ].map(([unit, why]) => ({
    unit,
    file: "/etc/systemd/system/epmd.socket.d/*.conf",
    section: "Socket",
    key: "ListenStream",
    otherwise: `${EVERY} ${why}`,
    resets: true,
  })),
  {
    unit: "rabbitmq-server",
    file: "/etc/rabbitmq/rabbitmq-env.conf",
    section: "",
    key: /^(RABBITMQ_)?SERVER_ADDITIONAL_ERL_ARGS$/,
    keyText: "SERVER_ADDITIONAL_ERL_ARGS",
    otherwise: `${EVERY} (Erlang's distribution, :25672)`,
    valueHas: { pattern: /-kernel\s+inet_dist_use_interface\s/, text: "-kernel inet_dist_use_interface" },
  },
  {
    unit: "tgt",
    file: "/etc/systemd/system/tgt.service.d/*.conf",
    section: "Service",
    key: "ExecStart",
    otherwise: `${EVERY} (tgtd -f: its iSCSI portal, :3260)`,
    valueHas: { pattern: /--iscsi\s+(\S*,)?portal=/, text: "tgtd --iscsi portal=" },
  },
];

/** Debian's uwsgi APIs: `/etc/SERVICE/UNIT-uwsgi.ini`, started by /etc/init.d/UNIT (openstack-pkg-tools). */
function debianUwsgiUnit(ini: string): string | undefined {
  return /^\/etc\/[^/]+\/([a-z][a-z0-9-]*)-uwsgi\.ini$/.exec(ini)?.[1];
}

const globs = new Map<string, RegExp>();

function fileMatches(actual: string, file: string): boolean {
  if (!file.includes("*")) return actual === file;
  let glob = globs.get(file);
  if (!glob) {
    const parts = file.split("*").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    glob = new RegExp(`^${parts.join("[^/]*")}$`);
    globs.set(file, glob);
  }
  return glob.test(actual);
}

function matches(s: Setting, file: string, section: string, key: string | RegExp): boolean {
  return (
    fileMatches(s.file, file) &&
    s.section === section &&
    (typeof key === "string" ? s.name === normalKey(key) : key.test(s.key))
  );
}

/** Why a listener the step (re)starts is left on every address, or undefined when it is not. */
function listenerProblem(l: ListenDefault, settings: readonly Setting[]): string | undefined {
  const found = settings.filter((s) => matches(s, l.file, l.section, l.key));
  const key = l.keyText ?? (typeof l.key === "string" ? l.key : l.key.source);
  const place = `${l.file}${l.section ? ` [${l.section}]` : ""} ${key}`;
  const head = `${l.unit} listens on ${l.otherwise}`;
  if (found.length === 0) return `${head}: ${place} is not set`;
  if (l.resets) {
    // In one file, in order: the list emptied, then an address.
    const emptied = [...new Set(found.map((s) => s.file))].some((file) => {
      const values = found.filter((s) => s.file === file).map((s) => s.value);
      const reset = values.lastIndexOf("");
      return reset >= 0 && reset < values.length - 1;
    });
    if (!emptied) return `${head}: ${place} adds to the package's list without emptying it first (${key}=)`;
  }
  if (l.valueHas && !found.some((s) => l.valueHas?.pattern.test(s.value))) {
    return `${head}: ${place} has no ${l.valueHas.text}`;
  }
  return undefined;
}

/** Why a uwsgi API whose ini file the step edits listens on every address, if it does. */
function uwsgiProblem(ini: string, step: Step, settings: readonly Setting[]): string | undefined {
  const iniSocket = settings.some((s) => s.file === ini && s.section === "uwsgi" && isListenKey(s));
  const unit = debianUwsgiUnit(ini);
  const defaults = unit && `/etc/default/${unit}`;
  const args = settings.filter((s) => s.file === defaults && s.name === "daemon_args").pop();
  const argSockets = args ? uwsgiSocketArgs(args.value) : [];
  if (unit && step.restartedUnits.includes(unit)) {
    // Debian's init script runs `uwsgi --http-socket :PORT --ini INI` (every address, beside
    // any socket the ini names), then reads /etc/default/UNIT, which may set DAEMON_ARGS anew.
    const initScript = `/etc/init.d/${unit} runs uwsgi with --http-socket :PORT (every address)`;
    if (!args)
      return `${unit} listens on every address: ${defaults} DAEMON_ARGS is not set, so ${initScript}`;
    if (/\$\{?DAEMON_ARGS\b/.test(args.value)) {
      return `${unit} listens on every address: ${defaults} DAEMON_ARGS keeps the init script's, so ${initScript}`;
    }
  }
  if (!iniSocket && argSockets.length === 0) {
    return `${ini} [uwsgi] http-socket is not set: uwsgi listens where the package's file says (every address)`;
  }
  return undefined;
}

/** OSC-NET1: every daemon listens on named addresses (its host's, the VIP), never on all of them. */
export const WILDCARD_BIND = stepRule({
  id: "OSC-NET1",
  name: "WildcardBind",
  reason:
    "A daemon that listens on every address is reachable from every network its host is on (provider, tunnel, a public one), not only the management network.",
  checkStep(step: Step): readonly string[] {
    const settings = stepSettings(step);
    const out: string[] = [];
    for (const l of step.listeners.filter((l) => isWildcardAddress(l.address))) {
      const at = `${net.isIPv6(l.address) ? `[${l.address}]` : l.address}:${l.port}/${l.protocol}`;
      out.push(`step ${step.logicalId} declares ${l.daemon} on ${at}: listens on every address`);
    }
    // Each bind in the step's files on an address it declares: a bind it does not declare is a
    // config that says another thing than the step (or a step of one's own that declares nothing).
    const declared = new Set(step.listeners.map((l) => sameAddress(l.address)));
    const expected = declared.size
      ? [...new Set(step.listeners.map((l) => l.address))].join(", ")
      : "it declares none: ShellScript.listen";
    for (const s of settings) {
      for (const bind of bindsOf(s)) {
        const hosts = listenHosts(bind.value);
        if (hosts.some(isWildcardAddress)) {
          out.push(`${where(s)}${bind.what}: listens on every address`);
          continue;
        }
        for (const host of hosts.filter((h) => !declared.has(sameAddress(h)))) {
          out.push(
            `${where(s)}${bind.what}: binds ${host}: expected an address step ${step.logicalId} declares (${expected})`,
          );
        }
      }
    }
    // Listeners left to a default that is every address.
    const uwsgiFiles = [...new Set(step.iniEdits.filter((e) => e.section === "uwsgi").map((e) => e.path))];
    for (const l of LISTENERS) {
      if (!step.restartedUnits.includes(l.unit)) continue;
      if (l.unlessUwsgi && uwsgiFiles.length > 0) continue;
      if (l.onlyWith && !settings.some((s) => matches(s, l.file, l.section, l.onlyWith as string))) continue;
      const problem = listenerProblem(l, settings);
      if (problem) out.push(problem);
    }
    for (const file of uwsgiFiles) {
      const problem = uwsgiProblem(file, step, settings);
      if (problem) out.push(problem);
    }
    return out;
  },
});
