/**
 * Data that must outlive a host (destructive, run by the failover, not by verify):
 * - `image-failover`: an image uploaded through the VIP before the active controller loses
 *   power is downloaded, identical, through the survivor while that controller is off (Glance
 *   keeps image data in Swift, not on the controller that took the upload);
 * - `object-failover`: with two or more storage hosts, a 20 MiB object is uploaded through the
 *   VIP, one storage host that holds a replica of it is powered off, and the object is
 *   downloaded, identical, while it is off; the host is booted again and its Swift daemons (and,
 *   on a compute host, nova-compute and its agents) must be back before the checks go on.
 */
import { randomBytes } from "crypto";
import { HostPlan } from "../plan";
import { startHost, stopHost } from "../power";
import { AgentRow, computeHosts } from "./dataplane";
import { bashCommand, remote } from "./platform";
import { poll } from "./poll";
import { swiftStorage, OBJECT_BYTES } from "./services/swift";
import { command, failedCommands, OscReply, rate, runOsc, ServiceRow } from "./services/client";
import { CheckContext, CheckResult } from "./types";

const IMAGE_BYTES = 5 * 1024 * 1024 + 3;
const BACK_TIMEOUT_MS = 300_000;

/** An image uploaded through the VIP; `check` downloads and compares it, then deletes it. */
export interface UploadedImage {
  readonly name: string;
  readonly sha256: string;
  check(from: HostPlan, label: string): Promise<CheckResult>;
}

/** Uploads a random image through the VIP with the CLI on `from`. */
export async function uploadImage(ctx: CheckContext, from: HostPlan): Promise<UploadedImage> {
  const name = `failover-image-${randomBytes(4).toString("hex")}`;
  const reply = await runOsc(ctx, from, {
    files: { "image.raw": IMAGE_BYTES },
    hash: ["image.raw"],
    commands: [
      {
        name: "image-create",
        argv: ["image", "create", "--file", "{dir}/image.raw", "--disk-format", "raw", "--container-format", "bare", "--private", "-f", "json", "-c", "id", name],
      }, // prettier-ignore
      {
        name: "image-show",
        argv: ["image", "show", "-f", "json", name],
        until: { key: "status", value: "active", seconds: 60 },
      },
    ],
  });
  const problems = failedCommands(reply, ["image-create", "image-show"]);
  if (problems.length > 0) throw new Error(`image-failover: ${name}: ${problems.join("; ")}`);
  const sha256 = reply.files["image.raw"].sha256;
  return {
    name,
    sha256,
    async check(survivor, label) {
      const t0 = Date.now();
      const r = await runOsc(ctx, survivor, {
        hash: ["image.down"],
        commands: [
          { name: "image-save", argv: ["image", "save", "--file", "{dir}/image.down", name] },
          { name: "image-delete", argv: ["image", "delete", name] },
        ],
      });
      const down = r.files["image.down"];
      const issues = failedCommands(r, ["image-save", "image-delete"]);
      if (issues.length === 0 && down?.sha256 !== sha256)
        issues.push(`downloaded ${down?.size ?? 0} bytes differ from the ${IMAGE_BYTES} uploaded`);
      return {
        check: "image-failover",
        host: survivor.name,
        ok: issues.length === 0,
        detail: issues.length
          ? `${label}: ${name}: ${issues.join("; ")}`
          : `${label}: ${name} (${IMAGE_BYTES} bytes, uploaded before the power cut) downloaded identical through ${survivor.name} while the other controller was off (${Date.now() - t0} ms), deleted`,
      };
    },
  };
}

/** The storage hosts that hold `object` of `container` in the admin's account (swift-get-nodes on a controller). */
async function replicaHosts(ctx: CheckContext, controller: HostPlan, container: string): Promise<HostPlan[]> {
  const out = await remote(
    ctx,
    controller,
    bashCommand(
      `. /root/admin-openrc
project=$(openstack token issue -f value -c project_id)
swift-get-nodes /etc/swift/object.ring.gz "AUTH_$project" "$1" object.bin`,
      container,
    ),
    { timeoutMs: 60_000 },
  );
  // "Server:Port Device\t10.211.0.22:6200 swift" (primary nodes; handoffs say "[Handoff]").
  const addresses = [...out.matchAll(/^Server:Port Device\s+(\S+):\d+ \S+\s*$/gm)].map((m) => m[1]);
  return ctx.hosts.filter((h) => addresses.includes(h.address));
}

