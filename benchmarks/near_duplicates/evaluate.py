"""Precision, recall and throughput of near-duplicate detection on the labelled pairs.

    .venv/bin/python -m benchmarks.near_duplicates.evaluate

A pair is called a duplicate exactly as the pipeline calls it: the two MinHash signatures share an
LSH band key, and their resemblance (max of Jaccard and containment) reaches the threshold setting.
"""

from __future__ import annotations

import sys
import time
from collections import Counter

from benchmarks.near_duplicates.dataset import CORPUS, materialise, read_pairs
from newswatch.pipelines.clean import clean_text
from newswatch.pipelines.dedup import band_keys, resemblance, sketch
from newswatch.settings import Settings


def main() -> int:
    if not CORPUS.is_dir():
        print(f"the corpus is not at {CORPUS}; it sits in shared/ beside the checkout", file=sys.stderr)
        return 2
    settings = Settings()
    pairs = read_pairs()
    texts = [materialise(p) for p in pairs]

    start = time.perf_counter()
    sketches = [tuple(_sketch(t, settings) for t in pair) for pair in texts]
    sketch_s = time.perf_counter() - start

    start = time.perf_counter()
    calls = [_is_duplicate(a, b, settings) for a, b in sketches]
    compare_s = time.perf_counter() - start

    tp = sum(1 for p, c in zip(pairs, calls, strict=True) if p["label"] and c)
    fp = sum(1 for p, c in zip(pairs, calls, strict=True) if not p["label"] and c)
    fn = sum(1 for p, c in zip(pairs, calls, strict=True) if p["label"] and not c)
    missed = Counter(p["edit"] for p, c in zip(pairs, calls, strict=True) if p["label"] and not c)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(
        f"pairs: {len(pairs)} ({tp + fn} duplicates, {len(pairs) - tp - fn} hard negatives); threshold {settings.near_duplicate_threshold}"
    )
    print(f"precision: {precision:.3f}   recall: {recall:.3f}   (tp {tp}, fp {fp}, fn {fn})")
    if missed:
        print("missed by edit:", dict(missed))
    for p, c in zip(pairs, calls, strict=True):
        if c and not p["label"]:
            print("false positive:", p["a"], "~", p["b"])
    n_texts = 2 * len(pairs)
    print(f"throughput: {n_texts / sketch_s:,.0f} articles/s cleaned and sketched; {len(pairs) / compare_s:,.0f} pairs/s compared")
    return 0


def _sketch(text: str, settings: Settings) -> tuple[list[int], int, set[str]]:
    clean, _ = clean_text(text)
    sig, n = sketch(clean, settings.minhash_permutations)
    return sig, n, set(band_keys(sig, settings.minhash_bands))


def _is_duplicate(a, b, settings: Settings) -> bool:
    return bool(a[2] & b[2]) and resemblance(a[0], a[1], b[0], b[1]) >= settings.near_duplicate_threshold


if __name__ == "__main__":
    sys.exit(main())
