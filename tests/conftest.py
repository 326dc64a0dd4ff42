"""Shared fixtures. Integration tests use the real Elasticsearch that `make test` starts; when it is not
there they fail with the reason, they never skip."""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from newswatch.paths import DEMO_FEEDS_DIR, PROJECT_ROOT, SEEDS_DIR
from newswatch.settings import Settings

SEED_TEXT = (SEEDS_DIR / "demo" / "seed-article.txt").read_text(encoding="utf-8")
CORPORA = PROJECT_ROOT.parent / "shared" / "corpora" / "feeds"
ES_URL = os.environ.get("NEWSWATCH_ES_URL", "http://127.0.0.1:9200")


@pytest.fixture(scope="session")
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip(f"real-world feed corpus not found at {CORPORA} (it sits in shared/ beside the checkout, not in a fresh clone)")
    return CORPORA


@pytest.fixture(scope="session")
def nlp_settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def models(nlp_settings: Settings):
    from newswatch.pipelines.enrich import Models

    return Models.load(nlp_settings)


@pytest.fixture(scope="session")
def knowledge(nlp_settings: Settings):
    from newswatch.pipelines.enrich import Knowledge

    return Knowledge.load(nlp_settings)


@pytest.fixture(scope="session")
def detector(nlp_settings: Settings):
    from newswatch.pipelines.language import build_detector

    return build_detector(nlp_settings.languages)


@pytest.fixture(scope="session")
def es_available() -> str:
    """The real Elasticsearch, or a failure that says how to start it."""
    from newswatch.store import StoreUnavailable, check_available, connect

    settings = Settings(es_url=ES_URL)
    try:
        return check_available(connect(settings), settings)
    except StoreUnavailable as exc:
        pytest.fail(f"{exc}. Integration tests need the real server: run `make up` (or `make test`, which starts it).")


@pytest.fixture
def es_settings(es_available: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for one test: its own index prefix and raw store, also exported for flows and subprocesses."""
    prefix = f"nwtest-{uuid.uuid4().hex[:8]}"
    env = {"NEWSWATCH_ES_URL": ES_URL, "NEWSWATCH_INDEX_PREFIX": prefix, "NEWSWATCH_DATA_DIR": str(tmp_path / "data"),
           "NEWSWATCH_USER_WATCHLIST_FILE": str(tmp_path / "my-watchlist.yaml"),
           "NEWSWATCH_LOCAL_FEED_DIRS": json.dumps([str(DEMO_FEEDS_DIR), str(tmp_path)])}  # fmt: skip
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    settings = Settings()
    yield settings
    drop_indices(settings)


def drop_indices(settings: Settings) -> None:
    """Delete a test's indices and index templates (only its own prefix)."""
    from newswatch.store import connect

    es = connect(settings)
    es.options(ignore_status=404).indices.delete(index=f"{settings.index_prefix}-*", expand_wildcards="all")
    es.options(ignore_status=404).indices.delete_index_template(name=f"{settings.index_prefix}-*")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def serve_dir():
    """Serve a directory over HTTP on loopback; yields a function dir -> base URL."""
    servers = []

    def start(directory: Path) -> str:
        server, base = serve_directory(directory)
        servers.append(server)
        return base

    yield start
    for s in servers:
        s.shutdown()


def serve_directory(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """A loopback HTTP server for a folder, and its base URL; call .shutdown() when done."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def demo_batch(settings: Settings) -> str:
    """The demo feeds, polled from their files, as one raw-store batch."""
    import asyncio

    from newswatch.flows.feedlist import load_feeds
    from newswatch.flows.poll import poll_feeds
    from newswatch.flows.raw_store import RawStore

    results = asyncio.run(poll_feeds(load_feeds(SEEDS_DIR / "demo" / "feeds.yaml"), settings))
    return RawStore(settings.data_dir).write_batch([it for r in results for it in r.items])


@pytest.fixture
def indexed(es_settings: Settings):
    """The demo feeds run through the pipeline into this test's indices."""
    from newswatch.pipelines.pipeline import run
    from newswatch.store import connect, ensure_indices

    es = connect(es_settings)
    ensure_indices(es, es_settings)
    report = run([demo_batch(es_settings)], es_settings)
    return es, es_settings, report
