import { join as shellQuote } from "shlex";
import { Construct } from "constructs";
import {
  HOST_OR_IPV4_EXPECTED,
  OWN_HOSTS_LINES,
  hostNameProblem,
  ipv4AddressProblem,
  isHostOrIPv4,
  proxyUrlProblem,
  quote,
} from "../core/field-rules";
import { ReleaseProfile } from "../core/releases";
import { ShellScript } from "../core/shell-script";
import { sha256Hex, Step } from "../core/step";
import { StepScripts } from "../core/step-scripts";
import { Host, uploadDir } from "./host";

/** NTP's port: where a time server's chronyd listens (`bindaddress`). */
const NTP_PORT = 123;

/** A name and address that every host's /etc/hosts lists: a cluster member, or the VIP. */
export interface ClusterMember {
  /** The host name, as /etc/hosts gives it. */
  readonly name: string;
  /** Its IPv4 address. */
  readonly address: string;
}

/** Configures `BaseSystem`: the /etc/hosts entries, the apt proxy and time sync of a host. */
export interface BaseSystemProps {
  /** Every member of the cluster, this host included; each gets a line in /etc/hosts (step `hosts_file`). */
  readonly members: readonly ClusterMember[];
  /** The controllers' virtual IP and its name (e.g. `controller`). @default none */
  readonly vip?: ClusterMember;
  /** An http(s) URL that apt goes through (a caching proxy or local mirror). @default direct */
  readonly aptProxy?: string;
  /**
   * Servers this host takes its time from. For controllers: upstream servers (empty: serve the
   * local clock); for the other hosts: the controllers.
   */
  readonly timeServers: readonly string[];
  /** Networks (CIDR) this host serves time to, on its management address; set on controllers. @default none */
  readonly serveTimeTo?: readonly string[];
}

/**
 * What every host gets before any service: an /etc/hosts listing every cluster member (step
 * `hosts_file`), then its apt proxy and the release's package repository, its hostname, and
 * time sync (step `base`).
 */
export class BaseSystem extends Construct {
  /** apt, the hostname and time sync; after `hostsFileStep`. */
  readonly step: Step;
  /**
   * /etc/hosts with every member and the VIP, in a step of its own: a member added to (or
   * removed from) the cluster changes this file on every host, and re-runs only this small step
   * there, not `step`'s package installs and restarts. It comes first, so that the names
   * resolve for everything after it (chrony follows the controllers by name).
   */
  readonly hostsFileStep: Step;

  constructor(host: Host, id: string, props: BaseSystemProps) {
    super(host, id);
    const proxyProblem = props.aptProxy === undefined ? undefined : proxyUrlProblem(props.aptProxy);
    if (proxyProblem) {
      throw new Error(`BaseSystem aptProxy: got ${quote(props.aptProxy)}: expected ${proxyProblem}`);
    }
    // Each is a word of its own `server` line in chrony.conf.
    const badServer = props.timeServers.find((s) => !isHostOrIPv4(s));
    if (badServer !== undefined) {
      throw new Error(`BaseSystem timeServers: got ${quote(badServer)}: expected ${HOST_OR_IPV4_EXPECTED}`);
    }
    checkMembers(props.members, props.vip);
    const release = host.release;
    this.hostsFileStep = hostsFileStep(this, host, props.members, props.vip);

    const script = host.script("base");

    script.comment("apt: proxy (or mirror) named by the inventory, and the release's repositories.");
    const proxyFile = "/etc/apt/apt.conf.d/01openstack-cdktf-proxy";
    if (props.aptProxy) {
      script.writeFile(proxyFile, `Acquire::http::Proxy "${props.aptProxy}";\n`, { changeTag: "apt" });
    } else {
      script.raw(`if [ -e ${proxyFile} ]; then rm -f ${proxyFile}; fi`);
    }
    if (release.aptSources.length > 0) {
      script.writeFile("/etc/apt/sources.list.d/openstack-cdktf.list", release.aptSources.join("\n"), {
        changeTag: "apt",
      });
    }
    script.ifChanged("apt", "osc_apt_lists_changed");

    script.comment("hostname (/etc/hosts is the hosts_file step's)");
    script.writeFile("/etc/hostname", `${host.hostName}\n`, { changeTag: "hostname" });
    script.raw(`if [ "$(hostname)" != ${host.hostName} ]; then hostname ${host.hostName}; fi`);

    script.comment("time sync: chrony");
    script.aptInstall([...release.packages.base, ...release.packages.timeSync]);
    const serveTo = props.serveTimeTo ?? [];
    script.writeFile(release.paths.chronyConf, renderChrony(props.timeServers, serveTo, host.address), {
      changeTag: "chrony",
    });
    script.restartIfChanged([release.units.timeSync], "chrony");
    // A time server's NTP (renderChrony's bindaddress); a client listens for none.
    if (serveTo.length > 0) script.listen(release.units.timeSync, host.address, NTP_PORT, "udp");

    this.step = host.addStep("base", script, { owner: this });
  }
}

