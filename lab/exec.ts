/** Running programs: always with argument arrays, never through a shell. */
import * as os from "os";
import { ChildProcess, execFile, execFileSync, spawn } from "child_process";

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command and returns its output; throws with the command and its stderr on failure. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): string {
  try {
    return execFileSync(cmd, args, {
      encoding: "utf8",
      input: opts.input,
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ["pipe", "pipe", "pipe"],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { status?: number; stderr?: string; message: string };
    const detail = (e.stderr ?? "").trim() || e.message;
    throw new Error(`${cmd} ${args.join(" ")}: exit ${e.status ?? "?"}: ${detail}`);
  }
}

/** Runs a command and reports its exit code instead of throwing. */
export function tryRun(cmd: string, args: readonly string[]): RunResult {
  try {
    const stdout = execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { code: 0, stdout, stderr: "" };
  } catch (err) {
    const e = err as { status?: number | null; stdout?: string; stderr?: string };
    return { code: e.status ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/**
 * Async variant, so that many hosts can be asked at once. Never throws. `input` is written to
 * the command's stdin (the way secrets reach remote commands: never on a command line).
 */
export function runAsync(
  cmd: string,
  args: readonly string[],
  timeoutMs = 60_000,
  input?: string,
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        // Killed at the time limit: say so (ssh, killed in its session, exits 255 silently).
        if (err?.killed) {
          const killed = `${cmd} killed after ${timeoutMs / 1000} s (its time limit)`;
          resolve({ code: code || 1, stdout, stderr: [stderr.trim(), killed].filter(Boolean).join("; ") });
          return;
        }
        resolve({ code, stdout, stderr: stderr || (err && code !== 0 ? err.message : "") });
      },
    );
    child.stdin?.on("error", () => undefined); // the command may exit without reading it all
    child.stdin?.end(input ?? "");
  });
}

/** Runs a command with its output passed through live; resolves with the exit code. */
export function runStreaming(
  cmd: string,
  args: readonly string[],
  onLine: (line: string) => void = () => undefined,
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; onSpawn?: (child: ChildProcess) => void } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    opts.onSpawn?.(child);
    const feed = (stream: NodeJS.ReadableStream, out: NodeJS.WriteStream) => {
      let rest = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        out.write(chunk);
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        lines.forEach(onLine);
      });
      stream.on("end", () => rest && onLine(rest));
    };
    feed(child.stdout, process.stdout);
    feed(child.stderr, process.stderr);
    child.on("error", reject);
    // Killed by a signal: 128 + its number, as a shell reports it.
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 + osSignal(signal) : 1)));
  });
}

function osSignal(name: NodeJS.Signals): number {
  return (os.constants.signals as Record<string, number>)[name] ?? 0;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Seconds since `start` (from performance.now()), for timings. */
export function since(start: number): string {
  return `${((performance.now() - start) / 1000).toFixed(1)} s`;
}
