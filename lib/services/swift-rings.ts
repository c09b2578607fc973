/**
 * Swift's rings: built once, on the first controller (its proxy step: the ring builder, the one
 * step whose script lists every device), and fetched from there by every other Swift host (the
 * other controllers' proxy steps, every storage host's step), whose scripts carry only a hash.
 *
 * - Build (`build`): the builder commands' inputs are kept in /etc/swift/rings.spec. A later run
 *   with other inputs (a storage host added or removed, its address or device changed, another
 *   partition power) stops with an error instead of building other rings: a new ring moves
 *   partitions, and hosts with different rings lose track of objects.
 * - Export and serve (`serve`, on every controller once its rings are in place): rings.spec, the
 *   rings, the builders and their SHA256SUMS in one tar made byte for byte the same from the same
 *   files (so re-running changes nothing), served read-only by a systemd socket
 *   (`Accept=yes`, one `cat` of the tar per connection) on the controller's management address,
 *   port 6210, to the management network only. No HTTP server, no new package, no SSH trust
 *   between hosts (they have none), nothing a client sends is read.
 * - Fetch (`fetch`): the step carries the SHA-256 of rings.spec as the builder writes it for this
 *   inventory. A host whose rings.spec has that hash and whose rings match their SHA256SUMS does
 *   nothing; otherwise it reads the tar from the controllers in turn (retrying for a while),
 *   accepts it only when every file matches SHA256SUMS and rings.spec has the expected hash (a
 *   controller still serving older rings is refused, so a host never runs with a stale ring),
 *   installs the rings (marking a change only for bytes that differ) and rings.spec last.
 *   The hash is in the script, so new rings re-run every Swift host's step, and only then.
 *
 * A rebalance (a storage host added or removed: a later issue) would go: (1) on the first
 * controller, instead of refusing a spec whose devices differ (and only the devices: a changed
 * partition power or replica count stays refused), `swift-ring-builder X.builder add` or
 * `remove` the difference on the kept builders, `rebalance --seed` them (Swift's
 * `min_part_hours` keeps a partition from moving twice within the hour), install the new rings
 * and write the new rings.spec last, then export; (2) every other Swift host's step re-runs,
 * because the spec hash in its script changed, and fetches the new rings; the storage servers
 * reload them by themselves. Moving in steps (a weight at a time) would keep the spec in the
 * same form with weights. The builders travel in the tar so that another controller holds them
 * too, should the first be lost.
 */
import * as net from "net";
import { join as quote } from "shlex";
import { Endpoint } from "../core/endpoint";
import { ShellScript } from "../core/shell-script";
import { sha256Hex } from "../core/step";
import { quote as quoteValue } from "../core/field-rules";

export const SWIFT_DIR = "/etc/swift";
export const SWIFT_RINGS_SPEC = `${SWIFT_DIR}/rings.spec`;
/** The storage servers' ports (Swift's defaults since 2.x: 6200 object, 6201 container, 6202 account). */
export const SWIFT_STORAGE_PORTS = { account: 6202, container: 6201, object: 6200 } as const;
/** Any fixed number: the rebalance is then the same on every host. */
const REBALANCE_SEED = 1;
/** Swift's limit on moving a partition's replicas twice; only rebalances use it. */
const MIN_PART_HOURS = 1;
/** Where a controller serves its rings from: the export (a tar) and the port. */
export const SWIFT_RINGS_EXPORT = "/var/lib/openstack-cdktf-swift-rings/rings.tar";
export const SWIFT_RINGS_PORT = 6210;
const RING_KINDS = ["account", "container", "object"] as const;
const SERVE_UNIT = "openstack-cdktf-swift-rings";
/** How long a host waits for a controller to serve the expected rings. */
const FETCH_TIMEOUT_SECONDS = 600;

/**
 * A Swift device's name: its directory under /srv/node, an argument of swift-ring-builder, a
 * path in rsync's modules. Starts with a letter or digit (never `.` or `..`), no `/`.
 */
export const SWIFT_DEVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const SWIFT_DEVICE_EXPECTED =
  "a device name under /srv/node: letters, digits, '_', '.', '-', starting with a letter or digit, at most 64 characters";

/** One device in the rings. */
export interface SwiftRingDevice {
  /** The device's zone; `SwiftService` gives each storage host its own, from 1. */
  readonly zone: number;
  /** The storage host's management address, where its account, container and object servers listen. */
  readonly address: string;
  /** The device's name: the directory /srv/node/NAME (`SWIFT_DEVICE_NAME`). */
  readonly device: string;
}

