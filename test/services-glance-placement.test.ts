import { DEBIAN_12_ZED, UBUNTU_2404_CARACAL } from "../lib/core/releases";
import { GlanceService } from "../lib/services/glance";
import { PlacementService } from "../lib/services/placement";
import {
  dependsOn,
  fileIn,
  iniSection,
  installLine,
  labSmall,
  plainSecrets,
  standaloneControlPlane,
  stepScript,
} from "./service-helpers";

const { cluster, json } = labSmall();
const script = (id: string) => stepScript(cluster, id);
const AUTHTOKEN_COMMON = {
  www_authenticate_uri: "http://10.211.0.10:5000",
  auth_url: "http://10.211.0.10:5000",
  memcached_servers: "10.211.0.11:11211,10.211.0.12:11211",
  auth_type: "password",
  project_domain_name: "Default",
  user_domain_name: "Default",
  project_name: "service",
  service_token_roles_required: "true",
};

/** The JSON spec the Keystone registration step writes for a service. */
function registration(name: string): {
  user: { name: string; password: string };
  service: { name: string; type: string; endpoints: Record<string, string> };
} {
  return JSON.parse(
    fileIn(script(`controller1_keystone_${name}`), `/etc/openstack-cdktf/keystone/${name}.json`),
  );
}

describe("GlanceService in the small lab layout", () => {
  const conf1 = fileIn(script("controller1_glance"), "/etc/glance/glance-api.conf");
  const conf2 = fileIn(script("controller2_glance"), "/etc/glance/glance-api.conf");

  it("runs on both controllers only, after its database, Keystone records and Swift's proxies", () => {
    const ids = cluster.steps.map((s) => s.logicalId);
    expect(ids.filter((id) => /glance/.test(id))).toEqual([
      "controller1_db_glance",
      "controller1_keystone_glance",
      "controller1_glance",
      "controller2_glance",
    ]);
    expect(cluster.glance.steps.map((s) => s.logicalId)).toEqual([
      "controller1_glance",
      "controller2_glance",
    ]);
    expect(dependsOn(json, "controller1_keystone_glance")).toEqual(
      expect.arrayContaining(["controller1_db_glance", "controller1_keystone"]),
    );
    expect(dependsOn(json, "controller1_glance")).toEqual(
      expect.arrayContaining(["controller1_db_glance", "controller1_keystone_glance"]),
    );
    // The second controller starts after the first has created the schema; each after its own
    // Swift proxy (its image store, earlier in its chain), not the other controller's.
    expect(dependsOn(json, "controller2_glance")).toEqual(
      expect.arrayContaining(["controller2_swift", "controller1_glance"]),
    );
    expect(dependsOn(json, "controller2_glance")).not.toContain("controller1_swift");
    expect(dependsOn(json, "controller1_glance")).not.toContain("controller2_swift");
    expect(cluster.swift.readyFor(cluster.hosts[0]).map((s) => s.logicalId)).toEqual(["controller1_swift"]);
    expect(ids.indexOf("controller1_swift")).toBeLessThan(ids.indexOf("controller1_glance"));
  });

  it("registers the user glance and the image service at :9292 on the VIP", () => {
    const spec = registration("glance");
    expect(spec.user).toEqual({
      name: "glance",
      password: "{{secret:glance_keystone_password}}",
      roles: ["admin", "service"],
    });
    expect(spec.service.type).toBe("image");
    expect(spec.service.endpoints).toEqual({
      public: "http://10.211.0.10:9292",
      internal: "http://10.211.0.10:9292",
      admin: "http://10.211.0.10:9292",
    });
    expect(cluster.glance.url).toBe("http://10.211.0.10:9292");
  });

  it("writes glance-api.conf whole: database through the VIP, Swift store, Keystone auth", () => {
    // The same on both controllers but for the address the API binds: each its own.
    expect(iniSection(conf2, "DEFAULT").bind_host).toBe("10.211.0.12");
    expect(conf1.replace("bind_host = 10.211.0.11", "")).toBe(conf2.replace("bind_host = 10.211.0.12", ""));
    expect(iniSection(conf1, "database")).toEqual({
      connection: "mysql+pymysql://glance:{{secret:glance_db_password}}@10.211.0.10/glance?charset=utf8",
      max_retries: "-1",
    });
    // New images go to Swift; the file store stays readable for images already there.
    expect(iniSection(conf1, "glance_store")).toEqual({
      stores: "file,http,swift",
      default_store: "swift",
      filesystem_store_datadir: "/var/lib/glance/images/",
      swift_store_multi_tenant: "false",
      swift_store_container: "glance",
      swift_store_create_container_on_put: "true",
      swift_store_config_file: "/etc/glance/glance-swift-store.conf",
      default_swift_reference: "glance",
      swift_store_endpoint_type: "internalURL",
    });
    // Glance's own user in the service project, its password filled in on the host.
    const store = fileIn(script("controller1_glance"), "/etc/glance/glance-swift-store.conf");
    expect(iniSection(store, "glance")).toEqual({
      auth_version: "3",
      auth_address: "http://10.211.0.10:5000/v3",
      user: "service:glance",
      key: "{{secret:glance_keystone_password}}",
      user_domain_id: "default",
      project_domain_id: "default",
    });
    expect(installLine(script("controller1_glance"), "/etc/glance/glance-swift-store.conf")).toMatch(
      / root glance 0640 --fill-secrets /,
    );
    expect(plainSecrets(store)).toEqual([]);
    expect(iniSection(conf1, "keystone_authtoken")).toEqual({
      ...AUTHTOKEN_COMMON,
      username: "glance",
      password: "{{secret:glance_keystone_password}}",
    });
    expect(iniSection(conf1, "paste_deploy")).toEqual({ flavor: "keystone" });
    // Debian runs glance-api without uwsgi: its processes are the workers, on one address.
    expect(iniSection(conf1, "DEFAULT")).toEqual({ bind_host: "10.211.0.11", workers: "2" });
    expect(installLine(script("controller1_glance"), "/etc/glance/glance-api.conf")).toMatch(
      / root glance 0640 --fill-secrets /,
    );
    expect(plainSecrets(conf1)).toEqual([]);
  });

  it("creates the schema once, as glance, on the first controller, then restarts on change", () => {
    expect(script("controller1_glance")).toContain("\nosc_as glance glance-manage db_sync\n");
    expect(script("controller2_glance")).not.toContain("db_sync");
    // The shipped metadata definitions, after the schema, merged (a cut load is completed).
    const first = script("controller1_glance");
    expect(first).toContain("\nosc_as glance glance-manage db load_metadefs --merge\n");
    expect(first.indexOf("load_metadefs")).toBeGreaterThan(first.indexOf("osc_schema_sync_end glance"));
    expect(script("controller2_glance")).not.toContain("load_metadefs");
    for (const id of ["controller1_glance", "controller2_glance"]) {
      const text = script(id);
      expect(text).toContain("\nosc_apt_install glance-api python3-swiftclient\n");
      expect(text).toContain("\nosc_restart_if_changed glance glance-api\n");
      expect(text.indexOf("osc_install_file glance /etc/glance/glance-api.conf")).toBeLessThan(
        text.indexOf("osc_restart_if_changed glance"),
      );
    }
    expect(script("controller2_glance")).toContain("\nosc_wait_port 10.211.0.12 9292 120\n");
    // The image directory is created only when missing: it may be an operator's NFS mount.
    expect(script("controller1_glance")).toContain(
      "\n[ -d /var/lib/glance/images/ ] || install -d -o glance -g glance -m 0750 /var/lib/glance/images/\n",
    );
  });

  it("re-runs when its secrets change", () => {
    const inputs = json.resource.terraform_data.controller2_glance.triggers_replace?.inputs ?? "";
    expect(inputs).toContain("var.secret_glance_db_password");
    expect(inputs).toContain("var.secret_glance_keystone_password");
  });
});

