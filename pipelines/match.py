"""Match articles against watchlist rules as they flow: Aho-Corasick over the text, and canonical actors.

One automaton holds every surface form of every rule; a hit counts only on word boundaries. An
entity matches by its canonical actor (which already folds aliases and short forms) or by a surface
form in the text, so a keyword-only, non-English article still alerts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

import ahocorasick

from newswatch.pipelines.clean import straight_apostrophes
from newswatch.pipelines.urls import stable_id
from newswatch.pipelines.watchlist import Rule

SNIPPET_CHARS = 80
_NAME_AT = re.compile(r"\S+(?:\s+[A-Z]\S*)*")


@dataclass(frozen=True)
class Hit:
    term: str  # the rule's term (an entity's canonical name, a keyword or a phrase)
    kind: str  # "entity", "keyword", "phrase" or "none_of"
    start: int
    end: int


class WatchlistMatcher:
    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self._automaton = ahocorasick.Automaton()
        index: dict[str, list[tuple[str, str, str]]] = defaultdict(list)  # form -> [(rule id, kind, term)]
        for rule in rules:
            for e in rule.entities:
                for form in e.surface_forms:
                    index[_folded(form)].append((rule.id, "entity", e.name))
            for kw in rule.keywords:
                index[_folded(kw)].append((rule.id, "keyword", kw))
            for ph in rule.phrases:
                index[_folded(ph)].append((rule.id, "phrase", ph))
            for no in rule.none_of:
                index[_folded(no)].append((rule.id, "none_of", no))
        for form, targets in index.items():
            self._automaton.add_word(form, (form, targets))
        if index:
            self._automaton.make_automaton()
        self._empty = not index

    def hits(self, text: str) -> dict[str, list[Hit]]:
        """rule id -> hits in the text, on word boundaries only."""
        found: dict[str, list[Hit]] = defaultdict(list)
        if self._empty or not text:
            return found
        lowered = _folded(text)
        for end, (form, targets) in self._automaton.iter(lowered):
            start = end - len(form) + 1
            if not _on_boundaries(lowered, start, end + 1):
                continue
            for rule_id, kind, term in targets:
                found[rule_id].append(Hit(term, kind, start, end + 1))
        return found

    def match(self, article: dict) -> list[tuple[Rule, list[Hit]]]:
        """The rules an enriched article satisfies, with the hits that made it so."""
        text = f"{article.get('title', '')}\n\n{article.get('text', '')}"
        text_hits = self.hits(text)
        actors = {a["name"]: a for a in article.get("actors", [])}
        return [(rule, hits) for rule in self.rules if (hits := _satisfied(rule, article, text_hits.get(rule.id, []), actors))]


def _folded(text: str) -> str:
    """What rule terms and article text are compared as: lower case, ASCII apostrophes (as cleaning writes them)."""
    return straight_apostrophes(text).lower()


def _on_boundaries(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_")


def _passes_filters(rule: Rule, article: dict) -> bool:
    if rule.sources and article.get("source") not in rule.sources:
        return False
    if rule.languages and article.get("language") not in rule.languages:
        return False
    topics = {t["label"] for t in article.get("topics", [])} | {t["id"] for t in article.get("topics", [])}
    return not (rule.topics and not topics.intersection(rule.topics))


def _satisfied(rule: Rule, article: dict, hits: list[Hit], actors: dict[str, dict]) -> list[Hit]:
    if any(h.kind == "none_of" for h in hits) or not _passes_filters(rule, article):
        return []
    hits = [h for h in hits if h.kind != "none_of"]
    matched_entities = set()
    for e in rule.entities:
        actor = next((actors[n] for n in e.actor_names if n in actors), None)
        if actor and actor["salience"] >= rule.min_salience and (e.type is None or actor["type"] == e.type):
            matched_entities.add(e.name)
    if not article.get("actors") or article.get("ner", {}).get("status") != "tagged":
        # Without NER (an unsupported language) entities match by their names in the text.
        matched_entities |= {h.term for h in hits if h.kind == "entity"}
    hits = [h for h in hits if h.kind != "entity" or h.term in matched_entities]
    hits += _actor_hits(article, matched_entities - {h.term for h in hits}, rule, actors)
    terms = {h.term for h in hits}
    wanted = [e.name for e in rule.entities] + list(rule.keywords) + list(rule.phrases)
    ok = all(t in terms for t in wanted) if rule.mode == "all" else bool(terms)
    return sorted(hits, key=lambda h: h.start) if ok else []


def _actor_hits(article: dict, names: set[str], rule: Rule, actors: dict[str, dict]) -> list[Hit]:
    """An entity matched through its canonical actor alone ("Kiev" tagged as Kyiv): a hit where the actor starts."""
    out = []
    offset = len(article.get("title", "")) + 2  # the body starts after the headline and a blank line
    text = f"{article.get('title', '')}\n\n{article.get('text', '')}"
    for e in rule.entities:
        actor = next((actors[n] for n in e.actor_names if n in actors), None) if e.name in names else None
        if actor:
            start = offset + actor["first_position"] if actor.get("first_position", -1) >= 0 else 0
            word = _NAME_AT.match(text, start)
            out.append(Hit(e.name, "entity", start, word.end() if word else start))
    return out


def build_alert(rule: Rule, hits: list[Hit], article: dict, now: datetime | None = None) -> dict:
    """One alert per rule and story cluster: its id says so, so copies of a story never alert twice."""
    now = now or datetime.now(UTC)
    cluster_id = article.get("cluster", {}).get("id") or article["id"]
    text = f"{article.get('title', '')}\n\n{article.get('text', '')}"
    matched, seen = [], set()
    for h in hits:
        if (h.term, h.kind) in seen:
            continue
        seen.add((h.term, h.kind))
        lo, hi = max(0, h.start - SNIPPET_CHARS), min(len(text), h.end + SNIPPET_CHARS)
        snippet = " ".join((text[lo : h.start] + "[" + text[h.start : h.end] + "]" + text[h.end : hi]).split())
        matched.append({"term": h.term, "kind": h.kind, "snippet": snippet})
    return {
        "id": stable_id("alert", rule.id, cluster_id),
        "rule_id": rule.id,
        "rule_name": rule.name,
        "article_id": article["id"],
        "cluster_id": cluster_id,
        "title": article.get("title", ""),
        "url": article.get("url"),
        "source": article.get("source"),
        "matched": matched,
        "published_at": article.get("published_at"),
        "ingested_at": article.get("ingested_at"),
        "alerted_at": now.isoformat(),
        "delay_from_publication_s": _seconds_between(article.get("published_at"), now),
        "delay_from_ingestion_s": _seconds_between(article.get("ingested_at"), now),
        "delivery": {
            "status": "pending" if rule.deliver else "no target",  # a rule without targets is listed, never sent
            "targets": list(rule.deliver),
            "attempts": 0,
            "done": [],
            "throttle_per_hour": rule.throttle_per_hour,
            "digest": rule.digest,
        },
    }


def _seconds_between(iso: str | None, now: datetime) -> float | None:
    if not iso:
        return None
    try:
        return round((now - datetime.fromisoformat(iso)).total_seconds(), 3)
    except ValueError:
        return None
