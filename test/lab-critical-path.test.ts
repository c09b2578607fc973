import {
  ApplyTimeline,
  criticalPath,
  describeCriticalPath,
  spansFromLog,
  terraformDuration,
} from "../lab/critical-path";

const deps = new Map<string, string[]>([
  ["a_secrets", []],
  ["b_secrets", []],
  ["a_base", ["a_secrets"]],
  ["b_base", ["b_secrets"]],
  ["a_keystone", ["a_base", "b_base"]],
  ["b_keystone", ["b_base", "a_keystone"]],
]);

describe("the apply's critical path", () => {
  test("follows, from the step that ended last, the dependency each step waited for", () => {
    let now = 0;
    const timeline = new ApplyTimeline(() => now);
    const at = (t: number, line: string) => {
      now = t * 1000;
      timeline.onLine(line);
    };
    at(0, "terraform_data.a_secrets: Creating...");
    at(0, "terraform_data.b_secrets: Creating...");
    at(1, "terraform_data.a_secrets: Creation complete after 1s [id=x]");
    at(2, "terraform_data.b_secrets: Creation complete after 2s [id=y]");
    at(1, "terraform_data.a_base: Creating...");
    at(2, "terraform_data.b_base: Creating...");
    at(2.5, "terraform_data.b_base (remote-exec): Creating... is not a step's line");
    at(11, "terraform_data.a_base: Creation complete after 10s [id=z]");
    at(5, "terraform_data.b_base: Creation complete after 3s [id=w]");
    at(11, "terraform_data.a_keystone: Creating...");
    at(50, "terraform_data.a_keystone: Creation complete after 39s [id=v]");
    at(51, "terraform_data.b_keystone: Creating...");
    at(60, "terraform_data.b_keystone: Creation complete after 9s [id=u]");
    const cp = criticalPath(timeline.spans(), deps)!;
    expect(cp.path.map((s) => s.step)).toEqual(["a_secrets", "a_base", "a_keystone", "b_keystone"]);
    expect(cp.path.map((s) => s.wait)).toEqual([0, 0, 0, 1]);
    expect(cp.total).toBe(60);
    expect(cp.sum).toBe(1 + 2 + 10 + 3 + 39 + 9);
    const text = describeCriticalPath(cp).join("\n");
    expect(text).toContain("set the apply's 60.0 s; 6 steps took 64.0 s in all");
    expect(text).toMatch(/steps on the path: 59\.0 s, 98 % of the apply/);
  });

  test("rebuilds the spans of a saved log from Terraform's durations and the dependencies", () => {
    const log = [
      "terraform_data.a_secrets: Creation complete after 1s [id=x]",
      "terraform_data.b_secrets: Creation complete after 2s [id=y]",
      "terraform_data.a_base: Creation complete after 10s [id=z]",
      "terraform_data.b_base: Creation complete after 3s [id=w]",
      "terraform_data.a_keystone: Creation complete after 1m39s [id=v]",
      "terraform_data.b_keystone: Creation complete after 9s [id=u]",
    ].join("\n");
    const spans = spansFromLog(log, deps);
    expect(spans.find((s) => s.step === "b_keystone")).toEqual({ step: "b_keystone", start: 110, end: 119 });
    expect(criticalPath(spans, deps)!.path.map((s) => s.step)).toEqual([
      "a_secrets",
      "a_base",
      "a_keystone",
      "b_keystone",
    ]);
  });

  test("reads Terraform's durations, and refuses anything else", () => {
    expect(terraformDuration("3m17s")).toBe(197);
    expect(terraformDuration("1h0m2s")).toBe(3602);
    expect(terraformDuration("45s")).toBe(45);
    expect(() => terraformDuration("soon")).toThrow(/got "soon": expected e.g. 3m17s/);
  });
});
