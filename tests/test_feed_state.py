"""Feed state: intervals adapt to how often a feed changes; failures back off by class; nothing is dropped."""

from datetime import UTC, datetime, timedelta

import pytest

from newswatch.flows.feed_state import adapt_interval, is_due, new_items, next_state
from newswatch.flows.feedlist import Feed, FeedListError, load_feeds
from newswatch.flows.poll import FeedResult, Validators
from newswatch.settings import Settings

SETTINGS = Settings(serve_interval_s=600, poll_min_interval_s=60, poll_max_interval_s=3600)
FEED = Feed("https://example.com/feed.xml")


def ok(*guids: str) -> FeedResult:
    return FeedResult(FEED, "ok", [{"guid": g} for g in guids], validators=Validators("e", "m", "h"))


def test_entries_seen_at_the_last_poll_are_not_new():
    first = ok("a", "b")
    state = next_state(first, None, SETTINGS, n_new=len(new_items(first, None)))
    assert [it["guid"] for it in new_items(ok("a", "b", "c"), state)] == ["c"]


def test_busy_feeds_are_polled_more_often_and_quiet_ones_less():
    assert adapt_interval(600, 8, 10, SETTINGS) == 300
    assert adapt_interval(600, 0, 10, SETTINGS) == 900
    assert adapt_interval(600, 2, 10, SETTINGS) == 600
    assert adapt_interval(100, 10, 10, SETTINGS) == 60 and adapt_interval(3000, 0, 10, SETTINGS) == 3600


def test_a_failing_feed_is_never_dropped_only_backed_off():
    fail = FeedResult(FEED, "failed", error="HTTP 404", error_kind="gone", http_status=404)
    state = None
    for _ in range(20):
        state = next_state(fail, state, SETTINGS)
    assert state["consecutive_failures"] == 20 and state["next_due_at"] and state["last_error_class"] == "gone"
    recovered = next_state(ok("a"), state, SETTINGS, n_new=1)
    assert recovered["consecutive_failures"] == 0 and recovered["etag"] == "e"


def test_a_feed_never_polled_is_due():
    assert is_due(None) and is_due({}) and not is_due(next_state(ok("a"), None, SETTINGS, 1))


def test_under_serve_a_feed_whose_interval_is_the_serve_interval_is_polled_by_every_run():
    serve = Settings(serve_interval_s=60, poll_min_interval_s=60)
    polled_at = datetime(2026, 11, 26, 12, 0, 2, tzinfo=UTC)  # the state is saved after the requests, 2 s into the run
    state = next_state(ok("a", "b"), None, serve, n_new=1, now=polled_at)
    assert state["interval_s"] == 60
    next_run_checks_at = polled_at + timedelta(seconds=59)  # the next run wakes 60 s after this one and checks at once
    assert is_due(state, next_run_checks_at)
    assert not is_due(state, polled_at + timedelta(seconds=30))  # never much before its time


def test_a_failing_feed_waits_its_whole_back_off_and_retry_after():
    failed_at = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    limited = FeedResult(FEED, "failed", error="HTTP 429", error_kind="rate_limited", http_status=429, retry_after=1800)
    state = next_state(limited, next_state(ok("a"), None, SETTINGS, 1, failed_at), SETTINGS, 0, failed_at)
    assert not is_due(state, failed_at + timedelta(seconds=1799)) and is_due(state, failed_at + timedelta(seconds=1800))


def test_a_feed_that_must_be_fresh_is_never_left_longer_than_its_max_interval():
    fresh = Feed("https://example.com/breaking.xml", max_interval_s=120)
    start = datetime(2026, 11, 26, tzinfo=UTC)
    state = None
    for poll in range(10):  # nothing new, poll after poll: a normal feed would drift to poll_max_interval_s
        now = start + timedelta(minutes=poll)
        state = next_state(FeedResult(fresh, "not_modified", validators=Validators("e", "m", "h")), state, SETTINGS, 0, now)
        assert state["interval_s"] <= 120
        assert datetime.fromisoformat(state["next_due_at"]) <= now + timedelta(seconds=120)
    failing = FeedResult(fresh, "failed", error="HTTP 503", error_kind="server_error", http_status=503)
    for _ in range(5):
        state = next_state(failing, state, SETTINGS, 0, now)
    assert datetime.fromisoformat(state["next_due_at"]) <= now + timedelta(seconds=120)


def test_a_feed_list_sets_a_max_interval_for_all_its_feeds_and_a_feed_its_own(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "max_interval_s: 300\nfeeds:\n  - {url: 'https://example.com/a.xml'}\n  - {url: 'https://example.com/b.xml', max_interval_s: 60}\n"
    )
    assert [f.max_interval_s for f in load_feeds(path)] == [300, 60]
    path.write_text("feeds:\n  - {url: 'https://example.com/a.xml', max_interval_s: 5}\n  - {url: 'https://example.com/b.xml'}\n")
    feeds = load_feeds(path)  # an entry with a bad value is skipped alone, naming the field
    assert [f.url for f in feeds] == ["https://example.com/b.xml"]
    assert len(feeds.skipped) == 1 and feeds.skipped[0].startswith(f"feed list {path}: entry 1: max_interval_s: 5 ")
    path.write_text("max_interval_s: 5\nfeeds: []\n")
    with pytest.raises(FeedListError, match="max_interval_s"):  # a bad value for the whole list stops it
        load_feeds(path)
