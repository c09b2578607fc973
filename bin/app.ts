/**
 * The app that `cdktf synth|diff|deploy` runs (see cdktf.json). The inventory comes from the
 * first argument, else OPENSTACK_INVENTORY, else the seed's eight servers.
 */
import { InventoryError } from "../lib/cluster/inventory";
import { SecurityCheckError } from "../lib/security";
import { DEFAULT_INVENTORY, synthesizeInventory } from "./synthesize";

const file = process.argv[2] ?? process.env.OPENSTACK_INVENTORY ?? DEFAULT_INVENTORY;
try {
  const result = synthesizeInventory(file);
  console.log(`${result.summary}\nwrote ${result.stackFile}`);
} catch (err) {
  if (!(err instanceof InventoryError) && !(err instanceof SecurityCheckError)) throw err;
  for (const line of err.message.split("\n")) console.error(`error: ${line}`);
  process.exit(1);
}
