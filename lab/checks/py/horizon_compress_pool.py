"""The pool `manage.py compress` gets once Horizon's settings are loaded as that command loads
them (lab/checks/services/horizon.ts, horizon-compress-pool): 1 with the library's guard (pyScss
is not thread-safe; see lib/services/horizon.ts).
"""
import os, sys
sys.argv = ["/usr/share/openstack-dashboard/manage.py", "compress"]
sys.path.insert(0, "/usr/share/openstack-dashboard")
os.environ["DJANGO_SETTINGS_MODULE"] = "openstack_dashboard.settings"
import django
django.setup()
import concurrent.futures
print(concurrent.futures.ThreadPoolExecutor(max_workers=4)._max_workers)
