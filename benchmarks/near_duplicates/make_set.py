"""Generate the labelled near-duplicate pairs (the recipe; texts are rebuilt from the corpus).

    .venv/bin/python -m benchmarks.near_duplicates.make_set    # rewrites pairs.jsonl

Positives: each real article against an edited copy of itself, one pair per kind of edit (new headline,
added boilerplate, truncation to 55-80 %, reordered paragraphs, light word edits, all of these at once).
Hard negatives: every pair of different stories from the same feed (same outlet, same beat, same days:
the Talking Points Memo feed alone gives dozens of US-politics stories naming the same people).
"""

from __future__ import annotations

import itertools
import json
import random

from benchmarks.near_duplicates.dataset import EDITS, PAIRS, corpus_articles


def main() -> None:
    rng = random.Random(20260101)
    articles = corpus_articles()
    pairs = []
    for a in articles:
        for edit in EDITS:
            pairs.append({"a": a.ref, "edit": edit, "seed": rng.randrange(1 << 30), "label": 1})
    by_feed = itertools.groupby(sorted(articles, key=lambda a: a.ref.split("#")[0]), key=lambda a: a.ref.split("#")[0])
    for _, group in by_feed:
        for a, b in itertools.combinations(list(group), 2):
            pairs.append({"a": a.ref, "b": b.ref, "label": 0, "why": "same feed, different story"})
    print(
        f"{sum(p['label'] for p in pairs)} positive and {sum(1 - p['label'] for p in pairs)} negative pairs from {len(articles)} articles"
    )
    PAIRS.write_text("".join(json.dumps(p) + "\n" for p in pairs))


if __name__ == "__main__":
    main()
