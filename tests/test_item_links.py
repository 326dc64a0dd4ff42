"""Item links: only absolute http(s) URLs identify an article; relative links are resolved against the item's
xml:base, then the channel's link, then the feed's URL; an IPv6 literal is a valid host."""

import json
from datetime import UTC, datetime

import pytest

from newswatch.flows.feedlist import Feed
from newswatch.flows.poll import parse_feed
from newswatch.pipelines.enrich import ItemError, prepare
from newswatch.pipelines.urls import canonical_url
from newswatch.settings import Settings
from tests.hostile_server import BAD_ITEMS, GOOD_ITEMS, HUGE_LINK, poison_feed

SETTINGS = Settings()
FEED = Feed("https://feeds.example/hostile/rss.xml")


@pytest.fixture(scope="module")
def items() -> dict[str, dict]:
    """The hostile feed's items, by the link as published (in the feed's order)."""
    parsed, _ = parse_feed(FEED, poison_feed(), {}, SETTINGS, datetime.now(UTC))
    return dict(zip([*GOOD_ITEMS, *BAD_ITEMS], parsed, strict=True))


@pytest.mark.parametrize("published", list(GOOD_ITEMS))
def test_good_links_are_indexed_under_their_absolute_url(items, published, detector):
    article = prepare(items[published], detector, SETTINGS)
    assert article["url"] == GOOD_ITEMS[published]


@pytest.mark.parametrize("published", [link for link in BAD_ITEMS if link != HUGE_LINK and "empty" not in link])
def test_javascript_data_and_mailto_links_are_rejected_by_name(items, published, detector):
    with pytest.raises(
        ItemError, match=r"^feed https://feeds.example/hostile/rss.xml item '.*': link '.*' is not an absolute http\(s\) URL$"
    ):
        prepare(items[published], detector, SETTINGS)


def test_without_a_channel_link_relative_links_resolve_against_the_feed_url(detector):
    body = b"<rss version='2.0'><channel><title>T</title><item><title>A story</title><link>/a/story</link></item></channel></rss>"
    (item,), _ = parse_feed(FEED, body, {}, SETTINGS, datetime.now(UTC))
    assert item["link"] == "https://feeds.example/a/story"


def test_an_ipv6_literal_keeps_its_brackets_in_the_canonical_url():
    assert canonical_url("http://[::1]:8766/x?utm_source=feed") == "https://[::1]:8766/x"
    assert canonical_url("https://[2001:db8::1]/news/") == "https://[2001:db8::1]/news"


def test_json_feed_relative_urls_resolve_against_its_home_page_and_odd_values_are_rejected_by_name(detector):
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "J", "home_page_url": "https://json.example/news/",
           "items": [{"id": "1", "url": "2020/story", "title": "A story", "content_text": "Text of a story."},
                     {"id": "2", "url": {"not": "a string"}, "title": "Odd", "content_text": "Odd link."}]}  # fmt: skip
    good, odd = parse_feed(FEED, json.dumps(doc).encode(), {}, SETTINGS, datetime.now(UTC))[0]
    assert prepare(good, detector, SETTINGS)["url"] == "https://json.example/news/2020/story"
    with pytest.raises(ItemError, match=r"item '2': link .* is not an absolute http\(s\) URL"):
        prepare(odd, detector, SETTINGS)
