/**
 * cinder-volume-services: every `host@backend` of the inventory's volume backends enabled and up
 * in `volume service list` through the VIP, judged against a fake lab (nothing is run).
 */
import { Inventory } from "../lib/cluster/inventory";
import { cinderVolumeServices, judgeVolumeServices, volumeServiceHosts } from "../lab/checks/services/cinder";
import { ServiceRow } from "../lab/checks/services/client";
import { fakeCtx, runnerReply, withBackends, withoutVolumes } from "./lab-fakes";

jest.mock("../lab/network", () => ({
  namespaceAddresses: (netns: string) =>
    netns.endsWith("controller1") ? ["10.211.0.10/24", "10.211.0.11/24"] : ["10.211.0.12/24"],
}));

const row = (Binary: string, Host: string, State = "up", Status = "enabled"): ServiceRow => ({
  Binary,
  Host,
  State,
  Status,
  "Updated At": "2026-11-30T16:00:00.000000",
});

describe("cinder-volume-services", () => {
  test("one service host per backend of each host, from the resolved inventory", () => {
    expect(volumeServiceHosts(withBackends())).toEqual(["compute1@lvm-1"]);
    expect(volumeServiceHosts(withoutVolumes())).toEqual([]);
    const hosts = [
      { name: "s1", volumeBackends: [{ name: "ceph" }, { name: "lvm" }] },
      { name: "s2", volumeBackends: [{ name: "ceph" }] },
      { name: "c1", volumeBackends: [] },
    ];
    expect(volumeServiceHosts({ hosts } as unknown as Inventory)).toEqual(["s1@ceph", "s1@lvm", "s2@ceph"]);
  });

  test("every host@backend enabled and up; the scheduler rows are no concern", () => {
    const rows = [
      row("cinder-scheduler", "controller1"),
      row("cinder-volume", "s1@ceph"),
      row("cinder-volume", "s2@ceph"),
    ];
    expect(judgeVolumeServices(rows, ["s1@ceph", "s2@ceph"])).toEqual({
      ok: true,
      detail: "cinder-volume enabled and up on s1@ceph, s2@ceph",
    });
  });

  test("missing, down, disabled, another row down: each named; an extra one up is reported", () => {
    const rows = [
      row("cinder-scheduler", "controller2", "down"),
      row("cinder-volume", "s1@ceph", "down"),
      row("cinder-volume", "s2@ceph", "up", "disabled"),
      row("cinder-volume", "s2@old", "down"),
      row("cinder-volume", "controller1@ceph"),
      // A host's own name without the backend is not the backend's service.
      row("cinder-volume", "s3"),
    ];
    expect(judgeVolumeServices(rows, ["s1@ceph", "s2@ceph", "s3@ceph"])).toEqual({
      ok: false,
      detail:
        "cinder-volume on s1@ceph: enabled down; cinder-volume on s2@ceph: disabled up; cinder-volume on s3@ceph: not listed; " +
        "also down: cinder-scheduler@controller2 down, cinder-volume@s2@old down; " +
        "also up, not in the inventory: cinder-volume@controller1@ceph, cinder-volume@s3",
    });
    expect(judgeVolumeServices({} as unknown as ServiceRow[], ["s1@ceph"]).ok).toBe(false);
  });

  test("SKIP without backends, asking nothing; with them, the volume service list through the VIP", async () => {
    const none = fakeCtx(withoutVolumes(), () => "");
    expect(await cinderVolumeServices.run(none.ctx)).toEqual([
      {
        check: "cinder-volume-services",
        host: "-",
        ok: true,
        skipped: true,
        detail: "no host has volumeBackends in the inventory: no cinder-volume",
      },
    ]);
    expect(none.sent).toEqual([]);

    let state = "up";
    const lab = fakeCtx(withBackends(), (_command, input) =>
      runnerReply(input, () => ({
        out: JSON.stringify([
          row("cinder-scheduler", "controller1"),
          row("cinder-volume", "compute1@lvm-1", state),
        ]),
      })),
    );
    const [ok] = await cinderVolumeServices.run(lab.ctx);
    // From the controller that does not hold the VIP (controller1 holds it in the fake lab).
    expect(ok).toEqual({
      check: "cinder-volume-services",
      host: "controller",
      ok: true,
      detail: "cinder-volume enabled and up on compute1@lvm-1 [openstack CLI on controller2]",
    });
    expect(lab.sent.map((s) => s.host)).toEqual(["controller2"]);
    expect(JSON.parse(lab.sent[0].input ?? "").commands).toEqual([
      { name: "volume", argv: ["volume", "service", "list", "-f", "json"] },
    ]);
    state = "down";
    const [down] = await cinderVolumeServices.run(lab.ctx);
    expect(down).toMatchObject({
      ok: false,
      detail: expect.stringContaining("compute1@lvm-1: enabled down"),
    });
  });
});
