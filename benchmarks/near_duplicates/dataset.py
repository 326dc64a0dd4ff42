"""The near-duplicate evaluation set: real articles from ../shared/corpora/feeds, turned into labelled pairs.

The corpus may not be copied into the repository, so what is committed is the recipe (``pairs.jsonl``:
which entry of which feed file, which edit, which seed); ``materialise`` rebuilds the texts from the
corpus, deterministically, wherever it sits beside the checkout.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import feedparser

from newswatch.paths import PROJECT_ROOT
from newswatch.pipelines.clean import clean_text, clean_title

CORPUS = PROJECT_ROOT.parent / "shared" / "corpora" / "feeds"
PAIRS = Path(__file__).with_name("pairs.jsonl")
SEED = "seeds/demo/seed-article.txt"
MIN_WORDS = 120

BOILERPLATE_INTROS = [
    "This story was first published by {src} and is republished with permission.",
    "Originally published at {src}.",
    "(Reuters) -",
    "{src} — ",
]
BOILERPLATE_OUTROS = [
    "Share this article on social media.",
    "Read more: https://example.org/more-stories",
    "Subscribe to our newsletter for the latest news.",
    "Related article: Five things to know this week",
    "Copyright © 2020 {src}. All rights reserved.",
]


@dataclass(frozen=True)
class Article:
    ref: str  # "feed-file#entry" or the seed path
    title: str
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        return f"{self.title}\n\n" + "\n\n".join(self.paragraphs)


def load_article(ref: str) -> Article:
    if ref == SEED:
        body = (PROJECT_ROOT / SEED).read_text(encoding="utf-8")
        return Article(ref, "Putin to Back Belarus Succession but Not Street Protests", tuple(clean_text(body)[0].split("\n\n")))
    file, entry = ref.rsplit("#", 1)
    parsed = feedparser.parse((CORPUS / file).read_bytes())
    e = parsed.entries[int(entry)]
    body = (e.get("content") or [{}])[0].get("value") or e.get("summary", "")
    return Article(ref, clean_title(e.get("title", "")), tuple(clean_text(body)[0].split("\n\n")))


def corpus_articles() -> list[Article]:
    """Every distinct long-enough article in the corpus (the TPM feed comes in three copies: kept once)."""
    seen, found = set(), []
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".xml", ".atom", ".rss", ".rdf")):
        parsed = feedparser.parse(path.read_bytes())
        for i in range(len(parsed.entries)):
            art = load_article(f"{path.relative_to(CORPUS)}#{i}")
            if len(art.text.split()) >= MIN_WORDS and art.title not in seen:
                seen.add(art.title)
                found.append(art)
    return [load_article(SEED), *found]


# --- edits a syndicating outlet makes -------------------------------------------------------------


def new_headline(a: Article, rng: random.Random) -> Article:
    words = a.title.split()
    rng.shuffle(words)
    return Article(
        a.ref, rng.choice(["UPDATE:", "Report:", "Analysis:", "WATCH:"]) + " " + " ".join(words[: max(3, len(words) - 2)]), a.paragraphs
    )


def add_boilerplate(a: Article, rng: random.Random) -> Article:
    src = rng.choice(["The Wire Service", "Newsroom Daily", "Global Desk"])
    intro = rng.choice(BOILERPLATE_INTROS).format(src=src)
    outros = [o.format(src=src) for o in rng.sample(BOILERPLATE_OUTROS, 2)]
    return Article(a.ref, a.title, (intro, *a.paragraphs, *outros))


def truncate(a: Article, rng: random.Random) -> Article:
    words = " ".join(a.paragraphs).split()
    keep = int(len(words) * rng.uniform(0.55, 0.8))
    kept, count = [], 0
    for p in a.paragraphs:
        n = len(p.split())
        if count + n > keep:
            kept.append(" ".join(p.split()[: keep - count]) + " …")
            break
        kept.append(p)
        count += n
    return Article(a.ref, a.title, (*kept, "Continue reading on the original site."))


def reorder(a: Article, rng: random.Random) -> Article:
    paras = list(a.paragraphs)
    if len(paras) > 2:
        i, j = rng.sample(range(len(paras)), 2)
        paras[i], paras[j] = paras[j], paras[i]
    else:  # one long paragraph: move its sentences instead
        sentences = re.split(r"(?<=[.!?])\s+", " ".join(paras))
        k = len(sentences) // 2
        paras = [" ".join(sentences[k:] + sentences[:k])]
    return Article(a.ref, a.title, tuple(paras))


def light_edit(a: Article, rng: random.Random) -> Article:
    """Drop or change about one word in twenty (typos fixed, style rules applied)."""

    def edit(p: str) -> str:
        out = []
        for w in p.split():
            r = rng.random()
            if r < 0.025:
                continue
            out.append(w.upper() if r < 0.05 else w)
        return " ".join(out)

    return Article(a.ref, a.title, tuple(edit(p) for p in a.paragraphs))


def syndicated(a: Article, rng: random.Random) -> Article:
    return light_edit(add_boilerplate(new_headline(a, rng), rng), rng)


EDITS = {f.__name__: f for f in (new_headline, add_boilerplate, truncate, reorder, light_edit, syndicated)}


def materialise(pair: dict) -> tuple[str, str]:
    """The two texts of a pair, rebuilt from the corpus."""
    a = load_article(pair["a"])
    b = EDITS[pair["edit"]](a, random.Random(pair["seed"])) if pair["label"] else load_article(pair["b"])
    return a.text, b.text


def read_pairs(path: Path = PAIRS) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
