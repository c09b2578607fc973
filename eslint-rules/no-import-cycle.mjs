/**
 * `local/no-import-cycle`: a file under lib/ may not import (directly or through other files)
 * a file that imports it back. The graph is read from lib/'s files on disk (each read once per
 * run) with TypeScript's own import scanner; the file being linted is read from its text.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";

const texts = new Map();

/** The .ts files a module imports (relative specifiers only; packages are not ours). */
function importsOf(file, text) {
  const dir = path.dirname(file);
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((i) => i.fileName)
    .filter((spec) => spec.startsWith("."))
    .map((spec) => resolve(path.resolve(dir, spec)))
    .filter(Boolean);
}

function resolve(base) {
  for (const candidate of [`${base}.ts`, path.join(base, "index.ts")]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

function textOf(file) {
  if (!texts.has(file)) texts.set(file, fs.readFileSync(file, "utf8"));
  return texts.get(file);
}

/** A path of imports from `from` back to `to`, or undefined. */
function pathBack(from, to, root, ownText) {
  const seen = new Set();
  const queue = [[from]];
  while (queue.length > 0) {
    const trail = queue.shift();
    const file = trail[trail.length - 1];
    if (file === to) return trail;
    if (seen.has(file) || !file.startsWith(root)) continue;
    seen.add(file);
    for (const next of importsOf(file, file === to ? ownText : textOf(file))) queue.push([...trail, next]);
  }
  return undefined;
}

export default {
  meta: {
    type: "problem",
    docs: { description: "no import cycle among the files of one folder tree (lib/)" },
    schema: [{ type: "object", properties: { root: { type: "string" } }, additionalProperties: false }],
  },
  create(context) {
    const root = path.resolve(context.cwd, context.options[0]?.root ?? "lib") + path.sep;
    const file = path.resolve(context.filename);
    if (!file.startsWith(root)) return {};
    const text = context.sourceCode.text;
    return {
      Program(node) {
        for (const target of new Set(importsOf(file, text))) {
          const back = pathBack(target, file, root, text);
          if (back) {
            const names = [file, ...back].map((f) => path.relative(context.cwd, f)).join(" -> ");
            context.report({ node, message: `import cycle: ${names}` });
          }
        }
      },
    };
  },
};
