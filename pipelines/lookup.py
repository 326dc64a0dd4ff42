"""Cross-run dedup state, read from Elasticsearch: what is already indexed, and earlier copies of a story.

Everything a worker needs to decide "seen before?" is in the index (ids, fingerprints, GUIDs, MinHash
band keys and signatures), so any worker on any machine, in any later run, decides the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch

from newswatch.pipelines.dedup import resemblance
from newswatch.settings import Settings

_SOURCE_FIELDS = ["id", "cluster.id", "minhash", "shingles", "published_at", "source"]


def already_indexed(es: Elasticsearch, settings: Settings, articles: list[dict]) -> set[str]:
    """Ids of these articles already stored, as a story or as a copy of one (every index behind the alias)."""
    ids = [a["id"] for a in articles]
    if not ids:
        return set()
    resp = es.search(
        index=f"{settings.articles_alias},{settings.copies_index}",
        query={"ids": {"values": ids}},
        size=len(ids),
        source=False,
    )
    return {h["_id"] for h in resp["hits"]["hits"]}


def prior_stories(es: Elasticsearch, settings: Settings, articles: list[dict]) -> list[tuple[str, str, float] | None]:
    """For each article, (cluster id, article id, similarity) of the earliest indexed story it copies, if any.

    One multi-search for the whole batch: the candidates share the fingerprint, a MinHash band key, or
    the GUID within the source, inside the near-duplicate window.
    """
    if not articles:
        return []
    since = (datetime.now(UTC) - timedelta(days=settings.near_duplicate_window_days)).isoformat()
    searches: list[dict] = []
    for article in articles:
        searches += [{"index": settings.articles_alias}, _candidates(article, since)]
    responses = es.msearch(searches=searches)["responses"]
    found = []
    for article, resp in zip(articles, responses, strict=True):
        if "error" in resp:
            raise RuntimeError(f"near-duplicate lookup failed: {resp['error']}")
        found.append(_earliest_copy(article, resp["hits"]["hits"], settings.near_duplicate_threshold))
    return found


def _candidates(article: dict, since: str) -> dict:
    should = [
        {"term": {"fingerprint": article["fingerprint"]}},
        {"terms": {"minhash_bands": article["minhash_bands"]}},
    ]
    if article.get("guid"):
        should.append({"bool": {"filter": [{"term": {"guid": article["guid"]}}, {"term": {"source": article["source"]}}]}})
    return {
        "query": {"bool": {"should": should, "minimum_should_match": 1, "filter": [{"range": {"ingested_at": {"gte": since}}}]}},
        "size": 20,
        "_source": [*_SOURCE_FIELDS, "fingerprint", "guid"],
        "sort": [{"published_at": {"order": "asc", "missing": "_last"}}, {"id": "asc"}],
    }


def _earliest_copy(article: dict, hits: list[dict], threshold: float) -> tuple[str, str, float] | None:
    for hit in hits:
        doc = hit["_source"]
        same_guid = article.get("guid") and doc.get("guid") == article["guid"] and doc.get("source") == article["source"]
        sim = (
            1.0
            if doc.get("fingerprint") == article["fingerprint"] or same_guid
            else resemblance(doc.get("minhash", []), doc.get("shingles", 0), article["minhash"], article["shingles"])
        )
        if sim >= threshold:
            return doc.get("cluster", {}).get("id") or doc["id"], doc["id"], round(sim, 3)
    return None
