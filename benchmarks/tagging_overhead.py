"""CPU time of tagging (spaCy, actors, topics: ``tag_batch``) next to the model alone (``nlp.pipe``).

    .venv/bin/python -m benchmarks.tagging_overhead [--articles 300]

Both run on the same cleaned article bodies in one process; each is timed twice and the faster run
kept. Process CPU time, not wall time, so other work on a shared machine does not blur the ratio; the
whole-path wall-clock comparison is ``benchmarks.pipeline_vs_spacy``. The actor rules alone
(``canonical_actors`` on the model's mentions, best of five) are timed too: the part this project adds.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.pipeline_vs_spacy import articles
from newswatch.pipelines.actors import Mention, canonical_actors
from newswatch.pipelines.enrich import Knowledge, Models, prepare, tag_batch
from newswatch.pipelines.language import build_detector
from newswatch.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=300)
    args = parser.parse_args()
    settings = Settings()
    detector, knowledge, models = build_detector(settings.languages), Knowledge.load(settings), Models.load(settings)
    items = [
        {"feed": {"id": "b", "url": "b", "language": "en"}, "link": f"https://b.example/{i}", "title": a.title,
         "content": "".join(f"<p>{p}</p>" for p in a.paragraphs)}
        for i, a in enumerate(articles(args.articles))
    ]  # fmt: skip
    prepared = [prepare(item, detector, settings) for item in items]
    nlp = models.models["en"]
    tag_s = raw_s = float("inf")
    for _ in range(2):
        start = time.process_time()
        list(nlp.pipe([a["text"] for a in prepared], batch_size=settings.spacy_batch_size))
        raw_s = min(raw_s, time.process_time() - start)
        start = time.process_time()
        tag_batch([dict(a) for a in prepared], models, knowledge, settings.spacy_batch_size)
        tag_s = min(tag_s, time.process_time() - start)
    print(f"{len(prepared)} articles; CPU seconds: tag_batch {tag_s:.2f}, nlp.pipe alone {raw_s:.2f}")
    print(f"tagging beyond the model: {tag_s / raw_s - 1:+.1%}")
    docs = list(nlp.pipe([a["text"] for a in prepared], batch_size=settings.spacy_batch_size))
    mentions = [[Mention(e.text, e.label_, e.start_char) for e in doc.ents] for doc in docs]
    actors_s = float("inf")
    for _ in range(5):
        start = time.process_time()
        for article, found in zip(prepared, mentions, strict=True):
            canonical_actors(found, knowledge.actor_rules, article["title"], article["text"])
        actors_s = min(actors_s, time.process_time() - start)
    n = len(prepared)
    print(
        f"actor rules alone: {actors_s * 1000 / n:.2f} ms/article, {actors_s / raw_s:.1%} of the model's {raw_s * 1000 / n:.1f} ms/article"
    )


if __name__ == "__main__":
    main()
