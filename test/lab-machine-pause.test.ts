import { PAUSE_THRESHOLD_SECONDS, PauseWatch } from "../lab/machine-pause";

/** Clocks a test moves by hand: `advance` moves both, `pause` moves only the wall clock. */
function handClocks() {
  let wall = 1_764_550_000_000;
  let monotonic = 12_345.6;
  return {
    clocks: { wall: () => wall, monotonic: () => monotonic },
    advance(ms: number) {
      wall += ms;
      monotonic += ms;
    },
    pause(ms: number) {
      wall += ms;
    },
  };
}

describe("PauseWatch", () => {
  test("a step in which both clocks ran together has no note, however long", () => {
    const hand = handClocks();
    const watch = new PauseWatch(hand.clocks);
    hand.advance(40 * 60 * 1000);
    expect(watch.jumpSeconds()).toBe(0);
    expect(watch.note("tempest")).toBeUndefined();
  });

  test("a 54 s pause is measured and named with its step", () => {
    const hand = handClocks();
    const watch = new PauseWatch(hand.clocks);
    hand.advance(600_000);
    hand.pause(54_200);
    hand.advance(1_000);
    expect(watch.jumpSeconds()).toBeCloseTo(54.2, 6);
    expect(watch.note("tempest")).toBe(
      "tempest: the wall clock moved 54.2 s more than the monotonic clock (the machine was paused, or its clock was set forward); wall-clock liveness (Neutron agents, Nova services) and wall-clock timings in this step may show it",
    );
  });

  test("NTP-sized drift stays under the threshold; the threshold itself is reported", () => {
    const hand = handClocks();
    const watch = new PauseWatch(hand.clocks);
    hand.pause(800);
    expect(watch.note("deploy")).toBeUndefined();
    hand.pause(PAUSE_THRESHOLD_SECONDS * 1000 - 800);
    expect(watch.note("deploy")).toMatch(/^deploy: the wall clock moved 5\.0 s more/);
  });

  test("a wall clock set back is reported as such", () => {
    const hand = handClocks();
    const watch = new PauseWatch(hand.clocks);
    hand.pause(-7_000);
    expect(watch.note("verify")).toMatch(/^verify: the wall clock was set back 7\.0 s;/);
  });
});
