import { TerraformStack, Testing } from "cdktf";
import { Construct } from "constructs";
import { Endpoint } from "../lib/core/endpoint";
import { IniFile, IniValue, secretPlaceholder } from "../lib/core/ini-file";
import { DEBIAN_12_ZED } from "../lib/core/releases";
import { declareSecrets } from "../lib/core/secret-catalog";
import { Step } from "../lib/core/step";
import { Host } from "../lib/hosts/host";
import { Heartbeat } from "../lib/platform/heartbeat";
import { DatabaseHandle, ICache, IDatabase, IMessageBus, IVirtualAddress } from "../lib/platform/interfaces";
import { MysqlHaPair } from "../lib/platform/mysql-ha-pair";
import { RabbitMq } from "../lib/platform/rabbitmq";
import { ApiService, ApiServiceProps } from "../lib/services/api-service";
import { ClientAddress } from "../lib/platform/client-address";
import { clientOf, ControlPlaneContext } from "../lib/services/control-plane-context";
import { GlanceService } from "../lib/services/glance";
import { IIdentity, ServiceRegistration } from "../lib/services/identity";
import { forRelease } from "../lib/core/releases/packages";
import { NEUTRON_USER, NeutronService } from "../lib/services/neutron";
import { NovaService, NovaServiceProps } from "../lib/services/nova";
import { PLACEMENT_RELEASES, PLACEMENT_SECRETS, PlacementService } from "../lib/services/placement";
import { fileIn, iniSection, labSmall, standaloneControlPlane } from "./service-helpers";
import { StackJson } from "./support";

const release = DEBIAN_12_ZED;
const CIDR = "10.0.0.0/24";

function hosts(stack: TerraformStack, ...names: string[]): Host[] {
  return names.map((name, i) => new Host(stack, name, { name, address: `10.0.0.${i + 1}`, release }));
}

function dependsOn(stack: TerraformStack, id: string): string[] {
  const json = JSON.parse(Testing.synth(stack)) as StackJson;
  return (json.resource.terraform_data[id].depends_on ?? []).map((d) => d.replace(/^terraform_data\./, ""));
}

describe("Endpoint", () => {
  it("builds URLs and host:port pairs, bracketing IPv6 in one place", () => {
    expect(Endpoint.of("10.0.0.10").url(5000, "/v3")).toBe("http://10.0.0.10:5000/v3");
    expect(Endpoint.of("fd00::10").url(5000, "/v3")).toBe("http://[fd00::10]:5000/v3");
    expect(Endpoint.of("fd00::10").hostPort(11211)).toBe("[fd00::10]:11211");
    expect(Endpoint.of("fd00::10").url(undefined, "/horizon/")).toBe("http://[fd00::10]/horizon/");
    expect(Endpoint.of("controller").urlHost).toBe("controller");
    expect(() => Endpoint.of("[fd00::1]")).toThrow(/expected an IP address or a hostname/);
  });
});

