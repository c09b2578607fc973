/**
 * What a secret is, and the helpers components use to declare theirs (next to their code; the
 * catalog in secret-catalog.ts assembles them). This module imports nothing that imports the
 * components, so their declarations can use it while they load.
 */
import { Role } from "./roles";

/** How a secret's value is generated. */
export type SecretKind =
  /** 32 letters and digits: safe inside URLs and config files without escaping. */
  | "password"
  /** 32 random bytes, URL-safe base64: a Fernet key. */
  | "fernet"
  /** 20 upper-case letters: an Erlang cookie. */
  | "cookie"
  /** 40 hexadecimal digits: Heartbeat's sha1 key. */
  | "hex"
  /** A Ceph (cephx) key, as `ceph-authtool --gen-print-key` makes it: base64 of a 16-byte AES key with its header. */
  | "cephx";

/**
 * One secret of the catalog, declared by the component that uses it: `secrets init` generates
 * its value, and the hosts of its roles receive it.
 */
export interface SecretSpec {
  /**
   * The secret's name, such as `keystone_db_password`: Terraform's variable is `secret_<name>`,
   * the host's file is `<name>` in its secrets directory, and files refer to it as `{{secret:<name>}}`.
   */
  readonly name: string;
  /** How its value is generated, and so which characters it may hold. */
  readonly kind: SecretKind;
  /** Hosts with any of these roles receive the secret in their root-only secrets directory. */
  readonly roles: readonly Role[];
  /** What the secret is for, in a few words (`glance database user`); it starts the Terraform variable's description. */
  readonly description: string;
  /**
   * Delivered only to the hosts (of `roles`) whose steps use it, not to every host of a role:
   * for an optional component (Ceph), so that a cluster without it sends its keys nowhere.
   */
  readonly onUse?: boolean;
}

/** The controllers only. */
export const CONTROLLER_ONLY: readonly Role[] = ["controller"];
/** Every host. */
export const ALL_ROLES: readonly Role[] = ["controller", "compute", "storage", "network"];

/** A Keystone service user and the secret that holds its password. */
export interface ServiceUser {
  readonly name: string;
  readonly secret: string;
}

/**
 * The Keystone user of the service `name` and its secret, `<name>_keystone_password`: the one
 * place that spells the name; services hand the object to the services that authenticate as
 * them (Nova as Placement and Neutron, Neutron as Nova).
 */
export function keystoneUser(name: string): ServiceUser {
  return { name, secret: `${name}_keystone_password` };
}

/** The secret of the database user of the service `name`, `<name>_db_password`. */
export function databaseSecret(name: string): string {
  return `${name}_db_password`;
}

/**
 * An OpenStack service's two secrets: its database user's password, on the hosts with `dbRoles`
 * (the controllers, unless a part elsewhere reads the database too), and its Keystone user's
 * password, on the hosts with `userRoles` (those that run a part of it).
 */
export function serviceSecrets(
  name: string,
  userRoles: readonly Role[],
  dbRoles: readonly Role[] = CONTROLLER_ONLY,
): SecretSpec[] {
  return [
    {
      name: databaseSecret(name),
      kind: "password",
      roles: dbRoles,
      description: `${name} database user`,
    },
    {
      name: keystoneUser(name).secret,
      kind: "password",
      roles: userRoles,
      description: `${name} Keystone service user`,
    },
  ];
}
