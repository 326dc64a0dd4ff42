"""Search and alert queries over the indexed news, in Elasticsearch's safe simple_query_string syntax."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch

from newswatch.settings import Settings

HIGHLIGHT = ("\x02", "\x03")  # markers the terminal view turns into bold
_RELATIVE = re.compile(r"^(\d+)([mhdwMy])$")


class QueryError(ValueError):
    """A query or filter the user must fix; the message says what is wrong."""


@dataclass
class SearchRequest:
    query: str = ""
    actors: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    sort: str = "relevance"  # or "newest"
    page: int = 1
    size: int = 10


def date_bound(value: str, flag: str) -> str:
    """'7d', '12h', '2w' -> Elasticsearch date math; ISO dates pass through."""
    value = value.strip()
    if m := _RELATIVE.match(value):
        return f"now-{m.group(1)}{m.group(2)}"
    if re.match(r"^\d{4}-\d{2}-\d{2}", value):
        return value
    raise QueryError(f"{flag} {value!r}: use a relative age like 7d, 12h, 2w, or a date like 2020-09-13")


def build_query(req: SearchRequest) -> dict[str, Any]:
    filters: list[dict] = []
    filters += [{"term": {"actors.name": a}} for a in req.actors]
    filters += [
        {"bool": {"should": [{"term": {"topics.label": t}}, {"term": {"topics.id": t}}], "minimum_should_match": 1}} for t in req.topics
    ]
    if req.sources:
        filters.append({"terms": {"source": list(req.sources)}})
    if req.languages:
        filters.append({"terms": {"language": list(req.languages)}})
    if req.since or req.until:
        rng = {}
        if req.since:
            rng["gte"] = date_bound(req.since, "--since")
        if req.until:
            rng["lte"] = date_bound(req.until, "--until")
        filters.append({"range": {"published_at": rng}})
    must = (
        [{"simple_query_string": {"query": req.query, "fields": ["title^3", "text", "actors.name.text^2"], "default_operator": "and"}}]
        if req.query.strip()
        else [{"match_all": {}}]
    )
    return {"bool": {"must": must, "filter": filters}}


def search(es: Elasticsearch, settings: Settings, req: SearchRequest) -> dict[str, Any]:
    if req.page < 1 or not 1 <= req.size <= 100:
        raise QueryError("--page must be 1 or more and --size between 1 and 100")
    if req.sort not in ("relevance", "newest"):
        raise QueryError(f"--sort {req.sort!r}: use relevance or newest")
    sort = (
        [{"published_at": {"order": "desc", "missing": "_last"}}, "_score"]
        if req.sort == "newest"
        else ["_score", {"published_at": {"order": "desc", "missing": "_last"}}]
    )
    try:
        resp = es.search(
            index=settings.articles_alias,
            query=build_query(req),
            sort=sort,
            from_=(req.page - 1) * req.size,
            size=req.size,
            track_total_hits=True,
            source_excludes=["minhash", "minhash_bands", "text"],
            highlight={
                "pre_tags": [HIGHLIGHT[0]],
                "post_tags": [HIGHLIGHT[1]],
                "fields": {"title": {"number_of_fragments": 0}, "text": {"fragment_size": 160, "number_of_fragments": 2}},
            },
        )
    except BadRequestError as exc:
        raise QueryError(f"Elasticsearch rejected the query {req.query!r}: {_reason(exc)}") from None
    hits = []
    for h in resp["hits"]["hits"]:
        doc = h["_source"]
        hl = h.get("highlight", {})
        snippet = " … ".join(hl.get("text", [])) or (doc.get("summary") or "")[:200]
        hits.append(
            {**doc, "score": h.get("_score"), "title_highlight": (hl.get("title") or [doc.get("title", "")])[0], "snippet": snippet}
        )
    return {"total": resp["hits"]["total"]["value"], "page": req.page, "size": req.size, "hits": hits}


def _reason(exc: BadRequestError) -> str:
    try:
        root = exc.body["error"]["root_cause"][0]
        return f"{root.get('type')}: {root.get('reason')}"
    except (TypeError, KeyError, IndexError):
        return str(exc.message)


def list_alerts(es: Elasticsearch, settings: Settings, rule: str | None = None, size: int = 50) -> list[dict]:
    query = {"term": {"rule_id": rule}} if rule else {"match_all": {}}
    resp = es.search(index=settings.alerts_index, query=query, sort=[{"alerted_at": "desc"}], size=size)
    return [h["_source"] for h in resp["hits"]["hits"]]


def stats(es: Elasticsearch, settings: Settings, req: SearchRequest, top: int = 10) -> dict[str, Any]:
    """Top actors, topics and sources, and a per-day timeline, for the articles a query finds."""
    try:
        resp = es.search(
            index=settings.articles_alias,
            query=build_query(req),
            size=0,
            track_total_hits=True,
            aggs={
                "actors": {"terms": {"field": "actors.name", "size": top}},
                "topics": {"terms": {"field": "topics.label", "size": top}},
                "sources": {"terms": {"field": "source", "size": top}},
                "per_day": {"date_histogram": {"field": "published_at", "calendar_interval": "day", "min_doc_count": 1}},
            },
        )
    except BadRequestError as exc:
        raise QueryError(f"Elasticsearch rejected the query {req.query!r}: {_reason(exc)}") from None
    aggs = resp["aggregations"]
    buckets = lambda name: [(b["key"], b["doc_count"]) for b in aggs[name]["buckets"]]  # noqa: E731
    return {
        "total": resp["hits"]["total"]["value"],
        "actors": buckets("actors"),
        "topics": buckets("topics"),
        "sources": buckets("sources"),
        "per_day": [(b["key_as_string"][:10], b["doc_count"]) for b in aggs["per_day"]["buckets"]],
    }
