"""Throughput of the whole Beam pipeline without indexing, next to raw spaCy on the same articles.

    .venv/bin/python -m benchmarks.pipeline_vs_spacy [--articles 1000] [--workers 1]

The pipeline reads a raw-store batch and runs Clean, DropSameUrl, DropSameGuid, TagActorsAndTopics
and MatchWatchlists on Beam's local runner (``--workers`` processes). The baseline is ``nlp.pipe`` of the
same model with only the components NER needs, ``n_process`` equal to the workers, on the
already cleaned article bodies (what the pipeline gives the model): the best the model alone can do.
Both timings include loading the model. Articles are real ones from ../shared/corpora (and the seed
article), repeated under distinct URLs.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from benchmarks.near_duplicates.dataset import CORPUS, corpus_articles, load_article
from newswatch.flows.raw_store import RawStore
from newswatch.pipelines.enrich import load_ner_model
from newswatch.pipelines.pipeline import run
from newswatch.settings import Settings


def articles(n: int):
    pool = corpus_articles() if CORPUS.is_dir() else [load_article("seeds/demo/seed-article.txt")]
    return [pool[i % len(pool)] for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    chosen = articles(args.articles)
    words = sum(len(a.text.split()) for a in chosen)
    extra = ["--direct_running_mode=multi_processing"] if args.workers > 1 else []
    settings = Settings(direct_num_workers=args.workers, runner_options=extra)
    print(f"{len(chosen)} articles, {words / len(chosen):.0f} words on average; model {settings.spacy_model}; {args.workers} worker(s)")

    with tempfile.TemporaryDirectory() as tmp:
        items = [
            {"feed": {"id": "bench", "url": "bench", "language": "en"}, "link": f"https://bench.example/{i}", "guid": f"bench-{i}",
             "title": a.title, "content": "".join(f"<p>{p}</p>" for p in a.paragraphs)}
            for i, a in enumerate(chosen)
        ]  # fmt: skip
        batch = RawStore(tmp).write_batch(items)
        start = time.perf_counter()
        report = run([batch], settings, index=False)
        pipeline_s = time.perf_counter() - start
    assert report.get("articles_tagged") == len(chosen), report.counters

    texts = ["\n\n".join(a.paragraphs) for a in chosen]  # the pipeline gives the model the body, not the headline
    start = time.perf_counter()
    nlp = load_ner_model(settings.spacy_model)
    entities = sum(len(doc.ents) for doc in nlp.pipe(texts, batch_size=settings.spacy_batch_size, n_process=args.workers))
    spacy_s = time.perf_counter() - start

    ours, raw = len(chosen) / pipeline_s, len(chosen) / spacy_s
    print(f"Beam pipeline (clean, dedup, tag, topics, match): {pipeline_s:6.2f} s  {ours:7.1f} articles/s")
    print(f"raw spaCy nlp.pipe (NER only, {entities} entities):  {spacy_s:6.2f} s  {raw:7.1f} articles/s")
    print(f"pipeline / raw spaCy: {ours / raw:.2f}")


if __name__ == "__main__":
    main()
