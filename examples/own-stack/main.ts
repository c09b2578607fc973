/**
 * A stack of one's own from the library's constructs, as a platform team writes it: one
 * controller with its base system, the database, the message broker, the cache, Keystone and
 * Glance (images on the controller's disk), with the security checks on. `npx ts-node main.ts`
 * (or `cdktf synth`) writes cdktf.out/stacks/identity/; main.test.ts tests it with cdktf's
 * matchers and a snapshot. In this repository `openstack-cdktf` is lib/ (tsconfig's paths);
 * test/package.test.ts runs both against the packed library installed in a fresh app.
 */
import { App, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import {
  addSecurityChecks,
  BaseSystem,
  ControllerNode,
  DEBIAN_13_EPOXY,
  GlanceService,
  Host,
  KeystoneService,
  Memcached,
  MysqlHaPair,
  RabbitMq,
} from "openstack-cdktf";

export class IdentityStack extends TerraformStack {
  readonly host: Host;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    addSecurityChecks(this);
    // The key is read at apply (TF_VAR_ssh_private_key, else this file): plan needs none.
    this.host = new Host(this, "ctl1", {
      name: "ctl1",
      address: "10.0.0.5",
      release: DEBIAN_13_EPOXY,
      privateKeyFile: "~/.ssh/id_ed25519",
    });
    new ControllerNode(this.host, "controller", { host: this.host });
    new BaseSystem(this.host, "base_system", {
      members: [{ name: "ctl1", address: "10.0.0.5" }],
      timeServers: ["0.debian.pool.ntp.org"],
      serveTimeTo: ["10.0.0.0/24"],
    });
    const controllers = [this.host];
    const clientAddress = "10.0.0.5"; // one controller: its own address, no VIP
    const managementCidr = "10.0.0.0/24";
    const context = {
      controllers,
      clientAddress,
      managementCidr,
      database: new MysqlHaPair(this, "database", { controllers, clientAddress, managementCidr }),
      messaging: new RabbitMq(this, "messaging", { controllers, clientAddress }),
      cache: new Memcached(this, "cache", { controllers }),
    };
    const keystone = new KeystoneService(this, "keystone", { context });
    new GlanceService(this, "glance", { context, keystone });
  }
}

if (require.main === module) {
  const app = new App();
  new IdentityStack(app, "identity");
  app.synth();
}
