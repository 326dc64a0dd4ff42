"""A story: its first article, the copies other sources ran, and the rules it matched."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from newswatch.query.search import QueryError
from newswatch.settings import Settings

_HEAVY = ["minhash", "minhash_bands", "shingles"]


class StoryNotFound(QueryError):
    """No story has this id (a stale link, or an id typed by hand)."""


def story_copies(es: Elasticsearch, settings: Settings, story_id: str, size: int = 100) -> list[dict[str, Any]]:
    """The copies of a story (syndicated or near-identical articles), oldest first."""
    resp = es.search(
        index=settings.copies_index,
        query={"term": {"cluster.id": story_id}},
        sort=[{"published_at": {"order": "asc", "missing": "_last"}}],
        size=size,
        source_excludes=_HEAVY,
    )
    return [h["_source"] for h in resp["hits"]["hits"]]


def get_story(es: Elasticsearch, settings: Settings, story_id: str) -> dict[str, Any]:
    """The first article of a story, its copies, and the alerts raised on it; QueryError when unknown."""
    resp = es.search(index=settings.articles_alias, query={"ids": {"values": [story_id]}}, size=1, source_excludes=_HEAVY)
    hits = resp["hits"]["hits"]
    if not hits:
        raise StoryNotFound(f"no story with id {story_id!r}")
    alerts = es.search(index=settings.alerts_index, query={"term": {"cluster_id": story_id}}, sort=[{"alerted_at": "desc"}], size=50)
    return {
        "article": hits[0]["_source"],
        "copies": story_copies(es, settings, story_id),
        "alerts": [h["_source"] for h in alerts["hits"]["hits"]],
    }
