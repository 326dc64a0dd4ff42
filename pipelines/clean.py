"""HTML to clean article text: a real HTML parser, NFC, collapsed whitespace, no boilerplate.

Feeds carry fragments of web pages: figure captions with photo credits, "Related article" and
"Read more" lines, share prompts and bare links. They pollute search and, worse, become actors
("Mikhail Metzel / TASS"), so they are removed here, before anything is tagged.
"""

from __future__ import annotations

import re
import unicodedata

import lxml.html
from lxml import etree

# Elements whose content is never article text.
_DROP_TAGS = ("script", "style", "noscript", "iframe", "figure", "figcaption", "aside", "nav", "form", "button")
# Elements that end a paragraph or line.
_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "li",
        "ul",
        "ol",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "table",
        "tr",
        "dl",
        "dt",
        "dd",
    ]
)

# A complete tag, a comment or an entity: anything less is plain text with a stray '<' or '&'.
_LOOKS_LIKE_HTML = re.compile(r"<[A-Za-z/!?][^<>]*>|&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]\w*);")
_URL = r"(?:https?://|www\.)\S+"
_BARE_URL = re.compile(_URL)
_ONLY_URLS = re.compile(rf"^(?:\s*{_URL}\s*)+$")
_BOILERPLATE = re.compile(
    r"^(?:related(?: articles?| stories| content)?|read (?:more|also|next)|see also|also read|more on this"
    r"|share (?:this|on)|subscribe|sign up|follow us|click here|advertisement|continue reading)\b",
    re.IGNORECASE,
)
_CREDIT_LINE = re.compile(r"^\(?(?:photo|photograph|image|picture|credit|source|video)s?\s*(?:credit)?\s*[:/©].*$", re.I)
# "... broke out. Mikhail Metzel / TASS": a name, a slash, an agency, closing a caption.
_TRAILING_CREDIT = re.compile(
    r"(?:^|(?<=[.!?\"”’)]))\s*(?:(?:Photo|Image)s?:?\s*)?"
    r"[A-Z][\w'’.-]+(?:\s[A-Z][\w'’.-]+){0,3}\s?/\s?[A-Z][\w&.-]*(?:\s[A-Z][\w&.-]+){0,2}\s*$"
)
# Control and invisible format characters (zero-width spaces, bidi marks, BOM, soft hyphen); tabs and newlines stay.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff]")
# A right single quotation mark between two letters is an apostrophe ("Putin’s", "O’Reilly"), and is written
# as one. Elasticsearch's core analyzers cannot map characters: the standard one keeps "putin’s" apart from
# "putin's" and the classic one splits it into "putin" and a lone "s". A closing quote (‘Succession’) stays.
_CURLY_APOSTROPHE = re.compile(r"(?<=\w)\u2019(?=\w)")
_COPYRIGHT = re.compile(r"\s*(?:\(|\[)?(?:©|\(c\))\s*[^.]{0,80}$", re.I)


def html_to_text(html: str) -> str:
    """Render an HTML fragment (or plain text) to text with paragraphs separated by blank lines."""
    if not html or not html.strip():
        return ""
    if not _LOOKS_LIKE_HTML.search(html):
        return html
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return html
    for el in list(root.iter(*_DROP_TAGS)):
        _remove_keep_tail(el)
    for el in root.iter():
        if not isinstance(el.tag, str):  # comments, processing instructions
            continue
        if el.tag == "br":
            el.tail = "\n" + (el.tail or "")
        elif el.tag in _BLOCK_TAGS:
            el.tail = "\n\n" + (el.tail or "")
    return root.text_content()


def _remove_keep_tail(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail or ""
    prev = el.getprevious()
    if prev is not None:
        prev.tail = (prev.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(el)


def without_control_characters(text: str) -> str:
    """The text without control, zero-width and bidirectional formatting characters (tabs and newlines stay)."""
    return _CONTROL.sub("", text)


def straight_apostrophes(text: str) -> str:
    """The text with its typographic apostrophes as ASCII ones: feed text, queries and rule terms alike, so
    "Lukashenko’s" and "Lukashenko's" are one word to search, watch rules and alerts. Length is kept."""
    return _CURLY_APOSTROPHE.sub("'", text)


def normalise(text: str) -> str:
    """NFC, no control characters, ASCII apostrophes, whitespace collapsed inside paragraphs, paragraphs kept apart."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = straight_apostrophes(_CONTROL.sub("", text))
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


def strip_boilerplate(text: str) -> str:
    """Drop boilerplate paragraphs and trim credits and bare URLs from the ones that stay."""
    kept = []
    for para in text.split("\n\n"):
        para = _trim(para)
        if para:
            kept.append(para)
    return "\n\n".join(kept)


def _trim(para: str) -> str:
    """One paragraph without credits, copyright lines and URLs; empty when nothing else is left.

    Trimming can uncover more (a credit before a URL), so it repeats until nothing changes.
    """
    while True:
        if _ONLY_URLS.match(para) or _BOILERPLATE.match(para) or _CREDIT_LINE.match(para):
            return ""
        trimmed = " ".join(_BARE_URL.sub("", _COPYRIGHT.sub("", _TRAILING_CREDIT.sub("", para))).split())
        if trimmed == para:
            return para
        para = trimmed


def clean_text(html_or_text: str, max_chars: int | None = None) -> tuple[str, bool]:
    """The full cleaning chain; returns the text and whether it was truncated to ``max_chars``."""
    text = strip_boilerplate(normalise(html_to_text(_CONTROL.sub("", html_or_text))))
    if max_chars is not None and len(text) > max_chars:
        return text[:max_chars].rsplit(" ", 1)[0], True
    return text, False


def clean_title(title: str) -> str:
    """Titles are one line of text, sometimes with markup or entities."""
    return " ".join(normalise(html_to_text(title)).split())
