/** The one polling loop of the checks: ask until there is an answer or the time is up; `s1` says how long. */
import { sleep } from "../exec";

export interface PollOptions {
  /** Between two questions. @default 250 */
  readonly intervalMs?: number;
  /**
   * An error thrown by the question: true (the default) remembers it and asks again (the
   * timeout message quotes the last one); false ends the polling with it.
   */
  readonly retryErrors?: boolean;
  /** What the timeout message adds in parentheses. @default the last error, if any */
  readonly lastState?: () => string;
  /** The whole timeout message instead of `<what>: not within N s (…)`. */
  readonly timeoutMessage?: (lastError: string) => string;
}

/**
 * Asks `probe` every intervalMs until it returns something other than undefined; returns that
 * and the ms it took. Throws `<what>: not within N s (…)` after timeoutMs.
 */
export async function poll<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
  opts: PollOptions = {},
): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  let lastError = "";
  while (Date.now() - start < timeoutMs) {
    try {
      const value = await probe();
      if (value !== undefined) return { value, ms: Date.now() - start };
    } catch (err) {
      if (opts.retryErrors === false) throw err;
      lastError = (err as Error).message;
    }
    await sleep(opts.intervalMs ?? 250);
  }
  if (opts.timeoutMessage) throw new Error(opts.timeoutMessage(lastError));
  const why = opts.lastState ? opts.lastState() : lastError;
  throw new Error(`${what}: not within ${timeoutMs / 1000} s${why ? ` (${why})` : ""}`);
}

/** A duration as the checks print it: `12.3 s`. */
export const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
