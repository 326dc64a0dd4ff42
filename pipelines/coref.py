"""Within one article, one actor per person or organisation: variants, short forms and acronyms fold.

Newswriting names a person in full once and then by surname ("Bernoulli"), first name ("Daniel"),
or a shorter or longer variant ("Antonín Leopold Dvořák" / "Antonín Dvořák"); organisations come
back as acronyms ("MIT"). These rules join them to the full name found in the same article only:
nothing is carried between articles.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from typing import NamedTuple

from newswatch.pipelines.names import CONNECTORS

FOLDABLE = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC"})  # labels the small model gives surnames


class Resolved(NamedTuple):
    name: str
    label: str
    start: int  # character offset; -1 for a name seen only in the headline
    surface: str
    known: bool  # from an alias list or gazetteer: a settled name, not a short form to resolve


def fold_names(items: list[Resolved], title: str = "", headline_names: dict[str, int] | None = None) -> list[Resolved]:
    """``headline_names``: full names the headline gives and the body writes too (name -> where in the body)."""
    items = _fold_short_forms(_fold_variants(items, title), headline_names or {}, title)
    return _fold_acronyms(_fold_short_organisations(items))


def _fold_variants(items: list[Resolved], title: str) -> list[Resolved]:
    """'Antonín Leopold Dvořák', 'Eugene A. Nida': one person as their usual name (headline, most used, shortest)."""
    counts = Counter(i.name for i in items if i.label == "PERSON" and len(i.name.split()) > 1)
    known = {i.name for i in items if i.known}
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name in counts:
        words = name.lower().split()
        groups[(words[0], words[-1])].append(name)
    rename = {}
    for (first, last), names in groups.items():
        headline = _headline_form(title, first, last)
        best = min(names, key=lambda n: (n not in known, n not in title, -counts[n], len(n.split()), n))
        if headline and best not in known and len(headline.split()) < len(best.split()):
            best = headline  # a profile's headline gives the name the person goes by: "Antonín Dvořák"
        rename.update({n: best for n in names})
    return [i._replace(name=rename[i.name]) if i.name in rename else i for i in items]


def _headline_form(title: str, first: str, last: str) -> str | None:
    """The same person in the headline, from their first to their last name, at most one word between."""
    words = title.split()
    low = [w.strip(",.:;!?'\"").lower() for w in words]
    for i, w in enumerate(low):
        if w == first:
            for j in range(i + 1, min(i + 3, len(low))):
                if low[j] == last:
                    return " ".join(x.strip(",.:;!?'\"") for x in words[i : j + 1])
    return None


def _part_of(short: list[str], full: list[str]) -> bool:
    k = len(short)
    if k >= len(full):
        return False
    return short == full[-k:] or short == full[:k] or (k == 2 and short[0] == full[0] and short[1] == full[-1])


def _fold_short_forms(items: list[Resolved], headline_names: dict[str, int], title: str) -> list[Resolved]:
    """'Bernoulli', 'Daniel' -> the full name the headline gives, else the one mentioned nearest before them
    (else the first after): the headline names the story's subject, whom a bare surname means
    ("Padalecki" is Jared Padalecki of the headline, not his mother Sherri Padalecki named earlier).

    A name in the headline that the model missed in the body ("Brock Holt") counts as mentioned there.
    """
    starts: dict[str, list[int]] = defaultdict(list)
    for i in items:
        if i.label == "PERSON" and len(i.name.split()) > 1:
            starts[i.name].append(i.start)
    for name, at in headline_names.items():
        if name not in starts and not any(i.name == name for i in items):
            starts[name].append(at)
    full = {name: name.lower().split() for name in starts}
    out = []
    for item in items:
        words = item.name.lower().split()
        if item.name in full or item.label not in FOLDABLE or (item.known and item.label != "PERSON"):
            out.append(item)
            continue
        candidates = [name for name, fw in full.items() if _part_of(words, fw)]
        candidates = [c for c in candidates if c in headline_names or c in title] or candidates
        if candidates:
            item = item._replace(name=_nearest(candidates, starts, item.start), label="PERSON")
        out.append(item)
    return out


def _fold_short_organisations(items: list[Resolved]) -> list[Resolved]:
    """'Harvard' -> 'Harvard University', 'Academy' -> 'French Academy', 'Air Force' -> 'United States Air
    Force': the last words (or the one first word) of exactly one longer organisation in the article.
    Not its first words: "Major League Baseball" is not the "Major League Baseball Draft"."""
    orgs = {i.name: i.name.lower().split() for i in items if i.label == "ORG" and len(i.name.split()) > 1}
    out = []
    for item in items:
        if item.label == "ORG" and not item.known:
            words = item.name.lower().split()
            k = len(words)
            candidates = [o for o, ow in orgs.items() if len(ow) > k and (words == ow[-k:] or (k == 1 and words == ow[:1]))]
            if len(candidates) == 1:
                item = item._replace(name=candidates[0])
        out.append(item)
    return out


def _nearest(candidates: list[str], starts: dict[str, list[int]], at: int) -> str:
    def distance(name: str) -> tuple[int, int]:
        positions = sorted(starts[name])
        before = bisect.bisect_left(positions, at)
        if before:
            return (0, at - positions[before - 1])
        return (1, positions[0] - at)

    return min(candidates, key=distance)


def _initials(name: str) -> str:
    return "".join(w[0] for w in name.split() if w.lower() not in CONNECTORS and w[:1].isupper())


def _fold_acronyms(items: list[Resolved]) -> list[Resolved]:
    """'MIT' -> 'Massachusetts Institute of Technology' when both are in the article."""
    by_initials = {}
    for i in items:
        if i.label in ("ORG", "GPE", "FAC") and len(i.name.split()) > 1:
            by_initials.setdefault(_initials(i.name), i.name)
    out = []
    for item in items:
        bare = item.name.replace(".", "")
        if not item.known and 2 <= len(bare) <= 6 and bare.isupper() and bare in by_initials:
            item = item._replace(name=by_initials[bare], label="ORG" if item.label == "PERSON" else item.label)
        out.append(item)
    return out
