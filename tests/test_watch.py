"""Managing rules: add, remove and test them; a rule that does not validate is never written."""

import shutil
from pathlib import Path

import pytest

from newswatch.paths import SEEDS_DIR
from newswatch.pipelines.watchlist import WatchlistError, load_watchlist
from newswatch.query.watchlists import add_rule, remove_rule, rule_would_match


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "watch.yaml"
    shutil.copy(SEEDS_DIR / "demo" / "watchlist.yaml", path)
    return path


def test_add_then_remove(rules_file: Path):
    add_rule(rules_file, {"id": "sochi", "name": "Sochi", "keywords": ["Sochi"], "deliver": [{"jsonl": "x.jsonl"}]})
    assert "sochi" in {r.id for r in load_watchlist(rules_file)}
    remove_rule(rules_file, "sochi")
    assert "sochi" not in {r.id for r in load_watchlist(rules_file)}


def test_an_invalid_rule_is_refused_and_the_file_is_unchanged(rules_file: Path):
    before = rules_file.read_text()
    with pytest.raises(WatchlistError, match="rule .no-terms.: needs at least one of entities, keywords, phrases"):
        add_rule(rules_file, {"id": "no-terms", "name": "nothing to watch"})
    assert rules_file.read_text() == before


def test_duplicate_and_unknown_ids_are_errors(rules_file: Path):
    with pytest.raises(WatchlistError, match="exists"):
        add_rule(rules_file, {"id": "kremlin-watch", "keywords": ["x"]})
    with pytest.raises(WatchlistError, match="no rule with id 'nope'"):
        remove_rule(rules_file, "nope")


@pytest.mark.integration
def test_a_rule_is_tested_against_indexed_articles(indexed, rules_file: Path):
    es, settings, _ = indexed
    add_rule(rules_file, {"id": "harbour", "keywords": ["Harbour Bank"]})
    settings = settings.model_copy(update={"watchlist_file": rules_file})
    assert [a["title"] for a, _ in rule_would_match(es, settings, "harbour")] == [
        "Harbour Bank reports higher quarterly profit as lending grows"
    ]
    assert [terms for _, terms in rule_would_match(es, settings, "belarus-leadership")] == [["Alexander Lukashenko"]]
