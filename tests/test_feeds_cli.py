"""`newswatch feeds`: every feed with a health record (or only a given list), as a table or JSON, the
error class in its own column; and `newswatch --version`."""

from __future__ import annotations

import asyncio
import json
import shutil
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newswatch.interfaces.cli import app
from newswatch.paths import SEEDS_DIR


def test_version_is_printed():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"newswatch {version('newswatch')}"


@pytest.fixture
def polled(es_settings, serve_dir, tmp_path: Path):
    """List A (one good feed, one answering 404) polled and its health saved; list B, never polled."""
    from newswatch.flows import feed_state
    from newswatch.flows.feedlist import load_feeds
    from newswatch.flows.poll import poll_feeds
    from newswatch.store import connect, ensure_indices

    site = tmp_path / "site"
    shutil.copytree(SEEDS_DIR / "demo" / "feeds", site)
    base = serve_dir(site)
    list_a, list_b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    list_a.write_text(f"feeds:\n  - {{url: '{base}/moscow-times.xml', name: Moscow}}\n  - {{url: '{base}/gone.xml', name: Gone}}\n")
    list_b.write_text(f"feeds:\n  - {{url: '{base}/demo-wire.xml', name: Wire}}\n")
    es = connect(es_settings)
    ensure_indices(es, es_settings)
    results = asyncio.run(poll_feeds(load_feeds(list_a), es_settings))
    feed_state.save_states(es, es_settings, [feed_state.next_state(r, None, es_settings, len(r.items)) for r in results])
    return {"NEWSWATCH_FEEDS_FILE": str(list_b), "COLUMNS": "300"}, list_a


@pytest.mark.integration
def test_feeds_shows_the_configured_list_and_every_feed_with_a_health_record(polled):
    env, _ = polled
    result = CliRunner().invoke(app, ["feeds", "--json"], env=env)
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert set(rows) == {"Wire", "Moscow", "Gone"}
    assert (rows["Wire"]["listed"], rows["Wire"]["status"]) == (True, "never polled")
    assert (rows["Moscow"]["listed"], rows["Moscow"]["status"], rows["Moscow"]["last_error_class"]) == (False, "ok", None)
    gone = rows["Gone"]
    assert (gone["status"], gone["consecutive_failures"], gone["last_error_class"]) == ("failing", 1, "gone")
    assert gone["last_error"] == gone["last_error"].strip() and "404" in gone["last_error"]


@pytest.mark.integration
def test_feeds_with_a_list_shows_only_that_list(polled):
    env, list_a = polled
    result = CliRunner().invoke(app, ["feeds", "--feeds", str(list_a), "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert [r["name"] for r in json.loads(result.stdout)] == ["Moscow", "Gone"]


@pytest.mark.integration
def test_the_error_class_has_its_own_column(polled):
    env, list_a = polled
    result = CliRunner().invoke(app, ["feeds", "--feeds", str(list_a)], env=env)
    gone = next(line for line in result.stdout.splitlines() if "Gone" in line)
    cells = [c.strip() for c in gone.strip("│ ").split("│")]
    assert cells[1:5] == ["failing", "never", "1", "gone"]
    assert "404" in cells[5]
