/**
 * Notices when the lab machine itself stood still during a step.
 *
 * The lab machine is a VM, and its hypervisor can pause it (seen once: a live snapshot, after
 * which the kernel logged "crng reseeded due to virtual machine fork" and every host, Tempest
 * included, had logged nothing for 54 s). On resume the wall clock steps forward and the
 * monotonic clock does not. Socket timeouts run on the monotonic clock, so they do not fire;
 * what reads the wall clock does: Neutron's agent_down_time and Nova's service_down_time
 * compare database timestamps, so all agents look dead at once until their next report, and a
 * request spanning the pause takes that long by the wall clock. A failure in such a step may be
 * the machine's, so the e2e says so beside it.
 */

/** The smallest jump reported: NTP slewing moves the clocks apart by well under a second an hour. */
export const PAUSE_THRESHOLD_SECONDS = 5;

export type Clock = () => number;

/** Milliseconds since the epoch, and milliseconds on a clock that stops while the machine does. */
export interface Clocks {
  readonly wall: Clock;
  readonly monotonic: Clock;
}

const SYSTEM_CLOCKS: Clocks = { wall: () => Date.now(), monotonic: () => performance.now() };

/** Started at the beginning of a step; asked at its end. */
export class PauseWatch {
  private readonly startOffset: number;

  constructor(private readonly clocks: Clocks = SYSTEM_CLOCKS) {
    this.startOffset = clocks.wall() - clocks.monotonic();
  }

  /** Seconds the wall clock moved beyond the monotonic clock since the watch started. */
  jumpSeconds(): number {
    return (this.clocks.wall() - this.clocks.monotonic() - this.startOffset) / 1000;
  }

  /** A sentence for the e2e summary when the step saw a pause or a clock step, else undefined. */
  note(step: string): string | undefined {
    const jump = this.jumpSeconds();
    if (Math.abs(jump) < PAUSE_THRESHOLD_SECONDS) return undefined;
    const what =
      jump > 0
        ? `the wall clock moved ${jump.toFixed(1)} s more than the monotonic clock (the machine was paused, or its clock was set forward)`
        : `the wall clock was set back ${(-jump).toFixed(1)} s`;
    return `${step}: ${what}; wall-clock liveness (Neutron agents, Nova services) and wall-clock timings in this step may show it`;
  }
}
