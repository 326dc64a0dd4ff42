"""Search with highlighting: the body indexed with offsets in its postings, or re-analyzed at search time.

    .venv/bin/python -m benchmarks.highlight_latency [--articles 2000] [--rounds 2]

The articles index keeps no offsets (schemas/elasticsearch/articles.template.json): the highlighter
re-analyzes the hits it shows instead. This measures what that costs a search, next to the index size
it saves: the same N mixed articles (``end_to_end.mixed_articles``) go into two scratch indices that
differ only in ``index_options: offsets`` on ``text`` and ``text.words``, merged to one segment; then
the same queries, the way ``newswatch search`` sends them (fields, highlight, 20 hits), alternate
between the two, several rounds. Both indices are removed after.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

from elasticsearch import Elasticsearch, helpers

from benchmarks.end_to_end import mixed_articles
from newswatch.query.search import HIGHLIGHT_REQUEST, SearchRequest, build_query
from newswatch.settings import load_settings
from newswatch.store import connect

QUERIES = ["Putin", "government", '"police said"', "China", "election", "the", "Trump", "court", "economy", "war"]
WORDS = {"type": "text", "analyzer": "classic"}


def mappings(offsets: bool) -> dict:
    extra = {"index_options": "offsets"} if offsets else {}
    body = {"type": "text", **extra, "fields": {"words": {**WORDS, **extra}}}
    title = {"type": "text", "fields": {"words": WORDS}}
    return {"properties": {"title": title, "text": body, "actors": {"properties": {"name": {"type": "keyword"}}}}}


def fill(es: Elasticsearch, index: str, offsets: bool, articles: list[tuple[str, list[str]]]) -> float:
    """Index the articles; the size in MB once merged to one segment."""
    es.indices.create(index=index, mappings=mappings(offsets))
    docs = ({"_index": index, "_id": i, "title": h, "text": "\n\n".join(p)} for i, (h, p) in enumerate(articles))
    helpers.bulk(es, docs)
    es.indices.refresh(index=index)
    es.indices.forcemerge(index=index, max_num_segments=1)
    return es.indices.stats(index=index, metric="store")["_all"]["primaries"]["store"]["size_in_bytes"] / 2**20


def search_ms(es: Elasticsearch, index: str, query: str) -> float:
    start = time.perf_counter()
    es.search(index=index, size=20, query=build_query(SearchRequest(query)), highlight=HIGHLIGHT_REQUEST)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    es = connect(load_settings())
    prefix = f"nwspeed-hl-{uuid.uuid4().hex[:6]}"
    indices = {"offsets": f"{prefix}-offsets", "re-analyzed": f"{prefix}-plain"}
    articles = mixed_articles(args.articles)
    try:
        sizes = {name: fill(es, index, name == "offsets", articles) for name, index in indices.items()}
        for round_ in range(1, args.rounds + 1):
            for name, index in indices.items():
                times = [search_ms(es, index, q) for _ in range(5) for q in QUERIES]
                p90 = sorted(times)[int(len(times) * 0.9)]
                print(f"round {round_}  {name:11}  median {statistics.median(times):5.1f} ms  p90 {p90:5.1f} ms  ({len(times)} searches)")
    finally:
        es.options(ignore_status=404).indices.delete(index=f"{prefix}-*")
    for name, mb in sizes.items():
        print(f"index size, {name:11}: {mb:.1f} MB for {len(articles):,} articles (title and body only)")


if __name__ == "__main__":
    main()
