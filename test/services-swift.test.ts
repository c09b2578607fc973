/**
 * Swift: the proxy on the controllers, the storage servers on the storage hosts, the rings built
 * the same way everywhere, and Glance's choice of store; the inventory keys that shape them.
 */
import * as path from "path";
import { parseInventory } from "../lib/cluster/inventory";
import { OpenStackCluster } from "../lib/cluster/openstack-cluster";
import { quote } from "../lib/core/field-rules";
import { ShellScript } from "../lib/core/shell-script";
import { SwiftRings } from "../lib/services/swift-rings";
import {
  dependsOn,
  fileIn,
  iniSection,
  installLine,
  labSmall,
  plainSecrets,
  stepScript,
} from "./service-helpers";
import { buildStack, EXAMPLES_DIR, readYaml } from "./support";

const { cluster, json } = labSmall();
const script = (id: string) => stepScript(cluster, id);

function clusterOf(change: (inv: Record<string, unknown>) => void): OpenStackCluster {
  const data = readYaml(path.join(EXAMPLES_DIR, "lab-furyu-8-node.yaml"));
  change(data);
  const inv = parseInventory(data, "inventory", EXAMPLES_DIR);
  return buildStack(inv).cluster;
}

describe("SwiftService in the small lab layout", () => {
  const proxy = fileIn(script("controller1_swift"), "/etc/swift/proxy-server.conf");

  it("runs the proxy on both controllers and the storage servers on the storage host", () => {
    const ids = cluster.steps.map((s) => s.logicalId).filter((id) => /swift|storage/.test(id));
    expect(ids).toEqual([
      "controller1_keystone_swift",
      "controller1_swift",
      "controller2_swift",
      "compute1_storage_packages",
      "compute1_swift_storage",
    ]);
    // The first controller checks the rings before any storage host builds them.
    expect(dependsOn(json, "compute1_swift_storage")).toContain("controller1_swift");
    expect(dependsOn(json, "compute1_storage_packages")).not.toContain("controller1_swift");
  });

  it("registers object-store at :8080/v1/AUTH_%(project_id)s on the VIP", () => {
    const spec = JSON.parse(
      fileIn(script("controller1_keystone_swift"), "/etc/openstack-cdktf/keystone/swift.json"),
    );
    expect(spec.service.type).toBe("object-store");
    expect(spec.service.endpoints.internal).toBe("http://10.211.0.10:8080/v1/AUTH_%(project_id)s");
    expect(spec.user.name).toBe("swift");
    // keystoneauth's reseller admin role exists (Tempest's account quota tests use it).
    expect(spec.roles).toEqual(["ResellerAdmin"]);
  });

  it("writes the proxy with Keystone tokens and memcached, and no test users (tempauth)", () => {
    expect(iniSection(proxy, "pipeline:main").pipeline).toBe(
      "catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk ratelimit authtoken keystoneauth copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server",
    );
    expect(proxy).not.toContain("tempauth");
    expect(iniSection(proxy, "filter:keystoneauth")).toEqual({
      use: "egg:swift#keystoneauth",
      operator_roles: "admin,member",
    });
    expect(iniSection(proxy, "filter:authtoken")).toMatchObject({
      "paste.filter_factory": "keystonemiddleware.auth_token:filter_factory",
      username: "swift",
      password: "{{secret:swift_keystone_password}}",
      delay_auth_decision: "true",
    });
    expect(iniSection(proxy, "filter:cache").memcache_servers).toBe("10.211.0.11:11211,10.211.0.12:11211");
    expect(iniSection(proxy, "DEFAULT")).toMatchObject({ bind_port: "8080", workers: "2", user: "swift" });
    expect(plainSecrets(proxy)).toEqual([]);
    expect(installLine(script("controller1_swift"), "/etc/swift/proxy-server.conf")).toMatch(
      / root swift 0640 --fill-secrets /,
    );
  });

  it("gives every Swift host the same swift.conf, its hash path from secrets", () => {
    const confs = ["controller1_swift", "controller2_swift", "compute1_swift_storage"].map((id) =>
      fileIn(script(id), "/etc/swift/swift.conf"),
    );
    expect(new Set(confs).size).toBe(1);
    expect(iniSection(confs[0], "swift-hash")).toEqual({
      swift_hash_path_prefix: "{{secret:swift_hash_path_prefix}}",
      swift_hash_path_suffix: "{{secret:swift_hash_path_suffix}}",
    });
    // The storage host has the hash path but not the proxy's Keystone password.
    const storage = cluster.hosts.find((h) => h.hostName === "network1");
    expect(storage?.secretsDelivered).not.toContain("swift_hash_path_suffix");
    const compute1 = cluster.hosts.find((h) => h.hostName === "compute1");
    expect(compute1?.secretsDelivered).toEqual(
      expect.arrayContaining(["swift_hash_path_prefix", "swift_hash_path_suffix"]),
    );
    expect(compute1?.secretsDelivered).not.toContain("swift_keystone_password");
    const inputs = json.resource.terraform_data.compute1_swift_storage.triggers_replace?.inputs ?? "";
    expect(inputs).toContain("var.secret_swift_hash_path_suffix");
  });

  it("binds the storage servers and rsync to the host's management address", () => {
    const text = script("compute1_swift_storage");
    for (const [kind, port] of [
      ["account", "6202"],
      ["container", "6201"],
      ["object", "6200"],
    ]) {
      const conf = fileIn(text, `/etc/swift/${kind}-server.conf`);
      expect(iniSection(conf, "DEFAULT")).toMatchObject({
        bind_ip: "10.211.0.21",
        bind_port: port,
        devices: "/srv/node",
        mount_check: "false",
      });
      expect(iniSection(conf, "pipeline:main").pipeline).toBe(`healthcheck recon ${kind}-server`);
    }
    const rsyncd = fileIn(text, "/etc/rsyncd.conf");
    expect(rsyncd).toContain("\naddress = 10.211.0.21\n");
    expect(rsyncd).toContain("\nhosts allow = 10.211.0.0/24\nhosts deny = *\n");
    expect(text).toContain("\ninstall -d -o swift -g swift -m 0750 /srv/node /srv/node/swift\n");
    expect(text).not.toContain("mountpoint");
    expect(text).toContain("\nosc_restart_if_changed swift_storage swift-account swift-account-replicator ");
    expect(text).toContain("\nosc_wait_port 10.211.0.21 6200 60\n");
  });

  it("builds the rings once, on the first controller, from one spec, refusing another", () => {
    const spec =
      "swift_rings_spec='part_power=10 replicas=1 min_part_hours=1 seed=1 ports=account:6202,container:6201,object:6200 devices=z1/10.211.0.21/swift'";
    const text = script("controller1_swift");
    expect(text).toContain(`\n${spec}\n`);
    expect(text).toContain(" rebalance --seed 1 >/dev/null\n");
    expect(text).toContain("refusing to rebuild them");
    // The rings come before the service (re)starts.
    expect(text.indexOf(spec)).toBeLessThan(text.indexOf("osc_restart_if_changed swift"));
    for (const id of ["controller2_swift", "compute1_swift_storage"]) {
      expect(script(id)).not.toContain("swift_rings_spec=");
      expect(script(id)).not.toContain("swift-ring-builder");
    }
  });

  it("has the other Swift hosts fetch the rings, checked against the spec's hash, before their services start", () => {
    const hash = cluster.swift!.rings.specHash;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const fetches = {
      controller2_swift: "swift_rings_sources=(10.211.0.11)",
      compute1_swift_storage: "swift_rings_sources=(10.211.0.11 10.211.0.12)",
    };
    for (const [id, sources] of Object.entries(fetches)) {
      const text = script(id);
      expect(text).toContain(`\nswift_rings_sha256=${hash}\n`);
      expect(text).toContain(`\n  ${sources}\n`);
      // Accepted only when every file matches SHA256SUMS and rings.spec has the expected hash.
      expect(text).toContain('(cd "$tmp/x" && sha256sum --quiet --status -c SHA256SUMS) &&');
      expect(text).toContain(
        `[ "$(sha256sum <"$tmp/x/rings.spec" | cut -d' ' -f1)" = "$swift_rings_sha256" ]; then`,
      );
      const tag = id === "controller2_swift" ? "swift" : "swift_storage";
      expect(text.indexOf("swift_rings_sha256=")).toBeLessThan(text.indexOf(`osc_restart_if_changed ${tag}`));
    }
    // The controller that may build one day keeps the builders too; a storage host only the rings.
    expect(script("controller2_swift")).toContain("for f in account.ring.gz account.builder ");
    expect(script("compute1_swift_storage")).toContain(
      "for f in account.ring.gz container.ring.gz object.ring.gz; do",
    );
  });

  it("serves the rings from every controller on its management address, to the management network only", () => {
    for (const [id, address] of [
      ["controller1_swift", "10.211.0.11"],
      ["controller2_swift", "10.211.0.12"],
    ]) {
      const text = script(id);
      const socket = fileIn(text, "/etc/systemd/system/openstack-cdktf-swift-rings.socket");
      expect(socket).toContain(`\nListenStream=${address}:6210\nAccept=yes\n`);
      expect(socket).toContain("\nIPAddressAllow=10.211.0.0/24\nIPAddressDeny=any\n");
      const service = fileIn(text, "/etc/systemd/system/openstack-cdktf-swift-rings@.service");
      expect(service).toContain("\nExecStart=/bin/cat /var/lib/openstack-cdktf-swift-rings/rings.tar\n");
      expect(service).toContain("\nDynamicUser=true\n");
      expect(text).toContain(
        "\nosc_restart_if_changed swift_rings_serve openstack-cdktf-swift-rings.socket\n",
      );
      // A deterministic tar: the same files give the same bytes, and an unchanged export is not rewritten.
      expect(text).toContain('tar -C "$tmp" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner');
      expect(text).toContain(
        'if ! cmp -s "$tmp/rings.tar" /var/lib/openstack-cdktf-swift-rings/rings.tar; then',
      );
    }
    expect(script("compute1_swift_storage")).not.toContain("openstack-cdktf-swift-rings.socket");
  });
});

