/**
 * The hosts' own logs (/var/log: the OpenStack services', MariaDB's, RabbitMQ's, apt's), kept on
 * the lab machine when an end-to-end run fails, before `down` removes the hosts: a failure seen
 * once in CI can then be explained from what the services wrote, not only from the checks'
 * one-line verdicts. Read from each host's overlay disk on the machine, so a host that no
 * longer answers SSH is saved too.
 */
import * as fs from "fs";
import * as path from "path";
import { HOSTS_DIR, LOG_DIR, logName } from "./config";
import { tryRun } from "./exec";

/**
 * Saves /var/log of every lab host as `<LOG_DIR>/<cluster>-hostlogs-<stamp>/<host>.tar.gz`
 * (root only: a service's log may hold what the host holds). Returns the directory, or
 * undefined when there is no host; a host whose archive fails is named in `problems`.
 */
export function saveHostLogs(
  cluster: string,
  where: { hostsDir?: string; logDir?: string; now?: Date } = {},
): { dir?: string; problems: string[] } {
  const hostsDir = where.hostsDir ?? HOSTS_DIR;
  const hosts = fs.existsSync(hostsDir)
    ? fs.readdirSync(hostsDir).filter((h) => fs.existsSync(path.join(hostsDir, h, "upper", "var", "log")))
    : [];
  if (hosts.length === 0) return { problems: [] };
  const dir = path.join(where.logDir ?? LOG_DIR, logName(cluster, "hostlogs", where.now));
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const problems: string[] = [];
  for (const host of hosts.sort()) {
    const upper = path.join(hostsDir, host, "upper");
    const r = tryRun("tar", ["-czf", path.join(dir, `${host}.tar.gz`), "-C", upper, "var/log"]);
    // tar exits 1 when a file changed while it was read (a running service's log): still useful.
    if (r.code !== 0 && r.code !== 1) problems.push(`${host}: tar exit ${r.code}: ${r.stderr.trim()}`);
  }
  return { dir, problems };
}
