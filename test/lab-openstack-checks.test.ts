/**
 * The OpenStack checks against a fake lab (no hosts): their names and order, and what they send,
 * which `verify` (53 checks on lab-small) and the lead's lab runs rely on.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "shell-quote";
import { withoutVolumes } from "./lab-fakes";
import { HOST_SECRETS_DIR } from "../lib/core/shell-script";
import { allChecks } from "../lab/checks";
import { poll } from "../lab/checks/poll";
import { controlPlaneChecks } from "../lab/checks/services";
import { swiftRings, swiftStorage } from "../lab/checks/services/swift";
import { planHosts } from "../lab/plan";
import { CheckContext, CheckResult } from "../lab/checks/types";

jest.mock("../lab/network", () => ({
  namespaceAddresses: (netns: string) =>
    netns.endsWith("controller1") ? ["10.211.0.10/24", "10.211.0.11/24"] : ["10.211.0.12/24"],
}));

const API_LINES = ["identity", "image", "placement", "compute", "network", "volumev3", "object-store"];
const RING_ANSWER = [
  "0123456789abcdef0123456789abcdef  account.ring.gz",
  "1123456789abcdef0123456789abcdef  container.ring.gz",
  "2123456789abcdef0123456789abcdef  object.ring.gz",
  "part_power=10 replicas=1 min_part_hours=1 seed=1 ports=account:6202,container:6201,object:6200 devices=z1/10.211.0.21/swift",
  "",
].join("\n");

interface Sent {
  host: string;
  command: string;
  timeoutMs?: number;
  input?: string;
}

function fakeLab(): { ctx: CheckContext; sent: Sent[] } {
  // Without Ceph and volumes: the volume checks have tests of their own (lab-vm-volume, lab-ceph).
  const inv = withoutVolumes();
  const sent: Sent[] = [];
  const answer = (command: string, input?: string): string => {
    const argv = parse(command) as string[];
    if (argv[0] !== "bash") {
      const units = command.split(";")[0].split(" ").length - 2;
      return command.startsWith("systemctl is-active") ? `${"active\n".repeat(units)}600 root\n` : "pw\n";
    }
    const program = argv.find((a) => a.includes("import ")) ?? "";
    if (argv[2].includes("md5sum account.ring.gz")) return RING_ANSWER;
    if (argv[2].includes("/healthcheck")) return `${"active ".repeat(12).trim()}\n200 200 200 `;
    if (input?.startsWith("{")) {
      const req = JSON.parse(input) as { commands?: { name: string }[]; http?: string[]; hash?: string[] };
      const reply = {
        commands: (req.commands ?? []).map((c) => ({ name: c.name, rc: 0, out: "{}", err: "", ms: 1 })),
        files: {},
        http: (req.http ?? []).map((url) => ({ url, code: 200, ms: 1 })),
      };
      return `OSC-RESULT ${JSON.stringify(reply)}\n`;
    }
    if (program.includes("HTMLParser"))
      return ["root", "login-page", "login", "landing", "project", "admin", "logout"]
        .map((s) => `STEP ${s} ok -`)
        .join("\n");
    if (program.includes("manage.py")) return "1\n";
    if (program.includes("wait_port")) return API_LINES.map((k) => `${k} 8 8 1.0 -`).join("\n");
    if (program.includes("identity-delete"))
      return [
        ...API_LINES.map((k) => `${k} OK HEAD 200 then GET 200 on one client`),
        "identity-delete OK DELETE 204 then GET 200 on one client",
      ].join("\n");
    return "";
  };
  const ctx: CheckContext = {
    inventory: inv,
    hosts: planHosts(inv),
    ssh: async (host, command, timeoutMs, input) => {
      sent.push({ host: host.name, command, timeoutMs, input });
      return { code: 0, stdout: answer(command, input), stderr: "" };
    },
  };
  return { ctx, sent };
}

async function runAll(ctx: CheckContext): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of controlPlaneChecks) results.push(...(await check.run(ctx)));
  return results;
}

describe("OpenStack control-plane checks on a fake lab-small", () => {
  test("check names and order are verify's", async () => {
    expect(controlPlaneChecks.map((c) => c.name)).toEqual([
      "control-plane",
      "openstack-api",
      "cinder-volume-services",
      "swift-rings",
      "swift-storage",
      "horizon-login",
      "horizon-compress-pool",
      "api-keepalive",
      "api-cold-start",
    ]);
    expect(allChecks.filter((c) => controlPlaneChecks.includes(c))).toHaveLength(9);
    const { ctx } = fakeLab();
    const results = await runAll(ctx);
    expect(results.map((r) => `${r.check} ${r.host}`)).toEqual([
      "control-plane controller1",
      "control-plane controller2",
      "os-token controller",
      "os-endpoints controller",
      "os-compute-services controller",
      "os-volume-services controller",
      "os-network controller",
      "os-image controller",
      "os-object-store controller",
      "cinder-volume-services -",
      "swift-rings controller1",
      "swift-rings controller2",
      "swift-rings compute1",
      "swift-storage compute1",
      "horizon-login controller",
      "horizon-compress-pool controller1",
      "horizon-compress-pool controller2",
      "api-keepalive controller1",
      "api-keepalive controller2",
      "api-cold-start controller2",
    ]);
    const byName = Object.fromEntries(results.map((r) => [`${r.check} ${r.host}`, r]));
    expect(byName["control-plane controller1"].ok).toBe(true);
    expect(byName["horizon-login controller"].ok).toBe(true);
    expect(byName["swift-rings compute1"]).toMatchObject({ ok: true });
    expect(byName["swift-storage compute1"]).toMatchObject({ ok: true });
    expect(byName["api-keepalive controller2"].ok).toBe(true);
    expect(byName["api-cold-start controller2"].ok).toBe(true);
  });

  test("openstack-api asks every service through the VIP in one CLI process, from the standby", async () => {
    const { ctx, sent } = fakeLab();
    await runAll(ctx);
    const requests = sent
      .filter((s) => s.input?.startsWith("{"))
      .map((s) => ({ host: s.host, timeoutMs: s.timeoutMs, ...JSON.parse(s.input!) }));
    expect(requests).toHaveLength(3);
    expect(requests[0].http).toEqual([
      "http://10.211.0.11:5000/v3",
      "http://10.211.0.11:9292/",
      "http://10.211.0.11:8778/",
      "http://10.211.0.11:8774/",
      "http://10.211.0.11:9696/",
      "http://10.211.0.11:8776/",
      "http://10.211.0.11:8080/healthcheck",
      "http://10.211.0.11/horizon/auth/login/",
    ]);
    const api = requests[2];
    expect(api.host).toBe("controller2");
    expect(api.timeoutMs).toBe(240_000);
    expect(Object.keys(api)).toEqual(["host", "timeoutMs", "files", "hash", "commands"]);
    expect(api.files).toEqual({ "upload.img": 1024 * 1024 + 17, "object.bin": 20 * 1024 * 1024 + 7 });
    expect(api.hash).toEqual(["upload.img", "download.img", "object.bin", "object.down"]);
    expect(api.commands.map((c: { name: string }) => c.name)).toEqual([
      "token",
      "endpoints",
      "compute",
      "volume",
      "network",
      "image-create",
      "image-show",
      "image-save",
      "image-delete",
      "image-list",
      "container-create",
      "object-create",
      "object-list",
      "object-save",
      "object-delete",
      "container-delete",
      "container-list",
    ]);
  });

  test("the probes' arguments and timeouts", async () => {
    const { ctx, sent } = fakeLab();
    await runAll(ctx);
    const probes = sent
      .map((s) => ({ ...s, argv: parse(s.command) as string[] }))
      .filter((s) => s.argv[0] === "bash" && !s.input?.startsWith("{"))
      .map((s) => [s.host, s.timeoutMs, s.argv[2], ...s.argv.slice(s.argv[2].includes("python3") ? 5 : 4)]);
    const rings =
      "cd /etc/swift && md5sum account.ring.gz container.ring.gz object.ring.gz && cat /etc/swift/rings.spec";
    expect(probes).toEqual([
      ["controller1", 60_000, rings],
      ["controller2", 60_000, rings],
      ["compute1", 60_000, rings],
      [
        "compute1",
        60_000,
        "systemctl is-active \"$@\" | paste -sd' ' ; for u in http://10.211.0.21:6202/healthcheck http://10.211.0.21:6201/healthcheck http://10.211.0.21:6200/healthcheck; do curl -s -m 5 -o /dev/null -w '%{http_code} ' \"$u\" || true; done",
        ...["account", "container", "object"].flatMap((kind) =>
          ["", "-replicator", "-auditor", kind === "account" ? "-reaper" : "-updater"].map(
            (d) => `swift-${kind}${d}`,
          ),
        ),
      ],
      [
        "compute1",
        180_000,
        'exec python3 -c "$1" "$2" "$3" "$4"',
        "http://10.211.0.10/horizon/",
        "admin",
        "Default",
      ],
      ["controller1", 60_000, 'exec python3 -W ignore -c "$1"'],
      ["controller2", 60_000, 'exec python3 -W ignore -c "$1"'],
      ...["controller1 10.211.0.11", "controller2 10.211.0.12"].map((h) => [
        h.split(" ")[0],
        120_000,
        'exec python3 -c "$1" "$2" "$3" "$4"',
        h.split(" ")[1],
        '[["identity",5000,"/v3"],["image",9292,"/"],["placement",8778,"/"],["compute",8774,"/"],["network",9696,"/"],["volumev3",8776,"/"],["object-store",8080,"/healthcheck"]]',
        "/etc/openstack-cdktf/secrets/keystone_admin_password",
      ]),
      [
        "controller2",
        180_000,
        'systemctl restart "$@"',
        ...["keystone", "glance-api", "placement-api", "nova-api", "nova-api-metadata", "nova-conductor"],
        ...["nova-scheduler", "nova-novncproxy", "neutron-server", "cinder-api"],
        ...["cinder-scheduler", "swift-proxy", "apache2"],
      ],
      [
        "controller2",
        420_000,
        'exec python3 -c "$1" "$2" "$3" "$4" "$5"',
        "10.211.0.12",
        '[["identity",5000,"/v3/projects"],["image",9292,"/v2/images"],["placement",8778,"/resource_providers"],["compute",8774,"/v2.1/servers"],["network",9696,"/v2.0/networks"],["volumev3",8776,"/v3/{project}/volumes"],["object-store",8080,"/v1/AUTH_{project}"]]',
        "8",
        "/etc/openstack-cdktf/secrets/keystone_admin_password",
      ],
    ]);
  });
});

describe("what the checks share", () => {
  test("poll: asks until an answer, retries errors unless told, says why it gave up", async () => {
    let n = 0;
    await expect(
      poll("three", 5000, () => (++n >= 3 ? n : undefined), { intervalMs: 1 }),
    ).resolves.toMatchObject({ value: 3 });
    // Retries by count, not by the clock: a loaded machine may stall the loop past any short
    // timeout (30 ms once saw a single call), so the retry is proven with a long one.
    let calls = 0;
    const refusedTwice = () => {
      if (++calls < 3) throw new Error("refused");
      return calls;
    };
    await expect(poll("r", 60_000, refusedTwice, { intervalMs: 1 })).resolves.toMatchObject({ value: 3 });
    const flaky = () => {
      calls++;
      throw new Error("refused");
    };
    await expect(poll("x", 30, flaky, { intervalMs: 5 })).rejects.toThrow("x: not within 0.03 s (refused)");
    calls = 0;
    await expect(poll("x", 1000, flaky, { retryErrors: false })).rejects.toThrow(/^refused$/);
    expect(calls).toBe(1);
    await expect(
      poll("y", 10, () => undefined, { intervalMs: 1, lastState: () => "last: none" }),
    ).rejects.toThrow("y: not within 0.01 s (last: none)");
  });

  test("the secrets directory the lab reads is the one prelude.sh fills", () => {
    const prelude = fs.readFileSync(path.join(__dirname, "..", "lib", "core", "prelude.sh"), "utf8");
    expect(prelude).toContain(`OSC_SECRETS_DIR=\${OSC_SECRETS_DIR:-${HOST_SECRETS_DIR}}`);
  });
});

describe("Swift's checks judge what the hosts say", () => {
  function swiftLab(rings: (host: string) => string, storage: string): CheckContext {
    const { ctx } = fakeLab();
    return {
      ...ctx,
      ssh: async (host, command) => ({
        code: 0,
        stdout: command.includes("md5sum") ? rings(host.name) : storage,
        stderr: "",
      }),
    };
  }

  test("swift-rings fails the host whose rings differ, and a wrong replica count", async () => {
    const differs = swiftLab(
      (h) => (h === "compute1" ? RING_ANSWER.replace("0123", "9999") : RING_ANSWER),
      "",
    );
    const results = await swiftRings.run(differs);
    expect(results.map((r) => [r.host, r.ok])).toEqual([
      ["controller1", true],
      ["controller2", true],
      ["compute1", false],
    ]);
    expect(results[2].detail).toBe("rings or spec differ from controller1's");
    const wrongReplicas = swiftLab(() => RING_ANSWER.replace("replicas=1", "replicas=3"), "");
    expect((await swiftRings.run(wrongReplicas))[0]).toMatchObject({
      ok: false,
      detail: expect.stringContaining("expected replicas=1"),
    });
  });

  test("swift-storage fails on a unit down or a server that does not answer", async () => {
    const down = swiftLab(() => "", `active failed ${"active ".repeat(10).trim()}\n200 200 200 `);
    expect((await swiftStorage.run(down))[0]).toMatchObject({
      ok: false,
      detail: expect.stringContaining("not active: swift-account-replicator"),
    });
    const silent = swiftLab(() => "", `${"active ".repeat(12).trim()}\n200 000 200 `);
    expect((await swiftStorage.run(silent))[0]).toMatchObject({ ok: false });
  });
});
