# uses: keystone_auth.py (admin_password, request_token)
"""`api-keepalive` (lab/checks/services/keepalive.ts), on a controller. argv: its address, JSON
[[type, port, path], ...], the admin password file. On one HTTP/1.1 connection per API: HEAD then
GET of the version document; for Keystone a session that creates a project, deletes it and asks
again. One line per API: `name OK detail` or `name FAIL error`.
"""
import http.client
import json
import sys
import uuid

host, apis, secret = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]


def answer(conn, method, path, body=None, headers=None):
    conn.request(method, path, json.dumps(body) if body is not None else None,
                 {"Content-Type": "application/json", **(headers or {})})
    r = conn.getresponse()
    data = r.read()
    return r, data


def report(name, steps):
    try:
        print(name, "OK", steps())
    except Exception as e:
        print(name, "FAIL", f"{type(e).__name__}: {e}")


for kind, port, path in apis:
    def steps(port=port, path=path):
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            head, _ = answer(conn, "HEAD", path)
            get, _ = answer(conn, "GET", path)
            return f"HEAD {head.status} then GET {get.status} on one client"
        finally:
            conn.close()
    report(kind, steps)


def keystone_delete():
    password = admin_password(secret)
    conn = http.client.HTTPConnection(host, 5000, timeout=30)
    project = None
    try:
        r, _ = request_token(conn, password)
        token = {"X-Auth-Token": r.getheader("X-Subject-Token")}
        r, data = answer(conn, "POST", "/v3/projects",
                         {"project": {"name": "osc-keepalive-" + uuid.uuid4().hex[:8], "domain_id": "default"}}, token)
        if r.status != 201:
            raise RuntimeError(f"project create answered {r.status}")
        project = json.loads(data)["project"]["id"]
        r, _ = answer(conn, "DELETE", f"/v3/projects/{project}", None, token)
        deleted = r.status
        project = None if deleted == 204 else project
        r, _ = answer(conn, "GET", "/v3", None, token)
        return f"DELETE {deleted} then GET {r.status} on one client"
    finally:
        conn.close()
        if project:
            cleanup = http.client.HTTPConnection(host, 5000, timeout=30)
            answer(cleanup, "DELETE", f"/v3/projects/{project}", None, token)
            cleanup.close()


report("identity-delete", keystone_delete)
