/**
 * The suite's own hygiene: every test asserts something. A test whose body calls no `expect`
 * passes whatever the code does (as the shellcheck "is installed" test once did).
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { REPO } from "./support";

const TEST_DIR = path.join(REPO, "test");

/** `it(…)`/`test(…)` calls (and their `.each`, `.only`, `.skip` forms) whose body never mentions `expect`. */
function testsWithoutExpect(fileName: string, source: string): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.arguments.length >= 2) {
      let callee: ts.Expression = node.expression;
      // it.each(table)(name, fn): the callee is itself a call.
      if (ts.isCallExpression(callee)) callee = callee.expression;
      while (ts.isPropertyAccessExpression(callee)) callee = callee.expression;
      if (ts.isIdentifier(callee) && (callee.text === "it" || callee.text === "test")) {
        const body = node.arguments[1];
        if (
          (ts.isArrowFunction(body) || ts.isFunctionExpression(body)) &&
          !/\bexpect\b/.test(body.getText(file))
        ) {
          const line = file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
          found.push(`${path.basename(fileName)}:${line} ${node.arguments[0].getText(file)}`);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe("the test suite", () => {
  const files = fs.readdirSync(TEST_DIR).filter((f) => f.endsWith(".test.ts"));

  it("finds a test without an assertion (the check is live)", () => {
    const source = [
      'it("asserts", () => { expect(1).toBe(1); });',
      'it("asserts nothing", () => { run(); });',
      'it.each([[1]])("table %s asserts nothing", (n) => { run(n); });',
      'test.skip("skipped, asserts nothing", async () => { await run(); });',
    ].join("\n");
    expect(testsWithoutExpect("x.test.ts", source)).toEqual([
      'x.test.ts:2 "asserts nothing"',
      'x.test.ts:3 "table %s asserts nothing"',
      'x.test.ts:4 "skipped, asserts nothing"',
    ]);
  });

  it("has no test that asserts nothing", () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
    const found = files.flatMap((f) =>
      testsWithoutExpect(f, fs.readFileSync(path.join(TEST_DIR, f), "utf8")),
    );
    expect(found).toEqual([]);
  });
});
