"""A stand-in for Nova's metadata API, for qemu-smoke.sh: the instance is the one whose address
asks. Serves the paths the test image reads. Usage: fake-metadata.py INSTANCES.json ADDRESS PORT
where INSTANCES.json maps a client address to {"uuid", "name", optional "user_data", "key"}."""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

with open(sys.argv[1], encoding="utf-8") as f:
    INSTANCES = json.load(f)


def meta_data(i):
    # Nova's keys, "uuid" first as Nova writes it.
    meta = {
        "uuid": i["uuid"],
        "meta": {},
        # Nova adds its [api] dhcp_domain ("novalocal" by default).
        "hostname": i["name"] + ".novalocal",
        "name": i["name"],
        "launch_index": 0,
        "availability_zone": "nova",
        "project_id": "0" * 32,
        "devices": [],
        "dedicated_cpus": [],
    }
    if "key" in i:
        meta["public_keys"] = {"imgtest": i["key"] + "\n"}
        meta["keys"] = [{"name": "imgtest", "type": "ssh", "data": i["key"] + "\n"}]
    return json.dumps(meta)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        i = INSTANCES.get(self.client_address[0])
        body = None
        if i is None:
            pass
        elif self.path == "/openstack/latest/meta_data.json":
            body = meta_data(i)
        elif self.path == "/openstack/latest/user_data":
            body = i.get("user_data")
        elif self.path == "/latest/meta-data/public-keys/0/openssh-key":
            body = i["key"] + "\n" if "key" in i else None
        elif self.path == "/latest/meta-data/instance-id":
            body = "i-" + i["uuid"][:8]
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        if body is not None:
            self.wfile.write(body.encode())


ThreadingHTTPServer((sys.argv[2], int(sys.argv[3])), Handler).serve_forever()
