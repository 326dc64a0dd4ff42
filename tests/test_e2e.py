"""End to end through the real command: a local feed server -> Prefect -> Beam -> Elasticsearch -> search and alerts."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from newswatch.flows.raw_store import RawStore
from newswatch.paths import SEEDS_DIR

pytestmark = pytest.mark.integration
NEWSWATCH = str(Path(sys.executable).with_name("newswatch"))


def newswatch(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([NEWSWATCH, *args], capture_output=True, text=True, timeout=400, env={**os.environ, **(env or {})})


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("error:")]


@pytest.fixture
def feed_server(tmp_path: Path, serve_dir) -> Path:
    """The demo feeds over HTTP, plus a feed path that does not exist and a page that is not XML."""
    site = tmp_path / "site"
    shutil.copytree(SEEDS_DIR / "demo" / "feeds", site)
    (site / "front-page.html").write_text("<!doctype html><html><body><h1>Welcome</h1></body></html>")
    base = serve_dir(site)
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        "feeds:\n"
        f"  - {{url: '{base}/moscow-times.xml', source: The Moscow Times}}\n"
        f"  - {{url: '{base}/demo-wire.xml', source: Demo Wire}}\n"
        f"  - {{url: '{base}/riverton-atom.xml', source: Riverton Gazette}}\n"
        f"  - {{url: '{base}/front-page.html', name: not a feed}}\n"
        f"  - {{url: '{tmp_path}/no-such-feed.xml', name: missing file}}\n"
    )
    return feeds


def test_feeds_to_search_and_alerts_and_a_rerun_changes_nothing(es_settings, feed_server: Path, tmp_path: Path):
    run = newswatch("run", "--once", "--feeds", str(feed_server))
    assert run.returncode == 0, run.stderr[-3000:]
    errors = error_lines(run)
    assert len(errors) == 2, errors
    assert f"error: feed {feed_server.parent / 'no-such-feed.xml'}: file not found" in errors
    assert any(e.startswith("error: feed http://") and "front-page.html: not an RSS/Atom feed" in e for e in errors)

    found = json.loads(newswatch("search", "Lukashenko", "--json").stdout)
    assert found["total"] == 1
    seed = found["hits"][0]
    assert {"Vladimir Putin", "Alexander Lukashenko"} <= {a["name"] for a in seed["actors"]}
    alerts = json.loads(newswatch("alerts", "--json").stdout)
    assert "belarus-leadership" in {a["rule_id"] for a in alerts}

    # The same feeds again: nothing new is indexed and nothing alerts twice.
    again = newswatch("run", "--once", "--feeds", str(feed_server))
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(newswatch("search", "--json", "--size", "100").stdout)["total"] == 3
    assert len(json.loads(newswatch("alerts", "--json").stdout)) == len(alerts)


def test_unreachable_elasticsearch_is_one_clear_line_and_loses_nothing(es_settings, feed_server: Path):
    down = newswatch("run", "--once", "--feeds", str(feed_server), env={"NEWSWATCH_ES_URL": "http://127.0.0.1:9"})
    assert down.returncode == 1
    es_errors = [e for e in error_lines(down) if "Elasticsearch" in e]
    assert len(es_errors) == 1 and "http://127.0.0.1:9" in es_errors[0] and "unreachable" in es_errors[0]
    pending = RawStore(es_settings.data_dir).pending()
    assert len(pending) == 1 and len(RawStore.read(pending[0])) == 5  # the other feeds' items, kept

    back = newswatch("run", "--once", "--feeds", str(feed_server))
    assert back.returncode == 0, back.stderr[-3000:]
    assert RawStore(es_settings.data_dir).pending() == []
    assert json.loads(newswatch("search", "Lukashenko", "--json").stdout)["total"] == 1
