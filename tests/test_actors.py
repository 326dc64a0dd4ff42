"""Actors: canonical names with types, counted, from the seed article and from the rules alone."""

import pytest

from newswatch.paths import SEEDS_DIR
from newswatch.pipelines.actors import ActorRules, Mention, canonical_actors, clean_name, correct_label
from newswatch.pipelines.enrich import prepare, tag_batch
from tests.conftest import SEED_TEXT

RULES = ActorRules.from_file(SEEDS_DIR / "actors" / "aliases.yaml")
SEED_TITLE = "Putin to Back Belarus ‘Succession’ but Not Street Protests, Bloomberg Says"


@pytest.fixture(scope="module")
def seed_article(nlp_settings, detector, models, knowledge):
    item = {"feed": {"id": "f", "url": "test"}, "link": "https://example.com/a", "title": SEED_TITLE, "content": SEED_TEXT}
    article = prepare(item, detector, nlp_settings)
    return tag_batch([article], models, knowledge)[0]


def names(article):
    return {a["name"]: a for a in article["actors"]}


def test_seed_article_has_the_canonical_actors(seed_article):
    found = names(seed_article)
    for name, kind in [("Vladimir Putin", "PERSON"), ("Alexander Lukashenko", "PERSON"), ("Belarus", "GPE"), ("Russia", "GPE"),
                       ("Kremlin", "ORG"), ("Bloomberg", "ORG"), ("Sochi", "GPE")]:  # fmt: skip
        assert name in found, f"{name} missing from {sorted(found)}"
        assert found[name]["type"] == kind


def test_short_forms_fold_into_the_full_name(seed_article):
    found = names(seed_article)
    assert "Putin" not in found and "Lukashenko" not in found
    assert found["Vladimir Putin"]["mentions"] >= 5 and found["Alexander Lukashenko"]["mentions"] >= 5


def test_no_photo_credit_and_no_line_break_becomes_an_actor(seed_article):
    for a in seed_article["actors"]:
        assert "Metzel" not in a["name"] and "TASS" not in a["name"] and "\n" not in a["name"]


def test_the_headline_actor_is_the_most_salient(seed_article):
    assert seed_article["actors"][0]["name"] == "Vladimir Putin"
    assert all(0 < a["salience"] <= 1 for a in seed_article["actors"])


def test_seed_topics_are_politics_and_unrest(seed_article):
    labels = {t["label"] for t in seed_article["topics"]}
    assert "politics" in labels and "unrest" in labels


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("President Vladimir Putin", "Vladimir Putin"), ("Lukashenko's", "Lukashenko"), ("Lukashenko’s", "Lukashenko"),
     ("the Kremlin", "Kremlin"), ("Slavic\nBrotherhood", "Slavic Brotherhood"), ("“Bloomberg,", "Bloomberg"),
     ("Mr. Smith", "Smith"), ("Russian President Vladimir Putin", "Vladimir Putin"), ("U.S.", "U.S."), ("O’Reilly’s", "O'Reilly")],
)  # fmt: skip
def test_names_lose_titles_possessives_and_punctuation(raw, clean):
    assert clean_name(raw, RULES.titles) == clean


@pytest.mark.parametrize(
    ("name", "label", "fixed"),
    [("Bloomberg", "GPE", "ORG"), ("Reuters", "PERSON", "ORG"), ("Belarusian", "GPE", "NORP"), ("Sochi", "NORP", "GPE"),
     ("Belarus", "GPE", "GPE"), ("Minsk", "ORG", "GPE")],
)  # fmt: skip
def test_systematic_model_errors_are_corrected(name, label, fixed):
    assert correct_label(name, label, RULES) == fixed


def test_aliases_fold_to_one_name():
    mentions = [
        Mention("Aleksandr Lukashenko", "PERSON", 0),
        Mention("Lukashenka", "PERSON", 40),
        Mention("Alexander Lukashenko", "PERSON", 90),
    ]
    actors = canonical_actors(mentions, RULES)
    assert [(a["name"], a["mentions"]) for a in actors] == [("Alexander Lukashenko", 3)]