describe("Swift at scale", () => {
  it("keeps a storage host's script the same size whatever the number of storage hosts", () => {
    const sizes = [4, 40].map((n) => {
      const c = clusterOf((inv) => {
        const hosts = inv.hosts as Record<string, unknown>[];
        for (let i = 5; i <= n; i++) {
          hosts.push({
            name: `compute${i}`,
            address: `10.211.0.${100 + i}`,
            tunnelAddress: `10.213.0.${100 + i}`,
            roles: ["compute", "storage"],
          });
        }
      });
      return {
        storage: c.swift.storageHost(c.hosts[2]).scriptText.length,
        builder: c.swift.steps[0].scriptText.length,
      };
    });
    // Only the hash (64 hex digits either way) and nothing per device.
    expect(sizes[1].storage).toBe(sizes[0].storage);
    // The builder lists every device: it grows.
    expect(sizes[1].builder).toBeGreaterThan(sizes[0].builder + 36 * 3 * 100);
  });
});

describe("Swift in the 8-host layout", () => {
  const furyu = clusterOf(() => {});

  it("keeps 3 replicas over the 4 storage hosts, one zone each", () => {
    expect(furyu.swift.rings.replicas).toBe(3);
    expect(furyu.swift.rings.devices.map((d) => `${d.zone} ${d.address} ${d.device}`)).toEqual([
      "1 10.211.0.21 swift",
      "2 10.211.0.22 swift",
      "3 10.211.0.23 swift",
      "4 10.211.0.24 swift",
    ]);
    expect(furyu.swift.storageStepList.map((s) => s.logicalId)).toEqual(
      [1, 2, 3, 4].map((i) => `compute${i}_swift_storage`),
    );
  });

  it("takes a host's device, the partition power and mount_check from the inventory", () => {
    const c = clusterOf((inv) => {
      inv.swift = { partPower: 12, mountCheck: true };
      (inv.hosts as Record<string, unknown>[])[2].swiftDevice = "sdb1";
    });
    expect(c.swift.rings.spec).toContain("part_power=12 ");
    expect(c.swift.rings.spec).toContain("devices=z1/10.211.0.21/sdb1,z2/10.211.0.22/swift,");
    const text = c.swift.storageHost(c.hosts[2]).scriptText;
    expect(text).toContain("\nmountpoint -q /srv/node/sdb1 || {");
    expect(iniSection(fileIn(text, "/etc/swift/object-server.conf"), "DEFAULT").mount_check).toBe("true");
  });

  it("keeps images on the controllers' disks with imageStore: file", () => {
    const c = clusterOf((inv) => {
      inv.imageStore = "file";
    });
    expect(c.glance.usesObjectStore).toBe(false);
    const conf = fileIn(c.glance.steps[0].scriptText, "/etc/glance/glance-api.conf");
    expect(iniSection(conf, "glance_store").default_store).toBe("file");
  });

  it("refuses a host that is not one of its storage hosts", () => {
    const c = clusterOf(() => {});
    expect(() => c.swift.storageHost(c.hosts[0])).toThrow(
      "SwiftService.storageHost: got controller1: expected one of the storage hosts (compute1, compute2, compute3, compute4)",
    );
  });
});

