"""Which ``spacy_batch_size`` to default to: ``nlp.pipe`` throughput per batch size, measured.

    .venv/bin/python -m benchmarks.spacy_batch_size [--articles 400] [--sizes 8,16,32,64,128,256]

One process, the configured model with the NER components only, on the same distinct mixed-sentence
articles as ``benchmarks.end_to_end`` (so realistic lengths); the model is loaded and warmed up
once, then each batch size runs over all articles, in a shuffled order of sizes, twice.
"""

from __future__ import annotations

import argparse
import os
import random
import time

import spacy

from benchmarks.end_to_end import mixed_articles
from newswatch.pipelines.enrich import NER_ONLY
from newswatch.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--sizes", default="8,16,32,64,128,256")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    bodies = ["\n\n".join(p) for _, p in mixed_articles(args.articles, seed=1601)]
    nlp = spacy.load(Settings().spacy_model, enable=list(NER_ONLY))
    list(nlp.pipe(bodies[:32]))
    print(f"{len(bodies)} articles, load {os.getloadavg()[0]:.2f}")
    rates: dict[int, list[float]] = {s: [] for s in sizes}
    for _ in range(2):
        for size in random.Random(len(rates[sizes[0]])).sample(sizes, len(sizes)):
            start = time.perf_counter()
            for _doc in nlp.pipe(bodies, batch_size=size):
                pass
            rates[size].append(len(bodies) / (time.perf_counter() - start))
    for size in sizes:
        print(f"batch_size {size:4d}: {max(rates[size]):6.1f} articles/s (best of {len(rates[size])})")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