describe("the VIP comes before the servers that bind to it, by the wiring", () => {
  it("a VIP no controller has, without what brings it up, is a clear error", () => {
    const stack = new TerraformStack(Testing.app(), "t");
    const controllers = hosts(stack, "ctl1", "ctl2");
    expect(
      () => new MysqlHaPair(stack, "db", { controllers, clientAddress: "10.0.0.100", managementCidr: CIDR }),
    ).toThrow(
      /MysqlHaPair clientAddress: got 10.0.0.100, which is no controller's own address: expected `vip`/,
    );
    expect(() => new RabbitMq(stack, "mq", { controllers, clientAddress: "10.0.0.100" })).toThrow(
      /RabbitMq clientAddress: got 10.0.0.100/,
    );
  });

  it("given the Heartbeat, MariaDB and RabbitMQ take its address and run after it on each controller", () => {
    const stack = new TerraformStack(Testing.app(), "t");
    const controllers = hosts(stack, "ctl1", "ctl2");
    const vip = new Heartbeat(stack, "ha", { controllers, vip: "10.0.0.100", prefixLength: 24 });
    const db = new MysqlHaPair(stack, "db", { controllers, vip, managementCidr: CIDR });
    const mq = new RabbitMq(stack, "mq", { controllers, vip });
    expect(db.endpoint.address).toBe("10.0.0.100");
    expect(mq.transportUrl).toBe("rabbit://openstack:{{secret:rabbitmq_password}}@10.0.0.100:5672/");
    expect(vip.readyFor(controllers[1]).map((s) => s.logicalId)).toEqual(["ctl2_heartbeat"]);
    expect(dependsOn(stack, "ctl2_mysql")).toContain("ctl2_heartbeat");
    expect(
      () =>
        new MysqlHaPair(stack, "db2", { controllers, vip, clientAddress: "10.0.0.7", managementCidr: CIDR }),
    ).toThrow(/MysqlHaPair vip: got "10.0.0.100": expected the client address 10.0.0.7/);
  });

  it("a VIP brought up on another host is waited for through depends_on", () => {
    const stack = new TerraformStack(Testing.app(), "t");
    const [gateway, ctl1] = hosts(stack, "gw", "ctl1");
    const up = gateway.addStep("vip", gateway.script("vip").raw("true"));
    const vip: IVirtualAddress = { address: "10.0.0.100", readyFor: () => [up] };
    new MysqlHaPair(stack, "db", { controllers: [ctl1], vip, managementCidr: CIDR });
    expect(dependsOn(stack, "ctl1_mysql")).toContain("gw_vip");
  });
});

/** An existing Galera cluster: each database is created by a step on an admin host. */
class ExistingGalera implements IDatabase {
  readonly endpoint = Endpoint.of("fd00::50");
  readonly port = 3306;
  constructor(private readonly admin: Host) {}

  database(name: string, user: string, secretName: string): DatabaseHandle {
    const script = this.admin.script(`galera_${name}`).raw(`echo create ${name} for ${user}`);
    const step = this.admin.addStep(`galera_${name}`, script, { secrets: [secretName] });
    const password = secretPlaceholder(secretName);
    return { url: `mysql+pymysql://${user}:${password}@${this.endpoint.hostPort(this.port)}/${name}`, step };
  }
}

/** An existing Keystone: registrations are made by a step on an admin host. */
class ExistingKeystone implements IIdentity {
  readonly authUrl = "https://keystone.example.org:5000/v3";
  readonly region = "Elsewhere";
  readonly registered: string[] = [];
  constructor(private readonly admin: Host) {}

  authtoken(user: string, secret: string): Record<string, IniValue> {
    return {
      auth_url: "https://keystone.example.org:5000",
      username: user,
      password: secretPlaceholder(secret),
    };
  }

  serviceCredentials(user: string, secret: string): Record<string, IniValue> {
    return { ...this.authtoken(user, secret), region_name: this.region };
  }

  register(registration: ServiceRegistration): Step {
    this.registered.push(`${registration.name} ${registration.type} ${registration.url}`);
    return this.admin.addStep(
      `register_${registration.name}`,
      this.admin.script(`register_${registration.name}`),
    );
  }
}

describe("a service on an existing database and Keystone, through IDatabase and IIdentity", () => {
  const stack = new TerraformStack(Testing.app(), "t");
  const [admin, ctl1, ctl2] = hosts(stack, "admin", "ctl1", "ctl2");
  const messaging: IMessageBus = {
    transportUrl: "rabbit://x@10.0.0.70:5672/",
    secrets: [],
    readyFor: () => [],
  };
  const cache: ICache = { servers: "10.0.0.60:11211", readyFor: () => [] };
  const context: ControlPlaneContext = {
    controllers: [ctl1, ctl2],
    clientAddress: "10.0.0.2",
    managementCidr: CIDR,
    database: new ExistingGalera(admin),
    messaging,
    cache,
  };
  const keystone = new ExistingKeystone(admin);
  const glance = new GlanceService(stack, "glance", { context, keystone });

  it("uses their URLs and settings", () => {
    const conf = fileIn(glance.steps[0].scriptText, "/etc/glance/glance-api.conf");
    expect(iniSection(conf, "database").connection).toBe(
      "mysql+pymysql://glance:{{secret:glance_db_password}}@[fd00::50]:3306/glance",
    );
    expect(iniSection(conf, "keystone_authtoken").auth_url).toBe("https://keystone.example.org:5000");
    expect(keystone.registered).toEqual(["glance image http://10.0.0.2:9292"]);
  });

  it("waits for the steps they name, on whatever host they run", () => {
    expect(dependsOn(stack, "ctl1_glance")).toEqual(
      expect.arrayContaining(["admin_galera_glance", "admin_register_glance"]),
    );
    expect(dependsOn(stack, "ctl2_glance")).toContain("ctl1_glance");
    expect(stack.node.findAll().some((c) => c instanceof MysqlHaPair)).toBe(false);
  });
});

