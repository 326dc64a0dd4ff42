"""Cross-run dedup state, read from Elasticsearch: what is already indexed, and earlier copies of a story.

Everything a worker needs to decide "seen before?" is in the index (ids, fingerprints, GUIDs, MinHash
band keys and signatures), so any worker on any machine, in any later run, decides the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch

from newswatch.settings import Settings
from newswatch.store import copies_index
from pipelines.dedup import resemblance

_SOURCE_FIELDS = ["id", "cluster.id", "minhash", "shingles", "published_at", "source"]


def already_indexed(es: Elasticsearch, settings: Settings, articles: list[dict]) -> set[str]:
    """Ids of these articles already stored, as a story or as a copy of one (every index behind the alias)."""
    ids = [a["id"] for a in articles]
    if not ids:
        return set()
    resp = es.search(
        index=f"{settings.articles_alias},{copies_index(settings)}",
        query={"ids": {"values": ids}},
        size=len(ids),
        source=False,
    )
    return {h["_id"] for h in resp["hits"]["hits"]}


def prior_story(es: Elasticsearch, settings: Settings, article: dict) -> tuple[str, str, float] | None:
    """(cluster id, article id, similarity) of the earliest indexed story this article copies, if any."""
    since = (datetime.now(UTC) - timedelta(days=settings.near_duplicate_window_days)).isoformat()
    should = [
        {"term": {"fingerprint": article["fingerprint"]}},
        {"terms": {"minhash_bands": article["minhash_bands"]}},
    ]
    if article.get("guid"):
        should.append({"bool": {"filter": [{"term": {"guid": article["guid"]}}, {"term": {"source": article["source"]}}]}})
    resp = es.search(
        index=settings.articles_alias,
        query={"bool": {"should": should, "minimum_should_match": 1, "filter": [{"range": {"ingested_at": {"gte": since}}}]}},
        size=20,
        source=[*_SOURCE_FIELDS, "fingerprint", "guid"],
        sort=[{"published_at": {"order": "asc", "missing": "_last"}}, {"id": "asc"}],
    )
    for hit in resp["hits"]["hits"]:
        doc = hit["_source"]
        same_guid = article.get("guid") and doc.get("guid") == article["guid"] and doc.get("source") == article["source"]
        sim = (
            1.0
            if doc.get("fingerprint") == article["fingerprint"] or same_guid
            else resemblance(doc.get("minhash", []), doc.get("shingles", 0), article["minhash"], article["shingles"])
        )
        if sim >= settings.near_duplicate_threshold:
            return doc.get("cluster", {}).get("id") or doc["id"], doc["id"], round(sim, 3)
    return None
