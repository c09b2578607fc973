import { runAsync } from "../lab/exec";

describe("lab runAsync", () => {
  test("a command killed at its time limit fails and says so", async () => {
    const r = await runAsync("sleep", ["5"], 300);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toBe("sleep killed after 0.3 s (its time limit)");
  });

  test("a command that exits non-zero keeps its code and its stderr", async () => {
    const r = await runAsync("sh", ["-c", "echo oops >&2; exit 3"]);
    expect(r).toEqual({ code: 3, stdout: "", stderr: "oops\n" });
  });

  test("input reaches the command's stdin", async () => {
    const r = await runAsync("cat", [], 5_000, "secret-free text");
    expect(r).toEqual({ code: 0, stdout: "secret-free text", stderr: "" });
  });
});
