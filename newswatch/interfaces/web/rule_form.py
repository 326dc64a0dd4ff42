"""The watchlist form: a rule as text fields and back. Fields the form does not show are kept as they were."""

from __future__ import annotations

from typing import Any

LISTS = ("keywords", "phrases", "none_of")
FILTER_LISTS = ("sources", "languages", "topics")


def form_of(rule: dict[str, Any]) -> dict[str, str]:
    """Text for each form field."""
    filters = rule.get("filters", {})
    targets = rule.get("deliver", [])
    webhook = next((t for t in targets if "webhook" in t), {})
    return {
        "id": rule.get("id", ""),
        "name": rule.get("name", ""),
        "mode": rule.get("mode", "any"),
        "entities": "\n".join(e["name"] + (" | " + ", ".join(e["aliases"]) if e.get("aliases") else "") for e in rule.get("entities", [])),
        **{k: "\n".join(rule.get(k, [])) for k in LISTS},
        **{k: ", ".join(filters.get(k, [])) for k in FILTER_LISTS},
        "min_salience": str(filters.get("min_salience", "")),
        "jsonl": next((t["jsonl"] for t in targets if "jsonl" in t), ""),
        "webhook": webhook.get("webhook", ""),
        "secret_env": webhook.get("secret_env", ""),
    }


def rule_of(form: dict[str, str], before: dict[str, Any] | None = None) -> dict[str, Any]:
    """The rule a submitted form describes, on top of the rule it edits (its other settings stay)."""
    before = before or {}
    shown = ("entities", *LISTS, "filters", "deliver", "file", "editable")  # file, editable: where it lives, not the rule
    rule: dict[str, Any] = {k: v for k, v in before.items() if k not in shown}
    rule["id"] = form.get("id", "").strip()
    rule["name"] = form.get("name", "").strip() or rule["id"]
    rule["mode"] = form.get("mode", "any").strip() or "any"
    types = {e["name"]: e.get("type") for e in before.get("entities", [])}
    entities = [_entity(line, types) for line in _lines(form.get("entities", ""))]
    if entities:
        rule["entities"] = entities
    for key in LISTS:
        if values := _lines(form.get(key, "")):
            rule[key] = values
    filters = {k: v for k in FILTER_LISTS if (v := _commas(form.get(k, "")))}
    salience = form.get("min_salience", "").strip()
    if salience:
        filters["min_salience"] = _number(salience)
    if filters:
        rule["filters"] = filters
    deliver = [t for t in before.get("deliver", []) if "jsonl" not in t and "webhook" not in t]
    if jsonl := form.get("jsonl", "").strip():
        deliver.append({"jsonl": jsonl})
    if webhook := form.get("webhook", "").strip():
        secret = form.get("secret_env", "").strip()
        deliver.append({"webhook": webhook, **({"secret_env": secret} if secret else {})})
    if deliver:
        rule["deliver"] = deliver
    return rule


def _entity(line: str, types: dict[str, str | None]) -> dict[str, Any]:
    name, _, aliases = line.partition("|")
    entity: dict[str, Any] = {"name": name.strip()}
    if types.get(entity["name"]):
        entity["type"] = types[entity["name"]]
    if alias_list := _commas(aliases):
        entity["aliases"] = alias_list
    return entity


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _commas(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text  # the schema then names the field and says it must be a number
