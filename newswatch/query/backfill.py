"""Backfill: the alerts a new rule would have raised on articles already indexed.

An alert's id is (rule, story cluster), exactly as the pipeline makes it, and alerts are created,
never overwritten: a backfill run twice, or a later run that sees another copy of the same story,
adds nothing. The alerts are raised pending; delivery is the flows' (the CLI runs it right after, as a
run would), with its retries, throttles and digests, so nothing is sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from elasticsearch import Elasticsearch, helpers

from newswatch.pipelines.match import WatchlistMatcher, build_alert
from newswatch.pipelines.sink import bulk_create
from newswatch.query.search import date_bound, nothing_indexed
from newswatch.query.watchlists import candidates_query, find_rule
from newswatch.settings import Settings
from newswatch.store import ensure_indices


@dataclass
class Backfill:
    rule_id: str
    since: str
    articles_checked: int = 0
    alerts: list[dict] = field(default_factory=list)  # one per story cluster, each with "exists"
    created: int = 0

    @property
    def new(self) -> list[dict]:
        return [a for a in self.alerts if not a["exists"]]


def plan_backfill(es: Elasticsearch, settings: Settings, rule_id: str, since: str = "30d") -> Backfill:
    """The alerts the rule would have raised on articles published since ``since``, once per story cluster;
    each says whether it was already raised (by a run or an earlier backfill)."""
    rule = find_rule(settings, rule_id)
    plan = Backfill(rule_id, since)
    matcher = WatchlistMatcher([rule])
    by_id: dict[str, dict] = {}
    query = _query(rule, since)
    if not es.indices.exists_alias(name=settings.articles_alias):
        raise nothing_indexed(settings)
    for hit in helpers.scan(es, index=settings.articles_alias, query={"query": query}, size=500,
                            source_excludes=["minhash", "minhash_bands"], preserve_order=False):  # fmt: skip
        plan.articles_checked += 1
        for matched_rule, hits in matcher.match(hit["_source"]):
            alert = {**build_alert(matched_rule, hits, hit["_source"]), "backfill": True}
            by_id.setdefault(alert["id"], alert)
    existing = _existing(es, settings, list(by_id))
    plan.alerts = [{**a, "exists": a["id"] in existing} for a in sorted(by_id.values(), key=lambda a: a.get("published_at") or "")]
    return plan


def run_backfill(es: Elasticsearch, settings: Settings, rule_id: str, since: str = "30d") -> Backfill:
    """Create the planned alerts that are new (pending delivery); one already raised is left as it is."""
    plan = plan_backfill(es, settings, rule_id, since)
    ensure_indices(es, settings)
    docs = [{k: v for k, v in a.items() if k != "exists"} for a in plan.new]
    plan.created = bulk_create(es, settings.alerts_index, docs, settings)["created"]
    return plan


def _query(rule, since: str) -> dict:
    start = date_bound(since, "--since")
    when = {"bool": {"should": [{"range": {"published_at": {"gte": start}}},
                                {"bool": {"must_not": [{"exists": {"field": "published_at"}}],
                                          "filter": [{"range": {"ingested_at": {"gte": start}}}]}}],
                     "minimum_should_match": 1}}  # fmt: skip
    return {"bool": {"must": [candidates_query(rule)], "filter": [when]}}


def _existing(es: Elasticsearch, settings: Settings, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    resp = es.options(ignore_status=404).mget(index=settings.alerts_index, ids=ids, source=False)
    return {d["_id"] for d in resp.get("docs", []) if d.get("found")}
