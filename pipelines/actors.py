"""Actors: spaCy entities turned into canonical, typed, counted names users can filter and alert on.

The model finds mentions; everything after that is plain Python over ``Mention`` tuples, so the rules
are tested without loading a model. Per mention: credits, titles of works and characters (by the
words around them, ``context``), events, concepts, lower-case words and adjectives (demonyms,
"Catholic") are not actors; the span is repaired (``names``); aliases from the seed file, the
watchlists and public gazetteers give one canonical name (``gazetteer``); types are corrected. Per
article: short forms, variants and acronyms fold into one actor (``coref``), names the headline gives
(``headlines``), places named inside organisations and events, and countries and capitals the model
missed are added, and each actor gets a salience and a confidence so facets can leave weak ones out.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import ahocorasick
import yaml

from newswatch.pipelines.context import everyday_phrase, names_a_work, stands_alone
from newswatch.pipelines.coref import Resolved, fold_names
from newswatch.pipelines.gazetteer import build_gazetteer
from newswatch.pipelines.headlines import missed_headline_names, names_in_headline
from newswatch.pipelines.names import NameRules, clean_name, spaced_initials

__all__ = ["ACTOR_LABELS", "ActorRules", "Mention", "canonical_actors", "clean_name", "correct_label"]

ACTOR_LABELS = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC"})  # events (wars, festivals) are not actors
PLACE_LABELS = frozenset({"GPE", "LOC"})  # labels a gazetteer spelling may re-spell ("Kiev"; not "White House")
TITLE_BONUS = 0.25
WEAK_BELOW = 0.5  # actors under this confidence are kept but marked weak
LEAD_CHARS = 400  # a first mention this early is in the lead paragraph
_ADJECTIVE = ("ic", "al", "an", "ish", "ese")  # endings of a group's adjective: "Catholic", "Evangelical"
_PLURAL_GROUP = ("ians", "ans", "ats", "ers", "ists", "ites")
_ORDINAL = re.compile(r"^\d+(?:st|nd|rd|th)\b", re.I)
_CREDIT = re.compile(r"/|©|\b(?:photo|image|credit|getty images)\b", re.I)
_STATE_AFTER = re.compile(r"\s+[Ss]tate\b")  # "New York state", "Washington State": the state, not an alias
_SPACED_ABBREVIATION = re.compile(r"^(?:[A-Z]\.\s)+[A-Z]\.$")
_LOWER_WORDS = re.compile(r"(?<![\w.])[a-z][a-z'-]+")


class Mention(NamedTuple):
    text: str
    label: str
    start: int  # character offset in the text that was tagged


@dataclass
class ActorRules:
    """The editable knowledge in seeds/actors/aliases.yaml and public gazetteers, plus the watchlists' aliases."""

    aliases: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # lower alias -> (name, type)
    forms: tuple[str, ...] = ()  # every alias as written, for finding known actors in headlines
    agencies: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()
    demonyms: frozenset[str] = frozenset()
    titles: tuple[str, ...] = ()
    names: NameRules = field(default_factory=NameRules)
    places_known: dict[str, tuple[str, str]] = field(default_factory=dict)  # gazetteer: lower name -> (name, type)
    place_aliases: dict[str, tuple[str, str]] = field(default_factory=dict)  # gazetteer: lower spelling -> (name, type)
    prefixes: dict[str, str] = field(default_factory=dict)  # "U.S." -> "United States" at the front of a name
    org_words: frozenset[str] = frozenset()  # a name with one of these words is an organisation
    thing_words: frozenset[str] = frozenset()  # ... and one with these (and no organisation word) is a thing
    media_words: frozenset[str] = frozenset()  # a name with one of these is a news outlet: "Times", "Tribune"
    descriptors: frozenset[str] = frozenset()  # last words that describe an organisation, not name it: "Magazine"
    work_words: frozenset[str] = frozenset()  # right before a title of a work: "the film", "the novel"
    role_words: frozenset[str] = frozenset()  # before "as" and a character: "cast as", "performance as"
    scan_forms: tuple[str, ...] = ()  # looked for in text the model did not tag
    _automaton: ahocorasick.Automaton | None = field(default=None, repr=False, compare=False)

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
        gaz_settings = data.get("gazetteer", {})
        gaz = build_gazetteer(**{k: v for k, v in gaz_settings.items() if k != "enabled"}) if gaz_settings.get("enabled", True) else None
        names = NameRules(titles, low("kept_titles"), frozenset(s.replace(".", "").upper() for s in data.get("postnominals", [])))
        scan = (*(gaz.scan if gaz else ()), *(f for f in forms if len(f) >= 4 and any(c.isupper() for c in f)))
        return cls(
            aliases=aliases,
            forms=tuple(sorted(set(forms), key=len, reverse=True)),
            agencies=low("news_agencies"),
            places=low("places") | frozenset(gaz.names if gaz else ()),
            demonyms=low("demonyms") | (gaz.demonyms if gaz else frozenset()),
            titles=titles,
            names=names,
            places_known={**{p.lower(): (p, "GPE") for p in data.get("places", [])}, **(gaz.names if gaz else {})},
            place_aliases=dict(gaz.aliases) if gaz else {},
            prefixes=dict(data.get("name_prefixes", {})),
            org_words=low("organisation_words"),
            thing_words=low("thing_words"),
            descriptors=low("descriptors"),
            media_words=low("media_words"),
            work_words=frozenset(data.get("work_words", [])),
            role_words=frozenset(data.get("role_words", [])),
            scan_forms=tuple(sorted(set(scan), key=len, reverse=True)),
        )

    def canonical(self, name: str) -> tuple[str, tuple[str, ...]]:
        """A watched name as tagging names it, and the seed file's other spellings of that actor."""
        written = _expand_prefix(" ".join(name.split()), self.prefixes, self.org_words)
        low = written.lower()
        canonical = (self.aliases.get(low) or self.place_aliases.get(low) or (written, None))[0]
        forms = tuple(f for f in self.forms if self.aliases[f.lower()][0] == canonical)
        return canonical, forms

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_automaton"] = None  # rebuilt where it is used
        return state

    def automaton(self) -> ahocorasick.Automaton | None:
        if self._automaton is None and self.scan_forms:
            auto = ahocorasick.Automaton()
            for form in self.scan_forms:
                auto.add_word(form, form)
            auto.make_automaton()
            self._automaton = auto
        return self._automaton