/**
 * Swift's account, container and object rings for a fixed list of devices, as shell commands:
 * built once on the first controller (`build`), served by every controller (`serve`), fetched by
 * the other Swift hosts (`fetch`). `SwiftService` makes one from its `storage`.
 */
export class SwiftRings {
  /** Each replica on another host while there are hosts for it; at most Swift's usual 3. */
  readonly replicas: number;

  /**
   * Checks the devices and the partition power.
   * @param devices The devices, in a fixed order (the rings are built from this list); at least one.
   * @param partPower The rings' partition power, 6 to 22: 2^partPower partitions.
   */
  constructor(
    readonly devices: readonly SwiftRingDevice[],
    readonly partPower: number,
  ) {
    if (devices.length === 0) throw new Error("SwiftRings: devices: got none: expected at least one");
    if (!Number.isInteger(partPower) || partPower < 6 || partPower > 22) {
      throw new Error(`SwiftRings partPower: got ${quoteValue(partPower)}: expected an integer from 6 to 22`);
    }
    for (const d of devices) {
      if (!SWIFT_DEVICE_NAME.test(d.device) || net.isIP(d.address) === 0) {
        throw new Error(`SwiftRings device: got ${quoteValue(d)}: expected an IP address and a device name`);
      }
    }
    this.replicas = Math.min(3, devices.length);
  }

  /** The inputs in one line: what /etc/swift/rings.spec holds once the rings are built. */
  get spec(): string {
    const ports = Object.entries(SWIFT_STORAGE_PORTS)
      .map(([kind, port]) => `${kind}:${port}`)
      .join(",");
    const devices = this.devices.map((d) => `z${d.zone}/${d.address}/${d.device}`).join(",");
    return `part_power=${this.partPower} replicas=${this.replicas} min_part_hours=${MIN_PART_HOURS} seed=${REBALANCE_SEED} ports=${ports} devices=${devices}`;
  }

  /** The SHA-256 of rings.spec as `build` writes it: what the other hosts check theirs against. */
  get specHash(): string {
    // Every Swift host's step asks: computed once (the spec grows with the devices).
    this.specHashValue ??= sha256Hex(`${this.spec}\n`);
    return this.specHashValue;
  }

  private specHashValue?: string;

  /**
   * Adds the commands that build the rings into `dir` once, or refuse other inputs; marks
   * `changeTag` when built.
   */
  build(script: ShellScript, changeTag: string, dir = SWIFT_DIR): void {
    const spec = quote([this.spec]);
    const specFile = quote([`${dir}/rings.spec`]);
    const adds = Object.entries(SWIFT_STORAGE_PORTS).flatMap(([kind, port]) => [
      `  swift-ring-builder "$tmp/${kind}.builder" create ${this.partPower} ${this.replicas} ${MIN_PART_HOURS} >/dev/null`,
      ...this.devices.map(
        (d) =>
          `  swift-ring-builder "$tmp/${kind}.builder" add ${quote(["--region", "1", "--zone", String(d.zone), "--ip", d.address, "--port", String(port), "--device", d.device, "--weight", "100"])} >/dev/null`,
      ),
      `  swift-ring-builder "$tmp/${kind}.builder" rebalance --seed ${REBALANCE_SEED} >/dev/null`,
    ]);
    script
      .comment("Swift's rings: built here once from the inventory; the other Swift hosts fetch them.")
      .raw(`swift_rings_spec=${spec}`)
      .raw(`if [ -f ${specFile} ]; then`)
      .raw(`  if [ "$(cat ${specFile})" != "$swift_rings_spec" ]; then`)
      .raw(
        `    echo "Swift rings on $OSC_HOST: built for '$(cat ${specFile})'; the inventory now gives '$swift_rings_spec': refusing to rebuild them (the storage hosts, their addresses and devices, and swift.partPower cannot change yet: a new ring moves every partition)" >&2`,
      )
      .raw("    exit 1")
      .raw("  fi")
      .raw("else")
      .raw(`  osc_mark_changed ${changeTag}`)
      .raw("  tmp=$(mktemp -d)")
      .raw(adds.join("\n"))
      .raw(`  install -m 0644 "$tmp"/*.ring.gz "$tmp"/*.builder ${quote([dir])}/`)
      .raw('  rm -rf "$tmp"')
      .raw("  # Last: a run cut before this line builds them again.")
      .raw(`  printf '%s\\n' "$swift_rings_spec" >${quote([`${dir}/rings.spec.tmp`])}`)
      .raw(`  mv ${quote([`${dir}/rings.spec.tmp`])} ${specFile}`)
      .raw("fi")
      .comment("The rings' checksums, which a host that fetched them checks its own against.")
      .raw(
        `(cd ${quote([dir])} && sha256sum ${RING_KINDS.map((k) => `${k}.ring.gz`).join(" ")}) >${quote([`${dir}/rings.sha256.tmp`])}`,
      )
      .raw(`if cmp -s ${quote([`${dir}/rings.sha256.tmp`])} ${quote([`${dir}/rings.sha256`])}; then`)
      .raw(`  rm -f ${quote([`${dir}/rings.sha256.tmp`])}`)
      .raw("else")
      .raw(`  mv -f ${quote([`${dir}/rings.sha256.tmp`])} ${quote([`${dir}/rings.sha256`])}`)
      .raw("fi");
  }

