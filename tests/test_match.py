"""Watchlist matching: the right rules fire, on whole words, once per story cluster."""

from pathlib import Path

import pytest

from newswatch.pipelines.match import WatchlistMatcher, build_alert
from newswatch.pipelines.watchlist import Entity, Rule, WatchlistError, load_watchlist

PUTIN = Rule("putin", "Putin", entities=(Entity("Vladimir Putin", "PERSON", ("Putin",)),))
PROTESTS = Rule("protests", "Protests", phrases=("street protests",))


def article(text, actors=(), **extra):
    return {"id": "a1", "title": "", "text": text, "actors": list(actors), "ner": {"status": "tagged"}, "cluster": {"id": "c1"},
            "topics": [], **extra}  # fmt: skip


def actor(name, kind="PERSON", salience=0.3):
    return {"name": name, "type": kind, "salience": salience}


def test_entity_matches_through_its_canonical_actor():
    matches = WatchlistMatcher([PUTIN]).match(article("Putin met him.", [actor("Vladimir Putin")]))
    assert [r.id for r, _ in matches] == ["putin"]


def test_entity_below_minimum_salience_does_not_match():
    rule = Rule("putin", "Putin", entities=PUTIN.entities, min_salience=0.5)
    assert WatchlistMatcher([rule]).match(article("Putin met him.", [actor("Vladimir Putin", salience=0.1)])) == []


def test_phrase_matches_case_insensitively_on_word_boundaries():
    m = WatchlistMatcher([PROTESTS])
    assert m.match(article("They will not accept STREET PROTESTS."))
    assert not m.match(article("Backstreet protestsx are not it."))


def test_untagged_article_matches_entities_by_name():
    a = article("Putin habló en Moscú.", ner={"status": "no model for language"})
    assert [r.id for r, _ in WatchlistMatcher([PUTIN]).match(a)] == ["putin"]


def test_none_of_vetoes_a_match():
    rule = Rule("p", "p", phrases=("street protests",), none_of=("football",))
    assert not WatchlistMatcher([rule]).match(article("street protests after the football match"))


def test_all_mode_needs_every_term():
    rule = Rule("both", "both", entities=PUTIN.entities, phrases=("street protests",), mode="all")
    m = WatchlistMatcher([rule])
    assert not m.match(article("street protests", []))
    assert m.match(article("Putin and street protests", [actor("Vladimir Putin")]))


def test_filters_restrict_by_language_and_topic():
    rule = Rule("p", "p", phrases=("street protests",), languages=("en",), topics=("politics",))
    m = WatchlistMatcher([rule])
    assert not m.match(article("street protests", language="de"))
    assert not m.match(article("street protests", language="en"))
    assert m.match(article("street protests", language="en", topics=[{"id": "medtop:11000000", "label": "politics"}]))


def test_alert_id_is_per_rule_and_cluster_and_has_snippets():
    a1 = article("Putin spoke about street protests in Belarus.", [actor("Vladimir Putin")], published_at="2020-09-13T11:05:00+00:00")
    a2 = {**a1, "id": "a2"}  # a copy of the same story
    ((rule, hits),) = WatchlistMatcher([PUTIN]).match(a1)
    first, second = build_alert(rule, hits, a1), build_alert(rule, hits, a2)
    assert first["id"] == second["id"]
    assert first["matched"][0]["snippet"].startswith("[Putin]")
    assert first["delay_from_publication_s"] > 0


def test_watchlist_errors_name_the_file_and_rule(tmp_path: Path):
    bad = tmp_path / "w.yaml"
    bad.write_text("rules:\n  - id: Bad Id\n    keywords: [x]\n")
    with pytest.raises(WatchlistError, match=r"w.yaml: rule .Bad Id., field id: "):
        load_watchlist(bad)


def test_demo_watchlist_loads():
    from newswatch.paths import SEEDS_DIR

    rules = load_watchlist(SEEDS_DIR / "demo" / "watchlist.yaml")
    assert {r.id for r in rules} == {"belarus-leadership", "kremlin-watch", "street-protests"}


def test_a_rule_term_and_the_text_match_whatever_apostrophe_each_uses():
    """Rules are typed with ' and feeds print ’ (cleaning straightens those; older indexed text may not be)."""
    typed = Rule(id="typed", name="typed", phrases=("Kolesnikova's lawyers",))
    pasted = Rule(id="pasted", name="pasted", keywords=("Babariko’s",))
    matcher = WatchlistMatcher([typed, pasted])
    assert [r.id for r, _ in matcher.match(article("Maria Kolesnikova’s lawyers asked for an open court."))] == ["typed"]
    assert [r.id for r, _ in matcher.match(article("Viktar Babariko's supporters queued."))] == ["pasted"]
