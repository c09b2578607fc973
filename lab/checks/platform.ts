/**
 * What the platform checks share: which hosts should run what (from the inventory), where the
 * VIP is (seen from the lab machine, in the hosts' namespaces), remote commands that must
 * succeed, and packages the checks install on a client host.
 */
import { quote } from "shell-quote";
import { namespaceAddresses } from "../network";
import { HostPlan } from "../plan";
import { CheckContext } from "./types";

export const CONTROLLER = "controller";

export function controllers(ctx: CheckContext): HostPlan[] {
  return ctx.hosts.filter((h) => h.roles.includes(CONTROLLER));
}

/** The address clients use: the VIP, or the single controller's own address without one. */
export function serviceAddress(ctx: CheckContext): string | undefined {
  return ctx.inventory.management.vip ?? controllers(ctx)[0]?.address;
}

/** With `ha: heartbeat`, the pair and the VIP; undefined when the inventory has no VIP pair. */
export function vipPair(ctx: CheckContext): { pair: [HostPlan, HostPlan]; vip: string } | undefined {
  const c = controllers(ctx);
  const vip = ctx.inventory.management.vip;
  if (ctx.inventory.ha !== "heartbeat" || c.length !== 2 || !vip) return undefined;
  return { pair: [c[0], c[1]], vip };
}

/**
 * Where the checks act as a client of the platform: the first host that is no controller
 * (a client as the services on compute and network nodes are), else the last controller.
 */
export function clientHost(ctx: CheckContext): HostPlan {
  const other = ctx.hosts.find((h) => !h.roles.includes(CONTROLLER));
  return other ?? controllers(ctx)[controllers(ctx).length - 1] ?? ctx.hosts[0];
}

/** Controllers whose management interface holds `address`, read in their namespaces. */
export function holdersOf(ctx: CheckContext, address: string): HostPlan[] {
  return controllers(ctx).filter((h) =>
    namespaceAddresses(h.netns, h.links[0].ifname).some((a) => a.split("/")[0] === address),
  );
}

/** Runs a command that must succeed; returns its stdout. The error never carries `input`. */
export async function remote(
  ctx: CheckContext,
  host: HostPlan,
  command: string,
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<string> {
  const r = await ctx.ssh(host, command, opts.timeoutMs ?? 60_000, opts.input);
  if (r.code !== 0) {
    const what = command.length > 120 ? `${command.slice(0, 117)}...` : command;
    const why = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-3).join(" | ");
    throw new Error(`${host.name}: \`${what}\` failed (exit ${r.code}): ${why}`);
  }
  return r.stdout;
}

/** `bash -c <script> <args…>` as one remote command line, the script quoted for the remote shell. */
export function bashCommand(script: string, ...args: string[]): string {
  return quote(["bash", "-c", script, "bash", ...args]);
}

/**
 * Installs packages a check needs on a host (through the lab's apt proxy, which the deploy
 * configured), unless they are installed already.
 */
export async function ensureHostPackages(
  ctx: CheckContext,
  host: HostPlan,
  packages: string[],
): Promise<void> {
  const script = `
missing=()
for p in "$@"; do
  dpkg-query -W -f='\${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
[ "\${#missing[@]}" -eq 0 ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends "\${missing[@]}" >/tmp/osc-check-apt.log 2>&1 ||
  { apt-get update -q >>/tmp/osc-check-apt.log 2>&1 &&
    apt-get install -y -q --no-install-recommends "\${missing[@]}" >>/tmp/osc-check-apt.log 2>&1; } ||
  { tail -n 5 /tmp/osc-check-apt.log >&2; exit 1; }
`;
  await remote(ctx, host, bashCommand(script, ...packages), { timeoutMs: 300_000 });
}

/** Listening sockets on a port inside a host, as `tcp 10.0.0.1` / `udp 0.0.0.0` entries. */
export async function listeners(ctx: CheckContext, host: HostPlan, port: number): Promise<string[]> {
  const out = await remote(ctx, host, `ss -ltunH 'sport = :${port}'`);
  return parseListeners(out);
}

/** Parses `ss -ltunH` lines into `proto address` (address without port, `[::]` kept). */
export function parseListeners(ssOutput: string): string[] {
  return [
    ...new Set(
      ssOutput
        .split("\n")
        .map((l) => l.trim().split(/\s+/))
        .filter((f) => f.length >= 5)
        .map((f) => `${f[0]} ${f[4].replace(/:[^:]+$/, "").replace(/%\S+$/, "")}`),
    ),
  ].sort();
}

/**
 * Asks address:port with one line over TCP from a host (bash /dev/tcp), 3 s at most. Returns the
 * first line of the answer, or undefined with the reason when nothing answers.
 */
export async function tcpAsk(
  ctx: CheckContext,
  from: HostPlan,
  address: string,
  port: number,
  line: string,
): Promise<{ answer?: string; reason?: string }> {
  const script = `exec 3<>"/dev/tcp/$1/$2" || exit 7
printf '%s\\r\\n' "$3" >&3
IFS= read -r -t 3 reply <&3 || exit 8
printf 'ANSWER %s\\n' "\${reply%$'\\r'}"`;
  const r = await ctx.ssh(from, `timeout 5 ${bashCommand(script, address, String(port), line)} 2>&1`, 20_000);
  const out = r.stdout.trim();
  if (r.code === 0 && out.startsWith("ANSWER ")) return { answer: out.slice("ANSWER ".length) };
  const reason =
    r.code === 124
      ? "timed out"
      : r.code === 8
        ? "connected but no answer"
        : (out.split("\n").pop() ?? "").replace(/^.*: /, "") || `exit ${r.code}`;
  return { reason };
}

/** MariaDB's host pattern for a network (`10.0.0.0/255.255.255.0`), as the library writes it. */
export function mysqlHostPattern(cidr: string): string {
  const [address, bits] = cidr.split("/");
  const prefix = Number(bits);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return `${address}/${[24, 16, 8, 0].map((s) => (mask >>> s) & 255).join(".")}`;
}
