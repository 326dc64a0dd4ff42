"""One entity span -> one clean name: what the model's span carries beyond the name is cut away.

Spans from a small NER model arrive with titles ("Tsar Peter the Great"), possessives, leading
determiners or job words ("a Roman Catholic", "mathematician Hermann Weyl"), run-on words
("Byron composed Thyrza"), honours ("Daniel Bernoulli FRS") and names run together
("Dvořák Dvořák", "Antonín Dvořák Antonín Leopold Dvořák"). These are shape rules over the span's
words only; which name a short form stands for is decided per article in ``coref``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_POSSESSIVE = re.compile(r"(?:'s|')$")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")
_LEADING_THE = re.compile(r"^the\s+", re.I)
# Lower-case words that belong inside names: "University of Basel", "Jean le Rond d'Alembert", "bin Salman".
CONNECTORS = frozenset(
    [
        "of",
        "the",
        "and",
        "for",
        "on",
        "in",
        "at",
        "upon",
        "de",
        "du",
        "des",
        "del",
        "della",
        "di",
        "da",
        "dos",
        "das",
        "van",
        "von",
        "der",
        "den",
        "ter",
        "la",
        "le",
        "les",
        "al",
        "el",
        "bin",
        "ibn",
        "y",
        "e",
        "zu",
        "et",
        "und",
        "&",
        "-",
    ]
)
_JOINED_INITIALS = re.compile(r"\b([A-Z])\.(?=[A-Z]\.)")
_PARTICLE = re.compile(r"^(?:[a-z]{1,3}['-])\w")  # d'Alembert, al-Hajj


@dataclass(frozen=True)
class NameRules:
    titles: tuple[str, ...] = ()  # dropped from the front: "President", "Dr."
    kept_titles: frozenset[str] = frozenset()  # kept when one name word follows: "Lord Byron", "Pope Francis"
    postnominals: frozenset[str] = frozenset()  # dropped from the end: "FRS", "PhD"

    def without_titles(self) -> NameRules:
        """For names of organisations and places: "Major League Baseball", "General Motors" keep their first word."""
        return NameRules((), self.kept_titles, self.postnominals)


def clean_name(text: str, titles: tuple[str, ...] | NameRules = ()) -> str:
    """One line, no possessive, title, determiner, run-on words, honours, brackets or repeated name."""
    rules = titles if isinstance(titles, NameRules) else NameRules(titles=titles)
    name = " ".join(text.replace("[", "").replace("]", "").split()).replace("’", "'")
    if "(" in name and ")" not in name:
        name = name.split("(")[0]  # "Jules et Jim (1962": the span ran into a bracket
    name = _POSSESSIVE.sub("", name)
    abbreviation = name.endswith(".") and "." in name[:-1]  # U.S., N.J. keep their final period
    name = _EDGE_PUNCT.sub("", name)
    words = _drop_leading_lowercase(name.split())
    name = _strip_titles(" ".join(words), rules)
    name = _EDGE_PUNCT.sub("", _LEADING_THE.sub("", name))
    words = _repair_repeats(_strip_postnominals(_cut_run_on(name.split()), rules.postnominals))
    name = _EDGE_PUNCT.sub("", " ".join(words))
    return name + "." if abbreviation and "." in name else name


def _is_lower_word(word: str) -> bool:
    return word.isalpha() and word.islower() and word not in CONNECTORS and not _PARTICLE.match(word)


def _drop_leading_lowercase(words: list[str]) -> list[str]:
    """'a Boxer Indemnity Scholarship', 'these U. S.', 'mathematician Hermann Weyl' lose their first words."""
    i = 0
    while i < len(words) - 1 and (_is_lower_word(words[i]) or words[i].lower() in ("the", "a", "an")):
        i += 1
    return words[i:]


def _strip_titles(name: str, rules: NameRules) -> str:
    if not rules.titles:
        return name
    match = _titles_pattern(rules.titles).match(name)
    if not match:
        return name
    rest = name[match.end() :]
    last_title = match.group(1)
    if len(rest.split()) == 1 and last_title.lower() in rules.kept_titles:
        return f"{last_title} {rest}"  # "Lord Byron", "Emperor Norton": the title is part of the name
    return rest or name


@functools.cache
def _titles_pattern(titles: tuple[str, ...]) -> re.Pattern[str]:
    """Leading titles, repeated ("Russian President Vladimir Putin"), as one case-insensitive pattern."""
    alternatives = "|".join(re.escape(t) for t in sorted(titles, key=len, reverse=True))
    return re.compile(rf"^(?:(?:{alternatives})\s+)*({alternatives})\s+(?=\S)", re.IGNORECASE)


def _cut_run_on(words: list[str]) -> list[str]:
    """'Byron composed Thyrza' -> 'Byron'; 'Grand Lodge of' -> 'Grand Lodge': a name has no verbs."""
    for i, word in enumerate(words[1:], start=1):
        if _is_lower_word(word.strip(",.;:")):
            words = words[:i]
            break
    while len(words) > 1 and words[-1].lower() in CONNECTORS:
        words = words[:-1]
    return words


def _strip_postnominals(words: list[str], postnominals: frozenset[str]) -> list[str]:
    while len(words) > 1 and words[-1].strip(",.").replace(".", "").upper() in postnominals:
        words = words[:-1]
    return words


def _repair_repeats(words: list[str]) -> list[str]:
    """A capitalised word met twice means two names run together; the first one is kept.

    'Dvořák Dvořák' and 'Charles J. Fillmore Charles J. Fillmore' repeat from the first word, so the
    second copy starts there; 'Mohammed Hadid Muhammad al-Hajj Husayn Hadid' repeats a surname, so
    the first name ends at its first occurrence.
    """
    low = [w.lower() for w in words]
    for j in range(1, len(words)):
        if words[j][:1].isupper() and low[j] in low[:j]:
            i = low.index(low[j])
            return words[:j] if i == 0 else words[: i + 1]
    return words


def spaced_initials(name: str) -> str:
    """'O.J. Simpson' -> 'O. J. Simpson', 'George H.W. Bush' -> 'George H. W. Bush': one spelling for a person's initials."""
    return _JOINED_INITIALS.sub(r"\1. ", name)
