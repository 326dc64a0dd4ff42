"""Cleaning: what survives of a feed item's HTML is the article's text, and nothing else."""

from hypothesis import given
from hypothesis import strategies as st

from newswatch.pipelines.clean import clean_text, clean_title, html_to_text
from tests.conftest import SEED_TEXT


def seed_as_html() -> str:
    return "".join(f"<p>{p}</p>" for p in SEED_TEXT.split("\n\n"))


def test_seed_article_loses_its_photo_credit_and_related_line():
    text, truncated = clean_text(seed_as_html())
    assert "Metzel" not in text and "TASS" not in text
    assert "Related article" not in text
    assert not truncated


def test_seed_article_keeps_its_story():
    text, _ = clean_text(seed_as_html())
    assert text.startswith("On Monday, Lukashenko and Putin will hold their first face-to-face meeting")
    assert "Russian President Vladimir Putin will encourage steps toward an “eventual succession” in Belarus" in text
    assert text.endswith("was ready for deployment in Belarus in the event of unrest.")


def test_bare_urls_are_removed():
    text, _ = clean_text(seed_as_html())
    assert "http" not in text and "bloomberg.com" not in text


def test_line_breaks_inside_a_paragraph_are_collapsed():
    text, _ = clean_text(seed_as_html())
    assert "“Slavic Brotherhood”" in text
    assert all("\n" not in p for p in text.split("\n\n"))


def test_plain_text_items_are_cleaned_too():
    text, _ = clean_text(SEED_TEXT)
    assert "Metzel" not in text and "Related article" not in text and "Slavic Brotherhood" in text


def test_entities_are_decoded_and_markup_is_gone():
    assert clean_text("<p>Fish &amp; chips &mdash; <b>hot</b> &#8220;now&#8221;</p>")[0] == "Fish & chips — hot “now”"


def test_captions_scripts_and_share_prompts_are_dropped():
    html = (
        "<figure><img src='a.jpg'><figcaption>Protesters in Minsk. Photo: Reuters</figcaption></figure>"
        "<p>The vote was held on Sunday.</p><script>track()</script>"
        "<p>Share this article on social media.</p><p>Read more: the full story</p><p>Subscribe to our newsletter</p>"
    )
    assert clean_text(html)[0] == "The vote was held on Sunday."


def test_text_is_nfc_normalised():
    decomposed = "Lukas\u030cenka"  # s + combining caron
    assert clean_text(f"<p>{decomposed}</p>")[0] == "Lukašenka"


def test_long_text_is_truncated_with_a_flag():
    text, truncated = clean_text("<p>" + "word " * 1000 + "</p>", max_chars=100)
    assert truncated and len(text) <= 100


def test_title_is_one_line():
    assert clean_title("Putin &amp; <i>Lukashenko</i>\n meet") == "Putin & Lukashenko meet"


def test_block_elements_separate_paragraphs():
    assert html_to_text("<div>one</div><div>two<br>three</div>").split() == ["one", "two", "three"]


@given(st.text())
def test_cleaning_never_fails_and_is_idempotent(s):
    once, _ = clean_text(s)
    assert clean_text(once)[0] == once


@given(st.lists(st.sampled_from(["<p>", "</p>", "<b>", "&amp;", "&#x1F600;", "<br>", "a b", "\n", "é", "<!-- c -->"])).map("".join))
def test_cleaning_html_soup_is_idempotent(s):
    once, _ = clean_text(s)
    assert clean_text(once)[0] == once


def test_typographic_apostrophes_become_ascii_ones_and_closing_quotes_stay():
    """Search, rules and alerts then see one word in "Putin’s" and "Putin's" (no lone "s" either)."""
    assert clean_title("Putin’s ‘Succession’ plan for O’Reilly’s show") == "Putin's ‘Succession’ plan for O'Reilly's show"
    assert clean_text("<p>Lukashenko’s regime</p>")[0] == "Lukashenko's regime"
