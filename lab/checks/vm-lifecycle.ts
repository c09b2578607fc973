/**
 * `vm-lifecycle`: one sequential run of a VM's life on the cloud, as admin through the VIP
 * (runOsc on the CLI host), each phase one result:
 *
 *   vm-image           the test image (guest-image.ts) in Glance as verify-testvm: reused when
 *                      one with the file's MD5 is active, else uploaded (seconds measured)
 *   vm-network         security groups verify-sg (ICMP, TCP 22 and 80 in) and verify-sg-noicmp
 *                      (TCP 22 in), verify-net + verify-subnet, verify-router with its gateway on
 *                      the day-one external network and an interface on the subnet
 *   vm-boot            verify-vm1 (day-one flavor) on verify-net with verify-sg: create -> ACTIVE
 *   vm-console         its console: the DHCP address is its Neutron port's fixed IP, the
 *                      metadata uuid its server id ("metadata failed" fails)
 *   vm-floating-ip     a floating IP on the external network, associated: seconds until it
 *                      answers ping from the lab machine (its provider bridge)
 *   vm-security-group  verify-sg replaced by verify-sg-noicmp: ping stops (3 misses in a row);
 *                      verify-sg back: ping answers again (3 in a row)
 *   vm-volume          with volume backends in the inventory, a 1 GiB volume made, attached to
 *                      verify-vm1 (seen by its guest as a new disk), detached (gone from the
 *                      guest) and deleted, each step measured (volume-attach.ts)
 *   vm-to-vm           with 2+ compute hosts, verify-vm2 on another one pings verify-vm1's fixed
 *                      IP over the tunnel network (its console's "TESTVM ping <ip> ok")
 *   vm-cleanup         (always, in `finally`) everything deleted, by name, so that a run cut
 *                      short is cleaned by the next; then, within a bounded wait, no server (nor
 *                      volume) of ours in the API, no port on the network, no qrouter-/qdhcp-
 *                      namespace on a network host, no tap/qvo/qvb/qbr device of the VMs' ports
 *                      on a compute host
 *
 * Every resource is named verify-… (volumes verify-vol-<hex>); the run starts by deleting any
 * left from an earlier run.
 */
import { createHash } from "crypto";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { runAsync } from "../exec";
import { HostPlan } from "../plan";
import { sshArgs } from "../ssh";
import { computeHosts, networkHosts } from "./dataplane";
import { guestImage, imageCreateArgs, parseGuestConsole, pingUserData } from "./guest-image";
import { LOG_DIR, logName } from "../config";
import { bashCommand, controllers, remote } from "./platform";
import { poll, s1 } from "./poll";
import {
  cliHost,
  jsonOf,
  OscCommand,
  OscCommandResult,
  oneLine,
  runOsc,
  serviceHostName,
  Verdict,
} from "./services/client";
import { Check, CheckContext, CheckResult, skip } from "./types";
import { hasVolumeBackends, ourVolumes, VOLUME_PREFIX, VolumeRow, volumePhase } from "./volume-attach";

export const NAMES = {
  image: "verify-testvm",
  sg: "verify-sg",
  sgNoIcmp: "verify-sg-noicmp",
  net: "verify-net",
  subnet: "verify-subnet",
  router: "verify-router",
  vm1: "verify-vm1",
  vm2: "verify-vm2",
  /** The floating IP's description (a floating IP has no name). */
  fip: "verify-dataplane",
} as const;
export const SUBNET_CIDR = "192.168.201.0/24";
const UPLOAD_PATH = "/tmp/verify-testvm.img";
const USER_DATA_PATH = "/tmp/verify-vm2-user-data";

const BOOT_TIMEOUT_S = 240;
const CONSOLE_TIMEOUT_MS = 300_000;
const FIRST_PING_TIMEOUT_MS = 120_000;
const FIREWALL_TIMEOUT_MS = 60_000;
const CLEANUP_TIMEOUT_MS = 120_000;
/** Pings in a row that make "stopped" or "answers again". */
const IN_A_ROW = 3;

// ---------------------------------------------------------------------------------------------
// Small helpers over runOsc.

export class Osc {
  constructor(
    private readonly ctx: CheckContext,
    readonly host: HostPlan,
  ) {}

  async all(commands: OscCommand[], timeoutMs = 240_000): Promise<OscCommandResult[]> {
    return (await runOsc(this.ctx, this.host, { commands }, timeoutMs)).commands;
  }

  /** Runs one command that must succeed; returns its result. */
  async one(argv: string[], timeoutMs = 240_000): Promise<OscCommandResult> {
    const [c] = await this.all([{ name: argv.slice(0, 2).join("-"), argv }], timeoutMs);
    if (!c) throw new Error(`\`openstack ${argv.slice(0, 3).join(" ")}\`: no result`);
    if (c.rc !== 0)
      throw new Error(`\`openstack ${argv.slice(0, 3).join(" ")}\` failed (exit ${c.rc}): ${oneLine(c.err)}`);
    return c;
  }

  async json<T>(argv: string[], timeoutMs?: number): Promise<T> {
    return jsonOf<T>(await this.one([...argv, "-f", "json"], timeoutMs), argv.slice(0, 3).join(" "));
  }
}

