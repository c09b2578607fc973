import { declareSecrets } from "../core/secret-catalog";
import { Construct } from "constructs";
import { ComponentDeclaration } from "../core/component";
import { IniFile, secretPlaceholder } from "../core/ini-file";
import {
  hostNetworkProblem,
  inIPv4Network,
  ipv4AddressProblem,
  managementNetworkProblem,
  networkEdgeProblem,
  quote,
} from "../core/field-rules";
import { CONTROLLER_ONLY, SecretSpec } from "../core/secret-spec";
import { DATABASE_NAME } from "../core/shell-script";
import { ByRelease, forRelease } from "../core/releases/packages";
import { Step } from "../core/step";
import { Endpoint } from "../core/endpoint";
import { Host } from "../hosts/host";
import { ClientAddress } from "./client-address";
import { DatabaseHandle, IDatabase, IVirtualAddress } from "./interfaces";

export type { DatabaseHandle } from "./interfaces";

/** Configures `MysqlHaPair`: its controllers, the address clients use, and MariaDB's limits. */
export interface MysqlHaPairProps {
  /** One controller (no replication, clients use its address) or two (replication both ways). */
  readonly controllers: readonly Host[];
  /**
   * The address clients use: the Heartbeat VIP with two controllers.
   * @default the `vip`'s address, else the first controller's
   */
  readonly clientAddress?: string;
  /**
   * What brings `clientAddress` up when it is a virtual address (a `Heartbeat`): MariaDB binds
   * to it after its step on each controller. Required for an address no controller has.
   * @default none
   */
  readonly vip?: IVirtualAddress;
  /**
   * The cluster's client address, built once (`ClientAddress`); replaces `clientAddress` and `vip`.
   * @default from `clientAddress` and `vip`
   */
  readonly client?: ClientAddress;
  /** The management network (CIDR); database users may connect only from there. */
  readonly managementCidr: string;
  /** @default 4096 (install guide value; every OpenStack worker holds a pool) */
  readonly maxConnections?: number;
  /** @default "256M" */
  readonly innodbBufferPoolSize?: string;
  /** @default "64M" */
  readonly maxAllowedPacket?: string;
}

/** MariaDB's secrets, for the secret catalog. */
export const MYSQL_SECRETS: readonly SecretSpec[] = [
  {
    name: "mysql_replication_password",
    kind: "password",
    roles: CONTROLLER_ONLY,
    description: "MariaDB replication user",
  },
];

/** What mysql declares for the secret catalog (lib/cluster/components.ts). */
export const MYSQL_COMPONENT: ComponentDeclaration = {
  name: "mysql",
  secrets: MYSQL_SECRETS,
};

/** What differs in the releases' MariaDB: settings for `[mysqld]` beyond everyone's. */
interface MariadbRelease {
  readonly mysqld?: Readonly<Record<string, string>>;
}

/** Debian 12 and Ubuntu 24.04 ship MariaDB 10.11, Debian 13 11.8. */
const MARIADB_RELEASES: ByRelease<MariadbRelease> = {
  "debian-12-zed": {},
  "debian-13-epoxy": {
    mysqld: {
      // On by default from MariaDB 11.6.2 (off in 10.11): under it a locking read of a row another
      // transaction changed since the reader's snapshot fails with error 1020 and rolls the whole
      // transaction back, which OpenStack's services do not expect under REPEATABLE READ (in the
      // lab's Tempest, Nova's instance_info_caches: "Record has changed since last read", then
      // "SAVEPOINT ... does not exist" and a server in ERROR; nova bug 2116186). OFF is what
      // every earlier MariaDB did.
      innodb_snapshot_isolation: "OFF",
    },
  },
  "ubuntu-2404-caracal": {},
};

const REPLICATION_USER = "replicator";
const SQL_DIR = "/etc/openstack-cdktf/sql";

/**
 * MariaDB on the controllers. With two, each replicates the other's binary log (GTID,
 * `log_slave_updates`, distinct server and domain ids, interleaved auto-increment), so both
 * always hold the same data and either can take writes; Heartbeat's VIP decides which one
 * does. Nothing has to be promoted on failover, which is why Heartbeat suffices here.
 */
