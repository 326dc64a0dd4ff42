"""An actor's profile: mentions over time, who appears beside them, their topics and latest stories.

Built from the same search and stats queries as everything else, filtered to the actor.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from newswatch.query.search import QueryError, SearchRequest, search, stats
from newswatch.settings import Settings


def actor_profile(
    es: Elasticsearch, settings: Settings, name: str, since: str | None = None, interval: str = "day", top: int = 10
) -> dict[str, Any]:
    name = name.strip()
    if not name:
        raise QueryError("actor: give a canonical actor name")
    req = SearchRequest(actors=(name,), since=since, sort="newest", size=10)
    facts = stats(es, settings, req, top + 1, interval=interval)
    latest = search(es, settings, req)
    return {
        "name": name,
        "total": facts["total"],
        "timeline": facts["timeline"],
        "co_actors": [(a, n) for a, n in facts["actors"] if a != name][:top],
        "topics": facts["topics"],
        "sources": facts["sources"],
        "latest": latest["hits"],
    }