/** Each command must have succeeded; throws naming the first that did not. */
function allOk(results: readonly OscCommandResult[], commands: readonly OscCommand[]): void {
  results.forEach((r, i) => {
    if (r.rc !== 0)
      throw new Error(
        `\`openstack ${commands[i].argv.slice(0, 4).join(" ")}\` failed (exit ${r.rc}): ${oneLine(r.err)}`,
      );
  });
  if (results.length !== commands.length) throw new Error("the CLI runner stopped early");
}

/** Copies a file from the lab machine to a host (ssh, stdin to `cat`). */
function copyToHost(host: HostPlan, file: string, dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", sshArgs(host, `cat > ${dest}`), { stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`copy to ${host.name}:${dest}: exit ${code}: ${err.trim()}`)),
    );
    fs.createReadStream(file).on("error", reject).pipe(child.stdin);
  });
}

/** One ICMP echo from the lab machine, 1 s wait. */
export async function pingOnce(address: string): Promise<boolean> {
  return (await runAsync("ping", ["-n", "-q", "-c", "1", "-W", "1", address], 5_000)).code === 0;
}

/**
 * Pings until `want` (true: answered, false: missed) `inARow` times in a row. Returns, in ms
 * since `origin` (a Date.now()), when the first ping of that streak was sent and when the streak
 * was complete, and how many pings it took.
 */
export async function pingUntil(
  address: string,
  want: boolean,
  inARow: number,
  timeoutMs: number,
  origin = Date.now(),
): Promise<{ firstMs: number; doneMs: number; attempts: number }> {
  let streak = 0;
  let attempts = 0;
  let firstSent = 0;
  await poll(
    `${address} ${want ? "answering" : "not answering"} ${inARow} times in a row`,
    timeoutMs,
    async () => {
      attempts++;
      const sent = Date.now();
      const ok = await pingOnce(address);
      streak = ok === want ? streak + 1 : 0;
      if (streak === 1) firstSent = sent;
      return streak >= inARow ? true : undefined;
    },
    { intervalMs: 200, lastState: () => `${attempts} pings, last streak ${streak}` },
  );
  return { firstMs: firstSent - origin, doneMs: Date.now() - origin, attempts };
}

// ---------------------------------------------------------------------------------------------
// Pure parts (unit-tested).

export interface PortRow {
  readonly ID: string;
  readonly "Fixed IP Addresses": readonly { ip_address: string; subnet_id?: string }[] | string;
}

/** The IPv4 fixed addresses of a `port list -f json` row (a list, or the table's text form). */
export function fixedIps(row: PortRow): string[] {
  const f = row["Fixed IP Addresses"];
  if (Array.isArray(f)) return f.map((x) => x.ip_address);
  return [...String(f).matchAll(/ip_address='?([0-9.]+)'?/g)].map((m) => m[1]);
}

/** The console of verify-vm1 against Neutron's port and Nova's server id. */
export function judgeConsole(log: string, portIp: string, serverId: string): Verdict {
  const c = parseGuestConsole(log);
  const problems: string[] = [];
  const fine: string[] = [];
  if (c.boots === 0) problems.push("no TESTVM boot line");
  if (!c.dhcp) problems.push(c.dhcpFailed ? "dhcp failed" : "no dhcp line");
  else if (c.dhcp.ip !== portIp) problems.push(`dhcp ip=${c.dhcp.ip}, the port's fixed IP is ${portIp}`);
  else fine.push(`dhcp ip=${c.dhcp.ip}/${c.dhcp.prefix} = the port's fixed IP`);
  if (c.uuid) {
    if (c.uuid !== serverId.toLowerCase())
      problems.push(`metadata uuid=${c.uuid}, the server is ${serverId}`);
    else fine.push("metadata uuid = the server id");
  } else problems.push(c.metadataFailed ? "metadata failed" : "no metadata line");
  if (c.boots > 1) problems.push(`${c.boots} boots`);
  return {
    ok: problems.length === 0,
    detail: [...problems, ...fine].join("; "),
  };
}

/** Devices of a port on a compute host: the names Nova/os-vif and the hybrid firewall give them. */
export function portDevices(portId: string): string[] {
  const p = portId.slice(0, 11);
  return ["tap", "qvo", "qvb", "qbr"].map((k) => `${k}${p}`);
}

/** Which of `devices` `ip -br link` lists (names end at "@" or a space). */
export function presentDevices(ipBrLink: string, devices: readonly string[]): string[] {
  const names = new Set(
    ipBrLink
      .split("\n")
      .map((l) => l.trim().split(/\s+/)[0]?.split("@")[0])
      .filter(Boolean),
  );
  return devices.filter((d) => names.has(d));
}

/** Which of `namespaces` `ip netns` lists (`name (id: n)`). */
export function presentNamespaces(ipNetns: string, namespaces: readonly string[]): string[] {
  const names = new Set(ipNetns.split("\n").map((l) => l.trim().split(/\s+/)[0]));
  return namespaces.filter((n) => names.has(n));
}

// ---------------------------------------------------------------------------------------------
// Cleanup, by name: what exists of ours, deleted.

interface Leftovers {
  servers: { ID: string; Name: string }[];
  fips: { ID: string }[];
  routers: { ID: string }[];
  networks: { ID: string; Subnets: string[] | string }[];
  sgs: { ID: string; Name: string }[];
  images: { ID: string; Checksum?: string | null; Status?: string }[];
  volumes: VolumeRow[];
}

