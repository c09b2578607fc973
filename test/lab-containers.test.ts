import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { keepRootUserManager } from "../lab/containers";

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
