// Copies the files lib/ reads at run time (shell prelude, Python helpers) next to the compiled
// JavaScript in dist/, which tsc does not do: a built package must load without its sources.
import fs from "node:fs";
import path from "node:path";

const ASSET = /\.(sh|py)$/;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

function copyAssets(dir) {
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) copyAssets(rel);
    else if (ASSET.test(entry.name)) {
      fs.mkdirSync(path.join(root, "dist", dir), { recursive: true });
      fs.copyFileSync(path.join(root, rel), path.join(root, "dist", rel));
    }
  }
}
copyAssets("lib");
