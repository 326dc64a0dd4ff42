"""Optional full text: fetched politely, main text extracted, private addresses refused by default."""

from pathlib import Path

import pytest

from newswatch.pipelines.fulltext import FullTextError, fetch_full_text
from newswatch.settings import Settings

PAGE = """<!doctype html><html><head><title>Story</title></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article><h1>Harbour Bank reports higher profit</h1>
<p>Harbour Bank said on Sunday that its quarterly profit rose eight percent as mortgage lending grew and deposits held steady.</p>
<p>Investors welcomed the results, and the bank's shares gained three percent in early trading on the city exchange.</p>
<p>The bank expects interest rates to stay low next year, which could squeeze the margins it earns on new loans.</p>
</article>
<footer>Subscribe to our newsletter. Cookie settings. Terms of use.</footer></body></html>"""


@pytest.fixture
def page_url(tmp_path: Path, serve_dir) -> str:
    (tmp_path / "story.html").write_text(PAGE)
    return f"{serve_dir(tmp_path)}/story.html"


def test_main_text_is_extracted_without_navigation_or_footer(page_url):
    text = fetch_full_text(page_url, Settings(fulltext_allow_private=True))
    assert "quarterly profit rose eight percent" in text and "squeeze the margins" in text
    assert "Cookie settings" not in text and "Sport" not in text


def test_loopback_and_private_addresses_are_refused_by_default(page_url):
    with pytest.raises(FullTextError, match="private or loopback"):
        fetch_full_text(page_url, Settings())


def test_a_missing_page_is_named(page_url):
    with pytest.raises(FullTextError, match=r"missing.html: HTTP 404"):
        fetch_full_text(page_url.replace("story", "missing"), Settings(fulltext_allow_private=True))