/** Waits until a storage host that was off serves Swift again, and, if it computes, Nova and Neutron see it. */
async function storageHostBack(ctx: CheckContext, host: HostPlan, cli: HostPlan): Promise<number> {
  const t0 = Date.now();
  await poll(`${host.name}'s Swift daemons`, BACK_TIMEOUT_MS, async () => {
    const [r] = await swiftStorage.run({ ...ctx, hosts: [host] });
    return r.ok ? true : undefined;
  });
  if (computeHosts(ctx).includes(host)) {
    await poll(`${host.name}'s nova-compute up and agents alive`, BACK_TIMEOUT_MS, async () => {
      const reply = await runOsc(ctx, cli, {
        commands: [
          { name: "compute", argv: ["compute", "service", "list", "--host", host.name, "-f", "json"] },
          { name: "agents", argv: ["network", "agent", "list", "--host", host.name, "-f", "json"] },
        ],
      });
      const services = JSON.parse(command(reply, "compute").out || "[]") as ServiceRow[];
      const agents = JSON.parse(command(reply, "agents").out || "[]") as AgentRow[];
      const up = services.length > 0 && services.every((s) => s.State === "up");
      const alive = agents.length > 0 && agents.every((a) => a.Alive === true || a.Alive === ":-)");
      return up && alive ? true : undefined;
    });
  }
  return Date.now() - t0;
}

/** `object-failover`: one storage host holding a replica off; the object downloads identical. */
export async function objectFailover(ctx: CheckContext, cli: HostPlan): Promise<CheckResult> {
  const storage = ctx.hosts.filter((h) => h.roles.includes("storage"));
  const result = (ok: boolean, detail: string, host = "-"): CheckResult => ({
    check: "object-failover",
    host,
    ok,
    detail,
  });
  if (storage.length < 2)
    return {
      ...result(true, `${storage.length} storage host: one replica, nothing survives its loss`),
      skipped: true,
    };
  const container = `failover-${randomBytes(4).toString("hex")}`;
  const up = await runOsc(ctx, cli, {
    files: { "object.bin": OBJECT_BYTES },
    hash: ["object.bin"],
    commands: [
      { name: "container-create", argv: ["container", "create", container] },
      {
        name: "object-create",
        argv: ["object", "create", "--name", "object.bin", container, "{dir}/object.bin"],
      },
    ],
  });
  const upProblems = failedCommands(up, ["container-create", "object-create"]);
  if (upProblems.length > 0) return result(false, `${container}: ${upProblems.join("; ")}`);
  const holders = await replicaHosts(ctx, cli, container);
  const victim = holders[0];
  if (!victim) return result(false, `${container}: swift-get-nodes named no storage host for object.bin`);
  const t0 = Date.now();
  await stopHost(ctx.inventory, victim.name);
  let down: OscReply;
  let savedAfterMs = 0;
  try {
    down = await runOsc(ctx, cli, {
      hash: ["object.down"],
      commands: [
        {
          name: "object-save",
          argv: ["object", "save", "--file", "{dir}/object.down", container, "object.bin"],
        },
      ],
    });
    savedAfterMs = Date.now() - t0;
  } finally {
    await startHost(ctx.inventory, victim.name);
  }
  const downMs = command(down, "object-save").ms;
  const backMs = await storageHostBack(ctx, victim, cli);
  const cleanup = await runOsc(ctx, cli, {
    commands: [
      { name: "object-delete", argv: ["object", "delete", container, "object.bin"] },
      { name: "container-delete", argv: ["container", "delete", container] },
    ],
  });
  const problems = [
    ...failedCommands(down, ["object-save"]),
    ...failedCommands(cleanup, ["object-delete", "container-delete"]),
  ];
  if (problems.length === 0 && down.files["object.down"]?.sha256 !== up.files["object.bin"].sha256)
    problems.push(
      `downloaded ${down.files["object.down"]?.size ?? 0} bytes differ from the ${OBJECT_BYTES} uploaded`,
    );
  return result(
    problems.length === 0,
    problems.length
      ? `${container}: ${problems.join("; ")}`
      : `${container}/object.bin (${OBJECT_BYTES} bytes, replicas on ${holders.map((h) => h.name).join(", ")}): ${victim.name} powered off, downloaded identical in ${downMs} ms (${rate(OBJECT_BYTES, downMs)}), done ${(savedAfterMs / 1000).toFixed(1)} s after the power cut; ${victim.name} booted, back in service ${(backMs / 1000).toFixed(1)} s later; deleted`,
    victim.name,
  );
}