  /**
   * On a controller whose rings are in place: exports them (`SWIFT_RINGS_EXPORT`, rewritten only
   * when its bytes differ) and serves the export on `address`, port 6210, to `allowFrom` (a CIDR).
   */
  serve(script: ShellScript, address: string, allowFrom: string): void {
    const files = ["rings.spec", ...RING_KINDS.flatMap((k) => [`${k}.ring.gz`, `${k}.builder`])];
    const exportFile = quote([SWIFT_RINGS_EXPORT]);
    const exportDir = quote([SWIFT_RINGS_EXPORT.replace(/\/[^/]+$/, "")]);
    // `[fd00::11]:6210` for an IPv6 address: systemd reads `fd00::11:6210` as an address alone.
    const socket = Endpoint.of(address).hostPort(SWIFT_RINGS_PORT);
    script
      .comment(`Swift's rings for the other Swift hosts: one tar, served on ${socket}.`)
      .run("install", "-d", "-m", "0755", SWIFT_RINGS_EXPORT.replace(/\/[^/]+$/, ""))
      .raw("tmp=$(mktemp -d)")
      .raw(`(cd ${quote([SWIFT_DIR])} && cp ${files.join(" ")} "$tmp"/)`)
      .raw(`(cd "$tmp" && sha256sum ${files.join(" ")} >SHA256SUMS)`)
      .raw(
        `tar -C "$tmp" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --mode=0644 -cf "$tmp/rings.tar" SHA256SUMS ${files.join(" ")}`,
      )
      .raw(`if ! cmp -s "$tmp/rings.tar" ${exportFile}; then`)
      .raw(`  install -m 0644 "$tmp/rings.tar" ${exportDir}/.rings.tar.tmp`)
      .raw(`  mv -f ${exportDir}/.rings.tar.tmp ${exportFile}`)
      .raw("fi")
      .raw('rm -rf "$tmp"');
    const tag = "swift_rings_serve";
    script
      .writeFile(
        `/etc/systemd/system/${SERVE_UNIT}.socket`,
        [
          "# Written by openstack-cdktf: this controller's Swift rings (one tar) for the other Swift hosts.",
          "[Unit]",
          `Description=Swift rings for the other Swift hosts, on ${socket}`,
          "",
          "[Socket]",
          `ListenStream=${socket}`,
          "Accept=yes",
          "MaxConnections=64",
          `IPAddressAllow=${allowFrom}`,
          "IPAddressDeny=any",
          "",
          "[Install]",
          "WantedBy=sockets.target",
          "",
        ].join("\n"),
        { changeTag: tag },
      )
      .writeFile(
        `/etc/systemd/system/${SERVE_UNIT}@.service`,
        [
          "# Written by openstack-cdktf: one connection, one copy of the tar; nothing is read from it.",
          "[Unit]",
          "Description=Swift rings for one Swift host",
          "",
          "[Service]",
          `ExecStart=/bin/cat ${SWIFT_RINGS_EXPORT}`,
          "StandardInput=null",
          "StandardOutput=socket",
          "StandardError=journal",
          "DynamicUser=true",
          "ProtectSystem=strict",
          "ProtectHome=true",
          "PrivateTmp=true",
          "NoNewPrivileges=true",
          "RuntimeMaxSec=60",
          "",
        ].join("\n"),
        { changeTag: tag },
      )
      .ifChanged(tag, "systemctl daemon-reload")
      .restartIfChanged([`${SERVE_UNIT}.socket`], tag)
      .listen(`${SERVE_UNIT}.socket`, address, SWIFT_RINGS_PORT);
  }

