"""Watchlist rules as editable documents for the web app: list, read, create, replace, delete, preview.

Everything goes through ``query.watchlists``, the CLI's functions: the same checks (schema, unique ids
across every watchlist a run reads, delivery environment), comments kept, atomic writes, and edits only
in the user's own watchlist (``editable_file``), never in a file bundled with newswatch. The preview is
the ``watch test`` logic (``rule_would_match``) run with the draft as the only rule.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from elasticsearch import Elasticsearch

from newswatch.pipelines.watchlist import WatchlistError, check_delivery_environment, load_rules, parse_watchlist
from newswatch.query import watchlists
from newswatch.query.watchlists import add_rule, editable_file, remove_rule, rule_would_match
from newswatch.settings import Settings


def list_rules(settings: Settings) -> list[dict]:
    """Every rule a run uses, as written, each with ``file`` and whether the web app may edit it."""
    load_rules(settings)  # the files are valid and the ids unique, or one line says what is wrong
    try:
        mine = editable_file(settings).resolve()
    except WatchlistError:
        mine = None
    found = []
    for path in settings.watchlist_files:
        for rule in watchlists._read(path)["rules"]:
            found.append({**_plain(rule), "file": str(path), "editable": path.resolve() == mine})
    return found


def get_rule(settings: Settings, rule_id: str) -> dict:
    for rule in list_rules(settings):
        if rule["id"] == rule_id:
            return rule
    raise WatchlistError(f"watchlist {', '.join(map(str, settings.watchlist_files))}: no rule with id {rule_id!r}")


def create_rule(settings: Settings, rule: dict) -> dict:
    _check_draft(rule)
    add_rule(editable_file(settings), rule, settings)
    return get_rule(settings, rule["id"])


def replace_rule(settings: Settings, rule_id: str, rule: dict) -> dict:
    """Swap one rule of the user's watchlist for its new version; a version that fails the checks changes nothing."""
    _check_draft(rule)
    path = editable_file(settings)
    data = watchlists._read(path)
    index = next((i for i, r in enumerate(data["rules"]) if r.get("id") == rule_id), None)
    if index is None:
        where = next((r["file"] for r in list_rules(settings) if r["id"] == rule_id), None)
        hint = f"; it is in {where}, which the web app does not edit" if where else ""
        raise WatchlistError(f"watchlist {path}: no rule with id {rule_id!r}{hint}")
    others = {r["id"] for r in list_rules(settings)} - {rule_id}
    if rule["id"] in others:
        raise WatchlistError(f"watchlist {path}: a rule with id {rule['id']!r} exists")
    data["rules"][index] = rule
    text, rules = watchlists._render(path, data)
    check_delivery_environment(next(r for r in rules if r.id == rule["id"]), path)
    watchlists._replace(path, text)
    return get_rule(settings, rule["id"])


def delete_rule(settings: Settings, rule_id: str) -> None:
    remove_rule(editable_file(settings), rule_id, settings)


def preview_rule(es: Elasticsearch, settings: Settings, rule: dict, size: int = 200) -> list[tuple[dict, list[str]]]:
    """What a draft rule would have matched among the indexed articles, without saving it."""
    _check_draft(rule)
    with tempfile.TemporaryDirectory(prefix="newswatch-preview-") as tmp:
        scratch = Path(tmp) / "draft.yaml"
        scratch.write_text(yaml.safe_dump({"rules": [rule]}, sort_keys=False, allow_unicode=True), encoding="utf-8")
        parse_watchlist(scratch.read_text(encoding="utf-8"), "draft")  # the schema's message for a bad draft, naming the field
        only_draft = settings.model_copy(update={"watchlist_file": scratch, "user_watchlist_file": None})
        return rule_would_match(es, only_draft, rule["id"], size)


def _check_draft(rule: object) -> None:
    if not isinstance(rule, dict) or not isinstance(rule.get("id"), str):
        raise WatchlistError("rule: give an object with an 'id'")


def _plain(value):
    """ruamel's commented containers as plain dicts and lists (for JSON and templates)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