def test_surname_resolves_to_the_full_name_in_the_same_article_only():
    rules = ActorRules()
    mentions = [Mention("Jane Doe", "PERSON", 0), Mention("Doe", "PERSON", 30), Mention("Roe", "PERSON", 50)]
    assert {a["name"]: a["mentions"] for a in canonical_actors(mentions, rules)} == {"Jane Doe": 2, "Roe": 1}


def test_non_actor_labels_and_credits_are_ignored():
    mentions = [Mention("Monday", "DATE", 0), Mention("Mikhail Metzel / TASS", "PERSON", 10), Mention("five", "CARDINAL", 30)]
    assert canonical_actors(mentions, RULES) == []


def test_title_mentions_earn_a_salience_bonus():
    mentions = [Mention("Acme", "ORG", 0), Mention("Globex", "ORG", 50)]
    actors = {a["name"]: a["salience"] for a in canonical_actors(mentions, ActorRules(), title="Acme buys a rival")}
    assert actors["Acme"] > actors["Globex"]


def test_headline_case_does_not_invent_actors(seed_article, nlp_settings, detector, models, knowledge):
    item = {"feed": {"id": "f", "url": "t"}, "link": "https://example.com/b", "title": "Hannity Announces Fox Has Hired Sebastian Gorka",
            "content": "<p>Fox News host Sean Hannity said the network has hired Sebastian Gorka.</p>"}  # fmt: skip
    (article,) = tag_batch([prepare(item, detector, nlp_settings)], models, knowledge)
    assert "Hannity Announces" not in names(article) and "Fox Has Hired Sebastian Gorka" not in names(article)
    assert names(article)["Sebastian Gorka"]["mentions"] == 2  # the body and the headline


def test_dateline_places_and_abbreviations_fold_to_their_names():
    mentions = [Mention("NEWARK", "GPE", 0), Mention("N.J.", "GPE", 8), Mention("U.S.", "GPE", 30), Mention("Democrats", "NORP", 40)]
    assert {a["name"] for a in canonical_actors(mentions, RULES)} == {"Newark", "New Jersey", "United States", "Democrat"}


def test_an_article_without_a_model_for_its_language_is_kept_and_says_so(nlp_settings, detector, models, knowledge):
    from newswatch.pipelines.match import WatchlistMatcher
    from newswatch.pipelines.watchlist import Entity, Rule

    text = "<p>Der russische Präsident Wladimir Putin hat am Montag den belarussischen Machthaber Lukaschenko in Sotschi empfangen.</p>"
    item = {"feed": {"id": "f", "url": "t"}, "link": "https://example.de/a", "title": "Putin empfängt Lukaschenko", "content": text}
    (article,) = tag_batch([prepare(item, detector, nlp_settings)], models, knowledge)
    assert article["language"] == "de" and article["ner"] == {"status": "no model for language", "model": None}
    assert article["actors"] == [] and article["text"]
    rule = Rule("putin", "Putin", entities=(Entity("Vladimir Putin", "PERSON", ("Putin",)),))
    assert [r.id for r, _ in WatchlistMatcher([rule]).match(article)] == ["putin"]


def test_tag_command_prints_the_enriched_article(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    proc = subprocess.run([str(Path(sys.executable).with_name("newswatch")), "tag", "-", "--title", SEED_TITLE], input=SEED_TEXT,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    article = json.loads(proc.stdout)
    assert {"Vladimir Putin", "Alexander Lukashenko"} <= {a["name"] for a in article["actors"]}
    assert article["language"] == "en" and "Metzel" not in article["text"] and "politics" in {t["label"] for t in article["topics"]}
    assert set(article["watch"]) == {"belarus-leadership", "kremlin-watch", "street-protests"}
