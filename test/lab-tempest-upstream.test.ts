/**
 * lab/tempest/upstream/sitecustomize.py: the lab's Tempest runs use upstream Tempest's subnet
 * delete, not Debian's, which sleeps 10 s first. Checked against stand-in `tempest` packages
 * (Debian's method and upstream's), and against the machine's own package where it is installed.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TEMPEST_RUN_ENV, UPSTREAM_DIR } from "../lab/tempest/run";

const DEBIAN_METHOD = `    def delete_subnet(self, subnet_id):
        # This avoids failures when it takes time to teardown some ports
        # and deleting a subnet happens too early.
        time.sleep(10)
        uri = '/subnets/%s' % subnet_id
        return self.delete_resource(uri)
`;
const UPSTREAM_METHOD = `    def delete_subnet(self, subnet_id):
        uri = '/subnets/%s' % subnet_id
        return self.delete_resource(uri)
`;

/** Deletes subnet `abc` with a client whose sleep fails the call, and prints what was asked. */
const PROBE = `
import time
from tempest.lib.services.network import subnets_client
def no_sleep(seconds):
    raise SystemExit("slept %s s" % seconds)
time.sleep = no_sleep
client = object.__new__(subnets_client.SubnetsClient)
client.delete_resource = lambda uri: "DELETE " + uri
print(client.delete_subnet("abc"))
`;

function probe(pythonPath: string): string {
  return execFileSync("/usr/bin/python3", ["-c", PROBE], {
    encoding: "utf8",
    stdio: "pipe",
    env: { PATH: "/usr/bin:/bin", PYTHONPATH: pythonPath },
  }).trim();
}

/** A stand-in `tempest` package whose SubnetsClient.delete_subnet is `method`. */
function fakeTempest(dir: string, method: string): string {
  const pkg = path.join(dir, "tempest", "lib", "services", "network");
  fs.mkdirSync(pkg, { recursive: true });
  for (const d of ["tempest", "tempest/lib", "tempest/lib/services", "tempest/lib/services/network"]) {
    fs.writeFileSync(path.join(dir, d, "__init__.py"), "");
  }
  fs.writeFileSync(
    path.join(pkg, "subnets_client.py"),
    `import time\n\n\nclass SubnetsClient(object):\n${method}`,
  );
  return dir;
}

describe("Tempest's subnet delete in the lab", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "tempest-upstream-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("the stand-in reproduces Debian's sleep without the lab's sitecustomize", () => {
    const fake = fakeTempest(dir, DEBIAN_METHOD);
    expect(() => probe(fake)).toThrow(/slept 10 s/);
  });

  test("with it, Debian's method is replaced by upstream's: no sleep, the same request", () => {
    const fake = fakeTempest(dir, DEBIAN_METHOD);
    expect(probe(`${UPSTREAM_DIR}:${fake}`)).toBe("DELETE /subnets/abc");
  });

  test("a method that does not sleep is left as it is", () => {
    const fake = fakeTempest(dir, UPSTREAM_METHOD);
    const py = [
      "from tempest.lib.services.network import subnets_client as s",
      "print(s.SubnetsClient.delete_subnet.__qualname__)",
    ].join("\n");
    const out = execFileSync("/usr/bin/python3", ["-c", py], {
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin", PYTHONPATH: `${UPSTREAM_DIR}:${fake}` },
    }).trim();
    expect(out).toBe("SubnetsClient.delete_subnet");
  });

  test("`tempest run` gets the directory first on Python's path", () => {
    expect(TEMPEST_RUN_ENV.PYTHONPATH).toBe(UPSTREAM_DIR);
  });

  // CI installs Debian's tempest before the tests (.ci/run); a developer machine may not have it.
  const installed = fs.existsSync(
    "/usr/lib/python3/dist-packages/tempest/lib/services/network/subnets_client.py",
  );
  (installed ? test : test.skip)("the machine's own Tempest package deletes without sleeping", () => {
    expect(probe(UPSTREAM_DIR)).toBe("DELETE /subnets/abc");
  });
});
