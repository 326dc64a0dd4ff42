"""Input limits: nothing a feed sends can make a record unbounded; truncation is flagged."""

import asyncio

import pytest

from newswatch.flows.feedlist import Feed
from newswatch.flows.poll import poll_feeds
from newswatch.pipelines.enrich import prepare
from newswatch.pipelines.sink import bulk_create
from newswatch.settings import Settings


def item(**kw):
    return {
        "feed": {"id": "f", "url": "http://feed.example/rss"},
        "link": "https://example.com/a",
        "title": "A title",
        "content": "Body text.",
        **kw,
    }


def test_text_is_truncated_with_a_flag(detector):
    article = prepare(item(content="<p>" + "word " * 5000 + "</p>"), detector, Settings(max_text_chars=1000))
    assert len(article["text"]) <= 1000 and article["text_truncated"]


def test_titles_summaries_and_lists_are_bounded(detector):
    settings = Settings(max_field_chars=50, max_list_items=3)
    article = prepare(item(title="T" * 500, summary="S" * 500, authors=[f"a{i}" * 40 for i in range(10)], categories=["c"] * 10),
                      detector, settings)  # fmt: skip
    assert len(article["title"]) == 50 and len(article["summary"]) == 50
    assert len(article["authors"]) == 3 and all(len(a) <= 50 for a in article["authors"]) and len(article["categories"]) == 3


def test_a_source_name_keeps_no_control_characters_and_a_blank_one_is_unknown(detector):
    hostile = item(feed={"id": "f", "url": "http://feed.example/rss", "source": "\x1b]8;;http://evil.example\x07Daily\u202e  News\x1b[0m"})
    assert prepare(hostile, detector, Settings())["source"] == "]8;;http://evil.exampleDaily News[0m"
    blank = item(feed={"id": "f", "url": "http://feed.example/rss", "source": "\x00\x1b "})
    assert prepare(blank, detector, Settings())["source"] == "unknown"


def test_items_per_feed_are_capped_and_the_cut_is_reported(tmp_path):
    entries = "".join(f"<item><title>n{i}</title><link>https://example.com/{i}</link></item>" for i in range(30))
    path = tmp_path / "many.xml"
    path.write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{entries}</channel></rss>')
    (r,) = asyncio.run(poll_feeds([Feed(str(path))], Settings(max_items_per_feed=10)))
    assert len(r.items) == 10 and "only the first 10 of 30 entries kept" in r.warning


def test_feed_size_is_capped(tmp_path):
    path = tmp_path / "big.xml"
    path.write_bytes(b"<rss>" + b" " * 20_000 + b"</rss>")
    (r,) = asyncio.run(poll_feeds([Feed(str(path))], Settings(poll_max_bytes=10_000)))
    assert r.status == "failed" and r.error_kind == "too_large" and "poll_max_bytes=10000" in r.error


@pytest.mark.integration
def test_a_rejected_document_goes_to_the_dead_letter_index_and_the_rest_land(es_settings):
    from newswatch.store import connect, ensure_indices

    es = connect(es_settings)
    ensure_indices(es, es_settings)
    good = {"id": "good-1", "title": "fine", "published_at": "2020-09-13T11:05:00+00:00"}
    bad = {"id": "bad-1", "title": "broken date", "published_at": "the thirteenth of September"}
    counts = bulk_create(es, f"{es_settings.articles_alias}-000001", [good, bad], es_settings)
    assert counts["created"] == 1 and counts["rejected"] == 1
    es.indices.refresh(index=es_settings.deadletter_index)
    (dead,) = es.search(index=es_settings.deadletter_index)["hits"]["hits"]
    assert (dead["_source"]["item"], dead["_source"]["stage"]) == ("bad-1", "index") and "published_at" in dead["_source"]["reason"]
    assert "the thirteenth of September" in dead["_source"]["raw"]  # the document as it was sent


def test_a_date_too_far_in_the_future_is_flagged_and_not_trusted(detector):
    future = prepare(item(published="2999-01-01T00:00:00+00:00", fetched_at="2020-09-13T12:00:00+00:00"), detector, Settings())
    assert future["published_at_trusted"] is False and future["published_at_claimed"] == "2999-01-01T00:00:00+00:00"
    assert future["published_at"] == "2020-09-13T12:00:00+00:00"
    past = prepare(item(published="2020-09-13T11:05:00+03:00"), detector, Settings())
    assert past["published_at"] == "2020-09-13T08:05:00+00:00" and past["published_at_trusted"] is True
