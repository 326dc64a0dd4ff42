"""Cross-run dedup state, read from Elasticsearch: what is already indexed, and earlier copies of a story.

Everything a worker needs to decide "seen before?" is in the index (ids, fingerprints, GUIDs, MinHash
band keys and signatures), so any worker on any machine, in any later run, decides the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elasticsearch import Elasticsearch

from newswatch.pipelines.deadletter import ItemFault
from newswatch.pipelines.dedup import resemblance, with_cluster
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


def resolve(es: Elasticsearch, settings: Settings, articles: list[dict]) -> list[dict | None]:
    """For each article: None when already stored, else the article, joined to the indexed story it copies."""
    seen = already_indexed(es, settings, articles)
    fresh = [a for a in articles if a["id"] not in seen]
    joined = dict(zip((a["id"] for a in fresh), prior_stories(es, settings, fresh), strict=True))
    return [None if a["id"] in seen else _joined(a, joined[a["id"]]) for a in articles]


def _joined(article: dict, prior: tuple[str, str, float] | None) -> dict:
    return with_cluster(article, id=prior[0], duplicate_of=prior[1], similarity=prior[2]) if prior else article


def prior_stories(es: Elasticsearch, settings: Settings, articles: list[dict]) -> list[tuple[str, str, float] | None]:
    """For each article, (cluster id, article id, similarity) of the earliest indexed story it copies, if any.

    One multi-search for the whole batch: the candidates share the fingerprint, a MinHash band key, or
    the GUID within the source, inside the near-duplicate window. They come ranked by how much they share
    (each band is its own clause, so an article that shares most bands ranks first): a big story or
    recurring text can give hundreds of articles one band in common, and the copy must not fall outside
    the ``near_duplicate_candidates`` returned. Of those similar enough, the earliest published wins.
    """
    if not articles:
        return []
    since = (datetime.now(UTC) - timedelta(days=settings.near_duplicate_window_days)).isoformat()
    searches: list[dict] = []
    for article in articles:
        searches += [{"index": settings.articles_alias}, _candidates(article, since, settings.near_duplicate_candidates)]
    responses = es.msearch(searches=searches)["responses"]
    found = []
    for article, resp in zip(articles, responses, strict=True):
        if "error" in resp:
            raise ItemFault(f"near-duplicate lookup failed: {str(resp['error'])[:500]}")
        found.append(_earliest_copy(article, resp["hits"]["hits"], settings.near_duplicate_threshold))
    return found


def _candidates(article: dict, since: str, size: int) -> dict:
    should: list[dict] = [
        {"term": {"fingerprint": {"value": article["fingerprint"], "boost": 100}}},
        *({"term": {"minhash_bands": band}} for band in article["minhash_bands"]),
    ]
    if article.get("guid"):
        same_guid = {"bool": {"filter": [{"term": {"guid": article["guid"]}}, {"term": {"source": article["source"]}}]}}
        should.append({"constant_score": {"filter": same_guid, "boost": 100}})
    return {
        "query": {"bool": {"should": should, "minimum_should_match": 1, "filter": [{"range": {"ingested_at": {"gte": since}}}]}},
        "size": size,
        "_source": [*_SOURCE_FIELDS, "fingerprint", "guid"],
        "sort": [{"_score": "desc"}, {"id": "asc"}],
    }


def _earliest_copy(article: dict, hits: list[dict], threshold: float) -> tuple[str, str, float] | None:
    similar = []
    for hit in hits:
        doc = hit["_source"]
        same_guid = article.get("guid") and doc.get("guid") == article["guid"] and doc.get("source") == article["source"]
        sim = (
            1.0
            if doc.get("fingerprint") == article["fingerprint"] or same_guid
            else resemblance(doc.get("minhash", []), doc.get("shingles", 0), article["minhash"], article["shingles"])
        )
        if sim >= threshold:
            similar.append((doc.get("published_at") or "\uffff", doc["id"], doc.get("cluster", {}).get("id") or doc["id"], round(sim, 3)))
    if not similar:
        return None
    _, doc_id, cluster_id, sim = min(similar)
    return cluster_id, doc_id, sim