describe("GlanceService on its own", () => {
  it("keeps images where the operator mounts shared storage", () => {
    const { stack, context, keystone } = standaloneControlPlane(DEBIAN_12_ZED, { apiWorkers: 3 });
    const glance = new GlanceService(stack, "glance", { context, keystone, dataDir: "/srv/glance images" });
    const text = glance.steps[0].scriptText;
    // Without an object store, the file store alone.
    expect(iniSection(fileIn(text, "/etc/glance/glance-api.conf"), "glance_store")).toEqual({
      stores: "file,http",
      default_store: "file",
      filesystem_store_datadir: "/srv/glance images",
    });
    expect(text).not.toContain("glance-swift-store.conf");
    expect(
      iniSection(fileIn(text, "/etc/glance/glance-api.conf"), "glance_store").filesystem_store_datadir,
    ).toBe("/srv/glance images");
    expect(iniSection(fileIn(text, "/etc/glance/glance-api.conf"), "DEFAULT")).toEqual({
      bind_host: "10.9.0.1",
      workers: "3",
    });
    expect(text).toContain(
      "\n[ -d '/srv/glance images' ] || install -d -o glance -g glance -m 0750 '/srv/glance images'\n",
    );
    expect(glance.url).toBe("http://10.9.0.100:9292");
    expect(() => new GlanceService(stack, "glance2", { context, keystone, dataDir: "images" })).toThrow(
      'GlanceService dataDir: got "images": expected an absolute path',
    );
  });
});

