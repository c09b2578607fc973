/**
 * MariaDB on the controllers: where it listens, that replication runs both ways with the
 * settings that make two-way replication safe, and that a row written through the VIP (as a
 * client on another host would) can be read on every controller.
 */
import { randomBytes } from "crypto";
import { HostPlan } from "../plan";
import {
  bashCommand,
  clientHost,
  controllers,
  ensureHostPackages,
  holdersOf,
  listeners,
  mysqlHostPattern,
  remote,
  serviceAddress,
} from "./platform";
import { Check, CheckContext, CheckResult, perHost, skip } from "./types";
import { sleep } from "../exec";

export const CHECK_DB = "osc_check";
export const CHECK_USER = "osc_check";

/** Runs SQL as root through the unix socket on a controller; returns rows as tab-separated lines. */
export async function sql(ctx: CheckContext, host: HostPlan, statements: string, timeoutMs = 60_000) {
  const out = await remote(ctx, host, "mysql -NB", { input: statements, timeoutMs });
  return out.split("\n").filter((l) => l !== "");
}

/** `SHOW SLAVE STATUS` as key → value (`mysql -E` output), empty when no replication is set up. */
export function parseVertical(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Za-z_]+): ?(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].trim();
  }
  return out;
}

export async function slaveStatus(ctx: CheckContext, host: HostPlan): Promise<Record<string, string>> {
  return parseVertical(await remote(ctx, host, "mysql -E -e 'SHOW SLAVE STATUS'"));
}

/**
 * Creates (or re-keys) the check's own database, tables and user on a controller as root via
 * the socket; replication carries them to the peer. The user may connect from the management
 * network only, like the library's users. Returns the fresh password (never printed).
 */
export async function prepareCheckDatabase(
  ctx: CheckContext,
  on: HostPlan,
  user = CHECK_USER,
): Promise<string> {
  const password = randomBytes(18).toString("base64url");
  const account = `'${user}'@'${mysqlHostPattern(ctx.inventory.management.cidr)}'`;
  await sql(
    ctx,
    on,
    `CREATE DATABASE IF NOT EXISTS ${CHECK_DB};
CREATE TABLE IF NOT EXISTS ${CHECK_DB}.probe (
  id BIGINT AUTO_INCREMENT PRIMARY KEY, tag VARCHAR(64) NOT NULL, served_by VARCHAR(64) NOT NULL,
  at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), KEY (tag)) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS ${CHECK_DB}.failover (
  id BIGINT AUTO_INCREMENT PRIMARY KEY, run VARCHAR(32) NOT NULL, seq INT NOT NULL,
  served_by VARCHAR(64) NOT NULL, at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY (run, seq)) ENGINE=InnoDB;
CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY '${password}';
ALTER USER ${account} IDENTIFIED BY '${password}';
GRANT ALL PRIVILEGES ON ${CHECK_DB}.* TO ${account};
`,
  );
  return password;
}

/**
 * Prefix of a remote script that reads a check user's password from its first stdin line
 * into a 0600 option file (removed on exit), for `mysql --defaults-extra-file="$cnf"`.
 */
export function readPassword(user: string): string {
  return `IFS= read -r pw
cnf=$(mktemp)
trap 'rm -f "$cnf"' EXIT
printf '[client]\\nuser=${user}\\npassword=%s\\nconnect-timeout=2\\n' "$pw" >"$cnf"
unset pw
`;
}

/** The controller to run setup SQL on: the one holding the client address, else the first. */
export function primaryController(ctx: CheckContext): HostPlan {
  const address = serviceAddress(ctx);
  return (address ? holdersOf(ctx, address)[0] : undefined) ?? controllers(ctx)[0];
}

async function mysqlListening(host: HostPlan, ctx: CheckContext) {
  const active = (await ctx.ssh(host, "systemctl is-active mariadb")).stdout.trim();
  if (active !== "active") return { ok: false, detail: `mariadb is ${active || "not installed"}` };
  const want = [
    `tcp ${host.address}`,
    ...(ctx.inventory.management.vip ? [`tcp ${ctx.inventory.management.vip}`] : []),
  ];
  const got = await listeners(ctx, host, 3306);
  const extra = got.filter((l) => !want.includes(l));
  const missing = want.filter((w) => !got.includes(w));
  const open = await sql(ctx, host, "SELECT CONCAT(user, '@', host) FROM mysql.user WHERE host IN ('%', '')");
  const problems = [
    ...missing.map((m) => `not listening on ${m}`),
    ...extra.map((e) => `also listening on ${e}`),
    ...open.map((a) => `account ${a} may connect from anywhere`),
  ];
  return {
    ok: problems.length === 0,
    detail: problems.length
      ? problems.join("; ")
      : `3306 on ${want.map((w) => w.split(" ")[1]).join(", ")} only`,
  };
}

export const mysqlService: Check = perHost("mysql-listen", mysqlListening, (h) =>
  h.roles.includes("controller"),
);

