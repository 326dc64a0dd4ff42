"""Scheduled runs: the monitor flow served on an interval against a Prefect server (SQLite) we start."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from prefect.settings import PREFECT_API_URL, temporary_settings

from newswatch.paths import PROJECT_ROOT
from newswatch.settings import Settings


def prefect_server_up(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def _prefect_sh(command: str, api_url: str) -> None:
    env = {**os.environ, "NEWSWATCH_PREFECT_PORT": str(urlsplit(api_url).port or 4200)}
    subprocess.run(["bash", str(PROJECT_ROOT / "infra" / "prefect.sh"), command], check=True, env=env, stdout=subprocess.DEVNULL)


def ensure_prefect_server(api_url: str) -> bool:
    """Start ``prefect server start`` through infra/prefect.sh unless one already answers; True when started here."""
    if prefect_server_up(api_url):
        return False
    _prefect_sh("up", api_url)
    return True


def serve_monitor(settings: Settings, interval_s: int, feeds: Path | None, watchlist: Path | None) -> None:
    from newswatch.flows.monitor import monitor

    started = ensure_prefect_server(settings.prefect_api_url)
    params = {
        "feeds_file": str(feeds) if feeds else None,
        "watchlist_file": str(watchlist) if watchlist else None,
        "interval_s": interval_s,
    }
    try:
        with temporary_settings({PREFECT_API_URL: settings.prefect_api_url}):
            # One monitor run at a time in this process: a slow run is not overlapped by the next. (A Prefect
            # global limit would also span machines, but a killed process keeps its slot until the lease ends.)
            monitor.serve(name="newswatch-monitor", interval=interval_s, parameters=params, limit=1)
    finally:  # SIGTERM (Prefect's runner exits on it) or Ctrl-C: the server this command started goes too
        if started:
            _prefect_sh("down", settings.prefect_api_url)
