import { orderByNeeds } from "../lib/cluster/service-order";
import { KEYSTONE_COMPONENT } from "../lib/services/keystone";
import { CINDER_COMPONENT } from "../lib/services/cinder";

const names = (entries: { name: string }[]) => entries.map((e) => e.name);

describe("orderByNeeds: the cluster's services, each after what its component needs", () => {
  test("a service registered before what it needs is built after it; the list's order otherwise", () => {
    const order = orderByNeeds([
      { name: "heat", needs: ["keystone"] },
      { name: "cinder", needs: ["keystone", "glance"] },
      { name: "keystone", needs: [] },
      { name: "glance", needs: ["keystone"] },
    ]);
    expect(names(order)).toEqual(["keystone", "heat", "glance", "cinder"]);
  });

  test("a cycle is refused with one line naming the services in it", () => {
    const entries = [
      { name: "keystone", needs: [] },
      { name: "nova", needs: ["keystone", "neutron"] },
      { name: "neutron", needs: ["nova"] },
    ];
    expect(() => orderByNeeds(entries)).toThrow(/^services: a dependency cycle: nova → neutron → nova$/);
  });

  test("a need that names no registered service is refused with one line naming both", () => {
    const entries = [{ name: "cinder", needs: ["glance"] }];
    expect(() => orderByNeeds(entries)).toThrow(/^services: cinder needs glance, which is not registered$/);
  });

  test("the services declare their needs in their own files", () => {
    expect(KEYSTONE_COMPONENT.needs ?? []).toEqual([]);
    expect(CINDER_COMPONENT.needs).toEqual(["keystone", "glance", "ceph"]);
  });
});
