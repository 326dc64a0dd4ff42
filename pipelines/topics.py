"""Topics from the IPTC Media Topics taxonomy in seeds/, by transparent rules over words and actor types.

A rule is a list of terms (``protest*`` matches any ending) with weights, plus actor types that add
evidence. The scorer is an interface (``TopicScorer``) so a trained classifier can replace it later.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

MAX_HITS_PER_TERM = 3
_WORD = re.compile(r"[\w'-]+")


class TopicScorer(Protocol):
    def __call__(self, text: str, actors: list[dict]) -> list[dict]: ...


@dataclass(frozen=True)
class TopicRule:
    id: str
    label: str
    exact: frozenset[str]
    prefixes: tuple[str, ...]
    phrases: tuple[str, ...]
    entity_types: dict[str, float]
    weight: float = 1.0
    parent: str | None = None


class RuleTopicTagger:
    """Scores every topic of the taxonomy against an article's words and actors."""

    def __init__(self, rules: list[TopicRule], scale: float, min_score: float) -> None:
        self.rules, self.scale, self.min_score = rules, scale, min_score
        self._word_rules: dict[str, tuple[int, ...]] = {}  # word -> the rules it counts for (news vocabulary repeats)

    @classmethod
    def from_file(cls, path: Path) -> RuleTopicTagger:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
            rules = [_rule(t) for t in data["topics"]]
        except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
            raise ValueError(f"topic taxonomy {path}: {exc}") from exc
        return cls(rules, float(data.get("scale", 3.0)), float(data.get("min_score", 0.6)))

    def __call__(self, text: str, actors: list[dict]) -> list[dict]:
        lowered = text.lower()
        words = _WORD.findall(lowered)
        counts: dict[str, int] = {}
        for w in words:
            counts[w] = counts.get(w, 0) + 1
        types: dict[str, int] = {}
        for a in actors:
            types[a["type"]] = types.get(a["type"], 0) + 1
        evidence = [0.0] * len(self.rules)
        for word, n in counts.items():
            for i in self._rules_for(word):
                evidence[i] += min(n, MAX_HITS_PER_TERM) * self.rules[i].weight
        found = []
        for i, rule in enumerate(self.rules):
            score = self._score(rule, evidence[i], lowered, types)
            if score >= self.min_score:
                found.append({"id": rule.id, "label": rule.label, "score": round(score, 3), "parent": rule.parent})
        return sorted(found, key=lambda t: -t["score"])

    def _rules_for(self, word: str) -> tuple[int, ...]:
        hit = self._word_rules.get(word)
        if hit is None:
            hit = tuple(i for i, r in enumerate(self.rules) if word in r.exact or word.startswith(r.prefixes))
            if len(self._word_rules) < 200_000:  # bounded: a cache, not state
                self._word_rules[word] = hit
        return hit

    def _score(self, rule: TopicRule, evidence: float, lowered: str, types: dict[str, int]) -> float:
        for phrase in rule.phrases:
            evidence += min(lowered.count(phrase), MAX_HITS_PER_TERM) * rule.weight
        for label, w in rule.entity_types.items():
            evidence += min(types.get(label, 0), MAX_HITS_PER_TERM) * w
        return 1.0 - math.exp(-evidence / self.scale)


def _rule(t: dict) -> TopicRule:
    terms = [str(x).lower() for x in t.get("terms", [])]
    return TopicRule(
        id=t["id"],
        label=t["label"],
        exact=frozenset(x for x in terms if " " not in x and not x.endswith("*")),
        prefixes=tuple(x[:-1] for x in terms if " " not in x and x.endswith("*")),
        phrases=tuple(x.rstrip("*") for x in terms if " " in x),
        entity_types={k: float(v) for k, v in (t.get("entity_types") or {}).items()},
        weight=float(t.get("weight", 1.0)),
        parent=t.get("parent"),
    )
