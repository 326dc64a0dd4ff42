"""Managing watchlist rules in their YAML file, and testing a rule against what is already indexed.

The pipeline reads the watchlist at the start of every run, so a changed rule takes effect on the
next run without restarting anything.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from elasticsearch import Elasticsearch

from newswatch.pipelines.match import WatchlistMatcher
from newswatch.pipelines.watchlist import Rule, WatchlistError, load_watchlist
from newswatch.settings import Settings


def _read(path: Path) -> dict:
    if not path.exists():
        return {"rules": []}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {"rules": []}


def _write_checked(path: Path, data: dict) -> None:
    """Write, then load through the schema; a rule that does not validate is not kept."""
    before = path.read_text(encoding="utf-8") if path.exists() else None
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    try:
        load_watchlist(path)
    except WatchlistError:
        if before is None:
            path.unlink()
        else:
            path.write_text(before, encoding="utf-8")
        raise


def add_rule(path: Path, rule: dict) -> None:
    data = _read(path)
    if any(r["id"] == rule["id"] for r in data["rules"]):
        raise WatchlistError(f"watchlist {path}: a rule with id {rule['id']!r} exists; remove it first")
    data["rules"].append(rule)
    _write_checked(path, data)


def remove_rule(path: Path, rule_id: str) -> None:
    data = _read(path)
    kept = [r for r in data["rules"] if r["id"] != rule_id]
    if len(kept) == len(data["rules"]):
        raise WatchlistError(f"watchlist {path}: no rule with id {rule_id!r}")
    data["rules"] = kept
    _write_checked(path, data)


def candidates_query(rule: Rule) -> dict:
    """A broad query for articles that might match; the real matcher then decides."""
    should: list[dict] = []
    for e in rule.entities:
        should.append({"term": {"actors.name": e.name}})
        should += [{"match_phrase": {"text": form}} for form in e.surface_forms]
        should += [{"match_phrase": {"title": form}} for form in e.surface_forms]
    for term in (*rule.keywords, *rule.phrases):
        should += [{"match_phrase": {"text": term}}, {"match_phrase": {"title": term}}]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def rule_would_match(es: Elasticsearch, settings: Settings, rule_id: str, size: int = 200) -> list[tuple[dict, list[str]]]:
    """Indexed articles the rule would have matched, with the terms that matched."""
    rules = {r.id: r for r in load_watchlist(settings.watchlist_file)}
    if rule_id not in rules:
        raise WatchlistError(f"watchlist {settings.watchlist_file}: no rule with id {rule_id!r}")
    rule = rules[rule_id]
    resp = es.search(index=settings.articles_alias, query=candidates_query(rule), size=size, source_excludes=["minhash", "minhash_bands"])
    matcher = WatchlistMatcher([rule])
    found = []
    for hit in resp["hits"]["hits"]:
        for _, hits in matcher.match(hit["_source"]):
            found.append((hit["_source"], sorted({h.term for h in hits})))
    return found
