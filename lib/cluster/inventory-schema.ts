import { z } from "zod";
import { RELEASE_NAMES } from "../core/releases";
import { ROLES } from "../core/roles";

/**
 * The inventory file's shape. Every object is strict: an unknown key is an error, because a
 * misspelt key (`adress:`) silently ignored is how the seed's `api_paste_confg` happened.
 */

const hostname = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    "a hostname: lowercase letters, digits and '-', 1 to 63 characters, not starting or ending with '-'",
  );

const ipAddress = z.union([z.ipv4(), z.ipv6()], { error: "an IPv4 or IPv6 address" });
const cidr = z.union([z.cidrv4(), z.cidrv6()], { error: "a network in CIDR form, such as 10.20.0.0/24" });
const port = z.number().int().min(1).max(65535);
const interfaceName = z
  .string()
  .regex(/^[a-zA-Z0-9_.:-]{1,15}$/, "a network interface name (at most 15 characters)");

const unixUser = z.string().regex(/^[a-z_][a-z0-9_-]*$/, "a Unix user name");

export const bastionSchema = z.strictObject({
  host: z.string().min(1),
  user: unixUser.optional(),
  port: port.optional(),
  privateKeyFile: z.string().min(1).optional(),
  hostKey: z.string().min(1).optional(),
});

export const sshSchema = z.strictObject({
  user: unixUser.optional(),
  port: port.optional(),
  /** Path to the private key; `~` is expanded by Terraform, a relative path is taken from the inventory's folder. */
  privateKeyFile: z.string().min(1).optional(),
  /** Use the running ssh-agent instead of a key file. */
  agent: z.boolean().optional(),
  /** The host's public key (`ssh-ed25519 AAAA…`), pinned so that a man in the middle is refused. */
  hostKey: z.string().min(1).optional(),
  bastion: bastionSchema.optional(),
  timeout: z
    .string()
    .regex(/^\d+[smh]$/, "a duration such as 5m")
    .optional(),
});

export const hostSchema = z.strictObject({
  name: hostname,
  address: ipAddress,
  roles: z.array(z.enum(ROLES)).min(1, "at least one role"),
  tunnelAddress: ipAddress.optional(),
  interfaces: z
    .strictObject({
      management: interfaceName.optional(),
      provider: interfaceName.optional(),
      tunnel: interfaceName.optional(),
    })
    .optional(),
  ssh: sshSchema.optional(),
});

export const inventorySchema = z.strictObject({
  cluster: hostname,
  release: z.enum(RELEASE_NAMES),
  ha: z.enum(["heartbeat", "single"]).optional(),
  resource: z.enum(["terraform_data", "null_resource"]).optional(),
  aptProxy: z.url({ protocol: /^https?$/, error: "an http:// or https:// URL" }).optional(),
  ntpServers: z.array(z.string().min(1)).optional(),
  ssh: sshSchema.optional(),
  networks: z.strictObject({
    management: z.strictObject({
      cidr,
      vip: ipAddress.optional(),
      vipName: hostname.optional(),
      interface: interfaceName.optional(),
    }),
    provider: z
      .strictObject({
        interface: interfaceName,
        physnet: z.string().regex(/^[a-z][a-z0-9_-]*$/, "a physical network name such as provider"),
      })
      .optional(),
    tunnel: z.strictObject({ cidr, interface: interfaceName }).optional(),
  }),
  hosts: z.array(hostSchema).min(1, "at least one host"),
});

export type InventoryInput = z.infer<typeof inventorySchema>;
