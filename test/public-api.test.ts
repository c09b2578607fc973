/**
 * The package's public surface, listed: a name added to or taken from the package root
 * (lib/index.ts) fails here until this list changes with it, so a change to the API is
 * deliberate. The rest stays reachable as `openstack-cdktf/internal` (not a stable API). And the
 * two internals of cdktf the library reaches into, pinned: cdktf has no public API for either.
 */
import * as fs from "fs";
import * as path from "path";
import * as cdktfSynthesizer from "cdktf/lib/synthesize/synthesizer";
import * as internal from "../lib/internal";
import * as publicApi from "../lib";
import { REPO } from "./support";

const PUBLIC_NAMES = [
  "ApiService",
  "BaseSystem",
  "CephCluster",
  "CinderService",
  "ClientAddress",
  "ComputeNode",
  "ControllerNode",
  "DAY_ONE_DEFAULTS",
  "DEBIAN_12_ZED",
  "DEBIAN_13_EPOXY",
  "DEFAULT_RELEASE",
  "DayOne",
  "Endpoint",
  "GlanceService",
  "Heartbeat",
  "HorizonDashboard",
  "Host",
  "InventoryError",
  "KeystoneService",
  "MAX_HOSTS",
  "Memcached",
  "MysqlHaPair",
  "NetworkNode",
  "NeutronService",
  "NovaService",
  "OpenStackCluster",
  "OpenStackStack",
  "PlacementService",
  "RELEASE_NAMES",
  "ROLES",
  "RabbitMq",
  "SECRET_CATALOG",
  "SECURITY_RULES",
  "SecretsFileError",
  "SecurityCheckError",
  "SecurityChecks",
  "ShellScript",
  "SshKeys",
  "Step",
  "StepIdCollisionError",
  "StorageNode",
  "SwiftRings",
  "SwiftService",
  "TerraformData",
  "UBUNTU_2404_CARACAL",
  "addSecurityChecks",
  "assertNoSecurityFindings",
  "checkSecretsFile",
  "declareSecrets",
  "defaultSecretsFile",
  "formatFinding",
  "initSecretsFile",
  "loadInventory",
  "parseInventory",
  "releaseProfile",
  "secretPlaceholder",
  "securityFindings",
  "stepLogicalId",
  "suppressSecurityRule",
];

/** Every `cdktf/lib/...` module the library and its CLI import (cdktf's internals). */
function cdktfDeepImports(): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (file.endsWith(".ts")) {
        const text = fs.readFileSync(file, "utf8");
        for (const m of text.matchAll(/from "(cdktf\/[^"]+)"/g)) {
          found.add(`${path.relative(REPO, file)}: ${m[1]}`);
        }
      }
    }
  };
  walk(path.join(REPO, "lib"));
  walk(path.join(REPO, "bin"));
  return [...found].sort();
}

describe("the public API", () => {
  it("is exactly the listed names", () => {
    expect(Object.keys(publicApi).sort()).toEqual([...PUBLIC_NAMES].sort());
  });

  it("leaves the helpers out of the root, reachable as openstack-cdktf/internal", () => {
    for (const name of ["isTrue", "lastWord", "where", "normalKey", "epmdDropIn", "hclString"]) {
      expect([name, name in publicApi, name in internal]).toEqual([name, false, true]);
    }
    for (const name of PUBLIC_NAMES) expect([name, name in internal]).toEqual([name, true]);
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as {
      private?: boolean;
      exports: Record<string, unknown>;
    };
    expect(manifest.private).toBeUndefined();
    expect(Object.keys(manifest.exports)).toEqual([".", "./internal", "./package.json"]);
  });

  it("reaches into cdktf's internals at two places only, each still there with its shape", () => {
    expect(cdktfDeepImports()).toEqual([
      "bin/synthesize.ts: cdktf/lib/synthesize/synthesizer",
      "lib/core/step-scripts.ts: cdktf/lib/synthesize/synthesizer",
    ]);
    // addCustomSynthesis writes the scripts beside the stack (TerraformAsset's hook); invokeAspects
    // runs the security Aspect in memory for `validate` and `check`.
    expect(typeof cdktfSynthesizer.addCustomSynthesis).toBe("function");
    expect(cdktfSynthesizer.addCustomSynthesis.length).toBe(2);
    expect(typeof cdktfSynthesizer.invokeAspects).toBe("function");
    expect(cdktfSynthesizer.invokeAspects.length).toBe(1);
  });
});