/** Both controllers replicate from each other, with settings that keep two writers apart. */
export const mysqlReplication: Check = {
  name: "mysql-replication",
  async run(ctx) {
    const c = controllers(ctx);
    if (c.length !== 2)
      return [skip("mysql-replication", c[0]?.name ?? "-", `${c.length} controller(s): no pair`)];
    const vars = await Promise.all(
      c.map(async (h) => {
        const [row] = await sql(
          ctx,
          h,
          "SELECT @@server_id, @@gtid_domain_id, @@log_bin, @@log_slave_updates, @@auto_increment_increment, @@auto_increment_offset, @@binlog_format",
        );
        const [serverId, domain, logBin, slaveUpdates, incr, offset, format] = row.split("\t");
        return { serverId, domain, logBin, slaveUpdates, incr, offset, format };
      }),
    );
    return Promise.all(
      c.map(async (host, i): Promise<CheckResult> => {
        const peer = c[1 - i];
        try {
          const s = await slaveStatus(ctx, host);
          const v = vars[i];
          const p = vars[1 - i];
          const problems: string[] = [];
          if (s.Master_Host !== peer.address)
            problems.push(`master is ${s.Master_Host || "none"}, expected ${peer.address}`);
          if (s.Slave_IO_Running !== "Yes")
            problems.push(`IO thread ${s.Slave_IO_Running ?? "absent"} (${s.Last_IO_Error})`);
          if (s.Slave_SQL_Running !== "Yes")
            problems.push(`SQL thread ${s.Slave_SQL_Running ?? "absent"} (${s.Last_SQL_Error})`);
          if (s.Using_Gtid !== "Slave_Pos") problems.push(`Using_Gtid ${s.Using_Gtid}`);
          if (v.serverId === p.serverId) problems.push(`same server_id ${v.serverId} as ${peer.name}`);
          if (v.domain === p.domain) problems.push(`same gtid_domain_id ${v.domain} as ${peer.name}`);
          if (v.logBin !== "1" || v.slaveUpdates !== "1") problems.push("log_bin/log_slave_updates off");
          if (v.incr !== "2" || v.offset === p.offset)
            problems.push(`auto_increment ${v.incr}/${v.offset} vs ${p.incr}/${p.offset}`);
          const repl = await sql(ctx, host, "SELECT host FROM mysql.user WHERE user = 'replicator'");
          if (repl.length !== 1 || repl[0] !== peer.address)
            problems.push(`replication account hosts ${JSON.stringify(repl)}, expected only ${peer.address}`);
          return {
            check: "mysql-replication",
            host: host.name,
            ok: problems.length === 0,
            detail: problems.length
              ? problems.join("; ")
              : `from ${peer.name}: IO/SQL Yes, GTID slave_pos, ${s.Seconds_Behind_Master} s behind; server_id ${v.serverId}, domain ${v.domain}, auto_increment ${v.offset}/${v.incr}, ${v.format}`,
          };
        } catch (err) {
          return { check: "mysql-replication", host: host.name, ok: false, detail: (err as Error).message };
        }
      }),
    );
  },
};

/**
 * A row written through the client address (the VIP) by the check's own user from another
 * host shows up on every controller.
 */
export const mysqlWriteThroughVip: Check = {
  name: "mysql-vip-write",
  async run(ctx) {
    const c = controllers(ctx);
    const address = serviceAddress(ctx);
    if (!address || c.length === 0) return [skip("mysql-vip-write", "-", "no controller in the inventory")];
    const client = clientHost(ctx);
    const writer = `write from ${client.name} via ${address}`;
    let servedBy: string;
    const tag = `verify-${randomBytes(6).toString("hex")}`;
    try {
      const password = await prepareCheckDatabase(ctx, primaryController(ctx));
      await ensureHostPackages(ctx, client, ["mariadb-client"]);
      // Wait until the user has reached every controller (the VIP may be on either).
      for (const h of c)
        await waitForRows(ctx, h, `SELECT COUNT(*) FROM mysql.user WHERE user = '${CHECK_USER}'`, 1);
      const script = `${readPassword(CHECK_USER)}
mysql --defaults-extra-file="$cnf" -h "$1" -NB -e "INSERT INTO probe (tag, served_by) VALUES ('$2', @@hostname); SELECT @@hostname" ${CHECK_DB}`;
      servedBy = (
        await remote(ctx, client, bashCommand(script, address, tag), { input: `${password}\n` })
      ).trim();
    } catch (err) {
      return [
        {
          check: "mysql-vip-write",
          host: client.name,
          ok: false,
          detail: `${writer}: ${(err as Error).message}`,
        },
      ];
    }
    return Promise.all(
      c.map(async (host): Promise<CheckResult> => {
        try {
          const polls = await waitForRows(
            ctx,
            host,
            `SELECT COUNT(*) FROM ${CHECK_DB}.probe WHERE tag = '${tag}'`,
            1,
          );
          return {
            check: "mysql-vip-write",
            host: host.name,
            ok: true,
            detail: `row ${tag} (${writer}, served by ${servedBy}) readable here ${polls === 1 ? "at the first look" : `after ${polls} looks`}`,
          };
        } catch (err) {
          return {
            check: "mysql-vip-write",
            host: host.name,
            ok: false,
            detail: `${writer}: ${(err as Error).message}`,
          };
        }
      }),
    );
  },
};

/** Polls a `SELECT COUNT(*)` on a controller until it reaches `want`; returns how many looks it took. */
export async function waitForRows(
  ctx: CheckContext,
  host: HostPlan,
  countQuery: string,
  want: number,
  timeoutMs = 20_000,
): Promise<number> {
  const start = Date.now();
  let got = -1;
  for (let looks = 1; Date.now() - start < timeoutMs; looks++) {
    got = Number((await sql(ctx, host, countQuery))[0]);
    if (got >= want) return looks;
    await sleep(250);
  }
  throw new Error(`${host.name}: \`${countQuery}\` = ${got}, expected ${want}, after ${timeoutMs / 1000} s`);
}

export const mysqlChecks: readonly Check[] = [mysqlService, mysqlReplication, mysqlWriteThroughVip];
