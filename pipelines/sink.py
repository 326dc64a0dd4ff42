"""Writes to Elasticsearch: idempotent creates with deterministic ids, so a re-run adds nothing.

A 409 (already there) is success for an idempotent writer. A document rejected for its content goes to
the dead-letter index with the reason, and the rest of its batch lands. Anything that looks like the
server being unavailable raises, so the run fails and its raw batches stay pending for the next run.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from elasticsearch import Elasticsearch, helpers

from newswatch.pipelines import deadletter
from newswatch.settings import Settings

TRANSIENT = {429, 502, 503, 504}


def bulk_create(es: Elasticsearch, index: str, docs: list[dict], settings: Settings) -> Counter:
    """Create each doc under its own id; returns counts of created, existing and rejected."""
    counts: Counter = Counter()
    if not docs:
        return counts
    actions = [{"_op_type": "create", "_index": index, "_id": d["id"], "_source": d} for d in docs]
    # No refresh wait: visibility is the job of one refresh at the stage boundary that needs it.
    ok, errors = helpers.bulk(es, actions, raise_on_error=False, raise_on_exception=True, max_retries=3)
    counts["created"] += ok
    rejected = []
    for err in errors:
        info = err.get("create", {})
        status = info.get("status")
        if status == 409:
            counts["existing"] += 1
        elif status in TRANSIENT:
            raise ConnectionError(f"Elasticsearch kept rejecting writes to {index} (HTTP {status}): {info.get('error')}")
        else:
            counts["rejected"] += 1
            rejected.append({"id": info.get("_id"), "index": index, "status": status, "reason": info.get("error")})
    if rejected:
        dead_letter(es, settings, rejected, {d["id"]: d for d in docs})
    return counts


def dead_letter(es: Elasticsearch, settings: Settings, rejected: list[dict], by_id: dict[str, dict]) -> None:
    why = {r["id"]: f"{r['index']} rejected it (HTTP {r['status']}): {r['reason']}" for r in rejected}
    records = [deadletter.record("index", by_id.get(rid) or {"id": rid}, reason, settings) for rid, reason in why.items()]
    deadletter.write(es, settings, records)


def summarise_clusters(es: Elasticsearch, settings: Settings, cluster_ids: set[str]) -> int:
    """Record each story's copies on its first article: the count and sources, derived from the copies index.

    Derived, never incremented, so replaying a batch or two workers doing this at once end the same.
    One refresh first (the stage boundary: the copies and stories this run wrote must be counted), then
    per chunk of clusters one aggregation, one search for the stories and one bulk of partial updates.
    """
    ids = sorted(cluster_ids)
    if not ids:
        return 0
    es.indices.refresh(index=f"{settings.articles_alias},{settings.copies_index}")
    updated = 0
    for start in range(0, len(ids), settings.summary_batch_size):
        chunk = ids[start : start + settings.summary_batch_size]
        copies = _copies_by_cluster(es, settings, chunk)
        stories = es.search(index=settings.articles_alias, query={"ids": {"values": chunk}}, size=len(chunk), source=["source"])
        actions = []
        for hit in stories["hits"]["hits"]:
            count, sources = copies.get(hit["_id"], (0, set()))
            summary = {"copies": count, "sources": sorted({hit["_source"]["source"], *sources})}
            actions.append({"_op_type": "update", "_index": hit["_index"], "_id": hit["_id"], "doc": {"cluster": summary}})
        helpers.bulk(es, actions, max_retries=3)
        updated += len(actions)
    return updated


def _copies_by_cluster(es: Elasticsearch, settings: Settings, cluster_ids: list[str]) -> dict[str, tuple[int, set[str]]]:
    """cluster id -> (number of copies, their sources): exact, since every wanted term gets a bucket on every shard."""
    n = len(cluster_ids)
    resp = es.search(
        index=settings.copies_index,
        query={"terms": {"cluster.id": cluster_ids}},
        size=0,
        aggs={
            "clusters": {
                "terms": {"field": "cluster.id", "include": cluster_ids, "size": n, "shard_size": n},
                "aggs": {"sources": {"terms": {"field": "source", "size": 100}}},
            }
        },
    )
    return {b["key"]: (b["doc_count"], {s["key"] for s in b["sources"]["buckets"]}) for b in resp["aggregations"]["clusters"]["buckets"]}


def copy_record(article: dict) -> dict[str, Any]:
    """What is kept of a copy of a story: enough to show where else it ran."""
    keep = ("id", "url", "canonical_url", "guid", "source", "feed", "title", "language", "published_at", "ingested_at",
            "fingerprint", "minhash_bands", "cluster")  # fmt: skip
    return {k: article.get(k) for k in keep}
