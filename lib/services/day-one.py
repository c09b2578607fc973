#!/usr/bin/env python3
"""Make the cloud's day-one resources exist (openstack-cdktf), like kolla-ansible's init-runonce.

Reads a JSON spec (no secrets in it) and, with the admin credentials from OS_* environment
variables (admin-openrc), ensures in the admin project: a flavor; an external network, flat
on a physical network, with a subnet without DHCP; a tenant network of the default type with
a DHCP subnet; a router with its gateway on the external network and an interface on the
tenant subnet. Each is created when absent and otherwise left as it is (a difference is only
reported), so a second run changes nothing. Prints what it created.
"""
import json
import sys

import openstack


def fail(message):
    sys.exit("day one: " + message)


def one(items, what):
    """The only item, or None; two of one name would make every later run guess."""
    found = list(items)
    if len(found) > 1:
        fail("%d %s: expected at most one (rename or remove the others)" % (len(found), what))
    return found[0] if found else None


def ensure_flavor(conn, spec, created, notes):
    # Nova filters flavors by name only client-side; "none" lists private flavors too (admin).
    flavor = one((f for f in conn.compute.flavors(is_public="none") if f.name == spec["name"]),
                 "flavors named " + spec["name"])
    if flavor is None:
        conn.compute.create_flavor(name=spec["name"], vcpus=spec["vcpus"], ram=spec["ram"],
                                   disk=spec["disk"], is_public=True)
        created.append("flavor " + spec["name"])
    elif (flavor.vcpus, flavor.ram, flavor.disk) != (spec["vcpus"], spec["ram"], spec["disk"]):
        notes.append("flavor %s has %s vCPUs, %s MiB, %s GiB, not %s, %s, %s: left as it is" % (
            spec["name"], flavor.vcpus, flavor.ram, flavor.disk, spec["vcpus"], spec["ram"], spec["disk"]))


def ensure_network(conn, project_id, spec, attrs, created):
    network = conn.network
    found = one(network.networks(name=spec["name"], project_id=project_id),
                "networks named %s in the admin project" % spec["name"])
    if found is None:
        found = network.create_network(name=spec["name"], **attrs)
        created.append("network " + spec["name"])
    return found


def ensure_subnet(conn, net, spec, attrs, created, notes):
    network = conn.network
    name = spec["subnet"]
    found = one(network.subnets(name=name, network_id=net.id), "subnets named %s on %s" % (name, net.name))
    if found is None:
        found = network.create_subnet(name=name, network_id=net.id, ip_version=4, cidr=spec["cidr"],
                                      gateway_ip=spec["gateway"], **attrs)
        created.append("subnet " + name)
    elif found.cidr != spec["cidr"]:
        notes.append("subnet %s is %s, not %s: left as it is" % (name, found.cidr, spec["cidr"]))
    return found


def main(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    conn = openstack.connect()
    project_id = conn.current_project_id
    network = conn.network
    created = []
    notes = []

    ensure_flavor(conn, spec["flavor"], created, notes)

    ext = spec["external"]
    external = ensure_network(conn, project_id, ext, {
        "is_router_external": True,
        "is_shared": False,
        "provider_network_type": "flat",
        "provider_physical_network": ext["physnet"],
    }, created)
    if not external.is_router_external:
        fail("network %s exists but is not external: a router's gateway cannot be on it" % ext["name"])
    ensure_subnet(conn, external, ext, {
        "is_dhcp_enabled": False,
        "allocation_pools": [ext["allocation_pool"]],
    }, created, notes)

    # The tenant network type is Neutron's default (tenant_network_types): no provider attributes.
    ten = spec["tenant"]
    tenant = ensure_network(conn, project_id, ten, {}, created)
    tenant_subnet = ensure_subnet(conn, tenant, ten, {"is_dhcp_enabled": True}, created, notes)

    # HA or not is Neutron's l3_ha default: the router is created without `ha`.
    name = spec["router"]["name"]
    router = one(network.routers(name=name, project_id=project_id),
                 "routers named %s in the admin project" % name)
    if router is None:
        router = network.create_router(name=name)
        created.append("router " + name)
    gateway = router.external_gateway_info or {}
    if not gateway.get("network_id"):
        network.update_router(router, external_gateway_info={"network_id": external.id})
        created.append("gateway of %s on %s" % (name, ext["name"]))
    elif gateway["network_id"] != external.id:
        notes.append("router %s has its gateway on another network: left as it is" % name)
    joined = any(ip.get("subnet_id") == tenant_subnet.id
                 for port in network.ports(device_id=router.id)
                 for ip in (port.fixed_ips or []))
    if not joined:
        network.add_interface_to_router(router, subnet_id=tenant_subnet.id)
        created.append("interface of %s on %s" % (name, ten["subnet"]))

    for note in notes:
        print("day one: note: " + note, file=sys.stderr)
    print("day one: " + (", ".join(created) if created else "no change"))


if __name__ == "__main__":
    main(sys.argv[1])
