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
  | "hex";

export interface SecretSpec {
  readonly name: string;
  readonly kind: SecretKind;
  /** Hosts with any of these roles receive the secret in their root-only secrets directory. */
  readonly roles: readonly Role[];
  readonly description: string;
}

const CONTROLLER: readonly Role[] = ["controller"];
const ALL: readonly Role[] = ["controller", "compute", "storage", "network"];

const service = (name: string, roles: readonly Role[]): SecretSpec[] => [
  { name: `${name}_db_password`, kind: "password", roles: CONTROLLER, description: `${name} database user` },
  {
    name: `${name}_keystone_password`,
    kind: "password",
    roles,
    description: `${name} Keystone service user`,
  },
];

/**
 * MariaDB's root authenticates through the unix socket only (Debian's default), so it has no
 * password; the RabbitMQ brokers are not clustered (see lib/platform/rabbitmq.ts), so there is
 * no Erlang cookie to share.
 *
 * Every secret a cluster uses, like kolla-ansible's passwords.yml. `secrets init` generates
 * all of them; each host receives only those its roles need.
 */
export const SECRET_CATALOG: readonly SecretSpec[] = [
  {
    name: "mysql_replication_password",
    kind: "password",
    roles: CONTROLLER,
    description: "MariaDB replication user",
  },
  {
    name: "heartbeat_auth_key",
    kind: "hex",
    roles: CONTROLLER,
    description: "Heartbeat authkeys sha1 secret",
  },
  { name: "rabbitmq_password", kind: "password", roles: ALL, description: "RabbitMQ openstack user" },
  {
    name: "keystone_admin_password",
    kind: "password",
    roles: CONTROLLER,
    description: "Keystone admin user",
  },
  {
    name: "keystone_db_password",
    kind: "password",
    roles: CONTROLLER,
    description: "keystone database user",
  },
  { name: "keystone_fernet_key_0", kind: "fernet", roles: CONTROLLER, description: "Fernet staged key" },
  { name: "keystone_fernet_key_1", kind: "fernet", roles: CONTROLLER, description: "Fernet primary key" },
  {
    name: "keystone_credential_key_0",
    kind: "fernet",
    roles: CONTROLLER,
    description: "credential staged key",
  },
  {
    name: "keystone_credential_key_1",
    kind: "fernet",
    roles: CONTROLLER,
    description: "credential primary key",
  },
  ...service("glance", CONTROLLER),
  ...service("placement", ["controller", "compute"]),
  ...service("nova", ["controller", "compute"]),
  ...service("neutron", ALL),
  ...service("cinder", ["controller", "storage"]),
  {
    name: "metadata_proxy_secret",
    kind: "password",
    roles: ["controller", "network"],
    description: "Nova metadata proxy",
  },
  { name: "horizon_secret_key", kind: "password", roles: CONTROLLER, description: "Django SECRET_KEY" },
];

/** The catalog entry for a name; throws when the name is unknown. */
export function secretSpec(name: string): SecretSpec {
  const spec = SECRET_CATALOG.find((s) => s.name === name);
  if (!spec) throw new Error(`secret: got ${JSON.stringify(name)}: expected a name from SECRET_CATALOG`);
  return spec;
}
