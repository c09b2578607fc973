/**
 * Swift (lib/services/swift.ts): through the VIP, `os-object-store`: a container created, a
 * 20 MiB random object uploaded, listed with its size, downloaded back identical (SHA-256),
 * deleted with its container, with the upload and download rates. On every Swift host,
 * `swift-rings`: the ring files are the same bytes everywhere (they are built on each host,
 * lib/services/swift-rings.ts) with the inventory's replica count; on every storage host,
 * `swift-storage`: the storage daemons active and each server's healthcheck answering on the
 * host's address.
 */
import { randomBytes } from "crypto";
import { SWIFT_RINGS_SPEC, SWIFT_STORAGE_PORTS } from "../../../lib/services/swift-rings";
import { releaseProfile } from "../../../lib/core/releases";
import { forRelease } from "../../../lib/core/releases/packages";
import { SWIFT_API, SWIFT_RELEASES } from "../../../lib/services/swift";
import { HostPlan } from "../../plan";
import { bashCommand, remote } from "../platform";
import { Check, CheckContext, CheckResult, perHost } from "../types";
import { command, failedCommands, jsonOf, oneLine, rate, ServiceChecks } from "./client";

/** The object's size: 20 MiB, plus an odd tail so that no block size hides a truncation. */
export const OBJECT_BYTES = 20 * 1024 * 1024 + 7;

function swiftHosts(ctx: CheckContext): HostPlan[] {
  return ctx.hosts.filter((h) => h.roles.includes("controller") || h.roles.includes("storage"));
}

/** Each Swift host's ring checksums and spec: the same everywhere, with min(3, storage hosts) replicas. */
export const swiftRings: Check = {
  name: "swift-rings",
  async run(ctx) {
    const storage = ctx.hosts.filter((h) => h.roles.includes("storage")).length;
    const replicas = Math.min(3, storage);
    const seen = await Promise.all(
      swiftHosts(ctx).map(async (host) => {
        try {
          const out = await remote(
            ctx,
            host,
            bashCommand(
              `cd /etc/swift && md5sum account.ring.gz container.ring.gz object.ring.gz && cat ${SWIFT_RINGS_SPEC}`,
            ),
          );
          return { host, out };
        } catch (err) {
          return { host, error: (err as Error).message };
        }
      }),
    );
    const reference = seen.find((s) => s.out)?.out;
    return seen.map((s): CheckResult => {
      if (!s.out)
        return { check: "swift-rings", host: s.host.name, ok: false, detail: s.error ?? "no answer" };
      const spec = s.out.trim().split("\n").at(-1) ?? "";
      const problems: string[] = [];
      if (s.out !== reference)
        problems.push(`rings or spec differ from ${seen.find((x) => x.out === reference)?.host.name}'s`);
      if (!spec.includes(` replicas=${replicas} `))
        problems.push(`spec ${spec}: expected replicas=${replicas}`);
      return {
        check: "swift-rings",
        host: s.host.name,
        ok: problems.length === 0,
        detail: problems.length
          ? problems.join("; ")
          : `account/container/object rings identical on ${seen.length} Swift hosts (md5 ${s.out.split(" ")[0].slice(0, 8)}…), ${replicas} replica(s)`,
      };
    });
  },
};

/** The storage daemons active, and each server's /healthcheck answering on the host's address. */
export const swiftStorage: Check = perHost(
  "swift-storage",
  async (host, ctx) => {
    const units = forRelease("swift", SWIFT_RELEASES, releaseProfile(ctx.inventory.release)).storageUnits;
    const urls = Object.values(SWIFT_STORAGE_PORTS).map((p) => `http://${host.address}:${p}/healthcheck`);
    const out = await remote(
      ctx,
      host,
      bashCommand(
        `systemctl is-active "$@" | paste -sd' ' ; for u in ${urls.join(" ")}; do curl -s -m 5 -o /dev/null -w '%{http_code} ' "$u" || true; done`,
        ...units,
      ),
    ).catch((err: Error) => err.message);
    const [states = "", codes = ""] = out.split("\n");
    const down = units.filter((_, i) => states.split(" ")[i] !== "active");
    const badCodes = codes
      .trim()
      .split(" ")
      .filter((c) => c !== "200");
    const ok = down.length === 0 && badCodes.length === 0 && codes.trim().length > 0;
    return {
      ok,
      detail: ok
        ? `${units.length} units active; account, container and object servers answer on ${host.address}`
        : `not active: ${down.join(", ") || "-"}; healthchecks: ${codes.trim() || oneLine(out)}`,
    };
  },
  (host) => host.roles.includes("storage"),
);

export const swift: ServiceChecks = {
  name: "swift",
  api: { ...SWIFT_API, path: "/healthcheck", listPath: "/v1/AUTH_{project}" },
  units: (release) => [forRelease("swift", SWIFT_RELEASES, release).proxyUnit],
  viaVip: () => {
    const container = `osc-check-${randomBytes(4).toString("hex")}`;
    return {
      files: { "object.bin": OBJECT_BYTES },
      hash: ["object.bin", "object.down"],
      commands: [
        { name: "container-create", argv: ["container", "create", "-f", "json", container] },
        {
          name: "object-create",
          argv: ["object", "create", "-f", "json", "--name", "object.bin", container, "{dir}/object.bin"],
        },
        { name: "object-list", argv: ["object", "list", "-f", "json", "--long", container] },
        {
          name: "object-save",
          argv: ["object", "save", "--file", "{dir}/object.down", container, "object.bin"],
        },
        { name: "object-delete", argv: ["object", "delete", container, "object.bin"] },
        { name: "container-delete", argv: ["container", "delete", container] },
        { name: "container-list", argv: ["container", "list", "-f", "json"] },
      ],
      checks: [
        {
          name: "os-object-store",
          judge: (reply) => {
            const problems = failedCommands(reply, [
              "container-create",
              "object-create",
              "object-save",
              "object-delete",
              "container-delete",
            ]);
            if (problems.length > 0) return { ok: false, detail: `${container}: ${problems.join("; ")}` };
            const listed = jsonOf<{ Name: string; Bytes: number }[]>(
              command(reply, "object-list"),
              "object list",
            );
            const row = listed.find((o) => o.Name === "object.bin");
            if (!row) problems.push("object.bin not in the container's listing");
            else if (Number(row.Bytes) !== OBJECT_BYTES)
              problems.push(`listed with ${row.Bytes} bytes, uploaded ${OBJECT_BYTES}`);
            const up = reply.files["object.bin"];
            const down = reply.files["object.down"];
            if (!down) problems.push("no downloaded file");
            else if (down.sha256 !== up?.sha256)
              problems.push(`downloaded ${down.size} bytes differ from the uploaded ${up?.size}`);
            const containers = jsonOf<{ Name: string }[]>(command(reply, "container-list"), "container list");
            if (containers.some((c) => c.Name === container))
              problems.push(`${container} still listed after delete`);
            const upMs = command(reply, "object-create").ms;
            const downMs = command(reply, "object-save").ms;
            return {
              ok: problems.length === 0,
              detail: problems.length
                ? `${container}: ${problems.join("; ")}`
                : `${container}: ${OBJECT_BYTES} bytes uploaded in ${upMs} ms (${rate(OBJECT_BYTES, upMs)}), listed, downloaded back identical (SHA-256) in ${downMs} ms (${rate(OBJECT_BYTES, downMs)}), deleted with its container`,
            };
          },
        },
      ],
    };
  },
  checks: [swiftRings, swiftStorage],
};