/** Ours that exist; volumes only when asked (the inventory has volume backends). */
async function findOurs(osc: Osc, withVolumes: boolean): Promise<Leftovers> {
  const commands: OscCommand[] = [
    { name: "servers", argv: ["server", "list", "--name", "^verify-vm", "-f", "json"] },
    { name: "fips", argv: ["floating", "ip", "list", "--long", "-f", "json"] },
    { name: "routers", argv: ["router", "list", "--name", NAMES.router, "-f", "json"] },
    { name: "networks", argv: ["network", "list", "--name", NAMES.net, "-f", "json"] },
    { name: "sgs", argv: ["security", "group", "list", "-f", "json"] },
    { name: "images", argv: ["image", "list", "--name", NAMES.image, "--long", "-f", "json"] },
    ...(withVolumes ? [{ name: "volumes", argv: ["volume", "list", "-f", "json"] }] : []),
  ];
  const r = await osc.all(commands);
  allOk(r, commands);
  const j = <T>(i: number) => JSON.parse(r[i].out) as T;
  return {
    servers: j<{ ID: string; Name: string }[]>(0).filter((s) => s.Name === NAMES.vm1 || s.Name === NAMES.vm2),
    fips: j<{ ID: string; Description?: string }[]>(1).filter((f) => f.Description === NAMES.fip),
    routers: j(2),
    networks: j(3),
    sgs: j<{ ID: string; Name: string }[]>(4).filter((s) => s.Name === NAMES.sg || s.Name === NAMES.sgNoIcmp),
    images: j(5),
    volumes: withVolumes ? ourVolumes(j<VolumeRow[]>(6)) : [],
  };
}

function subnetsOf(n: Leftovers["networks"][number]): string[] {
  return Array.isArray(n.Subnets)
    ? n.Subnets
    : String(n.Subnets)
        .split(/[,\s]+/)
        .filter(Boolean);
}

/**
 * Deletes ours (the image too unless keepImage); returns what was there, with the ports that
 * were on our networks just before.
 */
async function deleteOurs(
  osc: Osc,
  keepImage: boolean,
  withVolumes: boolean,
): Promise<Leftovers & { portIds: string[] }> {
  const found = await findOurs(osc, withVolumes);
  const portLists: OscCommand[] = found.networks.map((n) => ({
    name: `ports ${n.ID}`,
    argv: ["port", "list", "--network", n.ID, "-f", "json"],
  }));
  const commands: OscCommand[] = [
    ...portLists,
    ...found.servers.map((s) => ({ name: `server ${s.ID}`, argv: ["server", "delete", "--wait", s.ID] })),
    // After the servers, whose delete detached them; forced: a run cut short may have left one
    // creating, attaching or detaching, which a plain delete refuses.
    ...found.volumes.map((v) => ({ name: `volume ${v.ID}`, argv: ["volume", "delete", "--force", v.ID] })),
    ...found.fips.map((f) => ({ name: `fip ${f.ID}`, argv: ["floating", "ip", "delete", f.ID] })),
    ...found.routers.flatMap((r) => [
      ...found.networks.flatMap(subnetsOf).map((s) => ({
        name: `router-if ${s}`,
        argv: ["router", "remove", "subnet", r.ID, s],
      })),
      { name: `router ${r.ID}`, argv: ["router", "delete", r.ID] },
    ]),
    ...found.networks.map((n) => ({ name: `net ${n.ID}`, argv: ["network", "delete", n.ID] })),
    ...found.sgs.map((s) => ({ name: `sg ${s.ID}`, argv: ["security", "group", "delete", s.ID] })),
    ...(keepImage
      ? []
      : found.images.map((i) => ({ name: `image ${i.ID}`, argv: ["image", "delete", i.ID] }))),
  ];
  if (commands.length === 0) return { ...found, portIds: [] };
  const r = await osc.all(commands, 300_000);
  const portIds = r
    .slice(0, portLists.length)
    .flatMap((c) => (c.rc === 0 ? (JSON.parse(c.out) as { ID: string }[]).map((p) => p.ID) : []));
  // A router interface already gone is fine; any other failure is reported by the leftover check.
  const failed = r.filter((c) => c.rc !== 0 && !c.name.startsWith("router-if"));
  if (failed.length) throw new Error(failed.map((c) => `delete ${c.name}: ${oneLine(c.err)}`).join("; "));
  return { ...found, portIds };
}

/**
 * What is left of the deleted resources: servers, networks, any port that was on them (Neutron
 * keeps no port of a deleted network), namespaces, devices. Empty = clean.
 */