def correct_label(name: str, label: str, rules: ActorRules) -> str:
    """Fix the small model's systematic errors: agencies as places, demonyms as places, cities as nations."""
    low = name.lower()
    if low in rules.agencies:
        return "ORG"
    if low in rules.demonyms and label in ("GPE", "LOC", "ORG", "PERSON"):
        return "NORP"
    if low in rules.places and label in ("NORP", "ORG"):
        return "GPE"
    known_place = low in rules.place_aliases or low in rules.places_known  # "Russian Federation" stays a place
    if (
        label in ("GPE", "LOC", "PERSON", "NORP", "FAC")
        and len(name.split()) > 1
        and set(low.split()) & rules.org_words
        and not known_place
    ):
        return "ORG"  # "University of Basel", "Royal Society" are not places or people
    return label


def singular_group(name: str) -> str:
    """'Democrats' -> 'Democrat', to find a group the seed file names in the singular."""
    if len(name) > 5 and name.endswith(_PLURAL_GROUP):
        return name[:-1]
    return name


def canonical_actors(mentions: list[Mention], rules: ActorRules, title: str = "", text: str = "") -> list[dict]:
    """Mentions in the body -> canonical actors with type, mention count, position, salience and confidence.

    Headlines are not given to the model: their Title Case makes it see names everywhere ("Hannity
    Announces"). Instead, an actor found in the body whose name or surface form appears in ``title``
    gets a headline mention and a salience bonus, because what a headline names is the story's subject.
    ``text`` is the tagged text itself, when there is one: it shows quoted titles of works and words
    the article also uses in lower case (common nouns), and holds places the model missed.
    """
    lower_words = frozenset(_LOWER_WORDS.findall(text)) if text else frozenset()
    mentions = _drop_works([_whole_hyphenated(m, text) for m in mentions], text, rules) if text else mentions
    resolved = [r for m in _split_places(mentions) if (r := _resolve(m, rules, text, lower_words))]
    resolved += _places_inside(resolved, mentions, rules)
    resolved += _scan(text, mentions, rules)
    headline_names = names_in_headline(title, text)
    tagged = [(m.start, m.start + len(m.text)) for m in mentions]
    missed = missed_headline_names(headline_names, resolved, tagged, rules.names, rules.org_words, text, lower_words)
    organisations = {r.surface for r in missed if r.label != "PERSON"}  # no surname joins "The Onion"
    resolved = fold_names([*resolved, *missed], title, {n: at for n, at in headline_names.items() if n not in organisations})
    in_title = {r.name for r in resolved if title and (_names(title, r.surface) or _names(title, r.name))}
    seen = {r.name for r in resolved}
    for form in rules.forms if title else ():
        name, label = rules.aliases[form.lower()]
        if name not in seen and _names(title, form):  # a known actor named only in the headline
            resolved.append(Resolved(name, label or "ORG", -1, form, True))
            seen.add(name)
    return _aggregate(resolved, in_title)


