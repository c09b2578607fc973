/** Reads the outcome of a `tempest run` from its console output (stestr's subunit-trace). */

export interface TempestSummary {
  readonly ran: number;
  readonly passed: number;
  readonly skipped: number;
  readonly failed: number;
  readonly expectedFail: number;
  readonly unexpectedSuccess: number;
  readonly seconds: number;
  /** Ids of failed tests and of test classes whose setUpClass failed, in order of appearance. */
  readonly failures: readonly string[];
}

const FAILED_LINE = /^\{\d+\} (.+?) (?:\[[\d.]+s\] )?\.\.\. FAILED\s*$/;
const RAN = /^Ran: (\d+) tests? in ([\d.]+) sec\.$/;
const COUNT = /^ - (Passed|Skipped|Failed|Expected Fail|Unexpected Success): (\d+)$/;

/** The totals block and the failed tests; undefined when the run printed no totals (it crashed). */
export function parseTempestOutput(text: string): TempestSummary | undefined {
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  const start = lines.lastIndexOf("Totals");
  if (start < 0) return undefined;
  let ran: RegExpExecArray | null = null;
  const counts: Record<string, number> = {};
  for (const line of lines.slice(start + 1)) {
    ran ??= RAN.exec(line);
    const c = COUNT.exec(line);
    if (c) counts[c[1]] = Number(c[2]);
  }
  if (!ran) return undefined;
  const failures = [
    ...new Set(
      lines
        .slice(0, start)
        .map((l) => FAILED_LINE.exec(l)?.[1])
        .filter((id): id is string => id !== undefined),
    ),
  ];
  return {
    ran: Number(ran[1]),
    seconds: Number(ran[2]),
    passed: counts["Passed"] ?? 0,
    skipped: counts["Skipped"] ?? 0,
    failed: counts["Failed"] ?? 0,
    expectedFail: counts["Expected Fail"] ?? 0,
    unexpectedSuccess: counts["Unexpected Success"] ?? 0,
    failures,
  };
}

/** A run passes when tests ran and none failed or passed unexpectedly. */
export function tempestPassed(s: TempestSummary | undefined): boolean {
  return s !== undefined && s.ran > 0 && s.failed === 0 && s.unexpectedSuccess === 0;
}