/** What a new API service amounts to: a spec and its config file (here under Placement's name and secrets). */
class MinimalApi extends ApiService {
  constructor(scope: Construct, id: string, props: ApiServiceProps) {
    // A new service declares its secrets in its stack, as each component does.
    declareSecrets(scope, PLACEMENT_SECRETS);
    super(scope, id, props, {
      name: "placement",
      port: 8778,
      catalog: { type: "placement", description: "A new API" },
      databases: ["placement"],
      configFile: "/etc/placement/placement.conf",
      syncCommand: ["placement-manage", "db", "sync"],
      packages: {
        "debian-12-zed": ["placement-api"],
        "debian-13-epoxy": ["placement-api"],
        "ubuntu-2404-caracal": ["placement-api"],
      },
      units: () => ["placement-api"],
      uwsgiConfigs: (release) => forRelease("placement", PLACEMENT_RELEASES, release).uwsgiConfigs ?? [],
    });
    this.deploy();
  }

  protected config(): IniFile {
    return new IniFile({
      keystone_authtoken: this.keystone.authtoken("placement", this.userSecret),
      placement_database: { connection: this.databases[0].url },
    });
  }
}

describe("ApiService, the recipe a new API service uses", () => {
  const { stack, context, keystone } = standaloneControlPlane(DEBIAN_12_ZED, { apiWorkers: 3 });
  const api = new MinimalApi(stack, "api", { context, keystone });

  it("makes the database, the registration and a step per controller, the first one migrating", () => {
    expect(api.url).toBe("http://10.9.0.100:8778");
    expect(api.databaseStep.logicalId).toBe("ctl1_db_placement");
    expect(api.registrationStep.logicalId).toBe("ctl1_keystone_placement");
    expect(api.steps.map((s) => s.logicalId)).toEqual(["ctl1_placement", "ctl2_placement"]);
    expect(api.firstStep.scriptText).toContain("\nosc_schema_sync_begin placement\n");
    expect(api.steps[1].scriptText).not.toContain("\nosc_schema_sync_begin placement\n");
    expect(api.firstStep.scriptText).toContain(
      "\nosc_ini_set placement /etc/placement/placement-api-uwsgi.ini uwsgi processes 3\n",
    );
    expect(api.firstStep.scriptText).toContain("\nosc_wait_port 10.9.0.1 8778 120\n");
    expect(dependsOn(stack, "ctl2_placement")).toContain("ctl1_placement");
    expect(
      api.node
        .findAll()
        .filter((c) => c instanceof Step)
        .map((s) => (s as Step).logicalId),
    ).toEqual(["ctl1_placement", "ctl2_placement"]);
  });
});

