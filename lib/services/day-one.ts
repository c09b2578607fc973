import * as fs from "fs";
import * as path from "path";
import { Construct } from "constructs";
import { ComponentDeclaration } from "../core/component";
import { PackagesByRelease, packagesFor } from "../core/releases/packages";
import { Step } from "../core/step";
import { Host } from "../hosts/host";
import { DayOneSettings, dayOneProblem, firstAddress } from "./day-one-settings";
import { ADMIN_OPENRC } from "./keystone";
import { quote } from "../core/field-rules";

const DAY_ONE_SCRIPT = fs.readFileSync(path.join(__dirname, "day-one.py"), "utf8");
const SCRIPT_PATH = "/usr/local/lib/openstack-cdktf/day-one.py";
const SPEC_PATH = "/etc/openstack-cdktf/day-one.json";

/** What day-one.py imports; python3-openstackclient (Keystone's) brings it already on a controller. */
export const DAY_ONE_PACKAGES: PackagesByRelease = {
  "debian-12-zed": ["python3-openstacksdk"],
  "debian-13-epoxy": ["python3-openstacksdk"],
  "ubuntu-2404-caracal": ["python3-openstacksdk"],
};

/** What day one declares for the catalog (lib/cluster/components.ts); it has no secrets. */
export const DAY_ONE_COMPONENT: ComponentDeclaration = {
  name: "day_one",
  packages: { dayOne: DAY_ONE_PACKAGES },
};

/** What `DayOne` needs: the controller it runs on, the settings, and the steps it waits for. */
export interface DayOneProps {
  /** Where the step runs: a controller with root's admin-openrc (KeystoneService writes it on each). */
  readonly host: Host;
  /** The flavor, networks and router to create (the inventory's `dayOne:` section, resolved); checked by `dayOneProblem`. */
  readonly settings: DayOneSettings;
  /** Steps after which Nova's and Neutron's APIs answer (and the agents run, once they exist). */
  readonly after: readonly Step[];
}

/**
 * The opt-in day-one content, like kolla-ansible's init-runonce: a flavor, an external network
 * (flat on the provider's physnet, with a subnet without DHCP and an allocation pool), a tenant
 * network of Neutron's default type with a DHCP subnet, and a router joining them, all in the
 * admin project. One step on `host` writes a spec (no secrets) and runs day-one.py through
 * openstacksdk with admin-openrc: what is missing is created, what exists is left alone.
 */
export class DayOne extends Construct {
  /** The flavor's name (`settings.flavor.name`). */
  readonly flavorName: string;
  /** The external network's name (`settings.external.name`). */
  readonly externalNetworkName: string;
  /** The external network's subnet: `<external name>-subnet`. */
  readonly externalSubnetName: string;
  /** The tenant network's name (`settings.tenant.name`). */
  readonly tenantNetworkName: string;
  /** The tenant network's subnet: `<tenant name>-subnet`. */
  readonly tenantSubnetName: string;
  /** The router's name (`settings.router.name`). */
  readonly routerName: string;
  /** The settings it was built from, checked. */
  readonly settings: DayOneSettings;
  /** The `day_one` step on `host`, which creates what is missing; it runs after `after`. */
  readonly step: Step;

  constructor(scope: Construct, id: string, props: DayOneProps) {
    super(scope, id);
    const settings = props.settings;
    const problem = dayOneProblem(settings);
    if (problem) {
      throw new Error(`DayOne ${problem.field}: got ${quote(problem.value)}: expected ${problem.expected}`);
    }
    this.settings = settings;
    this.flavorName = settings.flavor.name;
    this.externalNetworkName = settings.external.name;
    this.externalSubnetName = `${settings.external.name}-subnet`;
    this.tenantNetworkName = settings.tenant.name;
    this.tenantSubnetName = `${settings.tenant.name}-subnet`;
    this.routerName = settings.router.name;

    const host = props.host;
    const script = host
      .script("day_one")
      .comment(
        "Day-one flavor, networks and router in the admin project: created when absent, else left alone.",
      )
      .aptInstall(packagesFor("DayOne", DAY_ONE_PACKAGES, host.release))
      .writeFile(SCRIPT_PATH, DAY_ONE_SCRIPT, { mode: "0755", changeTag: "day_one" })
      .writeFile(SPEC_PATH, `${JSON.stringify(this.spec(), null, 2)}\n`, { changeTag: "day_one" })
      .raw("# shellcheck source=/dev/null")
      .raw(`( set +u; . ${ADMIN_OPENRC}; python3 ${SCRIPT_PATH} ${SPEC_PATH} )`);
    this.step = host.addStep("day_one", script, { owner: this, after: props.after });
  }

  /** What day-one.py reads: names and addresses, in the SDK's terms. */
  private spec(): Record<string, unknown> {
    const { flavor, external, tenant } = this.settings;
    return {
      flavor: { name: flavor.name, vcpus: flavor.vcpus, ram: flavor.ramMiB, disk: flavor.diskGiB },
      external: {
        name: external.name,
        physnet: external.physnet,
        subnet: this.externalSubnetName,
        cidr: external.cidr,
        gateway: external.gateway,
        allocation_pool: { start: external.allocationPool.start, end: external.allocationPool.end },
      },
      tenant: {
        name: tenant.name,
        subnet: this.tenantSubnetName,
        cidr: tenant.cidr,
        gateway: firstAddress(tenant.cidr),
      },
      router: { name: this.routerName },
    };
  }
}
