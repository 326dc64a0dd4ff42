"""Feed health as every interface shows it: one row per feed, from the feed state in Elasticsearch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from elasticsearch import Elasticsearch, NotFoundError

from newswatch.settings import Settings

HEALTH_FIELDS = ("last_polled_at", "last_success_at", "consecutive_failures", "last_error_class", "last_error", "last_status",
                 "interval_s", "next_due_at")  # fmt: skip


class ListedFeed(Protocol):
    """What a feed list entry must tell (flows.feedlist.Feed does)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str | None: ...

    @property
    def url(self) -> str: ...


def feed_health(es: Elasticsearch, settings: Settings, listed: Sequence[ListedFeed], only_listed: bool) -> list[dict]:
    """The listed feeds and, unless ``only_listed``, every other feed that has a health record (it was
    polled from another list, or has left the list since); a feed never polled has no health yet."""
    states = _states(es, settings, listed, only_listed)
    rows = [_row(f.id, f.name, f.url, True, states.pop(f.id, {})) for f in listed]
    rows += [_row(fid, s.get("name"), s.get("url", ""), False, s) for fid, s in sorted(states.items(), key=lambda kv: kv[1].get("url", ""))]
    return rows


def _states(es: Elasticsearch, settings: Settings, listed: Sequence[ListedFeed], only_listed: bool) -> dict[str, dict]:
    """Feed id -> its state document (without the seen-entry keys): the listed feeds', or every one."""
    wanted = {"ids": {"values": [f.id for f in listed]}} if only_listed else {"match_all": {}}
    try:
        resp = es.search(index=settings.feeds_index, query=wanted, size=settings.es_max_result_window, source_excludes=["seen"])
    except NotFoundError:  # nothing polled yet: no feed-state index
        return {}
    return {h["_id"]: h["_source"] for h in resp["hits"]["hits"]}


def _row(feed_id: str, name: str | None, url: str, listed: bool, state: dict) -> dict:
    failing = bool(state.get("consecutive_failures"))
    row = {"id": feed_id, "name": name, "url": url, "listed": listed, **{k: state.get(k) for k in HEALTH_FIELDS}}
    row["consecutive_failures"] = row["consecutive_failures"] or 0
    if not failing:  # an old error of a feed that has recovered is history, not health
        row["last_error"] = row["last_error_class"] = None
    row["status"] = "never polled" if not state else ("failing" if failing else "ok")
    return row
