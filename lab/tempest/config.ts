/**
 * `tempest.conf` from the cloud's own facts (./facts.ts). A service is available to Tempest
 * only when it can serve its tests: in the catalog and, for Nova and Cinder, with the daemon
 * that does the work (nova-compute, cinder-volume) reporting up, so that the data plane's and
 * storage's tests join the run as soon as those are deployed. Neutron's extension list is
 * Neutron's own answer, not a guess.
 */
import { IniFile } from "../../lib/core/ini-file";
import { ComputeRefs } from "./compute-refs";
import { GuestImage } from "../checks/guest-image";
import { AdminCredentials, CloudFacts, Microversions } from "./facts";

export interface TempestPaths {
  readonly logDir: string;
  /** Tempest's own debug log, a file name in logDir. */
  readonly logFile: string;
  readonly lockDir: string;
}

/** oslo.config interpolates `$name`; a literal dollar is written `$$`. */
function literal(value: string): string {
  return value.replace(/\$/g, "$$$$");
}

export function serviceAvailability(facts: CloudFacts): Record<string, boolean> {
  const inCatalog = (type: string) => type in facts.publicUrls;
  return {
    cinder: inCatalog("volumev3") && facts.volumeServicesUp.includes("cinder-volume"),
    glance: inCatalog("image"),
    horizon: facts.dashboardUrl !== undefined,
    neutron: inCatalog("network"),
    nova: inCatalog("compute") && facts.computeServicesUp.includes("nova-compute"),
    swift: inCatalog("object-store"),
  };
}

/** `min_microversion` and `max_microversion` for an API's section, when the API answered them. */
function microversionRange(range: Microversions | undefined): Record<string, string> {
  return range ? { min_microversion: range.min, max_microversion: range.max } : {};
}

/**
 * `[scenario]`: the image scenario tests upload themselves (test_minimum_basic), the lab's guest
 * as a file Tempest can read; Tempest's default is a devstack path to CirrOS.
 */
function scenarioImage(image: GuestImage): Record<string, string> {
  return {
    img_file: image.file,
    img_disk_format: image.diskFormat,
    img_container_format: image.containerFormat,
    img_properties: Object.entries(image.properties)
      .map(([k, v]) => `${k}:${v}`)
      .join(","),
  };
}

export function tempestConf(
  facts: CloudFacts,
  admin: AdminCredentials,
  paths: TempestPaths,
  compute?: ComputeRefs,
  image?: GuestImage,
): string {
  const available = serviceAvailability(facts);
  if (available.nova && !compute) {
    // Server tests need an image and a flavor to boot. Say so rather than let every compute
    // test fail on a missing ref.
    throw new Error(
      "tempest: nova-compute is up but no image and flavor were given for [compute] image_ref/flavor_ref",
    );
  }
  if (facts.externalNetworks.length > 1) {
    throw new Error(
      `tempest: external networks ${JSON.stringify(facts.externalNetworks.map((n) => n.id))}: expected at most one for [network] public_network_id`,
    );
  }
  const ext = new Set(facts.networkExtensions);
  const validating = available.nova && available.neutron && facts.externalNetworks.length === 1;
  const conf = new IniFile({
    DEFAULT: { log_dir: paths.logDir, log_file: paths.logFile, use_stderr: false },
    oslo_concurrency: { lock_path: paths.lockDir },
    auth: {
      admin_username: admin.username,
      admin_password: literal(admin.password),
      admin_project_name: admin.projectName,
      admin_domain_name: admin.domainName,
      use_dynamic_credentials: true,
      // Each test class gets its own project network only when Neutron is there to make it.
      create_isolated_networks: available.neutron,
    },
    identity: {
      uri_v3: facts.identityUrl,
      auth_version: "v3",
      region: facts.region,
      v3_endpoint_type: "publicURL",
    },
    "identity-feature-enabled": {
      // Keystone's v2 API was removed in Queens; trusts and access rules exist in every
      // release the library supports (Zed and later).
      api_v2_admin: false,
      trust: true,
      access_rules: true,
    },
    service_available: available,
    image: { region: facts.region },
    "image-feature-enabled": {
      import_image: facts.imageImportMethods.includes("glance-direct"),
      // Glance reserves the os_glance_* properties since Wallaby; every supported release has it.
      os_glance_reserved: true,
    },
    network: {
      region: facts.region,
      public_network_id: facts.externalNetworks[0]?.id,
      // Nova's floating-IP API names the pool by the network's name (Tempest's default: "public").
      floating_network_name: facts.externalNetworks[0]?.name,
    },
    "network-feature-enabled": {
      api_extensions: facts.networkExtensions.join(","),
      port_security: ext.has("port-security"),
      // ipv6_ra_mode / ipv6_address_mode are core subnet attributes since Juno.
      ipv6_subnet_attributes: true,
    },
    compute: {
      region: facts.region,
      ...(compute
        ? {
            image_ref: compute.imageRef,
            image_ref_alt: compute.imageRefAlt,
            flavor_ref: compute.flavorRef,
            flavor_ref_alt: compute.flavorRefAlt,
          }
        : {}),
      // The cloud's range: without it every microversioned test skips.
      ...microversionRange(facts.computeMicroversions),
    },
    volume: {
      region: facts.region,
      catalog_type: "volumev3",
      ...microversionRange(facts.volumeMicroversions),
    },
    // Tests log in to their servers through a floating IP with a key pair, as root: the lab's
    // guest (lab/test-image.ts) takes the key from the metadata service, runs dropbear, and
    // carries what Tempest's guest commands need (sudo, curl, lsblk, blkid, mkfs, the config
    // drive). Without an external network there is no floating IP to log in through.
    validation: validating
      ? {
          run_validation: true,
          connect_method: "floating",
          auth_method: "keypair",
          ip_version_for_ssh: 4,
          image_ssh_user: "root",
          image_alt_ssh_user: "root",
        }
      : { run_validation: false },
    ...(image ? { scenario: scenarioImage(image) } : {}),
    ...(facts.dashboardUrl
      ? { dashboard: { dashboard_url: facts.dashboardUrl, login_url: `${facts.dashboardUrl}auth/login/` } }
      : {}),
  });
  return conf.render();
}
