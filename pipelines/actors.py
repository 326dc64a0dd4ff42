"""Actors: spaCy entities turned into canonical, typed, counted names users can filter and alert on.

The model finds mentions; everything after that is plain Python over ``Mention`` tuples, so the rules
(titles, possessives, surname resolution, aliases, agency/place/demonym corrections) are tested
without loading a model.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import yaml

ACTOR_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT"})
TITLE_BONUS = 0.25
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")
_LEADING_THE = re.compile(r"^the\s+", re.I)
_PLURAL_GROUP = ("ians", "ans", "ats", "ers", "ists", "ites")


class Mention(NamedTuple):
    text: str
    label: str
    start: int  # character offset in the text that was tagged


@dataclass
class ActorRules:
    """The editable knowledge in seeds/actors/aliases.yaml, plus aliases from the watchlists."""

    aliases: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # lower alias -> (name, type)
    forms: tuple[str, ...] = ()  # every alias as written, for finding known actors in headlines
    agencies: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()
    demonyms: frozenset[str] = frozenset()
    titles: tuple[str, ...] = ()

    @classmethod
    def from_file(cls, path: Path, extra_aliases: dict[str, tuple[str, str | None]] | None = None) -> ActorRules:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"actor alias file {path}: {exc}") from exc
        aliases: dict[str, tuple[str, str | None]] = dict(extra_aliases or {})
        forms = []
        for actor in data.get("actors", []):
            for alias in [actor["name"], *actor.get("aliases", [])]:
                aliases[alias.lower()] = (actor["name"], actor.get("type"))
                forms.append(alias)
        low = lambda key: frozenset(s.lower() for s in data.get(key, []))  # noqa: E731
        titles = tuple(sorted((t.lower() for t in data.get("titles", [])), key=len, reverse=True))
        return cls(aliases, tuple(sorted(set(forms), key=len, reverse=True)), low("news_agencies"), low("places"), low("demonyms"), titles)


def clean_name(text: str, titles: tuple[str, ...] = ()) -> str:
    """One line, no possessive, no stray punctuation, no leading title or 'the'."""
    name = " ".join(text.split()).replace("’", "'")
    name = _POSSESSIVE.sub("", name)
    abbreviation = name.endswith(".") and "." in name[:-1]  # U.S., N.J. keep their final period
    name = _EDGE_PUNCT.sub("", name)
    if titles:
        name = _titles_pattern(titles).sub("", name) or name
    name = _EDGE_PUNCT.sub("", _LEADING_THE.sub("", name))
    return name + "." if abbreviation and name else name


@functools.cache
def _titles_pattern(titles: tuple[str, ...]) -> re.Pattern[str]:
    """Leading titles, repeated ("Russian President Vladimir Putin"), as one case-insensitive pattern."""
    alternatives = "|".join(re.escape(t) for t in sorted(titles, key=len, reverse=True))
    return re.compile(rf"^(?:(?:{alternatives})\s+)+(?=\S)", re.IGNORECASE)


def correct_label(name: str, label: str, rules: ActorRules) -> str:
    """Fix the small model's systematic errors: agencies as places, demonyms as places, cities as nations."""
    low = name.lower()
    if low in rules.agencies:
        return "ORG"
    if low in rules.demonyms and label in ("GPE", "LOC", "ORG", "PERSON"):
        return "NORP"
    if low in rules.places and label in ("NORP", "ORG", "PERSON"):
        return "GPE"
    return label


def singular_group(name: str) -> str:
    """'Belarusians' and 'Belarusian', 'Democrats' and 'Democrat' are one group to filter on."""
    if len(name) > 5 and name.endswith(_PLURAL_GROUP):
        return name[:-1]
    return name


def _is_credit(text: str) -> bool:
    return "/" in text or "©" in text


def canonical_actors(mentions: list[Mention], rules: ActorRules, title: str = "") -> list[dict]:
    """Mentions in the body -> canonical actors with type, mention count, first position and salience.

    Headlines are not given to the model: their Title Case makes it see names everywhere ("Hannity
    Announces"). Instead, an actor found in the body whose name or surface form appears in ``title``
    gets a headline mention and a salience bonus, because what a headline names is the story's subject.
    """
    resolved: list[tuple[str, str, int, str]] = []
    for m in mentions:
        if m.label not in ACTOR_LABELS or _is_credit(m.text):
            continue
        name = clean_name(m.text, rules.titles)
        if len(name) < 2 or not any(ch.isalpha() for ch in name):
            continue
        label = correct_label(name, m.label, rules)
        if label == "NORP":
            name = singular_group(name)
        elif label in ("GPE", "LOC") and name.isupper() and len(name) > 4:
            name = name.title()  # a dateline: "NEWARK, N.J. (AP) —"
        alias = rules.aliases.get(name.lower())
        if alias:
            name, label = alias[0], alias[1] or label
        resolved.append((name, label, m.start, clean_name(m.text, rules.titles)))
    resolved = _resolve_short_forms(resolved)
    in_title = {name for name, _, _, surface in resolved if title and (_names(title, surface) or _names(title, name))}
    known = {name for name, *_ in resolved}
    for form in rules.forms if title else ():
        name, label = rules.aliases[form.lower()]
        if name not in known and _names(title, form):  # a known actor named only in the headline
            resolved.append((name, label or "ORG", -1, form))
            known.add(name)
    return _aggregate(resolved, in_title)


def _names(text: str, name: str) -> bool:
    return bool(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text))


def _resolve_short_forms(resolved: list[tuple[str, str, int, str]]) -> list[tuple[str, str, int, str]]:
    """'Putin' -> 'Vladimir Putin' when the longer name of that person is in the same article."""
    full_names = {n for n, label, _, _ in resolved if label == "PERSON" and " " in n}
    by_last: dict[str, set[str]] = defaultdict(set)
    for full in full_names:
        by_last[full.split()[-1].lower()].add(full)
    out = []
    for name, label, start, surface in resolved:
        candidates = by_last.get(name.lower(), set()) if " " not in name else set()
        if len(candidates) == 1 and label in ("PERSON", "ORG", "GPE", "NORP"):
            name, label = next(iter(candidates)), "PERSON"
        out.append((name, label, start, surface))
    return out


def _aggregate(resolved: list[tuple[str, str, int, str]], in_title: set[str]) -> list[dict]:
    counts: dict[str, int] = defaultdict(int)
    first: dict[str, int] = {}
    types: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for name, label, start, _ in resolved:
        counts[name] += 1
        first.setdefault(name, start)
        types[name][label] += 1
    for name in in_title:
        counts[name] += 1
    in_title |= {name for name, _, start, _ in resolved if start < 0}
    total = sum(counts.values()) or 1
    actors = [
        {
            "name": name,
            "type": max(types[name].items(), key=lambda kv: kv[1])[0],
            "mentions": n,
            "first_position": first[name],
            "salience": round(min(1.0, n / total + (TITLE_BONUS if name in in_title else 0.0)), 4),
        }
        for name, n in counts.items()
    ]
    return sorted(actors, key=lambda a: (-a["salience"], a["first_position"]))