def _drop_works(mentions: list[Mention], text: str, rules: ActorRules) -> list[Mention]:
    """Titles of works and characters ("the film Match Point (2005)", "cast as Dean") are no actors,
    and a title the article shows to be a work once is a work at every mention ("his book Hydrodynamica")."""
    works = {m.text for m in mentions if names_a_work(text, m.start, m.start + len(m.text), m.label, rules.work_words, rules.role_words)}
    return [m for m in mentions if m.text not in works] if works else mentions


_HYPHENATED_REST = re.compile(r"(?:-[\w']+)*-[A-Z][\w']*")


def _whole_hyphenated(m: Mention, text: str) -> Mention:
    """'Bourg' of 'Bourg-la-Reine' is the whole name: the model's tokens split at hyphens."""
    rest = _HYPHENATED_REST.match(text, m.start + len(m.text))
    return m._replace(text=m.text + rest.group()) if rest else m


def _split_places(mentions: list[Mention]) -> list[Mention]:
    """'Berkeley, California' is two places: the town and its state (or country)."""
    out = []
    for m in mentions:
        if m.label not in ("GPE", "LOC") or ", " not in m.text:
            out.append(m)
            continue
        offset = 0
        for part in m.text.split(", "):
            out.append(Mention(part, m.label, m.start + offset))
            offset += len(part) + 2
    return out


def _resolve(m: Mention, rules: ActorRules, text: str, lower_words: frozenset[str]) -> Resolved | None:
    if m.label not in ACTOR_LABELS or _CREDIT.search(m.text):
        return None
    surface = m.text.split("\n\n")[0]  # a span across a paragraph break is two things; the first is kept
    name = clean_name(surface, rules.names if m.label == "PERSON" else rules.names.without_titles())
    if m.label == "PERSON" and " " in name and _sentence_start(text, m.start) and name.split()[0].lower() in lower_words:
        name = name.split(" ", 1)[1]  # "Mathematician Hermann Weyl said": a job word capitalised by the sentence
    if len(name) < 2 or not any(ch.isalpha() for ch in name) or _ORDINAL.match(name):
        return None
    written, name = name, _expand_prefix(name, rules.prefixes, rules.org_words)
    if _SPACED_ABBREVIATION.match(name):
        name = name.replace(" ", "")  # "U. S." is "U.S."
    label = correct_label(name, m.label, rules)
    name, described = _normal_form(name, label, rules.descriptors)
    low = name.lower()
    if low in rules.aliases and not _STATE_AFTER.match(text, m.start + len(m.text)):
        canonical, kind = rules.aliases[low]
        return Resolved(canonical, kind or label, m.start, written, True)
    if low in rules.demonyms or label == "NORP":
        last = name.split()[-1]
        if (not last.endswith("s") or last.endswith("ss")) and (
            " " not in name or last.lower() in rules.demonyms or last.endswith(_ADJECTIVE)
        ):
            return None  # an adjective: "German", "Swiss", "West German", "Roman Catholic"; not "Slavic Brotherhood"
        group = rules.aliases.get(singular_group(name).lower())  # "Democrats" -> the seed's "Democrat"
        return Resolved(group[0] if group else name, "NORP", m.start, name, bool(group) or low in rules.demonyms)
    if (label in PLACE_LABELS and low in rules.place_aliases) or (label != "PERSON" and low in rules.places_known):
        canonical, kind = rules.place_aliases.get(low) if label in PLACE_LABELS and low in rules.place_aliases else rules.places_known[low]
        return Resolved(canonical, kind if label in ("ORG", "NORP") else label, m.start, name, True)
    if set(low.split()) & rules.thing_words and not set(low.split()) & rules.org_words:
        return None  # an award, a work or a field of study
    if name == low or (" " not in name and low in lower_words and not described):
        return None  # a common noun: the article also writes it in lower case ("church", "Linguistics")
    if label not in PLACE_LABELS and everyday_phrase(low, lower_words) and not set(low.split()) & rules.org_words:
        return None  # a concept in capitals: "Conservation of Energy", "Interplanetary Dust Particles"
    if label in ("GPE", "LOC") and name.isupper() and len(name) > 4:
        name = name.title()  # a dateline: "NEWARK, N.J. (AP) —"
    return Resolved(name, label, m.start, written, described)


