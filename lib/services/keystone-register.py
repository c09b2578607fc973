#!/usr/bin/env python3
"""Make a service's Keystone records exist exactly once (openstack-cdktf).

Reads a JSON spec (root-only file, secrets already filled in) and, with the admin
credentials from OS_* environment variables, ensures: the service project, the service
user with its password and the admin role on the service project, the service of the
given type, its public, internal and admin endpoints, and the roles its policy names. Prints
what it changed.
Idempotent: a second run changes nothing.
"""
import json
import sys

import openstack


def main(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    conn = openstack.connect()
    identity = conn.identity
    changed = []

    project = identity.find_project("service", domain_id="default")
    if project is None:
        project = identity.create_project(name="service", domain_id="default", description="Service Project")
        changed.append("project service")

    user_spec = spec.get("user")
    if user_spec:
        user = identity.find_user(user_spec["name"], domain_id="default")
        if user is None:
            user = identity.create_user(
                name=user_spec["name"], password=user_spec["password"], domain_id="default",
                default_project_id=project.id)
            changed.append("user " + user_spec["name"])
        else:
            # Only touch the password when it no longer authenticates.
            try:
                openstack.connect(
                    auth_url=conn.config.config["auth"]["auth_url"], username=user_spec["name"],
                    password=user_spec["password"], user_domain_name="Default",
                    project_name="service", project_domain_name="Default",
                ).authorize()
            except Exception:
                identity.update_user(user, password=user_spec["password"])
                changed.append("password of " + user_spec["name"])
        for role_name in user_spec.get("roles", ["admin"]):
            role = identity.find_role(role_name)
            if role is None:
                role = identity.create_role(name=role_name)
                changed.append("role " + role_name)
            if not conn.identity.validate_user_has_project_role(project, user, role):
                conn.identity.assign_project_role_to_user(project, user, role)
                changed.append("role %s for %s" % (role_name, user_spec["name"]))

    service_spec = spec.get("service")
    if service_spec:
        services = [s for s in identity.services(type=service_spec["type"]) if s.name == service_spec["name"]]
        if services:
            service = services[0]
        else:
            service = identity.create_service(
                name=service_spec["name"], type=service_spec["type"],
                description=service_spec.get("description", ""), is_enabled=True)
            changed.append("service " + service_spec["name"])
        region = spec.get("region", "RegionOne")
        existing = {e.interface: e for e in identity.endpoints(service_id=service.id, region_id=region)}
        for interface, url in sorted(service_spec["endpoints"].items()):
            endpoint = existing.get(interface)
            if endpoint is None:
                identity.create_endpoint(
                    service_id=service.id, interface=interface, url=url, region_id=region, is_enabled=True)
                changed.append("%s endpoint %s" % (interface, url))
            elif endpoint.url != url:
                identity.update_endpoint(endpoint, url=url)
                changed.append("%s endpoint -> %s" % (interface, url))

    for role_name in spec.get("roles", []):
        if identity.find_role(role_name) is None:
            identity.create_role(name=role_name)
            changed.append("role " + role_name)

    print("keystone records: " + (", ".join(changed) if changed else "no change"))


if __name__ == "__main__":
    main(sys.argv[1])
