"""Actor precision and recall (exact canonical name) and topic accuracy on the gold set.

    .venv/bin/python -m benchmarks.tagging.evaluate [--verbose]

Runs the same functions the pipeline runs (prepare, tag_batch) with the configured model and rules.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from benchmarks.near_duplicates.dataset import CORPUS, SEED, load_article
from newswatch.pipelines.enrich import Knowledge, Models, prepare, tag_batch
from newswatch.pipelines.language import build_detector
from newswatch.settings import Settings

GOLD = Path(__file__).with_name("gold.yaml")


def document(ref: str, paragraphs: int) -> tuple[str, str]:
    article = load_article(ref)
    kept = article.paragraphs if ref == SEED else article.paragraphs[:paragraphs]
    title = "Putin to Back Belarus ‘Succession’ but Not Street Protests, Bloomberg Says" if ref == SEED else article.title
    return title, "".join(f"<p>{p}</p>" for p in kept)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    if not CORPUS.is_dir():
        print(f"the corpus is not at {CORPUS}; it sits in shared/ beside the checkout", file=sys.stderr)
        return 2
    gold = yaml.safe_load(GOLD.read_text())["documents"]
    settings = Settings()
    detector, knowledge, models = build_detector(settings.languages), Knowledge.load(settings), Models.load(settings)
    tp = fp = fn = topic_tp = topic_fp = topic_fn = primary_hits = 0
    for doc in gold:
        title, html = document(doc["ref"], doc.get("paragraphs", 2))
        item = {
            "feed": {"id": "eval", "url": "eval", "language": "en"},
            "link": f"https://eval.example/{doc['ref']}",
            "title": title,
            "content": html,
        }
        (article,) = tag_batch([prepare(item, detector, settings)], models, knowledge)
        got, want = {a["name"] for a in article["actors"]}, set(doc["actors"])
        got_topics, want_topics = {t["label"] for t in article["topics"]}, set(doc["topics"])
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
        topic_tp += len(got_topics & want_topics)
        topic_fp += len(got_topics - want_topics)
        topic_fn += len(want_topics - got_topics)
        primary_hits += doc["topics"][0] in got_topics
        if args.verbose:
            print(f"{doc['ref']}\n  actors missed {sorted(want - got)}; extra {sorted(got - want)}")
            print(f"  topics missed {sorted(want_topics - got_topics)}; extra {sorted(got_topics - want_topics)}")
    p, r = tp / max(1, tp + fp), tp / max(1, tp + fn)
    tpp, tpr = topic_tp / max(1, topic_tp + topic_fp), topic_tp / max(1, topic_tp + topic_fn)
    print(f"documents: {len(gold)}; model {settings.spacy_model}")
    f1 = 2 * p * r / max(1e-9, p + r)
    print(f"actors (exact canonical name): precision {p:.2f}  recall {r:.2f}  F1 {f1:.2f}  (tp {tp}, fp {fp}, fn {fn})")
    main_share = primary_hits / len(gold)
    print(f"topics: main topic found {primary_hits}/{len(gold)} = {main_share:.2f}; all labels precision {tpp:.2f} recall {tpr:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
