/**
 * A long-running probe on a host over the lab's SSH: a remote loop that prints one line per
 * attempt (`start end seq OK|ERR info`, epoch ms) until its stdin closes. The failover's MySQL
 * writer (failover.ts) and the OpenStack API prober (services/client.ts) are both one.
 */
import { ChildProcess } from "child_process";
import * as fs from "fs";
import { sleep } from "../exec";
import { HostPlan } from "../plan";
import { sshSpawn } from "../ssh";
import { poll } from "./poll";

/** One attempt, timed on the host (the same clock as the lab machine). */
export interface ProbeEvent {
  readonly seq: number;
  /** Epoch ms when the attempt began and ended. */
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
  /** What answered (e.g. the controller that took a write), or the error. */
  readonly info: string;
}

/** `start end seq OK info` / `start end seq ERR message` */
export function parseProbeLine(line: string): ProbeEvent | undefined {
  const m = /^(\d+) (\d+) (\d+) (OK|ERR) ?(.*)$/.exec(line.trim());
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), seq: Number(m[3]), ok: m[4] === "OK", info: m[5] };
}

export interface ProberOptions {
  /** Named in errors: `the writer`, `the API prober on controller2`. */
  readonly name: string;
  /** Every line received goes there, after the time received (and `logPrefix`). */
  readonly log?: string;
  readonly logPrefix?: string;
  /** Written to its stdin at the start (a password), never logged. */
  readonly input?: string;
  /** What a stop waits for the loop to end before it kills our ssh. */
  readonly stopGraceMs: number;
  /** The stderr it quotes when it stopped: all of it, or the last line. @default "all" */
  readonly stderrInError?: "all" | "last-line";
}

export class Prober {
  readonly events: ProbeEvent[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<number>;
  private stderr = "";

  constructor(
    readonly host: HostPlan,
    command: string,
    private readonly opts: ProberOptions,
  ) {
    this.child = sshSpawn(host, command);
    const prefix = opts.logPrefix ? `${opts.logPrefix} ` : "";
    let rest = "";
    this.child.stdout!.setEncoding("utf8");
    this.child.stdout!.on("data", (chunk: string) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) {
        const e = parseProbeLine(l);
        if (e) this.events.push(e);
        if (opts.log) fs.appendFileSync(opts.log, `${Date.now()} ${prefix}${l}\n`);
      }
    });
    this.child.stderr!.on("data", (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-2000)));
    this.exited = new Promise((resolve) => this.child.on("close", (code) => resolve(code ?? 1)));
    this.child.stdin!.on("error", () => undefined);
    if (opts.input !== undefined) this.child.stdin!.write(opts.input);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The successful attempts. */
  acked(): ProbeEvent[] {
    return this.events.filter((e) => e.ok);
  }

  /**
   * Waits until `pred` holds for the events; returns the ms it took. Throws with `what` after
   * timeoutMs, or as soon as the probe has stopped.
   */
  async waitFor(pred: (events: ProbeEvent[]) => boolean, timeoutMs: number, what: string): Promise<number> {
    const { ms } = await poll(
      what,
      timeoutMs,
      () => {
        if (pred(this.events)) return true;
        if (!this.running) throw new Error(`${this.opts.name} stopped (${this.stoppedBecause()})`);
        return undefined;
      },
      {
        intervalMs: 100,
        retryErrors: false,
        lastState: () => {
          const last = this.events[this.events.length - 1];
          return `last attempt: ${last ? `${last.ok ? "OK" : "ERR"} ${last.info}` : "none"}`;
        },
      },
    );
    return ms;
  }

  /** Closes its stdin (the loop ends after the current attempt); kills our ssh if it lingers. */
  async stop(): Promise<void> {
    this.child.stdin!.end();
    const code = await Promise.race([this.exited, sleep(this.opts.stopGraceMs).then(() => undefined)]);
    if (code === undefined && this.child.pid !== undefined && this.running) {
      const exit = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
      this.child.kill("SIGKILL");
      // Node reports the exit later: without this wait, a caller just after stop() (a loaded
      // machine made EOF slower than the grace) still saw it running.
      await exit;
    }
  }

  private stoppedBecause(): string {
    const text = this.stderr.trim();
    return (this.opts.stderrInError === "last-line" ? text.split("\n").pop() : text) || "no message";
  }
}