describe("one client address, built once and passed by reference", () => {
  it("says its address, whether it is a VIP, what to wait for and where servers listen", () => {
    const stack = new TerraformStack(Testing.app(), "t");
    const controllers = hosts(stack, "ctl1", "ctl2");
    const heartbeat = new Heartbeat(stack, "ha", { controllers, vip: "10.0.0.100", prefixLength: 24 });
    const vip = ClientAddress.ofVip(heartbeat);
    expect([vip.address, vip.isVip, vip.vip]).toEqual(["10.0.0.100", true, "10.0.0.100"]);
    expect(vip.readyFor(controllers[1]).map((s) => s.logicalId)).toEqual(["ctl2_heartbeat"]);
    expect(vip.listenAddresses(controllers[1])).toEqual(["10.0.0.2", "10.0.0.100"]);
    const own = ClientAddress.ofController(controllers[0]);
    expect([own.address, own.isVip, own.vip]).toEqual(["10.0.0.1", false, undefined]);
    expect(own.readyFor(controllers[0])).toEqual([]);
    expect(own.listenAddresses(controllers[0])).toEqual(["10.0.0.1"]);
  });

  it("the cluster hands the same object to the database, the broker and the control plane", () => {
    const { cluster } = labSmall();
    const client = cluster.controlPlane.client as ClientAddress;
    expect(client).toBeInstanceOf(ClientAddress);
    expect([client.address, client.isVip]).toEqual(["10.211.0.10", true]);
    expect(cluster.database.endpoint).toBe(client.endpoint);
    expect(cluster.messaging.endpoint).toBe(client.endpoint);
    expect(clientOf(cluster.controlPlane)).toBe(client);
  });

  it("a context whose client object contradicts its clientAddress is a clear error", () => {
    const stack = new TerraformStack(Testing.app(), "t");
    const [ctl] = hosts(stack, "ctl1");
    const context = {
      controllers: [ctl],
      clientAddress: "10.0.0.1",
      client: ClientAddress.of("10.0.0.9", true),
    };
    expect(() => clientOf(context as unknown as ControlPlaneContext)).toThrow(
      'ControlPlaneContext client: got "10.0.0.9": expected the client address 10.0.0.1',
    );
  });
});

describe("services hand out their credentials and URL; no service spells another's", () => {
  it("Nova's [placement] authenticates as the Placement it is given, [glance] uses the URL given", () => {
    const { stack, context, keystone } = standaloneControlPlane(DEBIAN_12_ZED);
    const placement = new PlacementService(stack, "placement", { context, keystone });
    expect(placement.credentials).toEqual({ name: "placement", secret: "placement_keystone_password" });
    // Another user, whose secret the catalog knows: the section follows the object, not a literal.
    const other = { credentials: { name: "placement_ops", secret: placement.credentials.secret } };
    const nova = new NovaService(stack, "nova", {
      context,
      keystone,
      placement: other,
      neutronUser: NEUTRON_USER,
      glanceUrl: "http://images.example:9292",
    });
    const conf = fileIn(nova.steps[0].scriptText, "/etc/nova/nova.conf");
    expect(iniSection(conf, "placement").username).toBe("placement_ops");
    expect(iniSection(conf, "placement").password).toBe(secretPlaceholder("placement_keystone_password"));
    expect(iniSection(conf, "neutron").username).toBe("neutron");
    expect(iniSection(conf, "glance").api_servers).toBe("http://images.example:9292");
  });

  it("Neutron notifies the Nova it is given, and its metadata agents sign with Nova's secret", () => {
    const { stack, context, keystone } = standaloneControlPlane(DEBIAN_12_ZED);
    const nova = new NovaService(stack, "nova", { context, keystone });
    const neutron = new NeutronService(stack, "neutron", { context, keystone, nova });
    const conf = fileIn(neutron.serverSteps[0].scriptText, "/etc/neutron/neutron.conf");
    expect(iniSection(conf, "nova").username).toBe(nova.credentials.name);
    expect(iniSection(conf, "nova").password).toBe(secretPlaceholder(nova.credentials.secret));
  });

  it("in the cluster, each service's config takes the owner's objects", () => {
    const { cluster } = labSmall();
    const nova = fileIn(cluster.nova.steps[0].scriptText, "/etc/nova/nova.conf");
    expect(iniSection(nova, "placement").password).toBe(
      secretPlaceholder(cluster.placement.credentials.secret),
    );
    expect(iniSection(nova, "glance").api_servers).toBe(cluster.glance.url);
    const neutron = fileIn(cluster.neutron.serverSteps[0].scriptText, "/etc/neutron/neutron.conf");
    expect(iniSection(neutron, "nova").password).toBe(secretPlaceholder(cluster.nova.credentials.secret));
  });

  it("a service not built cannot be referenced: a secret's name is no credentials object", () => {
    const { context, keystone } = standaloneControlPlane(DEBIAN_12_ZED);
    // `npm run typecheck` proves it: the line below compiles only with the error it expects.
    const props: NovaServiceProps = {
      context,
      keystone,
      // @ts-expect-error Nova takes Placement's object (`placement.credentials`), not a secret's name.
      placement: "placement_keystone_password",
    };
    expect(typeof props.placement).toBe("string");
  });
});
