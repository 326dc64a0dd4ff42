"""The words around a span that show it is not an actor: a title of a work, or a role someone plays.

The small model tags titles of films, books and songs, and the characters actors play, as people,
places or organisations. The text around the span says otherwise, the way a reader sees it: quotes
("Stabat Mater"), a bare year in brackets right after it ("Match Point (2005)"), a noun for a work
right before it ("the novel Hydrodynamica", "the series Gilmore Girls"), or a verb of acting
("played Sam Winchester", "cast as Dean Forester"). The words themselves are editable knowledge
(``work_words``, ``role_words`` in seeds/actors/aliases.yaml).
"""

from __future__ import annotations

import re

from newswatch.pipelines.names import CONNECTORS

_OPEN_QUOTES, _CLOSE_QUOTES = "\"“‘'«", "\"”’'»"
_YEAR_AFTER = re.compile(r"\s?\((?:1[5-9]|20)\d\d\)")  # "(2005)"; not "(born 1950)" nor "(1922 - 2013)"
_WORD_BEFORE = re.compile(r"([A-Za-z]+)\s+$")


def quoted(text: str, start: int, end: int) -> bool:
    """A span between quotes is a title of a work ("Stabat Mater", "Cold as Ice"), not an actor."""
    return start > 0 and end < len(text) and text[start - 1] in _OPEN_QUOTES and text[end] in _CLOSE_QUOTES


def _word_before(text: str, start: int) -> tuple[str, int]:
    """The word right before ``start`` (as written) and where it begins."""
    window = max(0, start - 30)
    match = _WORD_BEFORE.search(text[window:start])
    return (match.group(1), window + match.start(1)) if match else ("", start)


def names_a_work(text: str, start: int, end: int, label: str, work_words: frozenset[str], role_words: frozenset[str]) -> bool:
    """Whether ``text[start:end]``, tagged ``label``, is a title of a work or a character, by the words around it.

    ``work_words`` come right before a title ("the film", "the novel"); ``role_words`` come before
    "as" and a character ("cast as", "his performance as"). Both must be in lower case: "Film Critics
    Circle" is an organisation, not a film.
    """
    if quoted(text, start, end):
        return True
    before, at = _word_before(text, start)
    if _YEAR_AFTER.match(text, end) and _dated_work(text[start:end], label, before):
        return True
    if before in work_words:
        return True
    return before == "as" and _word_before(text, at)[0] in role_words


def _dated_work(span: str, label: str, before: str) -> bool:
    """'Match Point (2005)' is a film; 'Italy (1821)' a place visited, 'Croft (2004)' and 'by Giovanni Bellini (1505)' authors."""
    if label in ("GPE", "LOC") or before == "by":
        return False
    return label != "PERSON" or (" " in span and before != "and")


def stands_alone(text: str, start: int, end: int) -> bool:
    """Not part of a longer name: no word characters touching it, no capitalised word right beside it."""
    if (start > 0 and (text[start - 1].isalnum() or text[start - 1] in "-'’")) or (
        end < len(text) and (text[end].isalnum() or text[end] in "-'’")
    ):
        return False
    before = text[max(0, start - 30) : start].split(" ")
    after = text[end : end + 30].split(" ")
    prev_word = before[-2] if len(before) > 1 and not before[-1] else ""
    next_word = after[1] if len(after) > 1 and not after[0] else ""
    return not (prev_word[:1].isupper() and not prev_word.endswith((".", ",", ":", ";"))) and not next_word[:1].isupper()


def everyday_phrase(low: str, lower_words: frozenset[str]) -> bool:
    """Several words, each of which the article also writes in lower case: a concept in capitals
    ("Conservation of Energy", "Election Day", "Senior Editor"), not a name."""
    words = [w for w in low.split() if w not in CONNECTORS]
    return len(words) > 1 and all(w in lower_words for w in words)
