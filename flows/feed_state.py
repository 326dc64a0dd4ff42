"""Per-feed polling state in Elasticsearch, shared by every worker and kept across restarts.

Validators (ETag, Last-Modified, body hash) make the next poll conditional; failures are counted and
classified, and a feed is never dropped: it is only polled less often while it fails.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch, helpers

from newswatch.flows.feedlist import Feed
from newswatch.flows.poll import FeedResult, Validators
from newswatch.settings import Settings

MAX_BACKOFF = timedelta(hours=6)
# A feed may be polled this share of its interval early, so that a run waking up just before the feed's
# time takes it, instead of the next run one whole serve interval later (see ``is_due``).
DUE_EARLY_SHARE = 0.1
# How much an error class slows a feed down: a rate limit or a server error is likely to pass soon;
# a 404 or a document that is not a feed is not, so it is retried less often (but still retried).
BACKOFF_WEIGHT = {"rate_limited": 2.0, "server_error": 1.0, "timeout": 1.0, "network": 1.0, "gone": 4.0,
                  "forbidden": 4.0, "not_a_feed": 4.0, "not_found": 4.0, "too_large": 4.0, "redirect_loop": 4.0}  # fmt: skip


def load_states(es: Elasticsearch, settings: Settings, feeds: list[Feed]) -> dict[str, dict]:
    if not feeds:
        return {}
    resp = es.mget(index=settings.feeds_index, ids=[f.id for f in feeds])
    return {d["_id"]: d["_source"] for d in resp["docs"] if d.get("found")}


def validators_of(states: dict[str, dict]) -> dict[str, Validators]:
    return {fid: Validators(s.get("etag"), s.get("last_modified"), s.get("body_hash")) for fid, s in states.items()}


def item_key(item: dict) -> str:
    """A short stable key of a feed item, to tell new entries from ones seen at the last poll."""
    ident = item.get("guid") or item.get("link") or item.get("title") or ""
    return hashlib.blake2b(ident.encode("utf-8"), digest_size=8).hexdigest()


def new_items(result: FeedResult, previous: dict | None) -> list[dict]:
    """The entries not seen at the previous poll; all of them for a feed polled the first time."""
    seen = set((previous or {}).get("seen", []))
    return [it for it in result.items if item_key(it) not in seen]


def next_state(result: FeedResult, previous: dict | None, settings: Settings, n_new: int = 0, now: datetime | None = None) -> dict:
    """The feed's state after this poll: validators, health, an adapted interval, and when it is due next."""
    now = now or datetime.now(UTC)
    prev = previous or {}
    state = {**prev, "feed_id": result.feed.id, "url": result.feed.url, "name": result.feed.name, "last_polled_at": now.isoformat(),
             "last_status": result.http_status}  # fmt: skip
    interval = float(prev.get("interval_s") or result.feed.interval_s or settings.serve_interval_s)
    if result.status == "failed":
        failures = int(prev.get("consecutive_failures", 0)) + 1
        weight = BACKOFF_WEIGHT.get(result.error_kind or "", 1.0)
        delay = min(
            MAX_BACKOFF,
            timedelta(seconds=interval) * weight * (2 ** min(failures - 1, 8)),
            timedelta(seconds=longest_interval_s(result.feed.max_interval_s, settings)),
        )
        if result.retry_after:
            delay = max(delay, timedelta(seconds=result.retry_after))
        state.update(last_error=result.error, last_error_class=result.error_kind, consecutive_failures=failures)
        state["next_due_at"] = (now + delay).isoformat()
        return state
    interval = adapt_interval(interval, n_new, len(result.items), settings, result.feed.max_interval_s)
    v = result.validators
    state.update(etag=v.etag, last_modified=v.last_modified, body_hash=v.body_hash, consecutive_failures=0, interval_s=interval,
                 last_success_at=now.isoformat(), items_last_poll=len(result.items), new_items_last_poll=n_new)  # fmt: skip
    if result.status == "ok":
        state["seen"] = [item_key(it) for it in result.items]
    if result.moved_to:
        state["moved_to"] = result.moved_to
    state["next_due_at"] = (now + timedelta(seconds=interval)).isoformat()
    return state


def adapt_interval(interval: float, n_new: int, n_items: int, settings: Settings, max_interval_s: int | None = None) -> float:
    """Poll twice as often while most entries are new, half again as long while nothing changes; never
    longer than the feed's (or its list's) ``max_interval_s``, for feeds that must be fresh."""
    if n_items and n_new / n_items >= 0.5:
        interval /= 2
    elif n_new == 0:
        interval *= 1.5
    longest = longest_interval_s(max_interval_s, settings)
    return max(min(settings.poll_min_interval_s, longest), min(longest, interval))


def longest_interval_s(max_interval_s: int | None, settings: Settings) -> int:
    """How long a feed may go unpolled: its own (or its list's) maximum, within setting poll_max_interval_s."""
    return min(settings.poll_max_interval_s, max_interval_s or settings.poll_max_interval_s)


def save_states(es: Elasticsearch, settings: Settings, states: list[dict]) -> None:
    """One bulk, then one refresh so `newswatch feeds` shows this poll at once: ``refresh=True`` takes ~20 ms,
    where waiting for the next scheduled refresh (``wait_for``) took 0.7-1 s of every run, idle ones too."""
    actions = [{"_index": settings.feeds_index, "_id": s["feed_id"], "_source": s} for s in states]
    helpers.bulk(es, actions, refresh=True)


def with_moves(feed: Feed, state: dict | None) -> Feed:
    """The feed polled at the URL a permanent redirect gave it; its id stays that of the listed URL."""
    moved = (state or {}).get("moved_to")
    return dataclasses.replace(feed, moved_to=moved) if moved and moved != feed.url else feed


def is_due(state: dict | None, now: datetime | None = None) -> bool:
    """Due once less than ``DUE_EARLY_SHARE`` of its interval remains. A run checks the feeds a moment
    after it wakes, while the last poll set ``next_due_at`` from a moment later in its run (after the
    requests); without the slack a feed whose interval equals ``serve --interval`` would be skipped by
    every other run, so polled at twice its interval. A failing feed waits its whole back-off."""
    if not state or not state.get("next_due_at"):
        return True
    healthy = not state.get("consecutive_failures")  # a back-off (or a server's Retry-After) is kept to the second
    slack = timedelta(seconds=float(state.get("interval_s") or 0) * DUE_EARLY_SHARE if healthy else 0)
    return datetime.fromisoformat(state["next_due_at"]) - slack <= (now or datetime.now(UTC))