/** The member lists (and VIPs) already checked. */
const checkedMembers = new WeakMap<readonly ClusterMember[], Set<string>>();

/**
 * Each member and the VIP is a line of /etc/hosts: a name the rule for hosts' names allows, none
 * taken twice (a second line for a name is never read), at an IPv4 address.
 */
function checkMembers(members: readonly ClusterMember[], vip: ClusterMember | undefined): void {
  // Every host of a cluster gets the same list: checked once per list and VIP, not once per host.
  const key = vip ? `${vip.name} ${vip.address}` : "";
  const checked = checkedMembers.get(members) ?? new Set<string>();
  checkedMembers.set(members, checked);
  if (checked.has(key)) return;
  const named = new Map<string, string>();
  const entries: [string, ClusterMember][] = members.map((m, i) => [`members[${i}]`, m]);
  if (vip) entries.push(["vip", vip]);
  for (const [field, member] of entries) {
    const problem =
      hostNameProblem(member.name) ??
      (named.has(member.name) ? `a name not used before (${named.get(member.name)})` : undefined);
    if (problem) throw new Error(`BaseSystem ${field}.name: got ${quote(member.name)}: expected ${problem}`);
    named.set(member.name, field);
    const address = ipv4AddressProblem(member.address);
    if (address)
      throw new Error(`BaseSystem ${field}.address: got ${quote(member.address)}: expected ${address}`);
  }
  checked.add(key);
}

/** The file each cluster's members render to, and its hash: once per list (not once per host). */
const renderedHosts = new WeakMap<readonly ClusterMember[], Map<string, HostsFile>>();

interface HostsFile {
  readonly text: string;
  readonly sha256: string;
}

function hostsFile(members: readonly ClusterMember[], vip?: ClusterMember): HostsFile {
  let byVip = renderedHosts.get(members);
  if (!byVip) {
    byVip = new Map();
    renderedHosts.set(members, byVip);
  }
  const key = vip ? `${vip.address} ${vip.name}` : "";
  let file = byVip.get(key);
  if (file === undefined) {
    const text = renderHosts(members, vip);
    file = { text, sha256: sha256Hex(text) };
    byVip.set(key, file);
  }
  return file;
}

/** Where a host records the release it was built with (its first step writes it). */
export const RELEASE_RECORD = "/etc/openstack-cdktf/release";

/**
 * The first lines of a host's first step: the host must run the release's distribution, and a
 * host built with another release is refused (no upgrade path between releases exists: Zed's
 * services re-run with Epoxy's packages would migrate schemas no one backed up); the release is
 * recorded when none is. A host built before the record existed is judged by its distribution.
 * (`OSC_OS_RELEASE` and `OSC_RELEASE_RECORD` move the two files, for the unit tests.)
 */