describe("SwiftRings", () => {
  it("takes min(3, devices) replicas", () => {
    const devices = [1, 2, 3, 4, 5].map((zone) => ({ zone, address: `10.0.0.${zone}`, device: "d" }));
    expect([1, 2, 3, 5].map((n) => new SwiftRings(devices.slice(0, n), 10).replicas)).toEqual([1, 2, 3, 3]);
  });

  it("serves on an IPv6 management address in brackets (systemd reads fd00::11:6210 as an address)", () => {
    const rings = new SwiftRings([{ zone: 1, address: "fd00::21", device: "d" }], 10);
    const script = new ShellScript({ step: "swift", host: "controller1" });
    rings.serve(script, "fd00::11", "fd00::/64");
    const text = script.render();
    expect(text).toContain("\nListenStream=[fd00::11]:6210\nAccept=yes\n");
    expect(text).toContain("\nDescription=Swift rings for the other Swift hosts, on [fd00::11]:6210\n");
    expect(script.listeners).toEqual([
      { daemon: "openstack-cdktf-swift-rings.socket", address: "fd00::11", port: 6210, protocol: "tcp" },
    ]);
  });

  it("refuses what would not survive the shell or the ring builder", () => {
    const ok = { zone: 1, address: "10.0.0.1", device: "d" };
    expect(() => new SwiftRings([], 10)).toThrow("expected at least one");
    expect(() => new SwiftRings([ok], 30)).toThrow(
      "SwiftRings partPower: got 30: expected an integer from 6 to 22",
    );
    for (const device of ["../etc", "a b", "$(id)", ".", "x/y"]) {
      expect(() => new SwiftRings([{ ...ok, device }], 10)).toThrow(
        "expected an IP address and a device name",
      );
    }
  });
});

