import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MANAGEMENT, PROXY_ADDRESS, PROXY_PORT } from "../lab/config";
import { PROXY_ORIGIN, squidConfig } from "../lab/proxy";

const directives = (conf: string): string[] =>
  conf.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));

describe("the lab's package proxy (squid)", () => {
  const conf = squidConfig();
  const lines = directives(conf);

  it("listens on the management bridge's address only, and on no ICP/HTCP/SNMP port", () => {
    expect(lines.filter((l) => /^https?_port\b/.test(l))).toEqual([
      `http_port ${PROXY_ADDRESS}:${PROXY_PORT}`,
    ]);
    expect(lines).toEqual(expect.arrayContaining(["icp_port 0", "htcp_port 0", "snmp_port 0"]));
  });

  it("serves only the lab's hosts, only deb.debian.org, no CONNECT; everything else is denied", () => {
    const access = lines.filter((l) => l.startsWith("http_access"));
    expect(access).toEqual([
      "http_access deny CONNECT",
      "http_access deny !port_80",
      "http_access allow lab_hosts debian_archive",
      "http_access deny all",
    ]);
    expect(lines).toContain(`acl lab_hosts src ${MANAGEMENT.cidr}`);
    expect(lines).toContain(`acl debian_archive dstdomain ${PROXY_ORIGIN}`);
  });

  it("coalesces concurrent misses of one URL (the hosts' first apt-get update)", () => {
    expect(lines).toContain("collapsed_forwarding on");
  });

  it("keeps whole packages: objects up to 1 GB, packages never revalidated, index files always", () => {
    expect(lines).toContain("maximum_object_size 1 GB");
    const patterns = lines.filter((l) => l.startsWith("refresh_pattern"));
    expect(patterns.at(-1)).toBe("refresh_pattern . 0 0% 0");
    const deb = patterns.find((l) => l.includes("deb|udeb"))!;
    const regex = new RegExp(deb.split(" ")[2], "i");
    expect(regex.test("/debian/pool/main/h/hello/hello_2.10-3_amd64.deb")).toBe(true);
    expect(regex.test("/debian/dists/bookworm/InRelease")).toBe(false);
  });

  const squid = spawnSync("squid", ["-v"]).status === 0;
  (squid ? it : it.skip)("is a configuration squid itself accepts without errors or warnings", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "squid-conf-"));
    const file = path.join(dir, "squid.conf");
    fs.writeFileSync(file, conf);
    const r = spawnSync("squid", ["-k", "parse", "-f", file], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    expect({
      status: r.status,
      problems: r.stderr.split("\n").filter((l) => /ERROR|WARNING|FATAL/.test(l)),
    }).toEqual({
      status: 0,
      problems: [],
    });
  });
});
