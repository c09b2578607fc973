/**
 * Swift's rings, built on every Swift host from the inventory rather than copied between hosts
 * (the hosts have no way to reach each other as root): the same builder commands with the same
 * rebalance seed give the same ring, and Swift writes the ring file with a fixed gzip time, so
 * every host holds the same bytes (the lab's check compares their checksums).
 *
 * The commands' inputs are kept in /etc/swift/rings.spec. A later run with other inputs (a
 * storage host added or removed, its address or device changed, another partition power) stops
 * with an error instead of building other rings: a new ring moves partitions, and hosts with
 * different rings lose track of objects. Rebalancing is a later issue.
 */
import * as net from "net";
import { join as quote } from "shlex";
import { ShellScript } from "../core/shell-script";

export const SWIFT_DIR = "/etc/swift";
export const SWIFT_RINGS_SPEC = `${SWIFT_DIR}/rings.spec`;
/** The storage servers' ports (Swift's defaults since 2.x: 6200 object, 6201 container, 6202 account). */
export const SWIFT_STORAGE_PORTS = { account: 6202, container: 6201, object: 6200 } as const;
/** Any fixed number: the rebalance is then the same on every host. */
const REBALANCE_SEED = 1;
/** Swift's limit on moving a partition's replicas twice; only rebalances use it. */
const MIN_PART_HOURS = 1;

/**
 * A Swift device's name: its directory under /srv/node, an argument of swift-ring-builder, a
 * path in rsync's modules. Starts with a letter or digit (never `.` or `..`), no `/`.
 */
export const SWIFT_DEVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const SWIFT_DEVICE_EXPECTED =
  "a device name under /srv/node: letters, digits, '_', '.', '-', starting with a letter or digit, at most 64 characters";

/** One device in the rings. */
export interface SwiftRingDevice {
  readonly zone: number;
  readonly address: string;
  readonly device: string;
}

export class SwiftRings {
  /** Each replica on another host while there are hosts for it; at most Swift's usual 3. */
  readonly replicas: number;

  constructor(
    readonly devices: readonly SwiftRingDevice[],
    readonly partPower: number,
  ) {
    if (devices.length === 0) throw new Error("SwiftRings: devices: got none: expected at least one");
    if (!Number.isInteger(partPower) || partPower < 6 || partPower > 22) {
      throw new Error(`SwiftRings partPower: got ${partPower}: expected an integer from 6 to 22`);
    }
    for (const d of devices) {
      if (!SWIFT_DEVICE_NAME.test(d.device) || net.isIP(d.address) === 0) {
        throw new Error(
          `SwiftRings device: got ${JSON.stringify(d)}: expected an IP address and a device name`,
        );
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
      .comment("Swift's rings: built here once from the inventory, the same bytes on every Swift host.")
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
      .raw("fi");
  }
}
