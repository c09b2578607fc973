/**
 * The apply's critical path: the chain of steps that set its total. Each step's start and end
 * are when Terraform printed `<address>: Creating...` and `<address>: Creation complete` (the
 * times are taken as the lines arrive); walking back from the step that ended last, each step's
 * predecessor is the dependency (its `depends_on` in cdk.tf.json) that ended last before it
 * began, i.e. the one it waited for. `wait` is the time between that end and the step's own
 * start: near zero, unless Terraform's parallelism held it back.
 */
import * as fs from "fs";

export interface StepSpan {
  /** The resource's address without its type (`controller1_keystone`). */
  readonly step: string;
  /** Seconds from the first step's start. */
  readonly start: number;
  readonly end: number;
}

export interface CriticalPath {
  /** The chain, first step first. */
  readonly path: readonly (StepSpan & { readonly wait: number })[];
  /** From the first step's start to the last step's end, seconds. */
  readonly total: number;
  /** Every step's duration added up, seconds. */
  readonly sum: number;
  readonly steps: number;
}

const CREATING = /^(\w+)\.(\w+): Creating\.\.\.$/;
const CREATED = /^(\w+)\.(\w+): Creation complete after /;

/** Collects each step's start and end from Terraform's output lines, as they arrive. */
export class ApplyTimeline {
  private readonly starts = new Map<string, number>();
  private readonly ends = new Map<string, number>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  onLine(line: string): void {
    const text = line.trim();
    const creating = CREATING.exec(text);
    if (creating) this.starts.set(creating[2], this.now());
    const created = CREATED.exec(text);
    if (created) this.ends.set(created[2], this.now());
  }

  /** The steps that both began and ended, in seconds from the first start. */
  spans(): StepSpan[] {
    const t0 = Math.min(...this.starts.values());
    return [...this.ends].flatMap(([step, end]) => {
      const start = this.starts.get(step);
      return start === undefined ? [] : [{ step, start: (start - t0) / 1000, end: (end - t0) / 1000 }];
    });
  }
}

/** Each step's dependencies (names without the resource type) from a synthesized cdk.tf.json. */
export function stackDependencies(cdkTfJson: string): Map<string, string[]> {
  const doc = JSON.parse(fs.readFileSync(cdkTfJson, "utf8")) as {
    resource?: Record<string, Record<string, { depends_on?: string[] }>>;
  };
  const deps = new Map<string, string[]>();
  for (const resources of Object.values(doc.resource ?? {})) {
    for (const [name, body] of Object.entries(resources)) {
      deps.set(
        name,
        (body.depends_on ?? []).map((d) => d.slice(d.indexOf(".") + 1)),
      );
    }
  }
  return deps;
}

/** The chain that ended last (see the file's comment); undefined when no step completed. */
export function criticalPath(
  spans: readonly StepSpan[],
  deps: ReadonlyMap<string, readonly string[]>,
): CriticalPath | undefined {
  if (spans.length === 0) return undefined;
  const byStep = new Map(spans.map((s) => [s.step, s]));
  let current = spans.reduce((a, b) => (b.end > a.end ? b : a));
  const chain: (StepSpan & { wait: number })[] = [];
  for (;;) {
    const before = (deps.get(current.step) ?? [])
      .map((d) => byStep.get(d))
      .filter((d): d is StepSpan => d !== undefined && d.end <= current.start + 1);
    const gate = before.reduce<StepSpan | undefined>((a, b) => (!a || b.end > a.end ? b : a), undefined);
    chain.unshift({ ...current, wait: gate ? Math.max(0, current.start - gate.end) : current.start });
    if (!gate) break;
    current = gate;
  }
  const first = Math.min(...spans.map((s) => s.start));
  return {
    path: chain,
    total: Math.max(...spans.map((s) => s.end)) - first,
    sum: spans.reduce((n, s) => n + (s.end - s.start), 0),
    steps: spans.length,
  };
}

/** The path as lines to print: each step's start, duration and wait, then the share of the total. */
export function describeCriticalPath(cp: CriticalPath): string[] {
  const f = (s: number) => s.toFixed(1).padStart(7);
  const onPath = cp.path.reduce((n, s) => n + (s.end - s.start), 0);
  return [
    `critical path (the chain of steps that set the apply's ${cp.total.toFixed(1)} s; ${cp.steps} steps took ${cp.sum.toFixed(1)} s in all):`,
    `    start     took   waited  step`,
    ...cp.path.map((s) => `  ${f(s.start)}  ${f(s.end - s.start)}  ${f(s.wait)}  ${s.step}`),
    `  steps on the path: ${onPath.toFixed(1)} s, ${((100 * onPath) / cp.total).toFixed(0)} % of the apply; the path is ${((100 * onPath) / cp.sum).toFixed(0)} % of all steps' time`,
  ];
}

/** `1h2m3s`, `3m17s`, `45s` (Terraform's durations) in seconds. */
export function terraformDuration(text: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(text);
  if (!m || text === "")
    throw new Error(`terraform duration: got ${JSON.stringify(text)}: expected e.g. 3m17s`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/**
 * Spans from a saved log, which has no times of its own: each step's duration from its
 * `Creation complete after …` line, its start as soon as its dependencies had ended (what
 * Terraform does within its parallelism).
 */
export function spansFromLog(text: string, deps: ReadonlyMap<string, readonly string[]>): StepSpan[] {
  const took = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^\w+\.(\w+): Creation complete after (\S+)/.exec(line.trim());
    if (m) took.set(m[1], terraformDuration(m[2]));
  }
  const spans = new Map<string, StepSpan>();
  const place = (step: string): StepSpan => {
    const known = spans.get(step);
    if (known) return known;
    const start = Math.max(0, ...(deps.get(step) ?? []).filter((d) => took.has(d)).map((d) => place(d).end));
    const span = { step, start, end: start + (took.get(step) ?? 0) };
    spans.set(step, span);
    return span;
  };
  return [...took.keys()].map(place);
}
