import { SecurityRule } from "../rule";
import { ADMIN_TOKEN } from "./admin-token";
import { ALLOWED_HOSTS_WILDCARD } from "./allowed-hosts";
import { DEBUG_MODE } from "./debug-mode";
import { DEFAULT_ACCOUNTS } from "./default-accounts";
import { SECRET_FILE_MODE } from "./secret-file-mode";
import { SECRET_PLACEHOLDERS } from "./secret-placeholders";
import { SECRET_VARIABLES } from "./secret-variables";
import { TLS_VERIFY_DISABLED } from "./tls-verify";
import { WILDCARD_BIND } from "./wildcard-bind";

export * from "./admin-token";
export * from "./allowed-hosts";
export * from "./debug-mode";
export * from "./default-accounts";
export * from "./secret-file-mode";
export * from "./secret-placeholders";
export * from "./secret-variables";
export * from "./tls-verify";
export * from "./wildcard-bind";

/** The library's rule pack (cdk-nag's NagPack): every rule the security checks run, by id. */
export const SECURITY_RULES: readonly SecurityRule[] = [
  WILDCARD_BIND,
  DEBUG_MODE,
  ADMIN_TOKEN,
  DEFAULT_ACCOUNTS,
  ALLOWED_HOSTS_WILDCARD,
  SECRET_PLACEHOLDERS,
  SECRET_FILE_MODE,
  SECRET_VARIABLES,
  TLS_VERIFY_DISABLED,
];
