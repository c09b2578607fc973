import { IniValue } from "../core/ini-file";
import { ServiceUser } from "../core/secret-spec";
import { Step } from "../core/step";

/** A service's entry in the catalog, and the user it runs as. */
export interface ServiceRegistration {
  /** Catalog name, e.g. `glance`. */
  readonly name: string;
  /** Catalog type, e.g. `image`, `volumev3`, `network` (the seed registered these as `compute`). */
  readonly type: string;
  /** The catalog service's description, e.g. "OpenStack Image". */
  readonly description: string;
  /** The same URL for the public, internal and admin interfaces. */
  readonly url: string;
  /** Roles the service's policy names, created when missing (Swift's `ResellerAdmin`). @default none */
  readonly roles?: readonly string[];
  /** The service user; its password comes from this secret. @default no user */
  readonly user?: ServiceUser;
}

/**
 * The identity service as services use it (KeystoneService implements it; an existing Keystone
 * can stand in): where tokens are validated, the settings to validate them and to authenticate
 * as a service user, and the registration of a service, whose step a service waits for.
 */
export interface IIdentity {
  /** `http://VIP:5000/v3`: clients' `OS_AUTH_URL`. */
  readonly authUrl: string;
  /** The region services and endpoints are in. */
  readonly region: string;
  /** The `[keystone_authtoken]` keys for a service that validates tokens as `user`. */
  authtoken(user: string, secret: string): Record<string, IniValue>;
  /** Keys to authenticate as a service user elsewhere (`[placement]`, `[neutron]`, `[service_user]`…). */
  serviceCredentials(user: string, secret: string): Record<string, IniValue>;
  /**
   * Makes a service's user, catalog entry and endpoints exist, once per name. Returns the step
   * to wait for before the service starts.
   */
  register(registration: ServiceRegistration): Step;
}
