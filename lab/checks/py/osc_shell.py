"""Shared by osc_runner.py and api_prober.py (lab/checks/python.ts puts it first).

One `openstack` command in this process: openstackclient's shell, the code behind the CLI, a
fresh one per command, with `env` added to the environment for that command only.
"""
import contextlib
import io
import os
import sys


def osc(argv, env=None):
    """Returns the exit code, stdout and the non-blank lines of stderr."""
    from openstackclient import shell

    saved = dict(os.environ)
    os.environ.update(env or {})
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = shell.OpenStackShell().run(argv)
            except SystemExit as e:
                rc = e.code if isinstance(e.code, int) else 1
            except Exception as e:
                rc = 1
                print(type(e).__name__, str(e)[:300], file=sys.stderr)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return rc, out.getvalue(), [l for l in err.getvalue().splitlines() if l.strip()]
