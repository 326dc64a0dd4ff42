"""Starting the web app: refuse an open server beyond loopback, then run uvicorn."""

from __future__ import annotations

import threading
from collections.abc import Callable

import uvicorn

from newswatch.interfaces.web.app import create_app
from newswatch.interfaces.web.security import check_bind, load_auth
from newswatch.settings import Settings


def build(settings: Settings, host: str):
    """The app for this bind address; WebConfigError when it would be open beyond loopback."""
    auth = load_auth(settings)
    check_bind(host, auth)
    return create_app(settings, auth)


def serve(settings: Settings, host: str, port: int, on_ready: Callable[[], None] = lambda: None) -> None:
    """Serve until stopped; ``on_ready`` runs once the configuration was accepted (the app is built)."""
    app = build(settings, host)
    on_ready()
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False)


def serve_in_background(settings: Settings, host: str, port: int) -> threading.Thread:
    """The web app in a daemon thread, beside the schedule (`newswatch serve --web`)."""
    server = uvicorn.Server(uvicorn.Config(build(settings, host), host=host, port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="newswatch-web", daemon=True)
    thread.start()
    return thread
