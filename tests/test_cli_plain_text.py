"""Text from feeds and users is printed as plain text by every command: Rich markup, hyperlinks and
terminal escape sequences in a title, a channel name, a rule or a feed name are shown as they are,
never interpreted. The terminal is forced on (FORCE_COLOR), as a user at a console would have it."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newswatch.interfaces.cli import app, print_report
from newswatch.settings import Settings
from tests.conftest import ES_URL, drop_indices, serve_directory

HOSTILE_TITLE = "[red]X[/red] [link=http://evil.example/]click me[/link]"
CHANNEL = "[bold]Evil Channel[/bold]"
RULE_NAME = "[bold]Harbour[/bold] [link=http://evil.example/]watch[/link]"
FEED_NAME = "[italic]Broken[/italic] feed"
ESCAPE = "\x1b]8;;http://evil.example/\x1b\\sneaky\x1b]8;;\x1b\\"  # an OSC 8 hyperlink sent as raw bytes

FEED = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{CHANNEL}</title><link>http://evil.example/</link><description>x</description>
<item><title>{HOSTILE_TITLE}</title><link>http://evil.example/story-1</link><guid>story-1</guid>
<pubDate>Tue, 24 Nov 2026 10:00:00 GMT</pubDate>
<description>Harbour Bank said on Tuesday that its quarterly profit rose as lending grew across the region,
and the bank's chief executive told analysts that demand for mortgages stayed strong. {ESCAPE}</description></item>
</channel></rss>
"""


@pytest.fixture(scope="module")
def hostile(es_available, tmp_path_factory) -> dict[str, str]:
    """One hostile article indexed through the real pipeline, its alert, and a broken feed's health;
    returns the environment the commands run with."""
    from newswatch.flows import feed_state
    from newswatch.flows.feedlist import load_feeds
    from newswatch.flows.poll import poll_feeds
    from newswatch.flows.raw_store import RawStore
    from newswatch.pipelines.pipeline import run
    from newswatch.store import connect, ensure_indices

    tmp = tmp_path_factory.mktemp("hostile")
    (tmp / "site").mkdir()
    (tmp / "site" / "evil.xml").write_text(FEED, encoding="utf-8")
    server, base = serve_directory(tmp / "site")
    (tmp / "feeds.yaml").write_text(f"feeds:\n  - {{url: '{base}/evil.xml'}}\n  - {{url: '{base}/gone.xml', name: '{FEED_NAME}'}}\n")
    (tmp / "watch.yaml").write_text(
        f"rules:\n  - {{id: harbour, name: '{RULE_NAME}', keywords: [Harbour Bank], deliver: [{{jsonl: '{tmp}/alerts.jsonl'}}]}}\n"
    )
    env = {"NEWSWATCH_ES_URL": ES_URL, "NEWSWATCH_INDEX_PREFIX": f"nwtest-{uuid.uuid4().hex[:8]}", "NEWSWATCH_DATA_DIR": str(tmp / "data"),
           "NEWSWATCH_FEEDS_FILE": str(tmp / "feeds.yaml"), "NEWSWATCH_WATCHLIST_FILE": str(tmp / "watch.yaml"),
           "NEWSWATCH_USER_WATCHLIST_FILE": str(tmp / "mine.yaml"), "FORCE_COLOR": "1", "COLUMNS": "400"}  # fmt: skip
    settings = Settings(**{k.removeprefix("NEWSWATCH_").lower(): v for k, v in env.items() if k.startswith("NEWSWATCH_")})
    es = connect(settings)
    ensure_indices(es, settings)
    try:
        results = asyncio.run(poll_feeds(load_feeds(settings.feeds_file), settings))
        feed_state.save_states(es, settings, [feed_state.next_state(r, None, settings, len(r.items)) for r in results])
        report = run([RawStore(settings.data_dir).write_batch([it for r in results for it in r.items])], settings)
        assert report.counters.get("alerts_created") == 1, report.counters
        yield env
    finally:
        server.shutdown()
        drop_indices(settings)


def newswatch(env: dict[str, str], *args: str):
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result


def assert_plain(output: str, *texts: str) -> None:
    for text in texts:
        assert text in output
    assert "\x1b]8;" not in output  # no terminal hyperlink, hidden or not
    assert "evil.example/\x1b" not in output


@pytest.mark.integration
def test_search_prints_titles_and_sources_as_they_are(hostile):
    assert_plain(newswatch(hostile, "search", "--source", CHANNEL).stdout, HOSTILE_TITLE, CHANNEL)


@pytest.mark.integration
def test_stats_prints_source_names_as_they_are(hostile):
    assert_plain(newswatch(hostile, "stats").stdout, CHANNEL)


@pytest.mark.integration
def test_alerts_print_titles_as_they_are(hostile):
    assert_plain(newswatch(hostile, "alerts").stdout, HOSTILE_TITLE)


@pytest.mark.integration
def test_feeds_print_feed_names_as_they_are(hostile):
    assert_plain(newswatch(hostile, "feeds").stdout, FEED_NAME)


@pytest.mark.integration
def test_watch_list_and_watch_test_print_rules_and_titles_as_they_are(hostile):
    assert_plain(newswatch(hostile, "watch", "list").stdout, RULE_NAME)
    assert_plain(newswatch(hostile, "watch", "test", "harbour").stdout, HOSTILE_TITLE)


@pytest.mark.integration
def test_raw_escape_sequences_from_a_feed_never_reach_the_terminal(hostile):
    found = newswatch(hostile, "search", "sneaky").stdout
    assert "sneaky" in found and "\x1b]8;" not in found  # the text stays, its escape sequence does not


def test_the_tools_own_errors_show_the_real_pattern(tmp_path: Path):
    result = CliRunner().invoke(app, ["watch", "add", "BadID", "--keyword", "x", "--watchlist", str(tmp_path / "w.yaml")])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: watchlist {tmp_path / 'w.yaml'}: rule 'BadID', field id: 'BadID' does not match '^[a-z0-9][a-z0-9_-]*$'"
    )


def test_error_lines_print_user_and_feed_text_as_it_is(capsys):
    print_report({"feeds": 1, "polled": 1, "errors": [f"feed {FEED_NAME} ({HOSTILE_TITLE}): HTTP 404"]})
    assert capsys.readouterr().err.strip() == f"error: feed {FEED_NAME} ({HOSTILE_TITLE}): HTTP 404"
    result = CliRunner().invoke(app, ["search", "x", "--since", HOSTILE_TITLE], env={"FORCE_COLOR": "1"})
    assert result.exit_code == 2
    assert HOSTILE_TITLE in result.stderr and "\x1b]8;" not in result.stderr
