"""Prefect stays out of the user's way: no telemetry, no third-party log lines or tracebacks in a run's
output, and no Prefect server left running after a run is killed (kill -9) or `serve` is stopped (SIGTERM)."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from newswatch.flows.raw_store import RawStore
from tests.test_e2e import NEWSWATCH, newswatch

pytestmark = pytest.mark.integration


def children(pid: int) -> dict[int, str]:
    """Child processes of ``pid`` and their command lines."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_failed_run_prints_its_one_error_line_and_no_prefect_shutdown_warnings(es_settings, tmp_path):
    for _ in range(3):  # Prefect's "EventsWorker - Still processing items" came on some exits, not all
        result = newswatch("run", "--once", "--feeds", str(tmp_path / "missing.yaml"))
        assert result.returncode == 1
        assert result.stderr.splitlines() == [f"error: feed list {tmp_path / 'missing.yaml'}: file not found"]


def test_a_run_with_a_fresh_prefect_home_prints_its_report_and_nothing_else(es_settings, tmp_path):
    result = newswatch("run", "--once", env={"PREFECT_HOME": str(tmp_path / "prefect")})
    assert result.returncode == 0
    assert result.stderr == ""  # the demo feeds are all fine: no error, no warning, no chatter
    assert "monitor run" in result.stdout and "articles indexed" in result.stdout
    for noise in ("INFO", "Traceback", "telemetry", "Starting temporary server", "sdk harness"):
        assert noise not in result.stdout, noise


def test_a_temporary_prefect_server_that_does_not_answer_in_time_is_one_line_and_nothing_is_left(es_settings, tmp_path):
    env = {"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "1"}  # it needs ~3 s
    before = {pid for pid, cmd in servers().items()}
    result = newswatch("run", "--once", env=env)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: Prefect's temporary server did not answer within 1 s (setting PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)"
    ]
    time.sleep(1)
    assert set(servers()) <= before  # the server it started was stopped at exit


def servers() -> dict[int, str]:
    """Running Prefect API servers (Prefect's uvicorn app factory) and their command lines."""
    found = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            cmd = cmdline.read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "prefect.server.api.server:create_app" in cmd and alive(int(cmdline.parent.name)):
            found[int(cmdline.parent.name)] = cmd
    return found


def test_kill_9_of_a_run_takes_its_temporary_prefect_server_with_it(es_settings, tmp_path):
    run = subprocess.Popen([NEWSWATCH, "run", "--once"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env={**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")})  # fmt: skip
    deadline = time.monotonic() + 120
    while not RawStore(es_settings.data_dir).pending() and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)  # until the run is polling and processing
    servers = [pid for pid, cmd in children(run.pid).items() if "uvicorn" in cmd]
    assert servers, "the run has no temporary Prefect server"
    run.send_signal(signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in servers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in servers), "the temporary Prefect server outlived the killed run"


def test_serve_stops_the_prefect_server_it_started_on_sigterm(es_settings, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "NEWSWATCH_PREFECT_API_URL": api}
    log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen([NEWSWATCH, "serve", "--interval", "3600"], stdout=log, stderr=subprocess.STDOUT, env=env)

    def up() -> bool:
        try:
            return httpx.get(f"{api}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        deadline = time.monotonic() + 150
        while not up() and time.monotonic() < deadline and serve.poll() is None:
            time.sleep(1)
        assert up(), (tmp_path / "serve.log").read_text()[-3000:]
        time.sleep(3)  # into serving
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
        log.close()
    deadline = time.monotonic() + 20
    while up() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not up(), "the Prefect server started by serve kept running after SIGTERM"