export class MysqlHaPair extends Construct implements IDatabase {
  /** The steps that install and configure MariaDB, one per controller. */
  readonly serverSteps: readonly Step[];
  /** Where clients connect. */
  readonly endpoint: Endpoint;
  readonly port = 3306;
  private readonly props: MysqlHaPairProps & { readonly client: ClientAddress };
  private readonly databases = new Map<string, DatabaseHandle>();

  constructor(scope: Construct, id: string, props: MysqlHaPairProps) {
    // Its secrets join the stack's catalog (a stack of one's own has no other), before its steps use them.
    declareSecrets(scope, MYSQL_SECRETS);
    super(scope, id);
    if (props.controllers.length < 1 || props.controllers.length > 2) {
      throw new Error(
        `MysqlHaPair controllers: got ${props.controllers.length}: expected 1 (single) or 2 (replicated pair)`,
      );
    }
    // The grants admit the management network: a /32 or an IPv6 network would admit one host or all.
    const network = managementNetworkProblem("MysqlHaPair", props.managementCidr, props.controllers);
    if (network) throw new Error(network);
    const clientProblem = clientAddressProblem(props);
    if (clientProblem) throw new Error(clientProblem);
    const client =
      props.client ?? ClientAddress.resolve("MysqlHaPair", props.controllers, props.clientAddress, props.vip);
    this.props = { ...props, client };
    this.endpoint = client.endpoint;
    this.serverSteps = props.controllers.map((host, index) => this.serverStep(host, index));
  }

  /** The client address, bracketed for URLs when it is IPv6. */
  get urlHost(): string {
    return this.endpoint.urlHost;
  }

  /**
   * Creates (once) a schema and a user with rights on that schema only, allowed from the
   * management network, with the password from `secretName`. Runs on the first controller;
   * replication carries it to the second.
   */
  database(name: string, user: string, secretName: string): DatabaseHandle {
    if (!DATABASE_NAME.test(name) || !/^[a-z][a-z0-9_]{0,31}$/.test(user)) {
      throw new Error(`MysqlHaPair.database: got ${quote({ name, user })}: expected lowercase identifiers`);
    }
    const existing = this.databases.get(name);
    if (existing) return existing;
    const host = this.props.controllers[0];
    const account = `'${user}'@'${userHostPattern(this.props.managementCidr)}'`;
    const password = secretPlaceholder(secretName);
    const sql = [
      `CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8 COLLATE utf8_general_ci;`,
      `CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY '${password}';`,
      `ALTER USER ${account} IDENTIFIED BY '${password}';`,
      `GRANT ALL PRIVILEGES ON \`${name}\`.* TO ${account};`,
      "",
    ].join("\n");
    const file = `${SQL_DIR}/db_${name}.sql`;
    const script = host
      .script(`db_${name}`)
      .comment(`Database ${name} and its user ${user}, reachable only from ${this.props.managementCidr}.`)
      .writeFile(file, sql, { mode: "0600", secrets: true, changeTag: "sql" })
      .raw(
        `if osc_changed sql || [ -z "$(mysql -NBe "SHOW DATABASES LIKE '${name}'")" ]; then mysql < ${file}; fi`,
      );
    const step = host.addStep(`db_${name}`, script, {
      owner: this,
      secrets: [secretName],
      // The peer's server step too: its replication must be set up before data arrives.
      dependsOn: this.serverSteps.filter((_, i) => this.props.controllers[i] !== host),
    });
    const handle = {
      url: `mysql+pymysql://${user}:${password}@${this.urlHost}/${name}?charset=utf8`,
      step,
    };
    this.databases.set(name, handle);
    return handle;
  }

