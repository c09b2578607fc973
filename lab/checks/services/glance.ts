/**
 * Glance (lib/services/glance.ts): through the VIP, `os-image`: a 1 MiB random file uploaded,
 * active within 60 s, Glance's checksum (MD5), os_hash_value (SHA-512) and size match the file,
 * downloaded back identical (SHA-256), deleted, gone from `image list`. Names the controller that
 * held the VIP with the file store (which is per controller).
 */
import { randomBytes } from "crypto";
import { forRelease } from "../../../lib/core/releases/packages";
import { GLANCE_API, GLANCE_RELEASES } from "../../../lib/services/glance";
import { holdersOf } from "../platform";
import { command, jsonOf, oneLine, ServiceChecks } from "./client";

export const glance: ServiceChecks = {
  name: "glance",
  api: { ...GLANCE_API, path: "/", listPath: "/v2/images" },
  units: (release) => forRelease("glance", GLANCE_RELEASES, release).units,
  viaVip: (ctx) => {
    const image = `osc-check-${randomBytes(4).toString("hex")}`;
    const size = 1024 * 1024 + 17;
    return {
      files: { "upload.img": size },
      hash: ["upload.img", "download.img"],
      commands: [
        {
          name: "image-create",
          argv: [
            "image", "create", "--file", "{dir}/upload.img", "--disk-format", "raw",
            "--container-format", "bare", "--private", "-f", "json", "-c", "id", image,
          ], // prettier-ignore
        },
        {
          name: "image-show",
          argv: ["image", "show", "-f", "json", image],
          until: { key: "status", value: "active", seconds: 60 },
        },
        { name: "image-save", argv: ["image", "save", "--file", "{dir}/download.img", image] },
        { name: "image-delete", argv: ["image", "delete", image] },
        { name: "image-list", argv: ["image", "list", "-f", "json"] },
      ],
      checks: [
        {
          name: "os-image",
          judge: (reply) => {
            const created = command(reply, "image-create");
            if (created.rc !== 0)
              throw new Error(`\`openstack image create\` failed: ${oneLine(created.err)}`);
            const shown = jsonOf<{
              status?: string;
              checksum?: string;
              size?: number;
              os_hash_value?: string;
            }>(command(reply, "image-show"), "image show");
            const up = reply.files["upload.img"];
            const down = reply.files["download.img"];
            const save = command(reply, "image-save");
            const del = command(reply, "image-delete");
            const listed = jsonOf<{ Name: string }[]>(command(reply, "image-list"), "image list");
            const problems: string[] = [];
            if (shown.status !== "active")
              problems.push(`status ${shown.status} after 60 s, expected active`);
            if (Number(shown.size) !== size)
              problems.push(`Glance says size ${shown.size}, uploaded ${size}`);
            if (shown.checksum !== up?.md5)
              problems.push(`Glance's checksum differs from the uploaded file's MD5`);
            if (shown.os_hash_value && shown.os_hash_value !== up?.sha512)
              problems.push(`Glance's os_hash_value differs from the uploaded file's SHA-512`);
            if (save.rc !== 0) problems.push(`\`openstack image save\` failed: ${oneLine(save.err)}`);
            else if (!down) problems.push("no downloaded file");
            else if (down.sha256 !== up?.sha256)
              problems.push(`downloaded ${down.size} bytes differ from the uploaded ${up?.size}`);
            if (del.rc !== 0) problems.push(`\`openstack image delete\` failed: ${oneLine(del.err)}`);
            if (listed.some((i) => i.Name === image)) problems.push(`${image} still listed after delete`);
            // With the file store, the data stays on the controller that held the VIP.
            const holder =
              ctx.inventory.imageStore === "file" && ctx.inventory.management.vip
                ? holdersOf(ctx, ctx.inventory.management.vip)[0]?.name
                : undefined;
            return {
              ok: problems.length === 0,
              detail: problems.length
                ? `${image}: ${problems.join("; ")}`
                : `${image} (${size} bytes) uploaded, active after ${command(reply, "image-show").ms} ms, checksum and os_hash_value match, downloaded back identical (SHA-256), deleted${holder ? `; data was on ${holder}` : `; data in ${ctx.inventory.imageStore === "swift" ? "Swift" : "the file store"}`}`,
            };
          },
        },
      ],
    };
  },
};