describe("PlacementService in the small lab layout", () => {
  const conf = fileIn(script("controller1_placement"), "/etc/placement/placement.conf");

  it("runs on both controllers, after its database and Keystone records", () => {
    expect(cluster.steps.map((s) => s.logicalId).filter((id) => /placement/.test(id))).toEqual([
      "controller1_db_placement",
      "controller1_keystone_placement",
      "controller1_placement",
      "controller2_placement",
    ]);
    expect(dependsOn(json, "controller1_placement")).toEqual(
      expect.arrayContaining(["controller1_db_placement", "controller1_keystone_placement"]),
    );
    expect(dependsOn(json, "controller2_placement")).toContain("controller1_placement");
  });

  it("registers the user placement and the placement service at :8778", () => {
    const spec = registration("placement");
    expect(spec.user.name).toBe("placement");
    expect(spec.user.password).toBe("{{secret:placement_keystone_password}}");
    expect(spec.service.type).toBe("placement");
    expect(new Set(Object.values(spec.service.endpoints))).toEqual(new Set(["http://10.211.0.10:8778"]));
  });

  it("writes placement.conf whole: its own database section, Keystone auth", () => {
    expect(iniSection(conf, "placement_database")).toEqual({
      connection:
        "mysql+pymysql://placement:{{secret:placement_db_password}}@10.211.0.10/placement?charset=utf8",
      max_retries: "-1",
    });
    expect(iniSection(conf, "api")).toEqual({ auth_strategy: "keystone" });
    expect(iniSection(conf, "keystone_authtoken")).toEqual({
      ...AUTHTOKEN_COMMON,
      username: "placement",
      password: "{{secret:placement_keystone_password}}",
    });
    expect(installLine(script("controller2_placement"), "/etc/placement/placement.conf")).toMatch(
      / root placement 0640 --fill-secrets /,
    );
    expect(plainSecrets(conf)).toEqual([]);
  });

  it("sets uwsgi's processes, syncs the schema once as placement, restarts on change", () => {
    for (const id of ["controller1_placement", "controller2_placement"]) {
      expect(script(id)).toContain(
        "\nosc_ini_set placement /etc/placement/placement-api-uwsgi.ini uwsgi processes 2\n",
      );
      expect(script(id)).toContain("\nosc_restart_if_changed placement placement-api\n");
    }
    expect(script("controller1_placement")).toContain("\nosc_as placement placement-manage db sync\n");
    expect(script("controller2_placement")).not.toContain("db sync");
  });
});

describe("PlacementService on its own", () => {
  it("follows the context's API workers on Debian, and Apache on Ubuntu", () => {
    const debian = standaloneControlPlane(DEBIAN_12_ZED, { apiWorkers: 4 });
    const onDebian = new PlacementService(debian.stack, "placement", debian);
    expect(onDebian.steps.map((s) => s.logicalId)).toEqual(["ctl1_placement", "ctl2_placement"]);
    expect(onDebian.steps[1].scriptText).toContain(
      "\nosc_ini_set placement /etc/placement/placement-api-uwsgi.ini uwsgi processes 4\n",
    );
    const ubuntu = standaloneControlPlane(UBUNTU_2404_CARACAL);
    const onUbuntu = new PlacementService(ubuntu.stack, "placement", ubuntu);
    expect(onUbuntu.steps[0].scriptText).not.toContain("uwsgi");
    expect(onUbuntu.steps[0].scriptText).toContain("\nosc_restart_if_changed placement apache2\n");
  });
});
