"""Canonical URLs: one page, however it is linked, is one article id."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newswatch.pipelines.urls import InvalidURLError, article_id, canonical_url


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTPS://WWW.Example.COM:443/news/a?utm_source=x&id=3&fbclid=abc#comments", "https://example.com/news/a?id=3"),
        ("http://example.com/news/a?id=3", "https://example.com/news/a?id=3"),
        ("https://example.com/a/?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://m.example.com/world/story", "https://example.com/world/story"),
        ("https://amp.theguardian.com/world/2020/sep/13/x", "https://theguardian.com/world/2020/sep/13/x"),
        ("https://example.com/world/story/amp/", "https://example.com/world/story"),
        ("https://example.com/story.amp.html", "https://example.com/story.html"),
        ("https://www.bloomberg.com/news/articles/2020-09-13/putin?sref=Y0jVLcFo", "https://bloomberg.com/news/articles/2020-09-13/putin"),
        ("https://example.com/a?gclid=1&utm_medium=rss&utm_campaign=c", "https://example.com/a"),
        ("https://example.com:8080/a", "https://example.com:8080/a"),
    ],
)
def test_canonical_form(raw, canonical):
    assert canonical_url(raw) == canonical


def test_tracking_variants_share_one_article_id():
    a = article_id(canonical_url("https://www.themoscowtimes.com/2020/09/13/a71426?utm_source=rss"))
    b = article_id(canonical_url("http://themoscowtimes.com/2020/09/13/a71426#top"))
    assert a == b and len(a) == 32


def test_a_different_page_is_a_different_article():
    assert article_id(canonical_url("https://example.com/a?id=1")) != article_id(canonical_url("https://example.com/a?id=2"))


def test_short_hosts_are_not_folded():
    assert canonical_url("https://m.me/page") == "https://m.me/page"


@pytest.mark.parametrize("bad", ["", "not a url", "ftp://example.com/x", "javascript:alert(1)", "https:///nohost"])
def test_non_article_links_are_refused_by_name(bad):
    with pytest.raises(InvalidURLError, match="not an http"):
        canonical_url(bad)


@given(st.text(), st.text())
def test_canonicalisation_is_idempotent_on_anything(path, query):
    url = f"https://Example.com/{path}?{query}"
    try:
        once = canonical_url(url)
    except InvalidURLError:
        return
    assert canonical_url(once) == once
