"""Prefect's temporary API server for one-off runs, started early and tied to the life of the command.

Prefect would start that server itself, as a child process, on the first flow call, after the command has
imported Prefect's server modules (~2 s) and the pipeline (~1.5 s), and would then wait ~3 s for it. The
command instead starts the same server (Prefect's own ``uvicorn`` app factory, in ephemeral mode) first
thing, points ``PREFECT_API_URL`` at it before Prefect is imported, and waits for it only when the flow
starts: its start-up runs on another core while the command loads the pipeline.

A run killed with SIGKILL never gets to stop a child, and the server would live on, orphaned: a tiny
watchdog child, which the kernel signals when the command dies (``PR_SET_PDEATHSIG``, Linux), stops it
then. Elsewhere Prefect starts and stops its server as usual (see the README).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

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


_temporary = False  # whether this command started a temporary server


def start_temporary_api() -> Callable[[], None]:
    """Start Prefect's temporary server now, unless a server is configured; returns the wait until it answers.

    Call it before Prefect is imported (it reads ``PREFECT_API_URL`` then). The server stops when the
    command exits, or is killed.
    """
    global _temporary
    if os.environ.get("PREFECT_API_URL") or not sys.platform.startswith("linux"):
        return lambda: None
    _temporary = True
    port = _free_port()
    server = subprocess.Popen(_server_command(port), env={**os.environ, **EPHEMERAL_ENV}, stdin=subprocess.DEVNULL)
    atexit.register(_stop, server)
    _watch(server.pid)
    url = f"http://127.0.0.1:{port}/api"
    os.environ["PREFECT_API_URL"] = url
    timeout = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180"))
    return lambda: _wait_until_healthy(server, url, timeout)


def without_heartbeats() -> contextlib.AbstractContextManager:
    """Flow runs send no heartbeats to a temporary server.

    Heartbeats let a lasting server notice a run that crashed; a temporary one dies with the run, so none
    would ever be read, and stopping their thread, which sleeps in 1 s steps, held the end of each run up
    to a second. A configured server keeps them (Prefect's setting ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY``).
    """
    if not _temporary:
        return contextlib.nullcontext()
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    return temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})


# What Prefect sets for its own temporary server: no UI, no background services (scheduler and the like).
EPHEMERAL_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}


def _server_command(port: int) -> list[str]:
    prefect_dir = Path(importlib.util.find_spec("prefect").origin).parent  # located, not imported
    return [
        sys.executable, "-m", "uvicorn", "--app-dir", str(prefect_dir.parent), "--factory",
        "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "error", "--lifespan", "on",
    ]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_healthy(server: subprocess.Popen, url: str, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"Prefect's temporary server exited with code {server.returncode} before it answered")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    setting = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
    raise RuntimeError(f"Prefect's temporary server did not answer within {timeout:.0f} s (setting {setting})")


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


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
