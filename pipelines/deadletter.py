"""Items that cannot go through, at any stage: one record each in ``<prefix>-deadletter``, and the rest go on.

A record names the feed, the item (its guid or link, truncated), the stage and the reason, and keeps the
raw item (truncated), so a user can see what a publisher sent. Its id is derived from (stage, feed, item),
so a replay updates the record instead of adding one. A batched call that fails because of what one item
holds is split until the item at fault is found (``isolate``): only that item is rejected.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from elasticsearch import ApiError, Elasticsearch, helpers

from newswatch.pipelines.urls import stable_id
from newswatch.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
SHOWN_CHARS = 200  # of an item's guid or link, in a terminal line


class ItemFault(ValueError):
    """What one item holds made a batched call fail; the other items of the batch are not at fault."""


def item_key(item: dict) -> str:
    """What names an item for a user: its guid or link (raw or cleaned), else its id or title."""
    for key in ("guid", "link", "url", "id", "title"):
        if item.get(key):
            return str(item[key])
    return "?"


def feed_url(item: dict) -> str:
    feed = item.get("feed")
    return str(feed.get("url") or "?") if isinstance(feed, dict) else "?"


def record(stage: str, item: dict, reason: str, settings: Settings) -> dict[str, Any]:
    """The dead-letter record of one rejected item; every field is bounded, whatever the item holds."""
    raw = json.dumps(_shortened(item, settings.deadletter_raw_chars // 4), ensure_ascii=False, default=str)
    feed, key = feed_url(item), item_key(item)
    return {
        "id": stable_id("deadletter", stage, feed, key),
        "stage": stage,
        "feed": feed[: settings.max_url_chars],
        "item": key[: settings.max_field_chars],
        "reason": reason[:2000],
        "raw": raw[: settings.deadletter_raw_chars],
        "raw_truncated": len(raw) > settings.deadletter_raw_chars or raw != json.dumps(item, ensure_ascii=False, default=str),
        "at": datetime.now(UTC).isoformat(),
    }


def _shortened(value: Any, max_chars: int) -> Any:
    """The raw item with each long string cut (saying by how much), so every field still shows."""
    if isinstance(value, str) and len(value) > max_chars:
        return f"{value[:max_chars]}…[{len(value) - max_chars} more characters]"
    if isinstance(value, dict):
        return {k: _shortened(v, max_chars) for k, v in value.items()}
    if isinstance(value, list):
        return [_shortened(v, max_chars) for v in value]
    return value


def line(rec: dict) -> str:
    """One terminal line naming the feed and the item."""
    item = rec["item"] if len(rec["item"]) <= SHOWN_CHARS else rec["item"][:SHOWN_CHARS] + "…"
    return f"feed {rec['feed'][:SHOWN_CHARS]} item {item!r} rejected at {rec['stage']}: {rec['reason'][:300]}"


def write(es: Elasticsearch, settings: Settings, records: Sequence[dict]) -> None:
    """Store the records (one line each in the log); the server being unavailable raises, like any write."""
    if not records:
        return
    for rec in records:
        log.error("%s", line(rec))
    actions = [{"_index": settings.deadletter_index, "_id": r["id"], "_source": r} for r in records]
    helpers.bulk(es, actions, raise_on_error=True, max_retries=3)


def since(es: Elasticsearch, settings: Settings, start: datetime, limit: int = 20) -> tuple[list[dict], int]:
    """Records written since ``start`` (a run's rejects, whichever worker wrote them), oldest first, and their count."""
    es.indices.refresh(index=settings.deadletter_index)
    resp = es.search(index=settings.deadletter_index, query={"range": {"at": {"gte": start.isoformat()}}}, size=limit,
                     sort=[{"at": "asc"}], source_excludes=["raw"], track_total_hits=True)  # fmt: skip
    return [h["_source"] for h in resp["hits"]["hits"]], resp["hits"]["total"]["value"]


def is_item_fault(exc: BaseException) -> bool:
    """A request the server refused for its content (HTTP 400, 413), or a fault pinned on an item."""
    if isinstance(exc, ItemFault):
        return True
    return isinstance(exc, ApiError) and exc.meta.status in (400, 413)


def isolate(
    items: list[T], call: Callable[[list[T]], list[R]], fault: Callable[[BaseException], bool] = is_item_fault
) -> tuple[list[tuple[T, R]], list[tuple[T, BaseException]]]:
    """``call`` over the whole batch; when it fails for an item's content, over halves until the item is found.

    Returns (item, result) pairs that went through and (item, error) pairs for the items at fault. Any
    other error (the server down) propagates: the batch waits for the next run instead.
    """
    if not items:
        return [], []
    try:
        return list(zip(items, call(items), strict=True)), []
    except Exception as exc:
        if not fault(exc):
            raise
        if len(items) == 1:
            return [], [(items[0], exc)]
    mid = len(items) // 2
    ok_left, bad_left = isolate(items[:mid], call, fault)
    ok_right, bad_right = isolate(items[mid:], call, fault)
    return ok_left + ok_right, bad_left + bad_right


def reason(exc: BaseException) -> str:
    """An error as one line: its class and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:500] if text else ''}".rstrip(": ")
