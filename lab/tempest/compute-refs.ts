/**
 * What Tempest's server tests boot: an image and a flavor. The flavor is the cloud's day-one
 * flavor; the image is the lab's own test guest (lab/test-image.ts), uploaded to Glance once
 * under a fixed name over the public API, the way a user would.
 */
import * as fs from "fs";
import { AdminCredentials, login } from "./facts";

import { GuestImage } from "../checks/guest-image";

export interface ComputeRefs {
  readonly imageRef: string;
  readonly flavorRef: string;
}

export const TEMPEST_IMAGE_NAME = "tempest-testvm";
const TIMEOUT_MS = 60_000;

async function request(method: string, url: string, token: string, body?: unknown): Promise<unknown> {
  const isFile = body instanceof Buffer;
  const r = await fetch(url, {
    method,
    headers: {
      "X-Auth-Token": token,
      Accept: "application/json",
      "Content-Type": isFile ? "application/octet-stream" : "application/json",
    },
    body: body === undefined ? undefined : isFile ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (r.status >= 300)
    throw new Error(`${method} ${url}: answered ${r.status}: ${(await r.text()).slice(0, 200)}`);
  return r.status === 204 ? undefined : r.json().catch(() => undefined);
}

interface ImageRecord {
  id: string;
  status: string;
}

/** The image id (uploaded now when no active image of the name exists) and the flavor's id. */
export async function computeRefs(
  identityUrl: string,
  admin: AdminCredentials,
  flavorName: string,
  image: GuestImage,
): Promise<ComputeRefs> {
  const { token, publicUrls } = await login(identityUrl, admin);
  const glance = publicUrls["image"];
  const nova = publicUrls["compute"];
  if (!glance || !nova) throw new Error("tempest: no image or compute endpoint in the catalog");

  const flavors = (await request("GET", `${nova}/flavors`, token)) as {
    flavors: { id: string; name: string }[];
  };
  const flavor = flavors.flavors.find((f) => f.name === flavorName);
  if (!flavor) throw new Error(`tempest: flavor ${flavorName} (dayOne.flavor.name): not in the cloud`);

  const found = (await request("GET", `${glance}/v2/images?name=${TEMPEST_IMAGE_NAME}`, token)) as {
    images: ImageRecord[];
  };
  let imageId = found.images.find((i) => i.status === "active")?.id;
  if (!imageId) {
    const created = (await request("POST", `${glance}/v2/images`, token, {
      name: TEMPEST_IMAGE_NAME,
      disk_format: image.diskFormat,
      container_format: image.containerFormat,
      ...(image.minRamMb ? { min_ram: image.minRamMb } : {}),
      visibility: "public",
      ...image.properties,
    })) as ImageRecord;
    await request("PUT", `${glance}/v2/images/${created.id}/file`, token, fs.readFileSync(image.file));
    const status = ((await request("GET", `${glance}/v2/images/${created.id}`, token)) as ImageRecord).status;
    if (status !== "active")
      throw new Error(`tempest: image ${created.id} is ${status} after its upload, expected active`);
    imageId = created.id;
  }
  return { imageRef: imageId, flavorRef: flavor.id };
}
