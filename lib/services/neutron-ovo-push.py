"""Written by openstack-cdktf: ML2's resource pushes from every forked neutron-server worker.

ML2 sends the agents every changed port, network and security group (their resource caches)
from one green thread per resource type (neutron.plugins.ml2.ovo_rpc._ObjectChangeHandler).
Those threads start when the plugin loads, in the parent, before neutron-server forks its API,
RPC and periodic workers, and a green thread carried across a fork does not reliably run in the
child (eventlet before 0.40). In the lab the RPC workers never pushed: a router's gateway port
that the L3 agent's sync bound in one of them stayed, in the Open vSwitch agent's cache, at the
unbound revision an API worker had pushed when the port was made, and the agent left it on the
dead VLAN 4095.

Loaded as a service plugin (so before the fork), this starts a dispatcher for each handler in
every worker once it has forked (neutron-lib's PROCESS AFTER_INIT, sent by each forked worker as
it starts). Where the inherited thread does run, two share the queue; that is harmless: a push
sends the resource's state as the database holds it when sent, and an agent ignores a revision
older than the one it has.
"""
import threading

from neutron.plugins.ml2 import ovo_rpc
from neutron_lib.callbacks import events
from neutron_lib.callbacks import registry
from neutron_lib.callbacks import resources
from neutron_lib.services import base


class OvoPushAfterFork(base.ServicePluginBase):
    supported_extension_aliases = []
    # It has no API: without this, neutron's manager would switch the core plugin's
    # filter-validation extension off (every service plugin must support it).
    __filter_validation_support = True

    def __init__(self):
        super().__init__()
        registry.subscribe(self.start_dispatchers, resources.PROCESS, events.AFTER_INIT)

    @classmethod
    def get_plugin_type(cls):
        return "openstack-cdktf-ovo-push"

    def get_plugin_description(self):
        return "Starts ML2's resource push threads in every forked neutron-server worker"

    def start_dispatchers(self, resource, event, trigger, payload=None):
        for handler in list(ovo_rpc._ObjectChangeHandler._TO_CLEAN):
            threading.Thread(
                target=handler.dispatch_events,
                name="ObjectChangeHandler[%s] after fork" % handler._resource,
                daemon=True,
            ).start()
