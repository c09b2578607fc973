/**
 * Builds something once per machine into the lab's cache: into `<dir>.tmp-<pid>`, renamed to
 * `dir` only when complete, so an interrupted build is never reused; leftovers of interrupted
 * builds (ours by name, never used) go first.
 */
import * as fs from "fs";
import * as path from "path";

export function buildIntoCache(dir: string, what: string, build: (tmp: string) => void): void {
  const parent = path.dirname(dir);
  fs.mkdirSync(parent, { recursive: true });
  for (const entry of fs.readdirSync(parent)) {
    if (entry.startsWith(`${path.basename(dir)}.tmp-`))
      fs.rmSync(path.join(parent, entry), { recursive: true, force: true });
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  console.log(`building ${what} (once per machine) in ${tmp}`);
  try {
    build(tmp);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  fs.renameSync(tmp, dir);
}
