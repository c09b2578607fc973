/**
 * What Tempest's server tests boot: two images and two flavors, as an operator gives Tempest
 * (tests that filter, rebuild or resize by flavor or image need a second one that differs:
 * with `flavor_ref_alt` equal to `flavor_ref` the list-filter tests fail). The flavor is the
 * cloud's day-one flavor and the second one a copy with more memory (`tempest-alt`: a resize
 * target); the images are the lab's own test guest (lab/test-image.ts), uploaded to Glance once
 * each under a fixed name over the public API, the way a user would.
 */
import * as fs from "fs";
import { AdminCredentials, login } from "./facts";

import { GuestImage } from "../checks/guest-image";

export interface ComputeRefs {
  readonly imageRef: string;
  readonly imageRefAlt: string;
  readonly flavorRef: string;
  readonly flavorRefAlt: string;
}

export const TEMPEST_IMAGE_NAME = "tempest-testvm";
export const TEMPEST_IMAGE_ALT_NAME = "tempest-testvm-alt";
export const TEMPEST_FLAVOR_ALT_NAME = "tempest-alt";
/** The second flavor's extra memory: enough to be a different (larger) resize target. */
const ALT_EXTRA_RAM_MIB = 64;
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

interface FlavorRecord {
  id: string;
  name: string;
  ram: number;
  vcpus: number;
  disk: number;
}

/** The id of the active image named `name`, uploaded now from the guest when there is none. */
async function ensureImage(glance: string, token: string, name: string, image: GuestImage): Promise<string> {
  const found = (await request("GET", `${glance}/v2/images?name=${name}`, token)) as {
    images: ImageRecord[];
  };
  const active = found.images.find((i) => i.status === "active")?.id;
  if (active) return active;
  const created = (await request("POST", `${glance}/v2/images`, token, {
    name,
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
  return created.id;
}

/** The images' and the flavors' ids: the second flavor (`tempest-alt`) and image made now when missing. */
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

  const flavors = ((await request("GET", `${nova}/flavors/detail`, token)) as { flavors: FlavorRecord[] })
    .flavors;
  const flavor = flavors.find((f) => f.name === flavorName);
  if (!flavor) throw new Error(`tempest: flavor ${flavorName} (dayOne.flavor.name): not in the cloud`);
  let alt = flavors.find((f) => f.name === TEMPEST_FLAVOR_ALT_NAME);
  if (!alt) {
    const body = {
      flavor: {
        name: TEMPEST_FLAVOR_ALT_NAME,
        ram: flavor.ram + ALT_EXTRA_RAM_MIB,
        vcpus: flavor.vcpus,
        disk: flavor.disk,
      },
    };
    alt = ((await request("POST", `${nova}/flavors`, token, body)) as { flavor: FlavorRecord }).flavor;
  }
  return {
    imageRef: await ensureImage(glance, token, TEMPEST_IMAGE_NAME, image),
    imageRefAlt: await ensureImage(glance, token, TEMPEST_IMAGE_ALT_NAME, image),
    flavorRef: flavor.id,
    flavorRefAlt: alt.id,
  };
}