  /**
   * On a Swift host that does not build: the rings from the first of `sources` (controllers'
   * management addresses) that serves the ones built for this inventory, unless they are in
   * place already; marks `changeTag` when a ring's bytes change. `withBuilders`: the builders
   * too (a controller, which may build later).
   */
  fetch(script: ShellScript, changeTag: string, sources: readonly string[], withBuilders = false): void {
    const dir = quote([SWIFT_DIR]);
    const files = RING_KINDS.flatMap((k) => [`${k}.ring.gz`, ...(withBuilders ? [`${k}.builder`] : [])]);
    const inPlace = [
      `[ -f ${dir}/rings.spec ] && [ -f ${dir}/rings.sha256 ]`,
      `[ "$(sha256sum <${dir}/rings.spec | cut -d' ' -f1)" = "$swift_rings_sha256" ]`,
      `(cd ${dir} && sha256sum --quiet --status -c rings.sha256)`,
    ].join(" &&\n  ");
    script
      .comment("Swift's rings, built on the first controller: fetched from a controller unless in place.")
      .comment("The hash of rings.spec as the builder writes it for this inventory:")
      .raw(`swift_rings_sha256=${this.specHash}`)
      .raw(`if ! { ${inPlace}; }; then`);
    if (sources.length === 0) {
      script
        .raw(
          `  echo "Swift rings on $OSC_HOST: not in place for this inventory (rings.spec sha256 $swift_rings_sha256), and no controller to fetch them from" >&2`,
        )
        .raw("  exit 1")
        .raw("fi");
      return;
    }
    script
      .raw(`  swift_rings_sources=(${quote([...sources])})`)
      .raw("  tmp=$(mktemp -d)")
      .raw(`  deadline=$((SECONDS + ${FETCH_TIMEOUT_SECONDS}))`)
      .raw('  got=""')
      .raw('  while [ -z "$got" ]; do')
      .raw(`    for source in "\${swift_rings_sources[@]}"; do`)
      .raw('      rm -rf "$tmp/x" && mkdir "$tmp/x"')
      .raw(
        `      if (exec 3<>"/dev/tcp/$source/${SWIFT_RINGS_PORT}" && timeout 60 cat <&3) >"$tmp/rings.tar" 2>/dev/null &&`,
      )
      .raw('        tar -C "$tmp/x" -xf "$tmp/rings.tar" 2>/dev/null &&')
      .raw('        (cd "$tmp/x" && sha256sum --quiet --status -c SHA256SUMS) &&')
      .raw(`        [ "$(sha256sum <"$tmp/x/rings.spec" | cut -d' ' -f1)" = "$swift_rings_sha256" ]; then`)
      .raw("        got=$source")
      .raw("        break")
      .raw("      fi")
      .raw("    done")
      .raw('    if [ -z "$got" ]; then')
      .raw('      if [ "$SECONDS" -ge "$deadline" ]; then')
      .raw(
        `        echo "Swift rings on $OSC_HOST: no controller (${sources.join(", ")}) served the rings built for this inventory (rings.spec sha256 $swift_rings_sha256) within ${FETCH_TIMEOUT_SECONDS} s" >&2`,
      )
      .raw("        exit 1")
      .raw("      fi")
      .raw("      sleep 5")
      .raw("    fi")
      .raw("  done")
      .raw(`  for f in ${files.join(" ")}; do`)
      .raw(`    if ! cmp -s "$tmp/x/$f" ${dir}/"$f"; then`)
      .raw("      # A builder's bytes differ from host to host (its pickle): only a ring is a change.")
      .raw(`      case $f in *.ring.gz) osc_mark_changed ${changeTag} ;; esac`)
      .raw(`      install -m 0644 "$tmp/x/$f" ${dir}/".$f.tmp"`)
      .raw(`      mv -f ${dir}/".$f.tmp" ${dir}/"$f"`)
      .raw("    fi")
      .raw("  done")
      .raw(`  (cd "$tmp/x" && sha256sum ${files.join(" ")}) >${dir}/rings.sha256.tmp`)
      .raw(`  mv -f ${dir}/rings.sha256.tmp ${dir}/rings.sha256`)
      .raw("  # Last: a run cut before this line fetches them again.")
      .raw(`  install -m 0644 "$tmp/x/rings.spec" ${dir}/rings.spec.tmp`)
      .raw(`  mv -f ${dir}/rings.spec.tmp ${dir}/rings.spec`)
      .raw('  rm -rf "$tmp"')
      .raw("fi");
  }
}
