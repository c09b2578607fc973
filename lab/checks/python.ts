/**
 * The checks' Python helpers: real files in lab/checks/py/, read when a check runs (the lab runs
 * from the repository with ts-node; lab/ is not part of the built package). A helper that starts
 * with `# uses: a.py, b.py` runs after those shared modules, as one program given to
 * `python3 -c`; values reach it only as arguments, environment or stdin.
 */
import * as fs from "fs";
import * as path from "path";
import { bashCommand } from "./platform";

export const PY_DIR = path.join(__dirname, "py");

const USES = /^# uses: ([^(\n]+)/;

/** The helpers in lab/checks/py/, file names. */
export function pythonHelpers(): string[] {
  return fs
    .readdirSync(PY_DIR)
    .filter((f) => f.endsWith(".py"))
    .sort();
}

/** The program for helper `file`: the modules its `# uses:` line names, then the helper itself. */
export function pythonProgram(file: string): string {
  const text = fs.readFileSync(path.join(PY_DIR, file), "utf8");
  const uses =
    USES.exec(text)?.[1]
      .split(",")
      .map((f) => f.trim()) ?? [];
  return [...uses.map((f) => fs.readFileSync(path.join(PY_DIR, f), "utf8")), text].join("\n");
}

/**
 * `python3 [flags] -c <helper> args…` as one remote command line; the arguments are passed to
 * the helper as sys.argv[1:], never put into its code.
 */
export function pythonCommand(file: string, args: readonly string[] = [], flags = ""): string {
  const positional = args.map((_, i) => ` "$${i + 2}"`).join("");
  return bashCommand(
    `exec python3${flags ? ` ${flags}` : ""} -c "$1"${positional}`,
    pythonProgram(file),
    ...args,
  );
}
