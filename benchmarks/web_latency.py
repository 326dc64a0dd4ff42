"""Web benchmark: p50/p95 response time of the search page and the search API on an N-article index,
next to the same queries sent straight to Elasticsearch (the floor any front end pays).

    .venv/bin/python -m benchmarks.web_latency [--articles 50000] [--requests 200] [--keep]

The index is built by bulk-indexing articles whose titles and texts are sentences of the GUM corpus
(../shared/corpora/gum-dev, real English nobody here wrote), with actors drawn from the alias list,
IPTC topic labels, 40 sources and dates over 90 days; every article is distinct. The NLP pipeline is
not run for this (tagging 50,000 articles takes hours on 2 cores); what is measured is serving.
The web app runs as `newswatch web` in its own process; requests are sequential, over HTTP.
Queries are distinct words and word pairs from the corpus, with facets and the timeline on the page.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import yaml
from elasticsearch import helpers

from newswatch.paths import PROJECT_ROOT, SEEDS_DIR
from newswatch.query.search import SearchRequest
from newswatch.settings import Settings
from newswatch.store import connect, ensure_indices

GUM = PROJECT_ROOT.parent / "shared" / "corpora" / "gum-dev"
PREFIX = "nwbench-web"


def sentences() -> list[str]:
    if not GUM.is_dir():
        sys.exit(f"corpus not found at {GUM} (it sits in shared/ beside the checkout)")
    out = []
    for path in sorted(GUM.glob("*.txt")):
        out += [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if len(line.split()) >= 6]
    return out


def articles(n: int, rng: random.Random):
    pool = sentences()
    actors = [a["name"] for a in yaml.safe_load((SEEDS_DIR / "actors" / "aliases.yaml").read_text())["actors"]]
    topics = [t["label"] for t in yaml.safe_load((SEEDS_DIR / "taxonomy" / "iptc-topics.yaml").read_text())["topics"]]
    sources = [f"Source {i:02d}" for i in range(40)]
    start = datetime(2026, 8, 1, tzinfo=UTC)
    for i in range(n):
        first = rng.randrange(len(pool) - 12)
        body = " ".join(pool[first : first + rng.randint(5, 12)])
        source = rng.choice(sources)
        who = rng.sample(actors, rng.randint(0, 4))
        yield {
            "_id": f"bench-{i}",
            "id": f"bench-{i}",
            "url": f"https://bench.invalid/{i}",
            "source": source,
            "title": pool[rng.randrange(len(pool))][:200],
            "text": body,
            "summary": body[:200],
            "language": "en",
            "published_at": (start + timedelta(minutes=rng.randrange(90 * 24 * 60))).isoformat(),
            "actors": [{"name": a, "type": "PERSON", "mentions": 1, "salience": 0.5} for a in who],
            "topics": [{"id": t, "label": t, "score": 0.8} for t in rng.sample(topics, rng.randint(0, 2))],
            "cluster": {"id": f"bench-{i}", "sources": sorted({source, *rng.sample(sources, rng.choice((0, 0, 0, 1, 3)))}), "copies": 0},
        }


def build_index(settings: Settings, n: int) -> None:
    es = connect(settings)
    es.options(ignore_status=404).indices.delete(index=f"{PREFIX}-*", expand_wildcards="all")
    ensure_indices(es, settings)
    rng = random.Random(13)
    started = time.monotonic()
    helpers.bulk(es.options(request_timeout=120), articles(n, rng), index=settings.articles_alias, chunk_size=2000)
    es.indices.refresh(index=settings.articles_alias)
    es.options(request_timeout=600).indices.forcemerge(index=settings.articles_alias, max_num_segments=1)
    print(f"indexed {n:,} articles in {time.monotonic() - started:.0f} s")


def queries(rng: random.Random, k: int) -> list[str]:
    words = [w.strip('.,;:"()[]') for s in sentences() for w in s.split() if len(w) > 4 and w.isalpha()]
    words = sorted(set(words))
    return [rng.choice(words) if i % 2 else f"{rng.choice(words)} | {rng.choice(words)}" for i in range(k)]


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t) * 1000)
    return out


def report(name: str, ms: list[float]) -> None:
    q = statistics.quantiles(ms, n=100)
    print(f"{name:<44} p50 {q[49]:7.1f} ms   p95 {q[94]:7.1f} ms   mean {statistics.mean(ms):7.1f} ms   (n={len(ms)})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=50_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--keep", action="store_true", help="reuse the index of an earlier run")
    ap.add_argument("--port", type=int, default=8093)
    args = ap.parse_args()
    settings = Settings(index_prefix=PREFIX)
    es = connect(settings)
    if not (args.keep and es.indices.exists_alias(name=settings.articles_alias)):
        build_index(settings, args.articles)
    total = es.count(index=settings.articles_alias)["count"]
    env = {**os.environ, "NEWSWATCH_INDEX_PREFIX": PREFIX}
    server = subprocess.Popen([sys.executable, "-m", "newswatch.interfaces.cli", "web", "--port", str(args.port)], env=env,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{args.port}"
    try:
        client = httpx.Client(base_url=base, timeout=30)
        for _ in range(100):
            try:
                client.get("/api/v1/health")
                break
            except httpx.TransportError:
                time.sleep(0.2)
        rng = random.Random(7)
        # Every request gets a query no other request sent: Elasticsearch caches aggregation results per
        # shard, so a repeated query would flatter whoever sent it second.
        pool = queries(rng, 20 + 5 * args.requests)
        warm = pool[:20]
        page = lambda q: client.get("/search", params={"q": q}).raise_for_status()  # noqa: E731
        api = lambda q: client.get("/api/v1/search", params={"q": q}).raise_for_status()  # noqa: E731
        filtered = lambda q: client.get("/search", params={"q": q, "topic": "politics", "since": "2026-09-01"}).raise_for_status()  # noqa: E731

        def raw(q: str) -> None:  # the same two requests the page makes, straight to Elasticsearch
            from newswatch.query.search import search, stats

            req = SearchRequest(q, size=20)
            search(es, settings, req)
            stats(es, settings, req, 8)

        stats_api = lambda q: client.get("/api/v1/stats", params={"q": q}).raise_for_status()  # noqa: E731
        paths = {
            "Elasticsearch direct (search + facets)": raw,
            "search page  GET /search": page,
            "search page with topic + since filters": filtered,
            "API          GET /api/v1/search": api,
            "API          GET /api/v1/stats": stats_api,
        }
        for fn in paths.values():
            timed(fn, warm)
        # Round robin, each path with its own fresh query: no path profits from caches warmed by another.
        times: dict[str, list[float]] = {name: [] for name in paths}
        for i in range(args.requests):
            for j, (name, fn) in enumerate(paths.items()):
                times[name] += timed(fn, [pool[20 + i * len(paths) + j]])
        print(f"{total:,} articles in {PREFIX}-articles; {args.requests} distinct queries per path, sequential, interleaved")
        for name, ms in times.items():
            report(name, ms)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
