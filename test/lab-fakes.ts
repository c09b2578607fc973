/**
 * Fakes for the lab checks' tests: a context whose hosts answer from a function (nothing is
 * run), the CLI runner's reply to a request, and lab-small with LVM backends or with no
 * volumes at all.
 */
import * as path from "path";
import { Inventory, parseInventory } from "../lib/cluster/inventory";
import { OscCommandResult } from "../lab/checks/services/client";
import { CheckContext } from "../lab/checks/types";
import { planHosts } from "../lab/plan";
import { LAB_SMALL_EXAMPLE, readYaml } from "./support";

/** lab-small without Ceph and without volume backends: no cinder-volume anywhere. */
export function withoutVolumes(): Inventory {
  const data = readYaml(LAB_SMALL_EXAMPLE);
  delete data.ceph;
  delete data.volumeBackends;
  return parseInventory(data, LAB_SMALL_EXAMPLE, path.dirname(LAB_SMALL_EXAMPLE));
}

/** lab-small (compute1 is its storage host), with an LVM backend on every storage host instead of Ceph. */
export function withBackends(): Inventory {
  const data = readYaml(LAB_SMALL_EXAMPLE);
  delete data.ceph;
  data.volumeBackends = [{ name: "lvm-1", driver: "lvm", volumeGroup: "cinder-volumes" }];
  return parseInventory(data, LAB_SMALL_EXAMPLE, path.dirname(LAB_SMALL_EXAMPLE));
}

export interface Sent {
  host: string;
  command: string;
  input?: string;
}

/** A context whose hosts answer `answer` (exit 0 unless it throws, then exit 1 with the message). */
export function fakeCtx(inventory: Inventory, answer: (command: string, input?: string) => string) {
  const sent: Sent[] = [];
  const ctx: CheckContext = {
    inventory,
    hosts: planHosts(inventory),
    ssh: async (host, command, _timeoutMs, input) => {
      sent.push({ host: host.name, command, input });
      try {
        return { code: 0, stdout: answer(command, input), stderr: "" };
      } catch (err) {
        return { code: 1, stdout: "", stderr: (err as Error).message };
      }
    },
  };
  return { ctx, sent };
}

/** What the CLI runner prints for a request, each command answered by `reply`. */
export function runnerReply(
  input: string | undefined,
  reply: (c: { name: string; argv: string[] }) => Partial<OscCommandResult>,
): string {
  const req = JSON.parse(input ?? "{}") as { commands?: { name: string; argv: string[] }[] };
  const commands = (req.commands ?? []).map((c) => ({
    name: c.name,
    rc: 0,
    out: "",
    err: "",
    ms: 1,
    ...reply(c),
  }));
  return `OSC-RESULT ${JSON.stringify({ commands, files: {}, http: [] })}\n`;
}
