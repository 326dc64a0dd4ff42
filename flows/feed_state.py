"""Per-feed polling state in Elasticsearch, shared by every worker and kept across restarts.

Validators (ETag, Last-Modified, body hash) make the next poll conditional; failures are counted and
classified, and a feed is never dropped: it is only polled less often while it fails.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch, helpers

from flows.feedlist import Feed
from flows.poll import FeedResult, Validators
from newswatch.settings import Settings

MAX_BACKOFF = timedelta(hours=6)
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


def next_state(result: FeedResult, previous: dict | None, base_interval_s: int, now: datetime | None = None) -> dict:
    """The feed's state after this poll: validators, health, and when it is due next."""
    now = now or datetime.now(UTC)
    prev = previous or {}
    state = {**prev, "feed_id": result.feed.id, "url": result.feed.url, "name": result.feed.name, "last_polled_at": now.isoformat(),
             "last_status": result.http_status}  # fmt: skip
    interval = timedelta(seconds=result.feed.interval_s or base_interval_s)
    if result.status == "failed":
        failures = int(prev.get("consecutive_failures", 0)) + 1
        weight = BACKOFF_WEIGHT.get(result.error_kind or "", 1.0)
        delay = min(MAX_BACKOFF, interval * weight * (2 ** min(failures - 1, 8)))
        if result.retry_after:
            delay = max(delay, timedelta(seconds=result.retry_after))
        state.update(last_error=result.error, last_error_class=result.error_kind, consecutive_failures=failures)
        state["next_due_at"] = (now + delay).isoformat()
        return state
    v = result.validators
    state.update(etag=v.etag, last_modified=v.last_modified, body_hash=v.body_hash, consecutive_failures=0,
                 last_success_at=now.isoformat(), items_last_poll=len(result.items))  # fmt: skip
    if result.moved_to:
        state["moved_to"] = result.moved_to
    state["next_due_at"] = (now + interval).isoformat()
    return state


def save_states(es: Elasticsearch, settings: Settings, states: list[dict]) -> None:
    actions = [{"_index": settings.feeds_index, "_id": s["feed_id"], "_source": s} for s in states]
    helpers.bulk(es, actions, refresh="wait_for")


def is_due(state: dict | None, now: datetime | None = None) -> bool:
    if not state or not state.get("next_due_at"):
        return True
    return datetime.fromisoformat(state["next_due_at"]) <= (now or datetime.now(UTC))