  private serverStep(host: Host, index: number): Step {
    const p = this.props;
    const release = host.release;
    const peer = p.controllers.length === 2 ? p.controllers[1 - index] : undefined;
    const id = index + 1;
    const address = p.client.address;
    const bind = [host.address, ...(address !== host.address ? [address] : [])];
    const config = new IniFile({
      mysqld: {
        "bind-address": bind.join(","),
        "default-storage-engine": "innodb",
        innodb_file_per_table: "on",
        innodb_buffer_pool_size: p.innodbBufferPoolSize ?? "256M",
        innodb_flush_log_at_trx_commit: 1,
        max_connections: p.maxConnections ?? 4096,
        max_allowed_packet: p.maxAllowedPacket ?? "64M",
        "collation-server": "utf8_general_ci",
        "character-set-server": "utf8",
        "skip-name-resolve": "on",
        // Replication: every node logs (also what it replays) and can serve as the other's master.
        server_id: id,
        gtid_domain_id: id,
        log_bin: "mysql-bin",
        log_slave_updates: "on",
        binlog_format: "ROW",
        sync_binlog: 1,
        binlog_expire_logs_seconds: 7 * 24 * 3600,
        // Both sides may take writes (briefly, around a failover): never hand out the same key.
        auto_increment_increment: p.controllers.length,
        auto_increment_offset: id,
        ...forRelease("mysql", MARIADB_RELEASES, release).mysqld,
      },
    });
    const script = host
      .script("mysql")
      .aptInstall(release.packages.database)
      .run("install", "-d", "-o", "mysql", "-g", "adm", "-m", "2750", "/var/log/mysql")
      .writeFile(`${release.paths.mysqlConfDir}/99-openstack.cnf`, config.render(), { changeTag: "mysql" })
      .restartIfChanged([release.units.database], "mysql")
      .listen(release.units.database, bind, this.port)
      .waitForPort(host.address, this.port, 120);
    if (peer) {
      const pw = secretPlaceholder("mysql_replication_password");
      // sql_log_bin=0: each side creates its own replication user; replicating it would collide.
      const replication = [
        "SET SESSION sql_log_bin = 0;",
        `CREATE USER IF NOT EXISTS '${REPLICATION_USER}'@'${peer.address}' IDENTIFIED BY '${pw}';`,
        `ALTER USER '${REPLICATION_USER}'@'${peer.address}' IDENTIFIED BY '${pw}';`,
        `GRANT REPLICATION SLAVE ON *.* TO '${REPLICATION_USER}'@'${peer.address}';`,
        "",
      ].join("\n");
      const source = [
        "STOP SLAVE;",
        `CHANGE MASTER TO MASTER_HOST='${peer.address}', MASTER_PORT=${this.port}, MASTER_USER='${REPLICATION_USER}',`,
        `  MASTER_PASSWORD='${pw}', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=5;`,
        "START SLAVE;",
        "",
      ].join("\n");
      script
        .comment(`Replication from ${peer.hostName}; the peer's user for it.`)
        .writeFile(`${SQL_DIR}/replication_user.sql`, replication, {
          mode: "0600",
          secrets: true,
          changeTag: "repl_user",
        })
        .ifChanged("repl_user", `mysql < ${SQL_DIR}/replication_user.sql`)
        .writeFile(`${SQL_DIR}/replication_source.sql`, source, {
          mode: "0600",
          secrets: true,
          changeTag: "repl_source",
        })
        .raw(
          `if osc_changed repl_source || ! mysql -NBe 'SHOW SLAVE STATUS' | grep -q .; then mysql < ${SQL_DIR}/replication_source.sql; fi`,
        );
    }
    return host.addStep("mysql", script, {
      owner: this,
      after: p.client.readyFor(host),
      secrets: peer ? ["mysql_replication_password"] : [],
    });
  }
}

/**
 * MariaDB's host pattern for a network: `10.0.0.0/255.255.255.0`. IPv6 has none (only `%`, every
 * host), so it is refused rather than opened to all.
 */
export function userHostPattern(cidr: string): string {
  const problem = hostNetworkProblem(cidr);
  if (problem) throw new Error(`userHostPattern: got ${quote(cidr)}: expected ${problem}`);
  const [address, bits] = cidr.split("/");
  const prefix = Number(bits);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const octets = [24, 16, 8, 0].map((shift) => (mask >>> shift) & 255);
  return `${address}/${octets.join(".")}`;
}

/**
 * Where clients reach the database must be a host of the management network its grants admit:
 * an IPv4 address inside `managementCidr`, neither its network nor its broadcast address.
 */
function clientAddressProblem(props: MysqlHaPairProps): string | undefined {
  const address = props.clientAddress ?? props.client?.address ?? props.vip?.address;
  if (address === undefined) return undefined;
  const problem =
    ipv4AddressProblem(address) ??
    (inIPv4Network(address, props.managementCidr)
      ? networkEdgeProblem(address, props.managementCidr, "management")
      : `an address inside managementCidr ${props.managementCidr}`);
  return problem && `MysqlHaPair clientAddress: got ${quote(address)}: expected ${problem}`;
}
