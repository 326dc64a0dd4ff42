"""A poison item costs that item only, at every stage, on the real Elasticsearch: it goes to the dead-letter
index with its feed, item, stage, reason and the raw item, and the rest of its batch lands. A raw batch
that keeps failing is quarantined, listed, retried on purpose, and never blocks newer batches."""

import gzip
import json
from pathlib import Path

import pytest

from newswatch.flows.batches import process_pending
from newswatch.flows.raw_store import RawStore
from newswatch.pipelines.pipeline import run
from newswatch.settings import Settings
from newswatch.store import connect, ensure_indices
from tests.conftest import demo_batch
from tests.hostile_server import HUGE_LINK
from tests.test_e2e import newswatch

pytestmark = pytest.mark.integration
FEED = {"id": "hostile", "url": "http://hostile.example/feed.xml", "source": "Hostile Times"}


def poison(**changes) -> dict:
    return {"feed": FEED, "guid": HUGE_LINK, "link": HUGE_LINK, "title": "Poison", "content": "A story that never ends.", **changes}


def dead_letters(es, settings: Settings) -> list[dict]:
    es.indices.refresh(index=settings.deadletter_index)
    return [h["_source"] for h in es.search(index=settings.deadletter_index, size=100)["hits"]["hits"]]


def articles(es, settings: Settings) -> int:
    es.indices.refresh(index=settings.articles_alias)
    return es.count(index=settings.articles_alias)["count"]


def test_a_100k_character_link_is_rejected_alone_and_the_rest_of_its_batch_lands(es_settings):
    es = connect(es_settings)
    ensure_indices(es, es_settings)
    store = RawStore(es_settings.data_dir)
    demo = demo_batch(es_settings)
    batch = store.write_batch([poison(), *RawStore.read(demo)])

    report = run([batch], es_settings)

    assert report.get("articles_created") == 3 and report.get("items_rejected") == 1
    (dead,) = dead_letters(es, es_settings)
    assert dead["feed"] == FEED["url"] and dead["stage"] == "clean"
    assert dead["item"].startswith("http://hostile.example/aaa") and len(dead["item"]) <= es_settings.max_field_chars
    assert "max_url_chars" in dead["reason"]
    raw = json.loads(dead["raw"])  # every field shows, long ones cut
    assert dead["raw_truncated"] and raw["title"] == "Poison" and raw["link"].endswith("more characters]") and len(dead["raw"]) < 20_000


def test_a_lookup_that_fails_for_one_item_is_split_until_only_that_item_is_rejected(es_settings):
    # Bounds lifted: the item reaches the SkipIndexed lookup, which Elasticsearch refuses for it (HTTP 400).
    settings = es_settings.model_copy(update={"max_url_chars": 200_000})
    es = connect(settings)
    ensure_indices(es, settings)
    batch = RawStore(settings.data_dir).write_batch([poison(), *RawStore.read(demo_batch(settings))])

    report = run([batch], settings)

    assert report.get("articles_created") == 3 and report.get("copies_created") == 1 and report.get("items_rejected") == 1
    (dead,) = dead_letters(es, settings)
    assert dead["stage"] == "lookup" and "BadRequestError" in dead["reason"] and dead["feed"] == FEED["url"]


def test_an_article_the_tagger_cannot_take_is_rejected_alone(es_settings):
    # A text longer than spaCy accepts (its max_length), let through by a raised max_text_chars.
    settings = es_settings.model_copy(update={"max_text_chars": 1_200_000})
    es = connect(settings)
    ensure_indices(es, settings)
    long_text = " ".join(f"word{i}" for i in range(150_000))
    huge = {"feed": FEED, "link": "https://hostile.example/long", "title": "Very long", "content": long_text}
    batch = RawStore(settings.data_dir).write_batch([huge, *RawStore.read(demo_batch(settings))])

    report = run([batch], settings)

    assert report.get("articles_created") == 3 and report.get("items_rejected") == 1
    (dead,) = dead_letters(es, settings)
    assert dead["stage"] == "tagging" and dead["item"] == "https://hostile.example/long" and "E088" in dead["reason"]