async function leftovers(
  ctx: CheckContext,
  osc: Osc,
  netIds: readonly string[],
  routerIds: readonly string[],
  portIds: readonly string[],
  withVolumes: boolean,
): Promise<string[]> {
  const left: string[] = [];
  const commands: OscCommand[] = [
    { name: "servers", argv: ["server", "list", "--name", "^verify-vm", "-f", "json"] },
    { name: "networks", argv: ["network", "list", "-f", "json", "-c", "ID", "-c", "Name"] },
    { name: "ports", argv: ["port", "list", "-f", "json", "-c", "ID"] },
    { name: "routers", argv: ["router", "list", "-f", "json", "-c", "ID", "-c", "Name"] },
    ...(withVolumes ? [{ name: "volumes", argv: ["volume", "list", "-f", "json"] }] : []),
  ];
  const r = await osc.all(commands);
  allOk(r, commands);
  const [servers, networks, ports, routers, volumes = []] = r.map(
    (c) => JSON.parse(c.out) as { ID: string; Name?: string; Status?: string }[],
  );
  if (servers.length) left.push(`servers ${servers.map((s) => s.Name).join(", ")}`);
  const vols = ourVolumes(volumes);
  if (vols.length) left.push(`volumes ${vols.map((v) => `${v.Name} (${v.Status ?? "?"})`).join(", ")}`);
  const nets = networks.filter((n) => netIds.includes(n.ID) || n.Name === NAMES.net);
  if (nets.length) left.push(`networks ${nets.map((n) => n.ID).join(", ")}`);
  const rts = routers.filter((x) => routerIds.includes(x.ID) || x.Name === NAMES.router);
  if (rts.length) left.push(`routers ${rts.map((x) => x.ID).join(", ")}`);
  const stale = ports.filter((p) => portIds.includes(p.ID));
  if (stale.length) left.push(`ports ${stale.map((p) => p.ID).join(", ")}`);
  const namespaces = [...routerIds.map((id) => `qrouter-${id}`), ...netIds.map((id) => `qdhcp-${id}`)];
  const devices = portIds.flatMap(portDevices);
  await Promise.all([
    ...networkHosts(ctx).map(async (h) => {
      const there = presentNamespaces(await remote(ctx, h, "ip netns list"), namespaces);
      if (there.length) left.push(`${h.name}: ${there.join(", ")}`);
    }),
    ...computeHosts(ctx).map(async (h) => {
      const there = presentDevices(await remote(ctx, h, "ip -br link"), devices);
      if (there.length) left.push(`${h.name}: ${there.join(", ")}`);
    }),
  ]);
  return left;
}

// ---------------------------------------------------------------------------------------------
// The check.

export interface Run {
  serverId?: string;
  portId?: string;
  portIp?: string;
  host?: string;
  fip?: string;
  netIds: string[];
  routerIds: string[];
  portIds: string[];
}

/**
 * A phase added after the floating IP answers (the failover's router failover), with what the
 * run made: its router, server and floating IP.
 */
export interface ExtraPhase {
  readonly name: string;
  /** Why it does not apply to this inventory, if it does not. */
  readonly skipReason?: (ctx: CheckContext) => string | undefined;
  run(ctx: CheckContext, osc: Osc, run: Run): Promise<Verdict>;
}

export const vmLifecycle: Check = vmLifecycleWith();

/** vm-lifecycle, with an extra phase once the floating IP answers (and without the others' extras). */
export function vmLifecycleWith(extra?: ExtraPhase): Check {
  return {
    name: extra ? `vm-lifecycle+${extra.name}` : "vm-lifecycle",
    async run(ctx): Promise<CheckResult[]> {
      const dayOne = ctx.inventory.dayOne;
      if (controllers(ctx).length === 0) return [skip("vm-lifecycle", "-", "no controller in the inventory")];
      if (computeHosts(ctx).length === 0 || networkHosts(ctx).length === 0)
        return [skip("vm-lifecycle", "-", "needs a host with role compute and one with role network")];
      if (!dayOne)
        return [skip("vm-lifecycle", "-", "no dayOne section in the inventory (flavor, external network)")];
      const from = cliHost(ctx);
      const where = serviceHostName(ctx);
      const osc = new Osc(ctx, from);
      const results: CheckResult[] = [];
      const add = (check: string, v: Verdict) =>
        results.push({ check, host: where, ok: v.ok, detail: v.detail });
      const run: Run = { netIds: [], routerIds: [], portIds: [] };
      /** Runs a phase; false when it threw (the later phases need what it made). */
      const phase = async (name: string, fn: () => Promise<Verdict>): Promise<boolean> => {
        try {
          add(name, await fn());
          return true;
        } catch (err) {
          add(name, { ok: false, detail: (err as Error).message });
          return false;
        }
      };
      /** A phase that may not apply to this inventory: SKIP with its reason, else run. */
      const optional = async (p: ExtraPhase): Promise<void> => {
        const why = p.skipReason?.(ctx);
        if (why) results.push(skip(p.name, where, why));
        else await phase(p.name, () => p.run(ctx, osc, run));
      };
      const withVolumes = hasVolumeBackends(ctx);

      try {
        // An earlier run cut short: its resources go first (the image stays if it is the same).
        const before = await deleteOurs(osc, true, withVolumes);
        run.routerIds.push(...before.routers.map((r) => r.ID));
        run.netIds.push(...before.networks.map((n) => n.ID));
        run.portIds.push(...before.portIds);

        const ok =
          (await phase("vm-image", () => image(ctx, osc))) &&
          (await phase("vm-network", () => network(osc, dayOne.external.name, run))) &&
          (await phase("vm-boot", () => boot(osc, dayOne.flavor.name, run)));
        if (ok) {
          await phase("vm-console", () => consoleCheck(osc, run));
          const reachable = await phase("vm-floating-ip", () =>
            floatingIp(ctx, osc, dayOne.external.name, run),
          );
          if (reachable && extra) await optional(extra);
          if (reachable && !extra) await phase("vm-security-group", () => firewall(osc, run));
          // The server is ACTIVE and its console read: the volume phase needs no network.
          if (!extra) await optional(volumePhase);
          if (extra) {
            // The extra phase is the point of this run; vm-volume and vm-to-vm are verify's.
          } else if (computeHosts(ctx).length < 2)
            results.push(
              skip(
                "vm-to-vm",
                where,
                `one compute host in the inventory (${computeHosts(ctx)[0].name}): no VM-to-VM over the tunnel`,
              ),
            );
          else await phase("vm-to-vm", () => vmToVm(ctx, osc, dayOne.flavor.name, run));
        }
      } catch (err) {
        add("vm-lifecycle", { ok: false, detail: (err as Error).message });
      } finally {
        await phase("vm-cleanup", () => cleanup(ctx, osc, run, withVolumes));
      }
      return results.map((r) => (r.skipped ? r : { ...r, detail: `${r.detail} [CLI on ${from.name}]` }));
    },
  };
}

