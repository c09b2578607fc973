"""Shared by api_keepalive.py and api_cold_start.py (lab/checks/python.ts puts it first).

The cloud's admin asks Keystone for a token with its password: the one place the lab builds the
password-auth body. The password is read on the host from its root-only secret file.
"""
import json


def admin_password(secret_file):
    with open(secret_file) as f:
        return f.read().strip()


def admin_auth_body(password):
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}


def request_token(conn, password):
    """POST /v3/auth/tokens on `conn` (an http.client connection); returns the response and its body."""
    conn.request("POST", "/v3/auth/tokens", json.dumps(admin_auth_body(password)),
                 {"Content-Type": "application/json"})
    r = conn.getresponse()
    return r, r.read()
