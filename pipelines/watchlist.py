"""Watchlists: rules of who and what to watch, loaded from YAML and checked against the schema."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import yaml

from newswatch.paths import SCHEMAS_DIR
from newswatch.settings import Settings


@dataclass(frozen=True)
class Entity:
    name: str
    type: str | None = None
    aliases: tuple[str, ...] = ()
    canonical: str | None = None  # the actor name tagging gives this entity ("U.S. Army" -> "United States Army")
    known_forms: tuple[str, ...] = ()  # the seed file's aliases of that actor

    @property
    def surface_forms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.name, *self.aliases, *self.known_forms)))

    @property
    def actor_names(self) -> tuple[str, ...]:
        return (self.name, self.canonical) if self.canonical and self.canonical != self.name else (self.name,)


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
    """A watchlist file that cannot be used; the message names the file, the rule and the field."""


TERM_FIELDS = ("entities", "keywords", "phrases")
DESTINATIONS = ("webhook", "jsonl", "apprise")


def load_watchlist(path: Path, check_environment: bool = False) -> list[Rule]:
    """The rules of one file, checked; with ``check_environment``, also what delivery will need here."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WatchlistError(f"watchlist {path}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
    rules = parse_watchlist(text, path)
    if check_environment:
        for rule in rules:
            check_delivery_environment(rule, path)
    return rules


def load_rules(settings: Settings, check_environment: bool = False) -> list[Rule]:
    """Every rule a run uses: the configured watchlist plus the user's own file (``watch add`` writes there)."""
    rules: dict[str, tuple[Rule, Path]] = {}
    for path in settings.watchlist_files:
        for rule in load_watchlist(path, check_environment):
            if rule.id in rules:
                raise WatchlistError(f"watchlist {path}: rule {rule.id!r} is also in {rules[rule.id][1]}; rule ids must be unique")
            rules[rule.id] = (rule, path)
    return [rule for rule, _ in rules.values()]


def parse_watchlist(text: str, path: Path | str) -> list[Rule]:
    """Rules from YAML text, checked against the schema and for what a schema cannot say."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise WatchlistError(f"watchlist {path}: not valid YAML: {' '.join(str(exc).split())}") from None
    data = {"rules": []} if data is None else data
    validator = jsonschema.Draft202012Validator(json.loads((SCHEMAS_DIR / "watchlist.schema.json").read_text()))
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise WatchlistError(f"watchlist {path}: {_schema_problem(data, error)}")
    for r in data["rules"]:
        _check_targets(r, f"watchlist {path}: rule {r['id']!r}")
    rules = [_rule(r) for r in data["rules"]]
    ids = [r.id for r in rules]
    if dupes := sorted({i for i in ids if ids.count(i) > 1}):
        raise WatchlistError(f"watchlist {path}: rule ids must be unique, repeated: {', '.join(dupes)}")
    return rules


def _schema_problem(data: dict, error: jsonschema.ValidationError) -> str:
    """'rule 'x', field keywords: ...' for a schema error, however deep it is."""
    where = list(error.absolute_path)
    if len(where) < 2 or where[0] != "rules" or not isinstance(data.get("rules"), list):
        return f"at {'/'.join(map(str, where)) or '(top)'}: {error.message}"
    rule = data["rules"][where[1]]
    name = repr(rule.get("id")) if isinstance(rule, dict) and isinstance(rule.get("id"), str) else f"#{where[1] + 1}"
    field_name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where[2:]).lstrip(".")
    if error.validator == "anyOf" and not field_name:
        return f"rule {name}: needs at least one of {', '.join(TERM_FIELDS)}"
    message = "must not be blank" if error.validator == "pattern" and error.validator_value == "\\S" else error.message
    return f"rule {name}, field {field_name or '(rule)'}: {message}"


def _check_targets(rule: dict, where: str) -> None:
    for i, target in enumerate(rule.get("deliver", [])):
        field_name = f"deliver[{i}]"
        kinds = [k for k in DESTINATIONS if k in target]
        if len(kinds) != 1:
            raise WatchlistError(f"{where}, field {field_name}: a target needs exactly one destination ({', '.join(DESTINATIONS)})")
        if "secret_env" in target and kinds != ["webhook"]:
            raise WatchlistError(f"{where}, field {field_name}.secret_env: only a webhook is signed")
        if "webhook" in target:
            url = urlsplit(target["webhook"])
            if url.scheme not in ("http", "https") or not url.hostname:
                raise WatchlistError(f"{where}, field {field_name}.webhook: {target['webhook']!r} is not an http(s) URL")
        if "apprise" in target and "://" not in target["apprise"]:
            raise WatchlistError(f"{where}, field {field_name}.apprise: not an Apprise URL (scheme://...)")


def check_delivery_environment(rule: Rule, path: Path | str) -> None:
    """What delivery needs on this machine: the signing secret set, the JSONL file writable."""
    where = f"watchlist {path}: rule {rule.id!r}"
    for i, target in enumerate(rule.deliver):
        env = target.get("secret_env")
        if env and not os.environ.get(env):
            raise WatchlistError(f"{where}, field deliver[{i}].secret_env: the environment variable {env} is not set")
        if "jsonl" in target and not _writable(Path(target["jsonl"])):
            raise WatchlistError(f"{where}, field deliver[{i}].jsonl: {target['jsonl']} cannot be written")


def _writable(path: Path) -> bool:
    """An existing file we may append to, or a new one in a folder we may create and write."""
    if path.exists():
        return path.is_file() and os.access(path, os.W_OK)
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    return parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)


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


def with_canonical_names(rules: list[Rule], canonical: Callable[[str], tuple[str, tuple[str, ...]]]) -> list[Rule]:
    """Each entity learns the actor name and aliases tagging uses, so both sides speak of one actor.

    ``canonical`` is ``ActorRules.canonical``: an alert on "United States Army" then fires on an
    article that says "U.S. Army", and one on "U.S. Army" on an article tagged "United States Army".
    """
    out = []
    for rule in rules:
        entities = []
        for e in rule.entities:
            name, forms = canonical(e.name)
            entities.append(replace(e, canonical=name, known_forms=forms))
        out.append(replace(rule, entities=tuple(entities)))
    return out