def _normal_form(name: str, label: str, descriptors: frozenset[str]) -> tuple[str, bool]:
    """One spelling per actor: spaced initials for people ("O.J." is "O. J."), no descriptor after an
    organisation's name ("Time Magazine" is Time, then a name for sure, though "time" is also a word)."""
    if label == "PERSON":
        return spaced_initials(name), False
    rest, _, last = name.rpartition(" ")
    if label == "ORG" and len(rest) > 2 and last.lower() in descriptors:
        return rest, True
    return name, False


def _sentence_start(text: str, start: int) -> bool:
    before = text[max(0, start - 3) : start].rstrip(" ")
    return not before or before[-1] in '.!?\n"“'


def _places_inside(resolved: list[Resolved], mentions: list[Mention], rules: ActorRules) -> list[Resolved]:
    """Places named inside the names of organisations and events (the events themselves are no actors)."""
    events = (
        Resolved(clean_name(m.text, rules.names.without_titles()), m.label, m.start, m.text, False) for m in mentions if m.label == "EVENT"
    )
    return [p for r in (*resolved, *events) if (p := _place_inside(r, rules))]


def _place_inside(r: Resolved, rules: ActorRules) -> Resolved | None:
    """'University of Michigan', 'Ohio State University', 'Pittsburgh Pirates', 'Berlin International Film
    Festival' also name a place of the article: a known place after 'of' in the name of an organisation
    or event, else one an organisation or event name starts with. The event itself is no actor. Not
    a building's first word: "Kennedy Shriver Aquatic Center", "Washington Monument" honour people."""
    words = r.name.split()
    if r.label not in ("ORG", "FAC", "EVENT") or len(words) < 2:
        return None
    if "of" in words[:-1]:
        part = words[len(words) - words[::-1].index("of") :]
    elif r.label == "FAC" or (r.label == "ORG" and not _named_for_its_place(r.name, rules)):
        return None
    else:
        part = words[:-1]
    for size in range(len(part), 0, -1):
        written = " ".join(part[:size])
        if written.isupper() or written not in r.surface:
            continue  # "US Weekly", "U.S. Army": an abbreviation is no place name
        low = written.lower()
        alias = rules.aliases.get(low)
        place = (alias[0], alias[1]) if alias and alias[1] in PLACE_LABELS else rules.places_known.get(low)
        if place:
            return Resolved(place[0], place[1], r.start, " ".join(part[:size]), True)
    return None


def _named_for_its_place(name: str, rules: ActorRules) -> bool:
    """'Ohio State University', 'Houston Astros' are where their place is; 'Paris Hilton' is a person the
    model took for an organisation, and 'New York Times' a paper that reports on everywhere."""
    words = set(name.lower().split())
    return not words & rules.media_words and bool(words & rules.org_words or name.endswith("s"))


def _expand_prefix(name: str, prefixes: dict[str, str], org_words: frozenset[str]) -> str:
    """'U.S. Army' -> 'United States Army': an institution has one name whatever the abbreviation ('US Weekly' stays)."""
    first, _, rest = name.partition(" ")
    if rest and first in prefixes and set(rest.lower().split()) & org_words:
        return f"{prefixes[first]} {rest}"
    return name