async function image(ctx: CheckContext, osc: Osc): Promise<Verdict> {
  const img = guestImage();
  const md5 = createHash("md5").update(fs.readFileSync(img.file)).digest("hex");
  const size = fs.statSync(img.file).size;
  const existing = await osc.json<{ ID: string; Checksum?: string | null; Status?: string }[]>([
    "image", "list", "--name", NAMES.image, "--long",
  ]); // prettier-ignore
  const same = existing.find((i) => i.Checksum === md5 && i.Status === "active");
  if (same && existing.length === 1)
    return { ok: true, detail: `${NAMES.image} with the same MD5 already active (${same.ID}): reused` };
  if (existing.length) {
    const cmds = existing.map((i) => ({ name: i.ID, argv: ["image", "delete", i.ID] }));
    allOk(await osc.all(cmds), cmds);
  }
  const t0 = Date.now();
  try {
    await copyToHost(osc.host, img.file, UPLOAD_PATH);
    const copied = Date.now() - t0;
    const cmds: OscCommand[] = [
      { name: "create", argv: imageCreateArgs(img, NAMES.image, UPLOAD_PATH) },
      {
        name: "show",
        argv: ["image", "show", "-f", "json", NAMES.image],
        until: { key: "status", value: "active", seconds: 120 },
      },
    ];
    const r = await osc.all(cmds);
    allOk(r, cmds);
    const shown = JSON.parse(r[1].out) as { status?: string; checksum?: string; id?: string };
    const problems: string[] = [];
    if (shown.status !== "active") problems.push(`status ${shown.status} after 120 s`);
    if (shown.checksum !== md5)
      problems.push(`Glance's checksum ${shown.checksum} is not the file's MD5 ${md5}`);
    return {
      ok: problems.length === 0,
      detail:
        (problems.length ? `${problems.join("; ")}; ` : "") +
        `${NAMES.image} (${(size / 1048576).toFixed(1)} MiB) uploaded in ${s1(Date.now() - t0)} (copy to ${osc.host.name} ${s1(copied)}, image create ${s1(r[0].ms)}, active ${s1(r[1].ms)} later)${problems.length ? "" : ", MD5 matches"}`,
    };
  } finally {
    await ctx.ssh(osc.host, `rm -f ${UPLOAD_PATH}`);
  }
}

async function network(osc: Osc, external: string, run: Run): Promise<Verdict> {
  const rule = (sg: string, ...args: string[]): OscCommand => ({
    name: `rule ${sg} ${args.join(" ")}`,
    argv: ["security", "group", "rule", "create", "--ingress", "--ethertype", "IPv4", ...args, sg],
  });
  const cmds: OscCommand[] = [
    { name: "sg", argv: ["security", "group", "create", "-f", "json", NAMES.sg] },
    rule(NAMES.sg, "--protocol", "icmp"),
    rule(NAMES.sg, "--protocol", "tcp", "--dst-port", "22"),
    rule(NAMES.sg, "--protocol", "tcp", "--dst-port", "80"),
    { name: "sg-noicmp", argv: ["security", "group", "create", "-f", "json", NAMES.sgNoIcmp] },
    rule(NAMES.sgNoIcmp, "--protocol", "tcp", "--dst-port", "22"),
    { name: "net", argv: ["network", "create", "-f", "json", NAMES.net] },
    {
      name: "subnet",
      argv: [
        "subnet", "create", "--network", NAMES.net, "--subnet-range", SUBNET_CIDR, "-f", "json", NAMES.subnet,
      ], // prettier-ignore
    },
    { name: "router", argv: ["router", "create", "-f", "json", NAMES.router] },
    { name: "gateway", argv: ["router", "set", "--external-gateway", external, NAMES.router] },
    { name: "interface", argv: ["router", "add", "subnet", NAMES.router, NAMES.subnet] },
  ];
  const t0 = Date.now();
  const r = await osc.all(cmds);
  // The ids first, so that the cleanup looks for their namespaces even when a later step failed.
  const id = (name: string) => {
    const c = r.find((x) => x.name === name);
    return c?.rc === 0 ? (JSON.parse(c.out) as { id: string }).id : undefined;
  };
  const net = id("net");
  const router = id("router");
  if (net) run.netIds.push(net);
  if (router) run.routerIds.push(router);
  allOk(r, cmds);
  return {
    ok: true,
    detail: `${NAMES.sg} (ICMP, TCP 22, 80 in), ${NAMES.sgNoIcmp} (TCP 22 in), ${NAMES.net} ${SUBNET_CIDR}, ${NAMES.router} with its gateway on ${external} and an interface on ${NAMES.subnet}, in ${s1(Date.now() - t0)}`,
  };
}