export function releaseGuard(script: ShellScript, release: ReleaseProfile): ShellScript {
  const [name, codename] = [shellQuote([release.name]), shellQuote([release.codename])];
  return script
    .comment(
      `The release: ${release.name} on ${release.distribution} ${release.codename}, recorded in ${RELEASE_RECORD}.`,
    )
    .raw(`os_release=\${OSC_OS_RELEASE:-/etc/os-release}`)
    .raw(`record=\${OSC_RELEASE_RECORD:-${RELEASE_RECORD}}`)
    .raw(`codename=$(sed -n 's/^VERSION_CODENAME=//p' "$os_release")`)
    .raw(`if [ "$codename" != ${codename} ]; then`)
    .raw(
      `  echo "release: $OSC_HOST runs \${codename:-an unknown release}; release ${release.name} needs ${release.codename}" >&2`,
    )
    .raw("  exit 1")
    .raw("fi")
    .raw('if [ -f "$record" ]; then')
    .raw('  built=$(cat "$record")')
    .raw(`  if [ "$built" != ${name} ]; then`)
    .raw(
      `    echo "release: $OSC_HOST was built with $built, the inventory says ${release.name}: no upgrade path between releases exists; set release: $built" >&2`,
    )
    .raw("    exit 1")
    .raw("  fi")
    .raw("else")
    .raw('  install -d -m 0755 "$(dirname "$record")"')
    .raw(`  printf '%s\\n' ${name} >"$record"`)
    .raw("fi");
}

/**
 * /etc/hosts, every member and the VIP: the same file on every host, so it is written once
 * beside the scripts (`scripts/etc_hosts.txt`) and uploaded by each host's step before its
 * script runs; the script carries only its SHA-256, checks the upload against it and installs it
 * (nothing when /etc/hosts has that hash already). A host's script stays the same size however
 * many hosts the cluster has; a member added or removed changes the hash, and re-runs this small
 * step on every host, whose /etc/hosts does change (the cluster has no DNS: every host resolves
 * every member by name).
 */
function hostsFileStep(
  owner: Construct,
  host: Host,
  members: readonly ClusterMember[],
  vip?: ClusterMember,
): Step {
  const { text, sha256: hash } = hostsFile(members, vip);
  const source = StepScripts.of(host).addData("etc_hosts.txt", text);
  const dir = uploadDir(host.user);
  const upload = `${dir}/etc_hosts`;
  const script = releaseGuard(host.script("hosts_file"), host.release)
    .comment("/etc/hosts: every member of the cluster and the VIP, uploaded as scripts/etc_hosts.txt.")
    .raw(`hosts_sha256=${hash}`)
    .raw(`upload=${shellQuote([upload])}`)
    .raw('if [ -f "$upload" ] && [ "$(sha256sum <"$upload" | cut -d\' \' -f1)" = "$hosts_sha256" ]; then')
    .raw('  osc_install_file config /etc/hosts root root 0644 <"$upload"')
    .raw(`elif [ "$(sha256sum </etc/hosts | cut -d' ' -f1)" != "$hosts_sha256" ]; then`)
    .raw(
      `  echo "/etc/hosts on $OSC_HOST: not the file this step was made for (sha256 $hosts_sha256), and the upload $upload is missing or another file" >&2`,
    )
    .raw("  exit 1")
    .raw("fi")
    .run("rm", "-f", upload);
  return host.addStep("hosts_file", script, {
    owner,
    preProvisioners: [
      // As the SSH user: a private directory for the upload (as for the secrets).
      {
        type: "remote-exec",
        inline: [`umask 077 && mkdir -p ${shellQuote([dir])} && chmod 0700 ${shellQuote([dir])}`],
      },
      { type: "file", source, destination: upload },
    ],
  });
}

function renderHosts(members: readonly ClusterMember[], vip?: ClusterMember): string {
  const lines = [
    "# Written by openstack-cdktf: every member of the cluster.",
    ...OWN_HOSTS_LINES.map(([address, names]) => `${address} ${names.join(" ")}`),
    "",
  ];
  if (vip) lines.push(`${vip.address} ${vip.name}`);
  for (const member of members) lines.push(`${member.address} ${member.name}`);
  return `${lines.join("\n")}\n`;
}

function renderChrony(servers: readonly string[], serveTo: readonly string[], address: string): string {
  const lines = ["# Written by openstack-cdktf."];
  for (const server of servers) lines.push(`server ${server} iburst`);
  if (serveTo.length > 0) {
    // A time server for the cluster keeps serving its own clock when upstream is unreachable.
    lines.push("local stratum 10");
    for (const network of serveTo) lines.push(`allow ${network}`);
    // NTP on the management address only, where the cluster asks (chronyd's default: every address).
    lines.push(`bindaddress ${address}`);
  }
  lines.push("driftfile /var/lib/chrony/chrony.drift", "makestep 1 3", "rtcsync", "");
  return lines.join("\n");
}
