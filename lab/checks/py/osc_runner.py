# uses: osc_shell.py (osc)
"""The CLI runner (lab/checks/services/client.ts, runOsc): runs on a controller with admin-openrc
sourced. Reads the request as JSON on stdin: random files to create, URLs to GET (status only),
`openstack` commands (optionally repeated until a JSON key has a value, or one of the values
that end the wait early, or the command fails), files to hash. Prints one line
`OSC-RESULT <json>` at the end.
"""
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request

req = json.load(sys.stdin)
work = tempfile.mkdtemp(prefix="osc-check-")
res = {"commands": [], "files": {}, "http": []}

try:
    for name, size in req.get("files", {}).items():
        with open(os.path.join(work, name), "wb") as f:
            f.write(os.urandom(size))
    for url in req.get("http", []):
        t0 = time.time()
        try:
            with urllib.request.urlopen(url, timeout=20) as r:
                code = r.status
        except urllib.error.HTTPError as e:
            code = e.code
        except Exception as e:
            code = (type(e).__name__ + ": " + str(e))[:160]
        res["http"].append({"url": url, "code": code, "ms": int((time.time() - t0) * 1000)})
    for c in req.get("commands", []):
        argv = [a.replace("{dir}", work) for a in c["argv"]]
        until = c.get("until")
        t0 = time.time()
        while True:
            rc, out, lines = osc(argv, c.get("env", {}))
            err = "\n".join(lines[-3:])[-600:]
            if not until or rc != 0:
                break
            try:
                value = str(json.loads(out).get(until["key"]))
            except ValueError:
                value = None
            done = value == until["value"] or value in until.get("stopOn", [])
            if done or time.time() - t0 > until["seconds"]:
                break
            time.sleep(1)
        res["commands"].append({"name": c["name"], "rc": rc, "out": out, "err": err,
                                "ms": int((time.time() - t0) * 1000)})
    for name in req.get("hash", []):
        p = os.path.join(work, name)
        if os.path.exists(p):
            with open(p, "rb") as f:
                data = f.read()
            res["files"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                                  "md5": hashlib.md5(data).hexdigest(),
                                  "sha512": hashlib.sha512(data).hexdigest()}
finally:
    shutil.rmtree(work, ignore_errors=True)
print("\nOSC-RESULT " + json.dumps(res))
