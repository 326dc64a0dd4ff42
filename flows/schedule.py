"""Scheduled runs: the monitor flow served on an interval against a Prefect server (SQLite) we start."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
from prefect.settings import PREFECT_API_URL, temporary_settings

from newswatch.paths import PROJECT_ROOT
from newswatch.settings import Settings


def prefect_server_up(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def ensure_prefect_server(api_url: str) -> None:
    """Start ``prefect server start`` through infra/prefect.sh unless one already answers at ``api_url``."""
    if prefect_server_up(api_url):
        return
    subprocess.run(["bash", str(PROJECT_ROOT / "infra" / "prefect.sh"), "up"], check=True)


def serve_monitor(settings: Settings, interval_s: int, feeds: Path | None, watchlist: Path | None) -> None:
    from newswatch.flows.monitor import monitor

    ensure_prefect_server(settings.prefect_api_url)
    params = {
        "feeds_file": str(feeds) if feeds else None,
        "watchlist_file": str(watchlist) if watchlist else None,
        "interval_s": interval_s,
    }
    with temporary_settings({PREFECT_API_URL: settings.prefect_api_url}):
        # One monitor run at a time in this process: a slow run is not overlapped by the next. (A Prefect
        # global limit would also span machines, but a killed process keeps its slot until the lease ends.)
        monitor.serve(name="newswatch-monitor", interval=interval_s, parameters=params, limit=1)
