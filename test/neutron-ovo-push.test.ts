/**
 * neutron-ovo-push.py, the service plugin that restarts ML2's resource-push threads in each
 * forked neutron-server worker, run by python3 against stand-ins for the neutron and
 * neutron-lib modules it imports: it instantiates as a service plugin (both abstract methods,
 * and filter validation supported, so that loading it leaves the API's filter-validation on),
 * subscribes to the worker's PROCESS AFTER_INIT, and on it starts one thread per push handler
 * that runs that handler's dispatch loop (which here sends what its queue holds). The real
 * thing is proven in the lab (lab/README.md, "A router's gateway port left on the dead VLAN").
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { tempDir } from "./support";

const MODULE = path.join(__dirname, "..", "lib", "services", "neutron-ovo-push.py");

/** Minimal stand-ins: what the plugin imports, with the names and signatures neutron's have. */
const FAKES: Record<string, string> = {
  "neutron_lib/__init__.py": "",
  "neutron_lib/callbacks/__init__.py": "",
  "neutron_lib/callbacks/events.py": "AFTER_INIT = 'after_init'\n",
  "neutron_lib/callbacks/resources.py": "PROCESS = 'process'\n",
  "neutron_lib/callbacks/registry.py": [
    "SUBSCRIBED = []",
    "def subscribe(callback, resource, event, priority=0):",
    "    SUBSCRIBED.append((callback, resource, event))",
    "",
  ].join("\n"),
  "neutron_lib/services/__init__.py": "",
  "neutron_lib/services/base.py": [
    "import abc",
    "class ServicePluginBase(metaclass=abc.ABCMeta):",
    "    @abc.abstractmethod",
    "    def get_plugin_type(self): pass",
    "    @abc.abstractmethod",
    "    def get_plugin_description(self): pass",
    "",
  ].join("\n"),
  "neutron/__init__.py": "",
  "neutron/plugins/__init__.py": "",
  "neutron/plugins/ml2/__init__.py": "",
  "neutron/plugins/ml2/ovo_rpc.py": [
    "import queue, threading, weakref",
    "SENT = []",
    "class _ObjectChangeHandler:",
    "    _TO_CLEAN = weakref.WeakSet()",
    "    def __init__(self, resource):",
    "        self._resource = resource",
    "        self._resources_to_push = queue.Queue()",
    "        self._TO_CLEAN.add(self)",
    "    def dispatch_events(self):",
    "        while True:",
    "            item = self._resources_to_push.get(timeout=5)",
    "            SENT.append((self._resource, item, threading.current_thread().name))",
    "            self._resources_to_push.task_done()",
    "",
  ].join("\n"),
};

const DRIVER = `
import importlib.util, sys
from neutron.plugins.ml2 import ovo_rpc
from neutron_lib.callbacks import registry
handlers = [ovo_rpc._ObjectChangeHandler(r) for r in ("port", "network")]
for h in handlers:
    h._resources_to_push.put(h._resource + "-1")
spec = importlib.util.spec_from_file_location("openstack_cdktf_neutron_ovo_push", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
plugin = module.OvoPushAfterFork()
print("type", plugin.get_plugin_type())
# neutron.api.api_common.is_filter_validation_supported: else the manager drops filter-validation.
print("filter validation", getattr(plugin, "_%s__filter_validation_support" % type(plugin).__name__, False))
assert len(registry.SUBSCRIBED) == 1, registry.SUBSCRIBED
callback, resource, event = registry.SUBSCRIBED[0]
print("subscribed", resource, event)
assert ovo_rpc.SENT == [], "nothing is sent before a worker starts"
callback(resource, event, object())
for h in handlers:
    h._resources_to_push.join()
for sent in sorted(ovo_rpc.SENT):
    print("sent", *sent)
`;

describe("neutron-ovo-push.py", () => {
  it("subscribes to a worker's start and then runs every push handler's dispatch loop in a thread of its own", () => {
    const dir = tempDir("ovo-push");
    for (const [file, text] of Object.entries(FAKES)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    const out = execFileSync("python3", ["-c", DRIVER, MODULE], {
      env: { ...process.env, PYTHONPATH: dir },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(out.trim().split("\n")).toEqual([
      "type openstack-cdktf-ovo-push",
      "filter validation True",
      "subscribed process after_init",
      "sent network network-1 ObjectChangeHandler[network] after fork",
      "sent port port-1 ObjectChangeHandler[port] after fork",
    ]);
  });
});
