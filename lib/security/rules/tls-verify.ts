import type { Step } from "../../core/step";
import { stepRule } from "../rule";
import { isFalse, isTrue, stepCommands, stepSettings, where } from "../settings";

/** Keys that turn certificate checks off when true (`insecure`, `swift_store_auth_insecure`, Horizon's OPENSTACK_SSL_NO_VERIFY). */
const OFF_WHEN_TRUE = /(^|_)(insecure|no_verify)$/;
/** Keys that turn them off when false. */
const OFF_WHEN_FALSE = new Set(["verify", "ssl_verify", "verify_ssl", "tls_verify", "verify_certs"]);
/** Commands that skip the check, by what the finding calls them (never the line: it may hold a URL's password). */
const INSECURE_COMMANDS: readonly (readonly [RegExp, string])[] = [
  [/\bcurl\b[^|;&\n]*\s-[A-Za-z]*k[A-Za-z]*\b/, "curl -k"],
  [/--insecure\b/, "--insecure"],
  [/--no-check-certificate\b/, "--no-check-certificate"],
  [/\bOS_INSECURE=(?!["']?false)/i, "OS_INSECURE"],
  [/\bPYTHONHTTPSVERIFY=["']?0/, "PYTHONHTTPSVERIFY=0"],
];

/** OSC-TLS1: TLS certificates are checked wherever TLS is used. */
export const TLS_VERIFY_DISABLED = stepRule({
  id: "OSC-TLS1",
  name: "TlsVerifyDisabled",
  reason:
    "A client that does not check the server's certificate gives its credentials and tokens to whoever answers in the server's place.",
  checkStep(step: Step): readonly string[] {
    const out: string[] = [];
    for (const s of stepSettings(step)) {
      const key = s.name;
      if ((OFF_WHEN_TRUE.test(key) && isTrue(s.value)) || (OFF_WHEN_FALSE.has(key) && isFalse(s.value))) {
        out.push(`${where(s)} = ${s.value}: certificates are not checked`);
      }
      if ((key === "ssl_cert_reqs" || key === "cert_reqs") && /^(none|cert_none)$/i.test(s.value)) {
        out.push(`${where(s)} = ${s.value}: certificates are not checked`);
      }
    }
    for (const file of step.files) {
      if (file.path.endsWith(".py") && /\bverify\s*=\s*False\b/.test(file.content)) {
        out.push(`${file.path} calls with verify=False: certificates are not checked`);
      }
    }
    const commands = stepCommands(step);
    for (const [pattern, what] of INSECURE_COMMANDS) {
      if (pattern.test(commands)) out.push(`a command skips certificate checks (${what})`);
    }
    return out;
  },
});
