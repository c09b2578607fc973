/**
 * Helpers for the service tests: a synthesized cluster, a step's script, the files it writes,
 * its dependencies, and a control plane built from single constructs on hosts of one's own.
 */
import { spawnSync } from "child_process";
import { TerraformStack, Testing } from "cdktf";
import { parseInventory } from "../lib/cluster/inventory";
import { OpenStackCluster } from "../lib/cluster/openstack-cluster";
import { ReleaseProfile } from "../lib/core/releases";
import { Host } from "../lib/hosts/host";
import { IVirtualAddress } from "../lib/platform/interfaces";
import { Memcached } from "../lib/platform/memcached";
import { MysqlHaPair } from "../lib/platform/mysql-ha-pair";
import { RabbitMq } from "../lib/platform/rabbitmq";
import { ControlPlaneContext } from "../lib/services/control-plane-context";
import { KeystoneService } from "../lib/services/keystone";
import { LAB_SMALL_EXAMPLE, readYaml, StackJson } from "./support";

/** The small lab layout (two controllers behind 10.211.0.10), built and synthesized. */
export function labSmall(): { cluster: OpenStackCluster; json: StackJson } {
  const stack = new TerraformStack(Testing.app(), "t");
  const cluster = new OpenStackCluster(stack, "cluster", {
    inventory: parseInventory(readYaml(LAB_SMALL_EXAMPLE)),
  });
  return { cluster, json: JSON.parse(Testing.synth(stack)) as StackJson };
}

/** The rendered script of a step, by logical id. */
export function stepScript(cluster: OpenStackCluster, logicalId: string): string {
  const step = cluster.steps.find((s) => s.logicalId === logicalId);
  if (!step) throw new Error(`no step ${logicalId}`);
  return step.scriptText;
}

/** The `osc_install_file` line that writes `filePath` in a script. */
export function installLine(text: string, filePath: string): string {
  const line = text
    .split("\n")
    .find((l) => l.startsWith("osc_install_file ") && l.split(" ")[2] === filePath);
  if (!line) throw new Error(`${filePath} is not written`);
  return line;
}

/** The content written by `osc_install_file … PATH …` in a script. */
export function fileIn(text: string, filePath: string): string {
  const lines = text.split("\n");
  const start = lines.indexOf(installLine(text, filePath));
  const delimiter = /<<'(\w+)'/.exec(lines[start])?.[1] as string;
  const end = lines.indexOf(delimiter, start + 1);
  return lines.slice(start + 1, end).join("\n") + "\n";
}

/** The keys of one section of a rendered INI file. */
export function iniSection(text: string, section: string): Record<string, string> {
  const out: Record<string, string> = {};
  let current = "";
  for (const line of text.split("\n")) {
    const header = /^\[(.+)\]$/.exec(line);
    if (header) current = header[1];
    else if (current === section && line.includes(" = ")) {
      const [key, ...rest] = line.split(" = ");
      out[key] = rest.join(" = ");
    }
  }
  return out;
}

/** A step's `depends_on` in the synthesized JSON, as logical ids. */
export function dependsOn(json: StackJson, logicalId: string): string[] {
  const resource = json.resource.terraform_data[logicalId];
  if (!resource) throw new Error(`no resource ${logicalId}`);
  return (resource.depends_on ?? []).map((d) => d.replace(/^terraform_data\./, ""));
}

/** Lines with a password or key that is not a `{{secret:…}}` placeholder. */
export function plainSecrets(text: string): string[] {
  return text.split("\n").filter((line) => {
    const value = /^[^#]*(?:password|SECRET_KEY)["']?\s*[=:]\s*(.*)$/i.exec(line)?.[1];
    return value !== undefined && !/^["']?\{\{secret:[a-z0-9_]+\}\}["']?,?$/.test(value);
  });
}

/**
 * Two controllers with the platform and Keystone built from single constructs, as a platform
 * team would in its own stack.
 */
export function standaloneControlPlane(
  release: ReleaseProfile,
  options: { apiWorkers?: number } = {},
): { stack: TerraformStack; hosts: Host[]; context: ControlPlaneContext; keystone: KeystoneService } {
  const stack = new TerraformStack(Testing.app(), "own");
  const hosts = [1, 2].map(
    (n) => new Host(stack, `ctl${n}`, { name: `ctl${n}`, address: `10.9.0.${n}`, release }),
  );
  const clientAddress = "10.9.0.100";
  // A VIP managed outside this stack: nothing to wait for.
  const vip: IVirtualAddress = { address: clientAddress, readyFor: () => [] };
  const context: ControlPlaneContext = {
    controllers: hosts,
    clientAddress,
    managementCidr: "10.9.0.0/24",
    database: new MysqlHaPair(stack, "db", {
      controllers: hosts,
      clientAddress,
      vip,
      managementCidr: "10.9.0.0/24",
    }),
    messaging: new RabbitMq(stack, "mq", { controllers: hosts, clientAddress, vip }),
    cache: new Memcached(stack, "mc", { controllers: hosts }),
    apiWorkers: options.apiWorkers,
  };
  const keystone = new KeystoneService(stack, "keystone", { context });
  return { stack, hosts, context, keystone };
}

/** Runs Python on `source` and returns the named globals it defines, as JSON values. */
export function pythonGlobals(source: string, names: readonly string[]): Record<string, unknown> {
  const program = [
    "import json, sys",
    "g = {}",
    "exec(compile(sys.stdin.read(), 'settings.py', 'exec'), g)",
    `print(json.dumps({k: g[k] for k in ${JSON.stringify(names)} if k in g}))`,
  ].join("\n");
  const result = spawnSync("python3", ["-c", program], { input: source, encoding: "utf8" });
  if (result.error) throw new Error(`cannot run python3: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`python3 rejected the settings:\n${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}
