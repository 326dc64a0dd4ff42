"""Watchlists: rules of who and what to watch, loaded from YAML and checked against the schema."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import yaml

from newswatch.paths import SCHEMAS_DIR


@dataclass(frozen=True)
class Entity:
    name: str
    type: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def surface_forms(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    entities: tuple[Entity, ...] = ()
    keywords: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    mode: str = "any"  # any: one term is enough; all: every entity, keyword and phrase
    none_of: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    min_salience: float = 0.0
    deliver: tuple[dict, ...] = field(default_factory=tuple)
    throttle_per_hour: int | None = None
    digest: str | None = None  # "hourly" or "daily": one message per period instead of one per alert


class WatchlistError(ValueError):
    """A watchlist file that cannot be used; the message names the file and the rule."""


def load_watchlist(path: Path) -> list[Rule]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {"rules": []}
    except (OSError, yaml.YAMLError) as exc:
        raise WatchlistError(f"watchlist {path}: {exc}") from exc
    schema = json.loads((SCHEMAS_DIR / "watchlist.schema.json").read_text())
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise WatchlistError(f"watchlist {path}: at {where}: {exc.message}") from exc
    rules = [_rule(r) for r in data["rules"]]
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise WatchlistError(f"watchlist {path}: rule ids must be unique, got {sorted(ids)}")
    return rules


def _rule(r: dict) -> Rule:
    filters = r.get("filters", {})
    return Rule(
        id=r["id"],
        name=r.get("name", r["id"]),
        entities=tuple(Entity(e["name"], e.get("type"), tuple(e.get("aliases", []))) for e in r.get("entities", [])),
        keywords=tuple(r.get("keywords", [])),
        phrases=tuple(r.get("phrases", [])),
        mode=r.get("mode", "any"),
        none_of=tuple(r.get("none_of", [])),
        sources=tuple(filters.get("sources", [])),
        languages=tuple(filters.get("languages", [])),
        topics=tuple(filters.get("topics", [])),
        min_salience=float(filters.get("min_salience", 0.0)),
        deliver=tuple(r.get("deliver", [])),
        throttle_per_hour=r.get("throttle_per_hour"),
        digest=r.get("digest"),
    )


def entity_aliases(rules: list[Rule]) -> dict[str, tuple[str, str | None]]:
    """Aliases the watchlists teach the actor canonicaliser: lower alias -> (canonical name, type)."""
    return {form.lower(): (e.name, e.type) for r in rules for e in r.entities for form in e.surface_forms}
