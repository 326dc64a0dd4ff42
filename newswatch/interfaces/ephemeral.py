"""Prefect's temporary API server for one-off runs, tied to the life of the command that started it.

Prefect starts that server as a child process and stops it at exit; a run killed with SIGKILL never gets
to, and the server would live on, orphaned. So the command starts it itself, through Prefect, and adds a
tiny watchdog child that the kernel signals when the command dies (``PR_SET_PDEATHSIG``, Linux): the
watchdog then stops the server. Elsewhere the server is left as Prefect leaves it (see the README).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys

PR_SET_PDEATHSIG = 1
WATCHDOG = """
import os, signal, sys
server, parent = int(sys.argv[1]), int(sys.argv[2])
def stop(*_):
    try:
        os.kill(server, signal.SIGTERM)
    except ProcessLookupError:
        pass
    os._exit(0)
signal.signal(signal.SIGTERM, stop)
if os.getppid() != parent:  # the command died before the watchdog was armed
    stop()
while True:
    signal.pause()
"""


def start_temporary_api() -> None:
    """Start Prefect's temporary server now (unless a server is configured) and arm its watchdog."""
    if os.environ.get("PREFECT_API_URL") or not sys.platform.startswith("linux"):
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the instance Prefect's client uses for one-off runs
    server.start()
    if server.server_process is not None:
        _watch(server.server_process.pid)


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _watch(server_pid: int) -> None:
    subprocess.Popen(
        [sys.executable, "-c", WATCHDOG, str(server_pid), str(os.getpid())],
        preexec_fn=_die_with_parent,  # runs in the child between fork and exec: arms the parent-death signal
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C in the terminal goes to the command, which stops the server itself
    )
