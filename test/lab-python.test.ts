/**
 * The lab checks' Python helpers (lab/checks/py/): each file, and each program as the checks send
 * it (shared modules first), byte-compiles; values reach them only as arguments.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "shell-quote";
import { PY_DIR, pythonCommand, pythonHelpers, pythonProgram } from "../lab/checks/python";

function compiles(file: string): boolean {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), "lab-py-"));
  try {
    execFileSync("python3", ["-m", "py_compile", file], {
      env: { ...process.env, PYTHONPYCACHEPREFIX: cache },
      stdio: "pipe",
    });
    const compiled = fs
      .readdirSync(cache, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".pyc"));
    return compiled.length === 1;
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
}

describe("lab checks' Python helpers", () => {
  const helpers = pythonHelpers();

  test("the helpers the checks run are there", () => {
    expect(helpers).toEqual(
      expect.arrayContaining([
        "api_cold_start.py",
        "api_keepalive.py",
        "api_prober.py",
        "horizon_compress_pool.py",
        "horizon_login.py",
        "keystone_auth.py",
        "osc_runner.py",
        "osc_shell.py",
      ]),
    );
  });

  test.each(helpers)("%s byte-compiles, alone and as the program the checks send", (file) => {
    expect(compiles(path.join(PY_DIR, file))).toBe(true);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-program-"));
    try {
      const program = path.join(dir, file);
      fs.writeFileSync(program, pythonProgram(file));
      expect(compiles(program)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("shared modules come first; a helper's arguments stay out of its code", () => {
    const program = pythonProgram("api_keepalive.py");
    expect(program.indexOf("def request_token")).toBeGreaterThanOrEqual(0);
    expect(program.indexOf("def request_token")).toBeLessThan(program.indexOf("def keystone_delete"));
    const argv = parse(pythonCommand("api_keepalive.py", ["10.0.0.1", '[["identity",5000,"/v3"]]', "/x y"]));
    expect(argv.slice(0, 2)).toEqual(["bash", "-c"]);
    expect(argv[2]).toBe('exec python3 -c "$1" "$2" "$3" "$4"');
    expect(argv.slice(4)).toEqual([program, "10.0.0.1", '[["identity",5000,"/v3"]]', "/x y"]);
    expect(parse(pythonCommand("horizon_compress_pool.py", [], "-W ignore"))[2]).toBe(
      'exec python3 -W ignore -c "$1"',
    );
  });

  test("osc_runner repeats a command until its value, a value that ends the wait, a failure or the time", () => {
    // A fake openstackclient: each run prints the next line of the file named by its argument
    // as {"status": line}; the line FAIL exits 1, as `volume show` of a deleted volume does.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-osc-"));
    try {
      fs.mkdirSync(path.join(dir, "openstackclient"));
      fs.writeFileSync(path.join(dir, "openstackclient", "__init__.py"), "");
      fs.writeFileSync(
        path.join(dir, "openstackclient", "shell.py"),
        [
          "import json, sys",
          "class OpenStackShell:",
          "    def run(self, argv):",
          "        with open(argv[0]) as f:",
          "            lines = f.read().splitlines()",
          "        with open(argv[0], 'w') as f:",
          "            f.write('\\n'.join(lines[1:]))",
          "        if lines[0] == 'FAIL':",
          "            print('No volume with a name or ID of x exists.', file=sys.stderr)",
          "            return 1",
          "        print(json.dumps({'status': lines[0]}))",
          "        return 0",
        ].join("\n"),
      );
      const states = (name: string, lines: string[]) => {
        fs.writeFileSync(path.join(dir, name), lines.join("\n"));
        return path.join(dir, name);
      };
      const until = { key: "status", value: "available", seconds: 30, stopOn: ["error"] };
      const request = {
        commands: [
          { name: "reached", argv: [states("a", ["creating", "available", "in-use"])], until },
          { name: "stopped", argv: [states("b", ["creating", "error", "available"])], until },
          { name: "failed", argv: [states("c", ["deleting", "FAIL", "available"])], until },
          {
            name: "timed-out",
            argv: [states("d", ["creating", "available"])],
            until: { ...until, seconds: 0 },
          },
        ],
      };
      const out = execFileSync("python3", ["-c", pythonProgram("osc_runner.py")], {
        input: JSON.stringify(request),
        env: { ...process.env, PYTHONPATH: dir },
        encoding: "utf8",
      });
      const line = out.split("\n").find((l) => l.startsWith("OSC-RESULT ")) ?? "";
      const reply = JSON.parse(line.slice("OSC-RESULT ".length)) as {
        commands: { name: string; rc: number; out: string; err: string; ms: number }[];
      };
      const seen = reply.commands.map((c) => [c.name, c.rc, c.rc === 0 ? JSON.parse(c.out).status : c.err]);
      expect(seen).toEqual([
        ["reached", 0, "available"],
        ["stopped", 0, "error"],
        ["failed", 1, "No volume with a name or ID of x exists."],
        ["timed-out", 0, "creating"],
      ]);
      // One second between two tries.
      expect(reply.commands[0].ms).toBeGreaterThanOrEqual(1000);
      expect(reply.commands[3].ms).toBeLessThan(1000);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("no helper has a lab value spliced in", () => {
    for (const file of helpers) expect(fs.readFileSync(path.join(PY_DIR, file), "utf8")).not.toContain("${");
  });
});
