"""Which ``spacy_batch_size`` to default to: ``nlp.pipe`` throughput per batch size, measured.

    .venv/bin/python -m benchmarks.spacy_batch_size [--articles 300] [--sizes 4,8,16,32,64,128]

One process, the configured model with the NER components only, on the same distinct mixed-sentence
articles as ``benchmarks.end_to_end`` (so realistic lengths); the model is loaded and warmed up
once, then two rounds run each batch size over all articles (the best of two counts). Memory grows
with the batch, so the peak resident size while each size runs (sampled every 20 ms) is printed too:
every local worker process holds one model, and its peak adds to the run's.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

from benchmarks.end_to_end import mixed_articles
from newswatch.pipelines.enrich import load_ner_model
from newswatch.settings import Settings


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


class PeakSampler:
    """The highest resident size since the last ``reset``, sampled on a thread (a batch's arrays are
    freed before ``nlp.pipe`` yields, so a reading between batches misses them)."""

    def __init__(self, every_s: float = 0.02) -> None:
        self.value, self._stop = 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every_s,), daemon=True)
        self._thread.start()

    def _run(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            self.value = max(self.value, rss_mb())

    def reset(self) -> None:
        self.value = rss_mb()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--sizes", default="4,8,16,32,64,128")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    bodies = ["\n\n".join(p) for _, p in mixed_articles(args.articles, seed=1601)]
    nlp = load_ner_model(Settings().spacy_model)
    list(nlp.pipe(bodies[:4], batch_size=4))
    print(f"{len(bodies)} articles, load {os.getloadavg()[0]:.2f}, model loaded: resident {rss_mb():,.0f} MB")
    rates: dict[int, list[float]] = {size: [] for size in sizes}
    resident: dict[int, float] = {}
    peak = PeakSampler()
    for _ in range(2):  # two rounds over all sizes: a change in machine load hits every size alike
        for size in sizes:
            peak.reset()
            start = time.perf_counter()
            for _doc in nlp.pipe(bodies, batch_size=size):
                pass
            rates[size].append(len(bodies) / (time.perf_counter() - start))
            resident[size] = min(resident.get(size, peak.value), peak.value)  # the first round also grows the vocab
    peak.stop()
    for size in sizes:
        print(f"batch_size {size:4d}: {max(rates[size]):6.1f} articles/s (best of 2), peak resident {resident[size]:,.0f} MB (lower of 2)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
