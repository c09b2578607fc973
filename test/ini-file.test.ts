import { IniFile, secretPlaceholder } from "../lib/core/ini-file";

const NOVA_RENDERED = [
  "[DEFAULT]",
  "debug = false",
  "enabled_apis = osapi_compute",
  "enabled_apis = metadata",
  "my_ip = 192.168.10.11",
  "",
  "[api_database]",
  "connection = mysql+pymysql://nova:{{secret:nova_db_password}}@controller/nova_api",
  "",
  "[keystone_authtoken]",
  "memcached_servers = controller1:11211",
  "memcached_servers = controller2:11211",
  "password = {{secret:nova_keystone_password}}",
  "",
  "[oslo_concurrency]",
  "lock_path = /var/lib/nova/tmp",
  "",
  "[wsgi]",
  "api_paste_config = /etc/nova/api-paste.ini",
  "workers = 4",
  "",
].join("\n");

describe("IniFile", () => {
  it("renders [DEFAULT] first, then sections and keys in alphabetical order", () => {
    const ini = new IniFile()
      .set("wsgi", "workers", 4)
      .set("keystone_authtoken", "password", secretPlaceholder("nova_keystone_password"))
      .set("DEFAULT", "my_ip", "192.168.10.11")
      .set(
        "api_database",
        "connection",
        "mysql+pymysql://nova:{{secret:nova_db_password}}@controller/nova_api",
      )
      .set("wsgi", "api_paste_config", "/etc/nova/api-paste.ini")
      .set("oslo_concurrency", "lock_path", "/var/lib/nova/tmp")
      .set("keystone_authtoken", "memcached_servers", ["controller1:11211", "controller2:11211"])
      .set("DEFAULT", "enabled_apis", ["osapi_compute", "metadata"])
      .set("DEFAULT", "debug", false);
    expect(ini.render()).toBe(NOVA_RENDERED);
  });

  it("renders the same text whatever the insertion order", () => {
    const entries: [string, string, string | number | boolean][] = [
      ["zeta", "b", 1],
      ["DEFAULT", "z", "last"],
      ["alpha", "y", true],
      ["Beta", "x", "upper-case section"],
      ["alpha", "a", "first key"],
      ["DEFAULT", "a", "first"],
      ["zeta", "a", 0],
    ];
    const forwards = new IniFile();
    for (const [s, k, v] of entries) forwards.set(s, k, v);
    const backwards = new IniFile();
    for (const [s, k, v] of [...entries].reverse()) backwards.set(s, k, v);
    const fromObject = new IniFile({ zeta: { b: 1, a: 0 }, alpha: { y: true, a: "first key" } });
    fromObject
      .set("Beta", "x", "upper-case section")
      .set("DEFAULT", "z", "last")
      .set("DEFAULT", "a", "first");

    const expected = [
      "[DEFAULT]",
      "a = first",
      "z = last",
      "",
      "[alpha]",
      "a = first key",
      "y = true",
      "",
      "[Beta]",
      "x = upper-case section",
      "",
      "[zeta]",
      "a = 0",
      "b = 1",
      "",
    ].join("\n");
    expect(forwards.render()).toBe(expected);
    expect(backwards.render()).toBe(expected);
    expect(fromObject.render()).toBe(expected);
  });

  it("keeps the order of the values of a multi-valued key", () => {
    const ini = new IniFile().set("filter", "allowed", ["b", "a", "c"]);
    expect(ini.render()).toBe("[filter]\nallowed = b\nallowed = a\nallowed = c\n");
  });

  it("renders booleans and numbers as oslo.config reads them", () => {
    const ini = new IniFile({ DEFAULT: { use_syslog: true, debug: false, workers: 8, ratio: 1.5, port: 0 } });
    expect(ini.render()).toBe(
      "[DEFAULT]\ndebug = false\nport = 0\nratio = 1.5\nuse_syslog = true\nworkers = 8\n",
    );
  });

  it("replaces a key that is set again, and skips undefined values given to the constructor", () => {
    const ini = new IniFile({ DEFAULT: { a: "one", skipped: undefined } }).set("DEFAULT", "a", "two");
    expect(ini.render()).toBe("[DEFAULT]\na = two\n");
  });

  it("lists the secrets it refers to, sorted and once each", () => {
    const ini = new IniFile()
      .setSecret("keystone_authtoken", "password", "nova_keystone_password")
      .set("database", "connection", "mysql+pymysql://nova:{{secret:nova_db_password}}@controller/nova")
      .set(
        "api_database",
        "connection",
        "mysql+pymysql://nova:{{secret:nova_db_password}}@controller/nova_api",
      )
      .set("DEFAULT", "transport_url", ["rabbit://openstack:{{secret:rabbitmq_password}}@controller1"])
      .set("DEFAULT", "not_a_secret", "{{secret:Upper}} {{secret:}} {secret:x}");
    expect(ini.secretsUsed()).toEqual(["nova_db_password", "nova_keystone_password", "rabbitmq_password"]);
    expect(ini.render()).toContain("password = {{secret:nova_keystone_password}}\n");
    expect(new IniFile({ DEFAULT: { a: 1 } }).secretsUsed()).toEqual([]);
  });

  it("makes placeholders only from secret names", () => {
    expect(secretPlaceholder("glance_db_password")).toBe("{{secret:glance_db_password}}");
    expect(() => secretPlaceholder("Glance")).toThrow(
      'secret name: got "Glance": expected lowercase letters',
    );
    expect(() => secretPlaceholder("a}}b")).toThrow('secret name: got "a}}b"');
    expect(() => new IniFile().setSecret("DEFAULT", "x", "bad name")).toThrow('secret name: got "bad name"');
  });

  it.each([
    ["a line feed", "a\nb"],
    ["a carriage return", "a\rb"],
  ])("rejects a value with %s, also inside a list", (_name, value) => {
    expect(() => new IniFile().set("DEFAULT", "k", value)).toThrow(
      "INI value [DEFAULT] k: got a value with a line break: expected one line",
    );
    expect(() => new IniFile().set("DEFAULT", "k", ["fine", value])).toThrow("got a value with a line break");
    expect(() => new IniFile({ DEFAULT: { k: value } })).toThrow("got a value with a line break");
  });

  it.each([
    ["a section with ]", "a]b", "k", 'INI section: got "a]b": expected a section name'],
    ["a section with a line break", "a\nb", "k", "INI section: got"],
    ["an empty section", "", "k", 'INI section: got ""'],
    ["a key with =", "DEFAULT", "a=b", 'INI key [DEFAULT]: got "a=b": expected a key name'],
    ["a key with a space", "DEFAULT", "a b", 'INI key [DEFAULT]: got "a b"'],
    ["an empty key", "DEFAULT", "", 'INI key [DEFAULT]: got ""'],
  ])("rejects %s", (_name, section, key, message) => {
    expect(() => new IniFile().set(section, key, "v")).toThrow(message);
  });

  it("accepts the section and key names oslo.config uses", () => {
    const ini = new IniFile()
      .set("filter:authtoken", "paste.filter_factory", "keystonemiddleware.auth_token:filter_factory")
      .set("composite:osapi_compute", "/v2.1", "oscomputeversion_v2")
      .set("ml2_type_vxlan", "vni-ranges", "1:1000");
    expect(ini.render()).toBe(
      [
        "[composite:osapi_compute]",
        "/v2.1 = oscomputeversion_v2",
        "",
        "[filter:authtoken]",
        "paste.filter_factory = keystonemiddleware.auth_token:filter_factory",
        "",
        "[ml2_type_vxlan]",
        "vni-ranges = 1:1000",
        "",
      ].join("\n"),
    );
  });
});
