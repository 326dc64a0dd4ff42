"""A server that misbehaves in every way: each feed ends within its timeout with the right state, and
the good feed of the same run still lands."""

import asyncio
import time

import pytest

from newswatch.flows.feed_state import next_state
from newswatch.flows.feedlist import Feed
from newswatch.flows.poll import poll_feeds
from newswatch.settings import Settings
from tests import hostile_server

SETTINGS = Settings(poll_timeout_s=2, poll_max_bytes=5_000_000, poll_host_min_gap_s=0)
EXPECTED = {
    "good.xml": ("ok", None),
    "silent.xml": ("failed", "timeout"),
    "trickle.xml": ("failed", "timeout"),
    "500.xml": ("failed", "server_error"),
    "404.xml": ("failed", "gone"),
    "429.xml": ("failed", "rate_limited"),
    "loop-a.xml": ("failed", "redirect_loop"),
    "huge.xml": ("failed", "too_large"),
    "huge-undeclared.xml": ("failed", "too_large"),
    "bomb.xml": ("failed", "too_large"),
    "latin1.xml": ("ok", None),
    "html.xml": ("failed", "not_a_feed"),
    "moved.xml": ("ok", None),
}


@pytest.fixture(scope="module")
def results():
    server, base = hostile_server.start()
    feeds = [Feed(f"{base}/{name}") for name in EXPECTED]
    started = time.monotonic()
    polled = asyncio.run(poll_feeds(feeds, SETTINGS))
    elapsed = time.monotonic() - started
    hostile_server.stop(server)
    return {r.feed.url.rsplit("/", 1)[1]: r for r in polled}, elapsed


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_feed_ends_with_the_right_state(results, name):
    by_name, _ = results
    status, kind = EXPECTED[name]
    r = by_name[name]
    assert (r.status, r.error_kind) == (status, kind), r.line()


def test_the_whole_run_ends_within_the_timeouts(results):
    _, elapsed = results
    assert elapsed < 2 * SETTINGS.poll_timeout_s + 5


def test_the_good_feed_lands_among_the_bad(results):
    by_name, _ = results
    assert len(by_name["good.xml"].items) == 2


def test_wrong_charset_is_decoded_from_the_xml_declaration(results):
    by_name, _ = results
    (item,) = by_name["latin1.xml"].items
    assert item["title"] == "Grüße aus München"


def test_permanent_redirect_is_recorded(results):
    by_name, _ = results
    r = by_name["moved.xml"]
    assert r.moved_to and r.moved_to.endswith("/good.xml")
    assert next_state(r, None, SETTINGS)["moved_to"] == r.moved_to


def test_a_moved_feed_is_polled_at_its_new_address_under_its_old_identity(results):
    from newswatch.flows.feed_state import with_moves

    by_name, _ = results
    state = next_state(by_name["moved.xml"], None, SETTINGS)
    feed = with_moves(by_name["moved.xml"].feed, state)
    assert feed.fetch_url.endswith("/good.xml") and feed.id == by_name["moved.xml"].feed.id


def test_retry_after_is_honoured_and_failures_back_off(results):
    by_name, _ = results
    state = next_state(by_name["429.xml"], None, SETTINGS)
    assert state["consecutive_failures"] == 1 and state["last_error_class"] == "rate_limited"
    due_in = _seconds_until(state["next_due_at"])
    assert 3500 <= due_in <= 3700
    again = next_state(by_name["500.xml"], next_state(by_name["500.xml"], None, SETTINGS), SETTINGS)
    assert again["consecutive_failures"] == 2 and _seconds_until(again["next_due_at"]) > 550


def test_304_costs_nothing(results):
    by_name, _ = results
    good = by_name["good.xml"]
    (again,) = asyncio.run(_poll_again(good))
    assert again.status == "not_modified" and again.http_status == 304 and again.bytes_received == 0


async def _poll_again(previous):
    server, base = hostile_server.start()
    try:
        feed = Feed(f"{base}/good.xml")
        return await poll_feeds([feed], SETTINGS, {feed.id: previous.validators})
    finally:
        hostile_server.stop(server)


def _seconds_until(iso: str) -> float:
    from datetime import UTC, datetime

    return (datetime.fromisoformat(iso) - datetime.now(UTC)).total_seconds()


@pytest.mark.integration
def test_one_run_indexes_every_good_item_rejects_each_bad_one_by_name_and_the_next_run_goes_on(es_settings, tmp_path):
    """The hostile feed's bad items among good ones, and a feed list with bad entries, through the real command."""
    import json

    from newswatch.flows.raw_store import RawStore
    from tests.test_e2e import newswatch

    server, base = hostile_server.start()
    feeds = tmp_path / "feeds.yaml"
    bad_entries = ["http://[::1", "ftp://files.example/feed.xml", "/etc/passwd", "file:///etc/hostname"]
    feeds.write_text("feeds:\n" + "".join(f"  - {{url: '{u}'}}\n" for u in bad_entries)
                     + f"  - {{url: '{base}/poison.xml', source: Hostile Times}}\n  - {{url: '{base}/good.xml'}}\n")  # fmt: skip
    try:
        first = newswatch("run", "--once", "--feeds", str(feeds))
        second = newswatch("run", "--once", "--feeds", str(feeds))
    finally:
        hostile_server.stop(server)

    assert first.returncode == 0 and "Traceback" not in first.stderr, first.stderr[-3000:]
    lines = first.stderr.splitlines()
    for n, url in enumerate(bad_entries, start=1):
        assert sum(line.startswith(f"error: feed list {feeds}: entry {n}: ") and url in line for line in lines) == 1, lines
    for marker in hostile_server.BAD_ITEMS.values():
        rejected = [line for line in lines if line.startswith(f"error: feed {base}/poison.xml item ") and marker in line]
        assert len(rejected) == 1 and " rejected at clean: " in rejected[0] and len(rejected[0]) < 600, lines
    assert len(lines) == len(bad_entries) + len(hostile_server.BAD_ITEMS), lines  # nothing else: one line each

    indexed = {h["url"] for h in json.loads(newswatch("search", "--json", "--size", "50").stdout)["hits"]}
    assert set(hostile_server.GOOD_ITEMS.values()) | {"https://good.example/ferry-timetable"} <= indexed
    assert len(indexed) == len(hostile_server.GOOD_ITEMS) + 1 + 2  # and the two stories of good.xml

    assert second.returncode == 0 and "Traceback" not in second.stderr, second.stderr[-3000:]
    assert RawStore(es_settings.data_dir).pending() == []
