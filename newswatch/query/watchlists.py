"""Managing watchlist rules in their YAML file, and testing a rule against what is already indexed.

The pipeline reads the watchlists at the start of every run, so a changed rule takes effect on the
next run without restarting anything. Edits keep the file's comments and layout (ruamel.yaml round
trip), are checked before they are written, and replace the file atomically. Rules a user adds go to
the user's own watchlist (setting ``user_watchlist_file``), never into a file bundled with newswatch.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from elasticsearch import Elasticsearch, NotFoundError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from newswatch.paths import SEEDS_DIR
from newswatch.pipelines.clean import straight_apostrophes
from newswatch.pipelines.enrich import Knowledge
from newswatch.pipelines.match import WatchlistMatcher
from newswatch.pipelines.watchlist import (
    Rule,
    WatchlistError,
    check_delivery_environment,
    load_watchlist,
    parse_watchlist,
)
from newswatch.query.search import nothing_indexed
from newswatch.settings import Settings

# Candidates for a rule are looked up in both analyses of each field (see search.SEARCHED_FIELDS): the
# matcher accepts "Lukashenko's" for Lukashenko, so the lookup must find it too.
PHRASE_FIELDS = ("text", "text.words", "title", "title.words")
NEW_FILE_HEADER = "# Your watchlist rules (newswatch watch add/remove edit this file). Schema: watchlist.schema.json.\n"


def editable_file(settings: Settings, explicit: Path | None = None) -> Path:
    """The file ``watch add`` and ``watch remove`` edit: the one named, else the user's own watchlist."""
    path = explicit or settings.user_watchlist_file
    if path is None:
        raise WatchlistError("setting user_watchlist_file is empty: name the file to edit with --watchlist FILE")
    if Path(path).resolve().is_relative_to(SEEDS_DIR):
        raise WatchlistError(f"watchlist {path} is bundled with newswatch; copy it and point setting watchlist_file at the copy")
    return Path(path)


def _yaml() -> YAML:
    y = YAML()  # round trip: comments, key order, flow or block style stay as the user wrote them
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096
    y.brace_single_entry_mapping_in_flow_sequence = True  # keep `[{jsonl: x}]` as written
    return y


def _read(path: Path) -> CommentedMap:
    if not path.exists():
        return _yaml().load(NEW_FILE_HEADER + "rules: []\n")
    try:
        data = _yaml().load(path.read_text(encoding="utf-8"))
    except Exception as exc:  # ruamel raises several unrelated types for bad YAML
        raise WatchlistError(f"watchlist {path}: not valid YAML: {' '.join(str(exc).split())[:300]}") from None
    if data is None:
        data = _yaml().load(NEW_FILE_HEADER + "rules: []\n")
    if not isinstance(data, dict) or not isinstance(data.get("rules", []), list):
        raise WatchlistError(f"watchlist {path}: expected a mapping with a list of rules")
    data.setdefault("rules", CommentedSeq())
    return data


def _render(path: Path, data: CommentedMap) -> tuple[str, list[Rule]]:
    """The file's new text and its rules, checked through the schema before anything is written."""
    buf = io.StringIO()
    _yaml().dump(data, buf)
    return buf.getvalue(), parse_watchlist(buf.getvalue(), path)


def _replace(path: Path, text: str) -> None:
    """Replace the file in one step: a reader never sees half a watchlist."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def add_rule(path: Path, rule: dict, settings: Settings | None = None) -> Rule:
    """Append a rule; with ``settings``, its id must be new across every watchlist a run reads."""
    data = _read(path)
    others = [p for p in (settings.watchlist_files if settings else []) if p.resolve() != path.resolve()]
    known = {r.id for p in others for r in load_watchlist(p)}
    if rule["id"] in known or any(r.get("id") == rule["id"] for r in data["rules"]):
        raise WatchlistError(f"watchlist {path}: a rule with id {rule['id']!r} exists; remove it first")
    data["rules"].append(rule)
    text, rules = _render(path, data)
    added = next(r for r in rules if r.id == rule["id"])
    check_delivery_environment(added, path)
    _replace(path, text)
    return added


def remove_rule(path: Path, rule_id: str, settings: Settings | None = None) -> None:
    """Remove a rule from ``path``; with ``settings``, a rule found in another watchlist is named there."""
    data = _read(path)
    index = next((i for i, r in enumerate(data["rules"]) if r.get("id") == rule_id), None)
    if index is None:
        elsewhere = [p for p in (settings.watchlist_files if settings else []) if p != path and _has_rule(p, rule_id)]
        hint = f"; it is in {elsewhere[0]}, which this command does not edit (name it with --watchlist)" if elsewhere else ""
        raise WatchlistError(f"watchlist {path}: no rule with id {rule_id!r}{hint}")
    del data["rules"][index]
    _replace(path, _render(path, data)[0])


def _has_rule(path: Path, rule_id: str) -> bool:
    try:
        return any(r.get("id") == rule_id for r in _read(path)["rules"])
    except WatchlistError:
        return False


def find_rule(settings: Settings, rule_id: str) -> Rule:
    """The rule as a run matches it (``Knowledge.load``): each entity knows the canonical actor name and
    aliases tagging gives it, so `watch test` and backfill fire on "U.S. Army" for "United States Army"."""
    rules = {r.id: r for r in Knowledge.load(settings).rules}
    if rule_id not in rules:
        files = ", ".join(str(p) for p in settings.watchlist_files)
        raise WatchlistError(f"watchlist {files}: no rule with id {rule_id!r}")
    return rules[rule_id]


def candidates_query(rule: Rule) -> dict:
    """A broad query for articles that might match; the real matcher then decides."""
    should: list[dict] = []
    for e in rule.entities:
        should.append({"terms": {"actors.name": list(e.actor_names)}})
        should += [{"match_phrase": {field: straight_apostrophes(form)}} for form in e.surface_forms for field in PHRASE_FIELDS]
    for term in (*rule.keywords, *rule.phrases):
        should += [{"match_phrase": {field: straight_apostrophes(term)}} for field in PHRASE_FIELDS]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def rule_would_match(es: Elasticsearch, settings: Settings, rule_id: str, size: int = 200) -> list[tuple[dict, list[str]]]:
    """Indexed articles the rule would have matched, with the terms that matched."""
    rule = find_rule(settings, rule_id)
    try:
        resp = es.search(
            index=settings.articles_alias, query=candidates_query(rule), size=size, source_excludes=["minhash", "minhash_bands"]
        )
    except NotFoundError:
        raise nothing_indexed(settings) from None
    matcher = WatchlistMatcher([rule])
    found = []
    for hit in resp["hits"]["hits"]:
        for _, hits in matcher.match(hit["_source"]):
            found.append((hit["_source"], sorted({h.term for h in hits})))
    return found
