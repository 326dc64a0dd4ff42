"""Topics: IPTC Media Topics by editable rules."""

from newswatch.paths import SEEDS_DIR
from newswatch.pipelines.topics import RuleTopicTagger

TAGGER = RuleTopicTagger.from_file(SEEDS_DIR / "taxonomy" / "iptc-topics.yaml")


def labels(text, actors=()):
    return {t["label"] for t in TAGGER(text, list(actors))}


def test_taxonomy_has_the_17_iptc_top_level_subjects():
    top = [r for r in TAGGER.rules if r.parent is None]
    assert len(top) == 17
    assert {"politics", "conflict, war and peace", "crime, law and justice", "sport", "weather"} <= {r.label for r in top}


def test_sport_story_is_sport_only():
    text = "The football team won the championship match with two late goals. The coach praised his players after the league game."
    assert labels(text) == {"sport"}


def test_business_story_is_economy():
    text = "Harbour Bank said its quarterly profit rose as lending grew; investors sent the shares higher and the market rallied."
    assert "economy, business and finance" in labels(text)


def test_no_evidence_no_topic():
    assert labels("It was a quiet afternoon.") == set()


def test_stems_match_word_endings():
    assert "unrest" in labels("Protesters marched; the protests grew and demonstrators were detained in a crackdown.")


def test_scores_are_between_min_score_and_one():
    for t in TAGGER("The president called an election; the opposition and parliament voted.", []):
        assert TAGGER.min_score <= t["score"] <= 1
