"""The alert inbox: newest first, filtered by rule, delivery state and time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from newswatch.query.search import ALERT_STATES, QueryError, check_alerts, date_bound
from newswatch.settings import Settings

DELIVERY_STATES = ALERT_STATES


@dataclass
class AlertFilter:
    rule: str | None = None
    status: str | None = None
    since: str | None = None
    until: str | None = None
    page: int = 1
    size: int = 50


def find_alerts(es: Elasticsearch, settings: Settings, f: AlertFilter) -> dict[str, Any]:
    check_alerts(settings, f.size, f.status)
    if f.page < 1 or f.page * f.size > settings.es_max_result_window:
        raise QueryError(f"page {f.page}: use 1 to {settings.es_max_result_window // f.size} with size {f.size}")
    filters: list[dict] = []
    if f.rule:
        filters.append({"term": {"rule_id": f.rule}})
    if f.status:
        filters.append({"term": {"delivery.status": f.status}})
    if f.since or f.until:
        rng = {"gte": date_bound(f.since, "since")} if f.since else {}
        if f.until:
            rng["lte"] = date_bound(f.until, "until")
        filters.append({"range": {"alerted_at": rng}})
    try:
        resp = _search(es, settings, filters, f)
    except NotFoundError:  # nothing alerted yet: no alerts index
        return {"total": 0, "page": f.page, "size": f.size, "alerts": [], "rules": [], "states": []}
    aggs = resp["aggregations"]
    return {
        "total": resp["hits"]["total"]["value"],
        "page": f.page,
        "size": f.size,
        "alerts": [h["_source"] for h in resp["hits"]["hits"]],
        "rules": [(b["key"], b["doc_count"]) for b in aggs["rules"]["buckets"]],
        "states": [(b["key"], b["doc_count"]) for b in aggs["states"]["buckets"]],
    }


def _search(es: Elasticsearch, settings: Settings, filters: list[dict], f: AlertFilter) -> dict[str, Any]:
    return es.search(
        index=settings.alerts_index,
        query={"bool": {"filter": filters}},
        sort=[{"alerted_at": "desc"}],
        from_=(f.page - 1) * f.size,
        size=f.size,
        track_total_hits=True,
        aggs={"rules": {"terms": {"field": "rule_id", "size": 100}}, "states": {"terms": {"field": "delivery.status", "size": 20}}},
    )