describe("Swift's inventory keys", () => {
  const bad = (change: (inv: Record<string, unknown>) => void) => {
    try {
      clusterOf(change);
    } catch (err) {
      return (err as Error).message;
    }
    return "no error";
  };

  it("refuses a device name that is not a plain directory name", () => {
    for (const device of ["../x", "a b", "-x", ".", "a/b", "x".repeat(65)]) {
      const message = bad((inv) => {
        (inv.hosts as Record<string, unknown>[])[2].swiftDevice = device;
      });
      expect(message).toBe(
        `inventory: hosts[2].swiftDevice: got ${quote(device)}: expected a device name under /srv/node: letters, digits, '_', '.', '-', starting with a letter or digit, at most 64 characters`,
      );
    }
  });

  it("refuses swiftDevice where no Swift storage runs, and a partition power out of range", () => {
    expect(
      bad((inv) => {
        (inv.hosts as Record<string, unknown>[])[0].swiftDevice = "sdb";
      }),
    ).toBe(
      'inventory: hosts[0].swiftDevice: got "sdb": expected no swiftDevice on a host without role storage (it is Swift\'s device there)',
    );
    expect(
      bad((inv) => {
        inv.swift = { partPower: 40 };
      }),
    ).toBe("inventory: swift.partPower: got 40: expected a partition power from 6 to 22");
    expect(
      bad((inv) => {
        inv.imageStore = "ceph";
      }),
    ).toMatch(/^inventory: imageStore: got "ceph": expected one of "swift"\|"file"$/);
  });
});