def test_a_replayed_reject_updates_its_record_instead_of_adding_one(es_settings):
    es = connect(es_settings)
    ensure_indices(es, es_settings)
    batch = RawStore(es_settings.data_dir).write_batch([poison()])
    run([batch], es_settings)
    run([batch], es_settings)
    assert len(dead_letters(es, es_settings)) == 1


def _corrupt_batch(store: RawStore) -> str:
    """A raw batch whose gzip header is damaged (a fault of the disk, not of newswatch): no reader gets past it."""
    good = gzip.compress(b'{"feed": {"url": "http://x/feed.xml"}, "link": "http://x/1", "title": "t"}\n' * 50)
    path = Path(store.base) / "pending" / "20000101T000000-corrupt.jsonl.gz"
    path.write_bytes(good[:3] + b"\xff" + good[4:])  # reserved flag bits set
    return str(path)


def test_a_batch_that_keeps_failing_is_quarantined_listed_retried_on_purpose_and_never_blocks_newer_ones(es_settings):
    settings = es_settings.model_copy(update={"batch_max_attempts": 2})
    es = connect(settings)
    ensure_indices(es, settings)
    store = RawStore(settings.data_dir)
    corrupt = _corrupt_batch(store)
    demo_batch(settings)
    pipeline = lambda batches, s: run(batches, s).counters  # noqa: E731

    first = process_pending(store, settings, pipeline)
    assert first.outage is None and len(first.done) == 1 and articles(es, settings) == 3  # the newer batch landed
    assert len(first.failed) == 1 and "attempt 1 of 2, kept pending" in first.failed[0] and store.pending() == [corrupt]

    second = process_pending(store, settings, pipeline)
    assert second.quarantined == [Path(corrupt).name] and "quarantined" in second.failed[0]
    assert store.pending() == [] and [Path(q).name for q in store.quarantined()] == [Path(corrupt).name]
    assert store.failures(store.quarantined()[0])["attempts"] == 2  # the reason is kept in the raw store

    listed = newswatch("batches")
    assert listed.returncode == 0 and "0 pending, 1 quarantined, 1 done" in listed.stdout
    assert any(line.startswith(f"quarantined {Path(corrupt).name}, 2 failed runs, last: ") for line in listed.stdout.splitlines())

    retried = newswatch("replay", "--quarantined", env={"NEWSWATCH_BATCH_MAX_ATTEMPTS": "2"})
    assert retried.returncode == 1 and "Traceback" not in retried.stderr
    assert [line for line in retried.stderr.splitlines() if "quarantined" in line], retried.stderr[-2000:]
    assert len(store.quarantined()) == 1 and store.pending() == []  # one deliberate try, then back in quarantine


def test_rejected_items_are_one_line_each_in_the_run_report(es_settings, tmp_path):
    feeds_dir = tmp_path / "feeds"
    feeds_dir.mkdir()
    items = "".join(
        f"<item><title>{t}</title><link>{link}</link><description>{t} happened today in the town.</description></item>"
        for t, link in [("Fine story", "https://good.example/fine"), ("Bad link", "javascript:alert(1)")]
    )
    (feeds_dir / "mixed.xml").write_text(f"<rss version='2.0'><channel><title>Mixed</title>{items}</channel></rss>")
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - {url: feeds/mixed.xml, source: Mixed}\n")

    result = newswatch("run", "--once", "--feeds", str(feeds))

    assert result.returncode == 0, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors == [f"error: feed {feeds_dir / 'mixed.xml'} item 'javascript:alert(1)' rejected at clean: "
                      "link 'javascript:alert(1)' is not an absolute http(s) URL"], result.stderr[-2000:]  # fmt: skip
    assert json.loads(newswatch("search", "--json").stdout)["total"] == 1
