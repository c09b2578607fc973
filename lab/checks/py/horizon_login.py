"""Horizon's login as a browser does it (lab/checks/services/horizon.ts, horizon-login), from a
host that is no controller. argv: Horizon's base URL, user name, domain; the password is the
first line of stdin. Prints `STEP name ok|fail detail` lines and stops at the first failure.
"""
import http.cookiejar, sys, time, urllib.error, urllib.parse, urllib.request
from html.parser import HTMLParser

base, username, domain = sys.argv[1], sys.argv[2], sys.argv[3]
password = sys.stdin.readline().rstrip("\n")
login_url = urllib.parse.urljoin(base, "auth/login/")
jar = http.cookiejar.CookieJar()

class Keep(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), Keep)

def fetch(url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    t0 = time.time()
    try:
        with opener.open(req, timeout=60) as r:
            status, hdrs, body = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, body = e.code, e.headers, e.read()
    return status, hdrs.get("Location", ""), body.decode("utf-8", "replace"), int((time.time() - t0) * 1000)

def step(name, ok, detail):
    print("STEP", name, "ok" if ok else "fail", detail.replace("\n", " ")[:300], flush=True)
    if not ok:
        sys.exit(0)

def cookie(name):
    return any(c.name == name for c in jar)

class Form(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields, self.select = {}, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""
        elif tag == "select" and a.get("name"):
            self.select = a["name"]
            self.fields.setdefault(self.select, "")
        elif tag == "option" and self.select:
            if not self.fields[self.select] or "selected" in a:
                self.fields[self.select] = a.get("value") or ""
    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None

status, location, body, ms = fetch(base)
step("root", status == 200 or (status == 302 and "auth/login" in location),
     "GET %s: %s%s (%d ms)" % (base, status, " -> " + location if location else "", ms))
status, location, body, ms = fetch(login_url)
form = Form()
form.feed(body)
step("login-page", status == 200 and "csrfmiddlewaretoken" in form.fields and "password" in form.fields and cookie("csrftoken"),
     "GET %s: %s, form fields %s, csrftoken cookie %s (%d ms)" % (login_url, status, ",".join(sorted(form.fields)), "set" if cookie("csrftoken") else "missing", ms))
fields = dict(form.fields)
fields["username"], fields["password"] = username, password
if "domain" in fields:
    fields["domain"] = domain
status, location, body, ms = fetch(login_url, urllib.parse.urlencode(fields).encode(),
                                   {"Referer": login_url, "Content-Type": "application/x-www-form-urlencoded"})
refused = "Invalid credentials" in body or "An error occurred authenticating" in body
step("login", status == 302 and "auth/login" not in location and cookie("sessionid"),
     "POST auth/login/ as %s (region %s%s): %s%s, sessionid cookie %s%s (%d ms)" % (
         username, fields.get("region", "-"), ", domain " + domain if "domain" in fields else "", status,
         " -> " + location if location else "", "set" if cookie("sessionid") else "missing",
         " (the form says: invalid credentials)" if refused else "", ms))
url = urllib.parse.urljoin(login_url, location)
chain = []
for _ in range(5):
    status, location, body, ms = fetch(url)
    chain.append("%s %s" % (urllib.parse.urlparse(url).path, status))
    if status not in (301, 302) or not location:
        break
    url = urllib.parse.urljoin(url, location)
step("landing", status == 200 and "auth/logout" in body,
     "then " + " -> ".join(chain) + ("" if "auth/logout" in body else " (no sign-out link: not logged in)"))
for panel in ("project/", "admin/"):
    u = urllib.parse.urljoin(base, panel)
    status, location, body, ms = fetch(u)
    step(panel.rstrip("/"), status == 200 and "auth/logout" in body,
         "GET %s: %s%s, %s (%d ms)" % (u, status, " -> " + location if location else "",
                                       "logged in" if "auth/logout" in body else "not logged in", ms))
status, location, body, ms = fetch(urllib.parse.urljoin(base, "auth/logout/"))
step("logout", status in (200, 302), "GET auth/logout/: %s" % status)
