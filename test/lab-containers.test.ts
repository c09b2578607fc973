import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DPKG_UNSAFE_IO, dpkgWithoutFsync, keepRootUserManager } from "../lab/containers";

test("a lab host's root lingers, so its user manager is never stopped between SSH sessions", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "lab-root-"));
  try {
    keepRootUserManager(root);
    keepRootUserManager(root); // a re-prepared host: same result, no error
    const linger = path.join(root, "var", "lib", "systemd", "linger");
    expect(fs.readdirSync(linger)).toEqual(["root"]);
    expect(fs.readFileSync(path.join(linger, "root"), "utf8")).toBe("");
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("a lab host's dpkg skips its fsyncs (the host's disk is this machine's page cache)", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "lab-root-"));
  try {
    dpkgWithoutFsync(root);
    dpkgWithoutFsync(root); // a re-prepared host: same result, no error
    expect(fs.readdirSync(path.join(root, "etc", "dpkg", "dpkg.cfg.d"))).toEqual([
      path.basename(DPKG_UNSAFE_IO),
    ]);
    // dpkg reads each line of a dpkg.cfg.d file as an option; `#` starts a comment.
    const options = fs
      .readFileSync(path.join(root, DPKG_UNSAFE_IO), "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("#"));
    expect(options).toEqual(["force-unsafe-io"]);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