async function boot(osc: Osc, flavor: string, run: Run): Promise<Verdict> {
  const create = await osc.one(
    [
      "server", "create", "--flavor", flavor, "--image", NAMES.image, "--network", NAMES.net,
      "--security-group", NAMES.sg, "--wait", "-f", "json", NAMES.vm1,
    ], // prettier-ignore
    (BOOT_TIMEOUT_S + 60) * 1000,
  );
  const server = JSON.parse(create.out) as { id: string; status: string };
  run.serverId = server.id;
  const cmds: OscCommand[] = [
    { name: "show", argv: ["server", "show", "-f", "json", server.id] },
    { name: "ports", argv: ["port", "list", "--server", server.id, "-f", "json"] },
  ];
  const r = await osc.all(cmds);
  allOk(r, cmds);
  const shown = JSON.parse(r[0].out) as { status: string; "OS-EXT-SRV-ATTR:host"?: string };
  const ports = JSON.parse(r[1].out) as PortRow[];
  if (ports.length !== 1) throw new Error(`${NAMES.vm1}: ${ports.length} ports, expected 1`);
  run.portId = ports[0].ID;
  run.portIds.push(ports[0].ID);
  run.portIp = fixedIps(ports[0])[0];
  run.host = shown["OS-EXT-SRV-ATTR:host"];
  return {
    ok: shown.status === "ACTIVE",
    detail: `${NAMES.vm1} ${server.id} ${shown.status} on ${run.host}, create -> ACTIVE ${s1(create.ms)}; port ${run.portId} ${run.portIp}`,
  };
}

async function consoleCheck(osc: Osc, run: Run): Promise<Verdict> {
  const id = run.serverId as string;
  let log = "";
  const t0 = Date.now();
  try {
    await poll(
      `${NAMES.vm1}'s console reaching "TESTVM ready"`,
      CONSOLE_TIMEOUT_MS,
      async () => {
        log = (await osc.one(["console", "log", "show", id])).out;
        const c = parseGuestConsole(log);
        return c.ready || (c.dhcpFailed && c.metadataFailed) ? true : undefined;
      },
      { intervalMs: 2000 },
    );
  } catch (err) {
    const v = judgeConsole(log, run.portIp ?? "?", id);
    return { ok: false, detail: `${(err as Error).message}; so far: ${v.detail}` };
  }
  const v = judgeConsole(log, run.portIp ?? "?", id);
  return { ok: v.ok, detail: `${v.detail} (ready ${s1(Date.now() - t0)} after ACTIVE)` };
}

async function floatingIp(ctx: CheckContext, osc: Osc, external: string, run: Run): Promise<Verdict> {
  const fip = await osc.json<{ id: string; floating_ip_address: string }>([
    "floating", "ip", "create", "--description", NAMES.fip, external,
  ]); // prettier-ignore
  run.fip = fip.floating_ip_address;
  const t0 = Date.now();
  const set = await osc.one(["floating", "ip", "set", "--port", run.portId as string, fip.id]);
  let first: Awaited<ReturnType<typeof pingUntil>>;
  try {
    first = await pingUntil(fip.floating_ip_address, true, 1, FIRST_PING_TIMEOUT_MS, t0);
  } catch (err) {
    // Where the path stops, while the router still exists: the cleanup removes it next.
    throw new Error(`${(err as Error).message}; ${await floatingIpDiagnosis(ctx, osc, run, fip.id)}`);
  }
  return {
    ok: true,
    detail: `${fip.floating_ip_address} -> ${run.portIp}: first ping answer from the lab machine ${s1(first.doneMs)} after the association began (the API call took ${s1(set.ms)}; ${first.attempts} ping(s) after the CLI returned)`,
  };
}

/**
 * On each network host, in its qrouter namespace, and from the API: the floating IP's state
 * along its path (the L3 agent's work, the gateway port's VLAN tag from the OVS agent, the
 * NAT rules, pings both ways out of the namespace) and the agents' logs, as one line. The
 * full output goes to the lab's log directory.
 */
export const FIP_DIAGNOSIS_SCRIPT = `set -u
r=$1 fip=$2 fixed=$3
ns=qrouter-$r
l3=\${OSC_L3_AGENT_LOG:-/var/log/neutron/neutron-l3-agent.log}
ovs=\${OSC_OVS_AGENT_LOG:-/var/log/neutron/neutron-openvswitch-agent.log}
if ip netns list | grep -q "^$ns"; then
  qg=$(ip netns exec "$ns" ip -o link show | awk -F': ' '$2 ~ /^qg-/ {sub(/@.*/, "", $2); print $2; exit}')
  echo "gateway-port=\${qg:-none}"
  if [ -n "$qg" ]; then echo "gateway-port-vlan=$(ovs-vsctl get port "$qg" tag 2>&1)"; fi
  if ip netns exec "$ns" ip -o -4 addr show | grep -qF " $fip/"; then echo "fip-on-gateway-port=yes"; else echo "fip-on-gateway-port=no"; fi
  echo "fip-nat-rules=$(ip netns exec "$ns" iptables-save -t nat | grep -cF -- "$fip/32")"
  gw=$(ip netns exec "$ns" ip -4 route show default | awk '{print $3; exit}')
  echo "default-via=\${gw:-none}"
  if ip netns exec "$ns" ping -n -q -c1 -W1 "$fixed" >/dev/null 2>&1; then echo "ping-vm=ok"; else echo "ping-vm=no"; fi
  if [ -n "$gw" ]; then
    if ip netns exec "$ns" ping -n -q -c1 -W1 "$gw" >/dev/null 2>&1; then echo "ping-gateway=ok"; else echo "ping-gateway=no"; fi
  fi
else
  echo "namespace=absent"
fi
echo "l3-router-updates=$(grep -c "router update for $r" "$l3")"
echo "l3-last-router-update=$(grep "router update for $r" "$l3" | tail -n 1 | cut -c1-200)"
echo "l3-errors=$(grep -cE ' (ERROR|CRITICAL) ' "$l3")"
echo "l3-last-error=$(grep -E ' (ERROR|CRITICAL) ' "$l3" | tail -n 1 | cut -c1-300)"
echo "ovs-ports-not-bound=$(grep -c ' is not bound' "$ovs")"
echo "ovs-errors=$(grep -cE ' (ERROR|CRITICAL) ' "$ovs")"
echo "ovs-last-error=$(grep -E ' (ERROR|CRITICAL) ' "$ovs" | tail -n 1 | cut -c1-300)"
echo "--- $ns"
ip netns exec "$ns" ip -o addr show 2>&1
ip netns exec "$ns" ip route show 2>&1
ip netns exec "$ns" ip neigh show 2>&1
ip netns exec "$ns" iptables-save -t nat 2>&1
echo "--- l3 agent, last 60 lines"
tail -n 60 "$l3"
echo "--- ovs agent, last 30 lines"
tail -n 30 "$ovs"
`;

