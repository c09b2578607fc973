# uses: keystone_auth.py (admin_password, request_token)
"""`api-cold-start` (lab/checks/services/cold-start.ts), on a controller whose control-plane units
were just restarted. argv: its address, JSON [[type, port, path], ...] (`{project}` = the token's
project), requests at once per API, the admin password file. Waits for the ports, gets a token
(Keystone's workers load after its port opens), then sends every API its requests at once. One
line per API: `type good total worst-seconds bad-answers`.
"""
import concurrent.futures
import http.client
import json
import socket
import sys
import time
host, requests, n, secret = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

def wait_port(port, seconds=180):
    end = time.time() + seconds
    while time.time() < end:
        try:
            socket.create_connection((host, port), 2).close()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"port {port} closed after {seconds} s")

for _, port, _ in requests:
    wait_port(port)
wait_port(5000)
password = admin_password(secret)
token, project = None, None
for _ in range(120):  # Keystone's own workers load after its port opens
    try:
        r, body = request_token(http.client.HTTPConnection(host, 5000, timeout=30), password)
        if r.status == 201:
            token, project = r.getheader("X-Subject-Token"), json.loads(body)["token"]["project"]["id"]
            break
    except OSError:
        pass
    time.sleep(1)
if not token:
    raise SystemExit("no token from Keystone after the restart")

def one(port, path):
    t0 = time.time()
    try:
        c = http.client.HTTPConnection(host, port, timeout=60)
        c.request("GET", path.replace("{project}", project), headers={"X-Auth-Token": token})
        r = c.getresponse()
        r.read()
        return r.status, time.time() - t0
    except Exception as e:
        return type(e).__name__, time.time() - t0

with concurrent.futures.ThreadPoolExecutor(len(requests) * n) as pool:
    futures = {kind: [pool.submit(one, port, path) for _ in range(n)] for kind, port, path in requests}
    for kind, fs in futures.items():
        answers = [f.result() for f in fs]
        good = [s for s, _ in answers if isinstance(s, int) and 200 <= s < 300]
        worst = max(t for _, t in answers)
        bad = sorted({str(s) for s, _ in answers if not (isinstance(s, int) and 200 <= s < 300)})
        print(kind, len(good), len(answers), f"{worst:.1f}", ",".join(bad) or "-")
