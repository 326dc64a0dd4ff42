"""Real-world feeds from ../shared/corpora: clean text, detected language, canonical URLs, near duplicates."""

import asyncio
from pathlib import Path

import feedparser
import pytest

from newswatch.flows.feedlist import Feed
from newswatch.flows.poll import poll_feeds
from newswatch.pipelines.clean import clean_text
from newswatch.pipelines.enrich import ItemError, prepare
from newswatch.pipelines.urls import InvalidURLError, canonical_url
from newswatch.settings import Settings


def items_of(corpora: Path, name: str) -> list[dict]:
    (path,) = corpora.rglob(name)
    (result,) = asyncio.run(poll_feeds([Feed(str(path))], Settings()))
    assert result.status == "ok", result.line()
    return result.items


@pytest.mark.parametrize(
    ("name", "language"),
    [("rss_2.0_spiegel.xml", "de"), ("rss_2.0_ilgiornale.xml", "it"), ("iconv.xml", "ru"), ("rss_1.0_example_1.xml", "ja"),
     ("rss_2.0_bbc.xml", "en"), ("rss_2.0_spreaker.xml", "pl"), ("rss_2.0_encoding_1.xml", "pt")],
)  # fmt: skip
def test_language_of_real_feeds(corpora, detector, name, language):
    articles = [prepare(it, detector, Settings()) for it in items_of(corpora, name)]
    assert articles and all(a["language"] == language for a in articles), [(a["title"], a["language"]) for a in articles]


def test_real_feed_html_cleans_to_plain_text(corpora):
    for name in ("tpm.atom", "wapowellness.xml", "rss_2.0_cloudflare.xml", "rss_2.0_bbc.xml"):
        for it in items_of(corpora, name):
            text, _ = clean_text(it["content"] or it["summary"])
            assert "<" not in text.replace("< ", "") and "&amp;" not in text and "&nbsp;" not in text, (name, text[:200])
            assert "\n\n\n" not in text and "  " not in text


def test_every_real_item_gets_a_canonical_url_or_a_clear_refusal(corpora, detector):
    seen = 0
    for path in sorted(p for p in corpora.rglob("*") if p.suffix in (".xml", ".atom")):
        for e in feedparser.parse(path.read_bytes()).entries:
            link = e.get("link") or ""
            try:
                canonical = canonical_url(link)
            except InvalidURLError as exc:
                assert repr(link) in str(exc)
                continue
            seen += 1
            assert canonical.startswith("https://") and "#" not in canonical and "utm_" not in canonical
            assert canonical_url(canonical) == canonical
    assert seen > 150


def test_items_without_link_or_guid_are_refused_by_name(detector):
    with pytest.raises(ItemError, match=r"feed http://x/feed.xml item 'Only a title'"):
        prepare({"feed": {"url": "http://x/feed.xml"}, "title": "Only a title", "content": "Some text."}, detector, Settings())


def test_json_feeds_are_read(corpora):
    items = items_of(corpora, "jsonfeed_example_1.json")
    assert items and items[0]["title"] == "How Jeff Bezos’s iPhone X Was Hacked"
    assert items[0]["published"] == "2020-01-24T23:46:57+00:00"


def test_near_duplicate_evaluation_meets_its_targets(corpora, capsys):
    from benchmarks.near_duplicates import evaluate

    assert evaluate.main() == 0
    out = capsys.readouterr().out
    precision = float(out.split("precision: ")[1].split()[0])
    recall = float(out.split("recall: ")[1].split()[0])
    assert precision >= 0.98 and recall >= 0.95, out


def test_tagging_evaluation_stays_above_its_floor(corpora, capsys):
    from benchmarks.tagging import evaluate

    assert evaluate.main([]) == 0
    out = capsys.readouterr().out
    actors = out.split("actors (exact canonical name): ")[1]
    precision, recall = float(actors.split("precision ")[1].split()[0]), float(actors.split("recall ")[1].split()[0])
    main_topic = float(out.split("main topic found ")[1].split("= ")[1].split(";")[0])
    assert precision >= 0.85 and recall >= 0.85 and main_topic >= 0.75, out
