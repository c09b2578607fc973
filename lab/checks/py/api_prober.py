# uses: osc_shell.py (osc)
"""The API prober (lab/checks/services/client.ts, ApiProber), on a controller with admin-openrc
sourced. argv: interval seconds, limit seconds, attempts at once.

Every `interval` s a new attempt, `openstack token issue` then `openstack image list` through the
VIP, each in a forked child (a fresh shell, a fresh token) killed after `limit` s. Attempts
overlap (at most `busy` at once): one hanging on a dead VIP holder does not hold back the next,
and a slow control plane (a controller booting next to it on the lab's shared CPUs) is not
buried under a queue of them. Prints `start end seq OK|ERR info` lines (the MySQL writer's
format) as attempts end; EOF on stdin stops it.
"""
import os
import select
import signal
import sys
import time


def last_error(rc, lines):
    return (lines[-1].strip() if lines else "exit %s" % rc)[:200]


def attempt():
    rc, out, err = osc(["token", "issue", "-f", "value", "-c", "expires"])
    if rc != 0:
        return "ERR token issue: " + last_error(rc, err)
    rc, out, err = osc(["image", "list", "-f", "value", "-c", "ID"])
    if rc != 0:
        return "ERR image list: " + last_error(rc, err)
    return "OK %d-images" % len(out.split())


ms = lambda: int(time.time() * 1000)  # noqa: E731
interval, limit, busy = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
osc(["--version"])  # loads openstackclient once, before the children fork
running = {}
seq = 0
next_start = time.time()
open_in = True


def finish(fd, msg):
    pid, n, t0 = running.pop(fd)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    os.close(fd)
    if msg is not None:
        print(t0, ms(), n, (msg or "ERR attempt died").replace("\n", " "), flush=True)


while open_in or running:
    if open_in and time.time() >= next_start and len(running) < busy:
        seq += 1
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                msg = attempt()
            except BaseException as e:
                msg = "ERR %s" % type(e).__name__
            os.write(w, msg.encode()[:400])
            os._exit(0)
        os.close(w)
        running[r] = (pid, seq, ms())
        next_start = time.time() + interval
    for fd, (pid, n, t0) in list(running.items()):
        if ms() - t0 > limit * 1000:
            finish(fd, "ERR no answer within %g s" % limit)
    wait = max(0.0, min(next_start - time.time(), 0.2)) if open_in else 0.2
    ready, _, _ = select.select(list(running) + ([sys.stdin] if open_in else []), [], [], wait)
    for x in ready:
        if x is sys.stdin:
            if not sys.stdin.readline():
                open_in = False
                for fd in list(running):
                    finish(fd, None)
        elif x in running:
            finish(x, os.read(x, 500).decode())