/** The `key=value` lines of FIP_DIAGNOSIS_SCRIPT's output, up to its first `---` section. */
export function parseFipDiagnosis(out: string): Record<string, string> {
  const facts: Record<string, string> = {};
  for (const line of out.split("\n")) {
    if (line.startsWith("---")) break;
    const eq = line.indexOf("=");
    if (eq > 0) facts[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return facts;
}

async function floatingIpDiagnosis(ctx: CheckContext, osc: Osc, run: Run, fipId: string): Promise<string> {
  const parts: string[] = [];
  const full: string[] = [];
  const router = run.routerIds[run.routerIds.length - 1];
  try {
    const cmds: OscCommand[] = [
      { name: "fip", argv: ["floating", "ip", "show", "-f", "json", fipId] },
      { name: "router", argv: ["router", "show", "-f", "json", router] },
      { name: "ports", argv: ["port", "list", "--router", router, "--long", "-f", "json"] },
      { name: "agents", argv: ["network", "agent", "list", "--router", router, "-f", "json"] },
    ];
    const r = await osc.all(cmds, 60_000);
    const obj = (name: string): Record<string, unknown> | undefined => {
      const c = r.find((x) => x.name === name);
      return c?.rc === 0 ? (JSON.parse(c.out) as Record<string, unknown>) : undefined;
    };
    parts.push(`API: floating IP status ${String(obj("fip")?.status ?? "?")}`);
    parts.push(`router status ${String(obj("router")?.status ?? "?")}`);
    const ports =
      (obj("ports") as unknown as { ID: string; Status?: string; "Device Owner"?: string }[] | undefined) ??
      [];
    parts.push(`router ports ${ports.map((p) => `${p["Device Owner"]}:${p.Status}`).join(",") || "?"}`);
    // The gateway port's binding: where, as what, at which revision (an OVS agent whose cache
    // holds an older, unbound revision leaves the port on the dead VLAN).
    const gateway = ports.find((p) => p["Device Owner"] === "network:router_gateway");
    if (gateway) {
      const [shown] = await osc.all(
        [{ name: "gateway", argv: ["port", "show", "-f", "json", gateway.ID] }],
        60_000,
      );
      full.push(`--- openstack port show ${gateway.ID} (exit ${shown.rc})\n${shown.out}${shown.err}`);
      if (shown.rc === 0) {
        const g = JSON.parse(shown.out) as Record<string, unknown>;
        parts.push(
          `gateway port bound to ${String(g.binding_host_id ?? "?")} as ${String(g.binding_vif_type ?? "?")}, revision ${String(g.revision_number ?? "?")}`,
        );
      }
    }
    const agents = (obj("agents") as unknown as { Host?: string; Alive?: unknown }[] | undefined) ?? [];
    parts.push(`L3 agents ${agents.map((a) => `${a.Host}(alive ${String(a.Alive)})`).join(",") || "none"}`);
    full.push(...r.map((c) => `--- openstack ${c.name} (exit ${c.rc})\n${c.out}${c.err}`));
  } catch (err) {
    parts.push(`API: ${(err as Error).message}`);
  }
  for (const host of networkHosts(ctx)) {
    const res = await ctx.ssh(
      host,
      bashCommand(FIP_DIAGNOSIS_SCRIPT, router, run.fip as string, run.portIp as string),
      60_000,
    );
    full.push(`=== ${host.name} (exit ${res.code})\n${res.stdout}${res.stderr}`);
    const facts = parseFipDiagnosis(res.stdout);
    parts.push(
      `${host.name}: ${
        Object.entries(facts)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ") || `exit ${res.code}`
      }`,
    );
  }
  const local = await runAsync("ip", ["neigh", "show", run.fip as string], 5_000);
  parts.push(`lab machine's neighbour entry: ${local.stdout.trim() || "none"}`);
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const file = path.join(LOG_DIR, `${logName(ctx.inventory.cluster, "fip-diagnosis")}.log`);
  fs.writeFileSync(file, `${parts.join("\n")}\n\n${full.join("\n")}\n`);
  return `${parts.join("; ")} (all of it in ${file})`;
}

async function firewall(osc: Osc, run: Run): Promise<Verdict> {
  const id = run.serverId as string;
  const ip = run.fip as string;
  const swap = async (add: string, remove: string) => {
    const cmds: OscCommand[] = [
      { name: "add", argv: ["server", "add", "security", "group", id, add] },
      { name: "remove", argv: ["server", "remove", "security", "group", id, remove] },
    ];
    allOk(await osc.all(cmds), cmds);
  };
  const t1 = Date.now();
  await swap(NAMES.sgNoIcmp, NAMES.sg);
  const stopped = await pingUntil(ip, false, IN_A_ROW, FIREWALL_TIMEOUT_MS, t1);
  const t2 = Date.now();
  await swap(NAMES.sg, NAMES.sgNoIcmp);
  const back = await pingUntil(ip, true, IN_A_ROW, FIREWALL_TIMEOUT_MS, t2);
  const row = (r: { firstMs: number; doneMs: number; attempts: number }, what: string) =>
    `the first of ${IN_A_ROW} ${what} in a row sent ${s1(r.firstMs)} after the swap began (${r.attempts} pings, done at ${s1(r.doneMs)})`;
  return {
    ok: true,
    detail: `${NAMES.sgNoIcmp} (no ICMP) instead of ${NAMES.sg}: ping stopped, ${row(stopped, "misses")}; ${NAMES.sg} back: ping answers again, ${row(back, "answers")}`,
  };
}

async function vmToVm(ctx: CheckContext, osc: Osc, flavor: string, run: Run): Promise<Verdict> {
  const other = computeHosts(ctx).find((h) => h.name !== run.host);
  if (!other) throw new Error(`no compute host other than ${run.host}`);
  const target = run.portIp as string;
  await remote(ctx, osc.host, `cat > ${USER_DATA_PATH}`, { input: pingUserData([target]) });
  const create = await osc.one(
    [
      "server", "create", "--flavor", flavor, "--image", NAMES.image, "--network", NAMES.net,
      "--security-group", NAMES.sg, "--availability-zone", `nova:${other.name}`,
      "--user-data", USER_DATA_PATH, "--wait", "-f", "json", NAMES.vm2,
    ], // prettier-ignore
    (BOOT_TIMEOUT_S + 60) * 1000,
  );
  const server = JSON.parse(create.out) as { id: string };
  const ports = await osc.json<PortRow[]>(["port", "list", "--server", server.id]);
  run.portIds.push(...ports.map((p) => p.ID));
  const t0 = Date.now();
  let last = "";
  await poll(
    `${NAMES.vm2}'s console showing "TESTVM ping ${target} ok"`,
    CONSOLE_TIMEOUT_MS,
    async () => {
      const c = parseGuestConsole((await osc.one(["console", "log", "show", server.id])).out);
      const p = c.pings[target] ?? [];
      last = `${p.filter(Boolean).length} ok, ${p.filter((x) => !x).length} fail`;
      // The pings come from the user data, which the guest reads from the metadata service.
      if (c.metadataFailed) last += "; metadata failed, so no user data";
      return p.includes(true) ? true : undefined;
    },
    { intervalMs: 2000, lastState: () => `pings so far: ${last || "none"}` },
  );
  return {
    ok: true,
    detail: `${NAMES.vm2} on ${other.name} (ACTIVE ${s1(create.ms)}) pings ${NAMES.vm1} ${target} on ${run.host}: first ok ${s1(Date.now() - t0)} after ACTIVE (${last})`,
  };
}

async function cleanup(ctx: CheckContext, osc: Osc, run: Run, withVolumes: boolean): Promise<Verdict> {
  const t0 = Date.now();
  try {
    const found = await deleteOurs(osc, false, withVolumes);
    run.routerIds.push(...found.routers.map((r) => r.ID));
    run.netIds.push(...found.networks.map((n) => n.ID));
    run.portIds.push(...found.portIds);
  } finally {
    await ctx.ssh(osc.host, `rm -f ${UPLOAD_PATH} ${USER_DATA_PATH}`);
  }
  const deleted = Date.now() - t0;
  const netIds = [...new Set(run.netIds)];
  const routerIds = [...new Set(run.routerIds)];
  const portIds = [...new Set(run.portIds)];
  let left: string[] = [];
  const { ms } = await poll(
    "nothing left behind",
    CLEANUP_TIMEOUT_MS,
    async () => {
      left = [];
      left = await leftovers(ctx, osc, netIds, routerIds, portIds, withVolumes);
      return left.length === 0 ? true : undefined;
    },
    {
      intervalMs: 1000,
      timeoutMessage: (e) =>
        `after ${s1(deleted)} of deletes, still there ${CLEANUP_TIMEOUT_MS / 1000} s later: ${left.join("; ") || e}`,
    },
  );
  const names = (hosts: HostPlan[]) => hosts.map((h) => h.name).join(", ");
  return {
    ok: true,
    detail:
      `deleted in ${s1(deleted)}, nothing left ${s1(deleted + ms)} after the first delete: ` +
      `no server${withVolumes ? `, ${VOLUME_PREFIX} volume` : ""}, network, router or any of their ${portIds.length} ports in the API, ` +
      `no qrouter-/qdhcp- namespace on ${names(networkHosts(ctx))}, ` +
      `no tap/qvo/qvb/qbr device of those ports on ${names(computeHosts(ctx))}`,
  };
}
