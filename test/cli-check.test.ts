import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { EXAMPLES_DIR, LAB_SMALL_EXAMPLE, readYaml, runCli, tempDir } from "./support";

/** Stands for an apt proxy's password; no output may quote it. */
const PROXY_PASSWORD = "Made-Up-Proxy-42";

/** lab-small with an apt proxy whose URL carries a password: a finding nothing suppresses. */
function inventoryWithProxyPassword(): string {
  const data = readYaml(LAB_SMALL_EXAMPLE);
  data.aptProxy = `http://ops:${PROXY_PASSWORD}@10.211.0.1:3142`;
  data.ssh = { ...(data.ssh as Record<string, unknown>), privateKeyFile: path.join(EXAMPLES_DIR, "none") };
  const file = path.join(tempDir("cli-check"), "proxy.yaml");
  fs.writeFileSync(file, YAML.stringify(data));
  return file;
}

describe("npm run cli -- check [inventory]", () => {
  it("lists the example's suppressed findings with their reasons and exits 0", () => {
    const result = runCli(["check", LAB_SMALL_EXAMPLE]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[lines.length - 1]).toMatch(
      /^labsmall: 9 rules, 0 unsuppressed findings, [1-9]\d* suppressed$/,
    );
    for (const line of lines.slice(0, -1)) {
      expect(line).toMatch(
        /^OSC-NET1 WildcardBind at labsmall\/cluster\/\S+: .* \(suppressed: TODO issue 13 listeners: /,
      );
    }
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^OSC-NET1 WildcardBind at labsmall\/cluster\/glance\/controller1\/glance: glance-api listens on 0\.0\.0\.0/,
      ),
    );
  });

  it("names each unsuppressed finding, never the secret, and exits 1", () => {
    const result = runCli(["check", inventoryWithProxyPassword()]);
    expect(result.status).toBe(1);
    const open = result.stdout.split("\n").filter((l) => l.startsWith("OSC-") && !l.includes("(suppressed"));
    expect(open).toEqual(
      ["controller1", "controller2", "compute1", "network1"].map(
        (h) =>
          `OSC-SEC1 SecretNotPlaceholder at labsmall/cluster/${h}/base_system/${h}/base: /etc/apt/apt.conf.d/01openstack-cdktf-proxy: a URL's password is not a placeholder`,
      ),
    );
    expect(result.stdout).toMatch(/\nlabsmall: 9 rules, 4 unsuppressed findings, \d+ suppressed\n$/);
    expect(result.stdout + result.stderr).not.toContain(PROXY_PASSWORD);
  });

  it("makes synth fail with one line per finding, writing nothing", () => {
    const out = path.join(tempDir("cli-check-out"), "cdktf.out");
    const result = runCli(["synth", inventoryWithProxyPassword(), "-o", out]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(line).toMatch(
        /^error: security check OSC-SEC1 SecretNotPlaceholder at labsmall\/cluster\/\w+\/base_system\/\w+\/base: /,
      );
    }
    expect(result.stderr).not.toContain(PROXY_PASSWORD);
    expect(fs.existsSync(out)).toBe(false);
  });
});
