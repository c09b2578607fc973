import * as fs from "fs";
import * as path from "path";

/**
 * `mkdir -p dir`, one level at a time; returns the first directory it made, if any (as
 * `fs.mkdirSync`'s recursive mode does). Node's recursive mode never returns for a directory
 * under /proc, where each missing level fails and is retried (seen: `secrets init --file
 * /proc/x/y.json` and `synth -o /proc/x` spinning at full CPU); here the first level that
 * cannot be made throws.
 */
export function makeDirs(dir: string, mode = 0o777): string | undefined {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d); d = path.dirname(d)) {
    missing.unshift(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing) fs.mkdirSync(d, { mode });
  return missing[0];
}
