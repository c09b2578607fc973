"""Upstream Tempest's subnet delete, for the lab's Tempest runs.

lab/tempest/run.ts puts this directory first on PYTHONPATH for `tempest run`, so Python loads
this file at the start of Tempest and of each of its workers (it takes the place of Debian's
sitecustomize, which only installs apport's hook; apport is not on the lab machine).

Debian's tempest package (bookworm's 33.0.0, trixie's 43.0.0) adds `time.sleep(10)` before every
subnet delete (debian/patches/add-delay-in-subnet-teardown.patch); upstream Tempest has no such
sleep. The default selection deletes about 210 subnets: 35 minutes of the workers' time spent
asleep. This puts upstream's method back, so a subnet deleted while its ports are still being
torn down fails its test, as it would upstream. Where the installed method does not sleep,
nothing is changed.
"""
import inspect

try:
    from tempest.lib.services.network import subnets_client
except ImportError:  # a Python process that is not Tempest's (stestr's, subunit's tools)
    subnets_client = None


def _upstream_delete_subnet(self, subnet_id):
    uri = '/subnets/%s' % subnet_id
    return self.delete_resource(uri)


if subnets_client is not None:
    _installed = subnets_client.SubnetsClient.delete_subnet
    if "sleep(" in inspect.getsource(_installed):
        subnets_client.SubnetsClient.delete_subnet = _upstream_delete_subnet
