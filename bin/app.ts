/**
 * The app that `cdktf synth|diff|deploy` runs (see cdktf.json). The inventory comes from the
 * first argument, else OPENSTACK_INVENTORY, else the seed's eight servers. The secrets file
 * checked is OPENSTACK_SECRETS, else secrets/<cluster>.tfvars.json where it exists: the file
 * given to `--var-file` belongs there, so that a bad value stops the deploy before any host.
 * Errors are one line each, as the CLI prints them (OPENSTACK_CDKTF_DEBUG=1 adds the stack).
 */
import { defaultInventory, errorLines, synthesizeInventory } from "./synthesize";

try {
  const file = process.argv[2] ?? defaultInventory();
  const result = synthesizeInventory(file, undefined, process.env.OPENSTACK_SECRETS);
  console.log(`${result.summary}\nwrote ${result.stackFile}`);
} catch (err) {
  for (const line of errorLines(err, process.env.OPENSTACK_CDKTF_DEBUG === "1")) console.error(line);
  process.exit(1);
}