def _scan(text: str, mentions: list[Mention], rules: ActorRules) -> list[Resolved]:
    """Countries, capitals, states and seed actors the model missed, standing alone in the text."""
    auto = rules.automaton() if text else None
    if auto is None:
        return []
    covered = bytearray(len(text) + 1)
    person_words = set()
    for m in mentions:
        covered[m.start : m.start + len(m.text)] = b"\x01" * len(text[m.start : m.start + len(m.text)])
        if m.label == "PERSON":
            person_words.update(m.text.split())
    found = []
    for end, form in auto.iter(text):
        start = end - len(form) + 1
        if covered[start] or covered[end] or form in person_words or not stands_alone(text, start, end + 1):
            continue
        low = form.lower()
        canonical, kind = rules.aliases.get(low) or rules.places_known.get(low) or rules.place_aliases.get(low) or (form, "GPE")
        found.append(Resolved(canonical, kind or "ORG", start, form, True))
        covered[start : end + 1] = b"\x01" * (end + 1 - start)
    return found


def _names(text: str, name: str) -> bool:
    """``name`` in ``text`` as whole words; a plain search, since a regex per name would thrash re's cache."""
    at = text.find(name)
    while at >= 0:
        end = at + len(name)
        if not (at and _word_char(text[at - 1])) and not (end < len(text) and _word_char(text[end])):
            return True
        at = text.find(name, at + 1)
    return False


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _confidence(r: dict, known: bool, in_title: bool) -> float:
    """How sure we are this is a real, correctly named actor: known or full names, repeats, headline, lead.

    A one-word name mentioned once, that no list knows and no headline names, is the model's weakest
    guess ("Bailey", "Army"): it stays under ``WEAK_BELOW``. So does a person the article names by
    one word only, however often ("Galois", "Jennifer"), unless the headline names them: a reader
    cannot tell who that is. A place named once in the lead is not weak (a dateline's town, where
    the story happens): the model's place labels are its surest. (These two rules were chosen on the
    GUM interviews and checked on the biographies; see benchmarks/actors_gum.py.)
    """
    if r["type"] == "PERSON" and not known and not in_title and " " not in r["name"]:
        return 0.4
    in_lead = 0 <= r["first_position"] < LEAD_CHARS
    score = 0.35
    score += 0.25 if known or len(r["name"].split()) > 1 or (r["type"] in PLACE_LABELS and in_lead) else 0.0
    score += 0.2 if r["mentions"] > 1 else 0.0
    score += 0.15 if in_title else 0.0
    score += 0.05 if in_lead else 0.0
    return round(min(1.0, score), 2)


def _aggregate(resolved: list[Resolved], in_title: set[str]) -> list[dict]:
    counts: dict[str, int] = defaultdict(int)
    first: dict[str, int] = {}
    known: dict[str, bool] = defaultdict(bool)
    types: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in resolved:
        counts[r.name] += 1
        first[r.name] = min(first.get(r.name, r.start), r.start) if r.start >= 0 else first.get(r.name, r.start)
        types[r.name][r.label] += 1
        known[r.name] |= r.known
    for name in in_title:
        counts[name] += 1
    in_title |= {r.name for r in resolved if r.start < 0}
    total = sum(counts.values()) or 1
    actors = []
    for name, n in counts.items():
        actor = {
            "name": name,
            "type": max(types[name].items(), key=lambda kv: kv[1])[0],
            "mentions": n,
            "first_position": first[name],
            "salience": round(min(1.0, n / total + (TITLE_BONUS if name in in_title else 0.0)), 4),
        }
        actor["confidence"] = _confidence(actor, known[name], name in in_title)
        actor["weak"] = actor["confidence"] < WEAK_BELOW
        actors.append(actor)
    return sorted(actors, key=lambda a: (-a["salience"], a["first_position"]))


def confident_names(actors: list[dict]) -> list[str]:
    """The actors facets count: every one not marked weak. Stored flat on the article (``actor_names``)
    because ``actors`` is an object array, which a terms aggregation cannot filter per actor."""
    return [a["name"] for a in actors if not a.get("weak")]
