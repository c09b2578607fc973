/**
 * The import-boundary lint rules (eslint.config.mjs) fire: an upward import between lib/'s
 * layers and an import cycle inside lib/ are lint errors, so `npm test` fails on either. Each
 * case lints a made-up file text under a real path with the project's own config.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");

interface LintMessage {
  readonly ruleId: string | null;
  readonly message: string;
}

/** ESLint's messages for `text` as if it were the file at `file` (relative to the repository). */
function lint(file: string, text: string): LintMessage[] {
  const eslint = path.join(ROOT, "node_modules", "eslint", "bin", "eslint.js");
  const run = spawnSync(process.execPath, [eslint, "--stdin", "--stdin-filename", file, "--format", "json"], {
    cwd: ROOT,
    input: text,
    encoding: "utf8",
  });
  if (run.status !== 0 && run.status !== 1) throw new Error(`eslint: exit ${run.status}: ${run.stderr}`);
  return (JSON.parse(run.stdout) as { messages: LintMessage[] }[]).flatMap((r) => r.messages);
}

describe("layers that point one way", () => {
  it("core importing a service is an upward import and a cycle (core/step.ts <- services/nova.ts)", () => {
    const step = fs.readFileSync(path.join(ROOT, "lib/core/step.ts"), "utf8");
    const messages = lint("lib/core/step.ts", `import "../services/nova";\n${step}`);
    expect(messages.map((m) => m.ruleId).sort()).toEqual(["import-x/no-cycle", "no-restricted-imports"]);
    expect(messages.find((m) => m.ruleId === "no-restricted-imports")?.message).toContain(
      "'../services/nova' import is restricted from being used by a pattern. lib/core may not import from a layer above it",
    );
    expect(messages.find((m) => m.ruleId === "import-x/no-cycle")?.message).toMatch(/^Dependency cycle/);
  }, 60_000);

  it("a cycle inside one layer fails too (core/shell-script.ts <- core/step.ts)", () => {
    const script = fs.readFileSync(path.join(ROOT, "lib/core/shell-script.ts"), "utf8");
    const messages = lint("lib/core/shell-script.ts", `import "./step";\n${script}`);
    expect(messages.map((m) => m.ruleId)).toEqual(["import-x/no-cycle"]);
  }, 60_000);

  it("a host importing a service fails; a host importing core and a service importing a host do not", () => {
    const host = lint(
      "lib/hosts/made-up.ts",
      'import { Step } from "../core/step";\nimport { CinderService } from "../services/cinder";\nexport type T = [Step, CinderService];\n',
    );
    expect(host.map((m) => [m.ruleId, m.message.split(". ")[0]])).toEqual([
      ["no-restricted-imports", "'../services/cinder' import is restricted from being used by a pattern"],
    ]);
    const service = lint(
      "lib/services/made-up.ts",
      'import { Host } from "../hosts/host";\nexport type T = Host;\n',
    );
    expect(service).toEqual([]);
  }, 60_000);
});
