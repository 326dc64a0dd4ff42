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


def test_the_model_finds_the_entities_of_the_full_pipeline_without_its_tagger_and_parser(nlp_settings, models):
    """Only what NER needs runs (a quarter of the model's time is the shared tok2vec, which NER never reads)."""
    import spacy

    full = spacy.load(nlp_settings.spacy_model)
    nlp = models.models["en"]
    assert "ner" in nlp.pipe_names and not {"tagger", "parser", "lemmatizer"} & set(nlp.pipe_names)
    assert "tok2vec" not in nlp.pipe_names  # the small English model's NER embeds its own
    entities = [(e.text, e.label_, e.start_char) for e in nlp(SEED_TEXT).ents]
    assert len(entities) > 10
    assert entities == [(e.text, e.label_, e.start_char) for e in full(SEED_TEXT).ents]


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


def tag(text: str, rules: ActorRules = RULES, title: str = "", *mentions: tuple[str, str]) -> dict[str, dict]:
    """Actors of ``text`` from the given (span, label) mentions, found at their first place in the text."""
    found = [Mention(span, label, text.index(span)) for span, label in mentions]
    return {a["name"]: a for a in canonical_actors(found, rules, title, text)}


# Repeated or run-together names: one name, written once.
@pytest.mark.parametrize(
    ("span", "name"),
    [("Dvořák Dvořák", "Dvořák"), ("Charles J. Fillmore Charles J. Fillmore", "Charles J. Fillmore"),
     ("Antonín Dvořák Antonín Leopold Dvořák", "Antonín Dvořák"), ("Boston Red Sox Boston Red Sox", "Boston Red Sox"),
     ("Mohammed Hadid Muhammad al-Hajj Husayn Hadid", "Mohammed Hadid")],
)  # fmt: skip
def test_repeated_and_run_together_names_are_repaired(span, name):
    assert clean_name(span, RULES.names) == name


# Works, concepts and common nouns are not actors.
def test_quoted_titles_of_works_are_not_actors():
    text = 'The choir sang "Stabat Mater" while Anna Berg conducted.'
    assert set(tag(text, RULES, "", ("Stabat Mater", "PERSON"), ("Anna Berg", "PERSON"))) == {"Anna Berg"}


def test_a_word_the_article_also_writes_in_lower_case_is_a_common_noun():
    text = "He studied Linguistics in Oslo. His linguistics was new, and the Church he joined was a small church."
    assert set(tag(text, RULES, "", ("Linguistics", "GPE"), ("Church", "ORG"), ("Oslo", "GPE"))) == {"Oslo"}


def test_lower_case_spans_and_run_on_words_are_cut():
    text = "Years later Byron composed Thyrza, and the symphony was praised by Mathematician Hermann Weyl."
    found = tag(text, RULES, "", ("Byron composed Thyrza", "PERSON"), ("symphony", "PERSON"))
    assert set(found) == {"Byron"}
    assert clean_name("a Boxer Indemnity Scholarship", RULES.names) == "Boxer Indemnity Scholarship"
    assert clean_name("Institute of History and Philology of", RULES.names) == "Institute of History and Philology"


def test_a_job_word_capitalised_by_the_sentence_is_not_part_of_the_name():
    text = "The mathematician was young. Mathematician Hermann Weyl said so."
    assert set(tag(text, RULES, "", ("Mathematician Hermann Weyl", "PERSON"))) == {"Hermann Weyl"}


def test_multi_word_names_of_organisations_get_the_organisation_type():
    text = "She taught at the University of Basel and met the Royal Society."
    found = tag(text, RULES, "", ("University of Basel", "GPE"), ("Royal Society", "PERSON"))
    assert {n: a["type"] for n, a in found.items()} == {"University of Basel": "ORG", "Royal Society": "ORG", "Basel": "GPE"}


def test_events_awards_works_and_fields_of_study_are_not_actors():
    text = "After the Vietnam War she won the Pritzker Architecture Prize, wrote a Cello Concerto and taught Frame Semantics."
    found = tag(text, RULES, "", ("Vietnam War", "EVENT"), ("Pritzker Architecture Prize", "ORG"), ("Cello Concerto", "ORG"),
                ("Frame Semantics", "ORG"))  # fmt: skip
    assert set(found) == {"Vietnam"}  # the place the war is named after is one of the article's places


def test_events_and_storms_the_model_calls_organisations_are_not_actors_but_their_places_are():
    text = "After the American Revolutionary War he went to the Berlin International Film Festival; Cyclone Phailin hit Odisha."
    found = tag(text, RULES, "", ("American Revolutionary War", "ORG"), ("Berlin International Film Festival", "EVENT"),
                ("Cyclone Phailin", "PERSON"))  # fmt: skip
    assert set(found) == {"Berlin"}
    assert tag("She was Newcomer of the Year.", RULES, "", ("Newcomer of the Year", "ORG")) == {}


def test_a_phrase_of_everyday_words_in_capitals_is_a_concept_not_an_actor():
    text = "He proved the Conservation of Energy: energy is never lost, so conservation matters; the Energy Society agreed."
    found = tag(text, RULES, "", ("Conservation of Energy", "ORG"), ("Energy Society", "ORG"))
    assert set(found) == {"Energy Society"}


def test_an_organisation_named_after_a_field_of_study_stays():
    text = "She taught at the School of Oriental and African Studies."
    assert set(tag(text, RULES, "", ("School of Oriental and African Studies", "ORG"))) == {"School of Oriental and African Studies"}


def test_titles_of_works_are_known_by_a_year_in_brackets_or_a_work_noun_before_them():
    text = "She starred in Blue Harbour (2004) and the series Gilmore Girls, wrote the novel Sea Glass, and met Tom Reed."
    found = tag(text, RULES, "", ("Blue Harbour", "ORG"), ("Gilmore Girls", "PERSON"), ("Sea Glass", "GPE"), ("Tom Reed", "PERSON"))
    assert set(found) == {"Tom Reed"}


def test_a_title_shown_to_be_a_work_once_is_a_work_at_every_mention():
    text = "Hydrodynamica sold well. His book Hydrodynamica made Lena Ost famous."
    found = canonical_actors([Mention("Hydrodynamica", "GPE", 0), Mention("Hydrodynamica", "GPE", 34), Mention("Lena Ost", "PERSON", 53)],
                             RULES, "", text)  # fmt: skip
    assert [a["name"] for a in found] == ["Lena Ost"]


def test_places_authors_and_painters_before_a_year_in_brackets_stay_actors():
    text = "They met again in Italy (1821). As Cruse and Croft (2004) show, the Madonna by Giovanni Bellini (1505) hangs there."
    found = tag(text, RULES, "", ("Italy", "GPE"), ("Croft", "PERSON"), ("Giovanni Bellini", "ORG"))
    assert set(found) == {"Italy", "Croft", "Giovanni Bellini"}


def test_a_character_someone_is_cast_as_is_not_an_actor():
    text = "Later Mark Hale was cast as Dean Forester, and his performance as Peter Vane won praise; Hale thanked Anna Roy."
    found = tag(text, RULES, "", ("Mark Hale", "PERSON"), ("Dean Forester", "PERSON"), ("Peter Vane", "PERSON"), ("Anna Roy", "PERSON"))
    assert set(found) == {"Mark Hale", "Anna Roy"}


def test_an_organisation_keeps_a_first_word_that_is_also_a_title():
    text = "Scouts from Major League Baseball and General Motors came; Major Tom Hart did not."
    found = tag(text, RULES, "", ("Major League Baseball", "ORG"), ("General Motors", "ORG"), ("Major Tom Hart", "PERSON"))
    assert set(found) == {"Major League Baseball", "General Motors", "Tom Hart"}


def test_a_descriptor_after_a_publication_is_dropped_even_when_the_name_is_a_word():
    text = "It ran in Time Magazine and L Magazine for a long time."
    assert set(tag(text, RULES, "", ("Time Magazine", "ORG"), ("L Magazine", "ORG"))) == {"Time", "L Magazine"}


def test_joined_initials_of_a_person_are_spaced_so_both_spellings_are_one_person():
    text = "O.J. Simpson was acquitted. Later O. J. Simpson wrote a book."
    found = canonical_actors([Mention("O.J. Simpson", "PERSON", 0), Mention("O. J. Simpson", "PERSON", 34)], RULES, "", text)
    assert [(a["name"], a["mentions"]) for a in found] == [("O. J. Simpson", 2)]


def test_brackets_in_a_span_are_repaired():
    assert clean_name("George W.] Bush", RULES.names) == "George W. Bush"
    assert clean_name("Jules et Jim (1962", RULES.names) == "Jules et Jim"


# One actor per person per article: surnames, first names and variants join the full name.
def test_surname_and_first_name_join_the_full_name_nearest_before_them():
    text = "Johann Bernoulli taught. Daniel Bernoulli was born in 1700. Bernoulli moved; Daniel stayed."
    found = tag(text, ActorRules(), "", ("Johann Bernoulli", "PERSON"), ("Daniel Bernoulli", "PERSON"),
                ("Bernoulli moved", "PERSON"), ("Daniel stayed", "PERSON"))  # fmt: skip
    assert {n: a["mentions"] for n, a in found.items()} == {"Johann Bernoulli": 1, "Daniel Bernoulli": 3}


def test_longer_and_shorter_variants_of_a_name_are_one_person_named_as_in_the_headline():
    text = "Antonín Leopold Dvořák was born in 1841. Dvořák wrote nine symphonies."
    found = tag(text, RULES, "Antonín Dvořák", ("Antonín Leopold Dvořák", "PERSON"), ("Dvořák wrote", "PERSON"))
    assert set(found) == {"Antonín Dvořák"} and found["Antonín Dvořák"]["mentions"] == 3


def test_a_surname_joins_the_full_name_the_headline_gives_when_the_body_writes_it_too():
    text = "Brock Holt was born in Texas. Holt played for Boston; Holt later retired."
    found = tag(text, ActorRules(), "Brock Holt", ("Holt played", "PERSON"), ("Holt later", "PERSON"))
    assert set(found) == {"Brock Holt"}
    assert set(tag("Holt played well.", ActorRules(), "Holt Wins Again", ("Holt", "PERSON"))) == {"Holt"}  # not in the body


def test_a_bare_surname_means_the_person_the_headline_names_not_a_relative_named_earlier():
    text = "Jared Tristan Padalecki was born to Gerald and Sherri Padalecki. In 1998, Padalecki won a prize."
    found = tag(text, ActorRules(), "Jared Padalecki", ("Sherri Padalecki", "PERSON"), ("Padalecki won", "PERSON"))
    assert {n: a["mentions"] for n, a in found.items()} == {"Jared Padalecki": 3, "Sherri Padalecki": 1}


def test_a_name_the_headline_gives_and_the_model_missed_in_the_body_is_an_actor():
    text = "Aner Shalev is a mathematician. Shalev works in Jerusalem. He writes for The Onion and met the Governor of Virginia."
    found = tag(text, RULES, "Interview with Aner Shalev of The Onion and the Governor of Virginia", ("Jerusalem", "GPE"))
    assert {n: a["type"] for n, a in found.items()} == {"Aner Shalev": "PERSON", "Onion": "ORG", "Jerusalem": "GPE", "Virginia": "GPE"}


def test_a_headline_name_whose_surname_alone_the_model_tagged_in_the_body_is_one_person():
    text = "The council voted on the road plan.\n\nIlse Marrowby commented on the news, her office said."
    found = tag(text, RULES, "Council votes on road plan (Ilse Marrowby)", ("Marrowby", "PERSON"))
    assert {n: a["type"] for n, a in found.items()} == {"Ilse Marrowby": "PERSON"}


def test_a_mention_that_is_only_punctuation_is_no_actor_and_costs_the_article_nothing():
    text = ". The mayor, Ada Lind, spoke."  # the model once tagged a lone "." at a sentence start as a person
    found = tag(text, RULES, "", (".", "PERSON"), ("Ada Lind", "PERSON"))
    assert list(found) == ["Ada Lind"]


def test_headline_words_that_are_everyday_words_or_a_date_are_no_missed_names():
    text = "We seek a Senior Editor. The editor will be senior. Votes on Election Day went left."
    mentions = [Mention("Election Day", "DATE", text.index("Election Day"))]
    assert canonical_actors(mentions, RULES, "Hiring: Senior Editor After Election Day", text) == []


def test_a_place_named_inside_an_organisation_is_a_place_of_the_article():
    found = tag("She studied at the University of Michigan.", RULES, "", ("University of Michigan", "ORG"))
    assert {n: a["type"] for n, a in found.items()} == {"University of Michigan": "ORG", "Michigan": "GPE"}
    found = tag("He left Ohio State University for the Pittsburgh Pirates.", RULES, "", ("Ohio State University", "ORG"),
                ("Pittsburgh Pirates", "ORG"))  # fmt: skip
    assert set(found) == {"Ohio State University", "Ohio", "Pittsburgh Pirates", "Pittsburgh"}
    assert set(tag("She read US Weekly.", RULES, "", ("US Weekly", "ORG"))) == {"US Weekly"}  # an abbreviation is no place name
    assert set(tag("He met Paris Hilton.", RULES, "", ("Paris Hilton", "ORG"))) == {"Paris Hilton"}  # a person taken for an organisation
    assert set(tag("We saw the Washington Monument.", RULES, "", ("Washington Monument", "FAC"))) == {"Washington Monument"}
    assert set(tag("As the Los Angeles Times reported.", RULES, "", ("Los Angeles Times", "ORG"))) == {"Los Angeles Times"}  # a paper


def test_one_word_of_one_longer_organisation_joins_it():
    text = "She went to Harvard University in 1990. At Harvard she met the French Academy; the Academy wrote back."
    found = tag(text, ActorRules(), "", ("Harvard University", "ORG"), ("Harvard she", "ORG"), ("French Academy", "ORG"),
                ("Academy wrote", "ORG"))  # fmt: skip
    assert {n: a["mentions"] for n, a in found.items()} == {"Harvard University": 2, "French Academy": 2}


def test_the_last_words_of_one_longer_organisation_join_it_but_not_its_first_words():
    text = "He flew for the United States Air Force; the Air Force sent him to Major League Baseball and the Major League Baseball Draft."
    found = tag(text, ActorRules(), "", ("United States Air Force", "ORG"), ("Air Force sent", "ORG"), ("Major League Baseball", "ORG"),
                ("Major League Baseball Draft", "ORG"))  # fmt: skip
    assert {n: a["mentions"] for n, a in found.items()} == {
        "United States Air Force": 2, "Major League Baseball": 1, "Major League Baseball Draft": 1}  # fmt: skip


def test_an_acronym_joins_the_organisation_named_in_full():
    text = "The American Broadcasting Company hired her; ABC later dropped the show."
    found = tag(text, ActorRules(), "", ("American Broadcasting Company", "ORG"), ("ABC", "ORG"))
    assert {n: a["mentions"] for n, a in found.items()} == {"American Broadcasting Company": 2}


# Titles stripped, short and variant forms joined to the canonical name.
@pytest.mark.parametrize(
    ("span", "name"),
    [("Tsar Peter the Great", "Peter the Great"), ("Professor Noam Chomsky", "Noam Chomsky"), ("Lord Byron", "Lord Byron"),
     ("Emperor Norton", "Emperor Norton"), ("Daniel Bernoulli FRS", "Daniel Bernoulli")],
)  # fmt: skip
def test_titles_go_unless_the_title_is_part_of_the_name(span, name):
    assert clean_name(span, RULES.names) == name


@pytest.mark.parametrize(
    ("span", "label", "name"),
    [("St. Petersburg", "GPE", "Saint Petersburg"), ("St Petersburg", "GPE", "Saint Petersburg"), ("Kiev", "GPE", "Kyiv"),
     ("U.S. Army", "ORG", "United States Army"), ("U.S. Coast Guard", "ORG", "United States Coast Guard"),
     ("Russian Federation", "GPE", "Russia"), ("Bombay", "GPE", "Mumbai"), ("US Weekly", "ORG", "US Weekly")],
)  # fmt: skip
def test_short_and_variant_forms_take_the_canonical_name(span, label, name):
    text = f"Reports from {span} arrived."
    assert set(tag(text, RULES, "", (span, label))) == {name}


def test_a_hyphenated_name_the_model_cut_at_a_hyphen_is_whole():
    text = "He was buried in Bourg-la-Reine. The Mets-inspired poems sold."
    assert set(tag(text, RULES, "", ("Bourg", "GPE"), ("Mets", "ORG"))) == {"Bourg-la-Reine", "Mets"}


def test_a_spaced_abbreviation_is_the_abbreviation():
    assert set(tag("Troops of the U. S. arrived.", RULES, "", ("U. S.", "GPE"))) == {"United States"}


def test_new_york_alone_is_the_city_and_new_york_state_the_state():
    assert set(tag("Rents in New York rose.", RULES, "", ("New York", "GPE"))) == {"New York City"}
    assert set(tag("Farms in New York state dried up.", RULES, "", ("New York", "GPE"))) == {"New York"}


def test_a_famous_place_name_does_not_respell_a_building():
    assert set(tag("Officials at the White House said so.", RULES, "", ("White House", "FAC"))) == {"White House"}


# Demonyms are adjectives, not actors; the people named in the plural are a group.
def test_the_adjective_of_a_faith_or_group_is_not_an_actor():
    text = "A Roman Catholic and a New Evangelical met the Evangelicals."
    found = tag(text, RULES, "", ("Roman Catholic", "NORP"), ("New Evangelical", "NORP"), ("Evangelicals", "NORP"))
    assert set(found) == {"Evangelicals"}


def test_demonym_adjectives_are_not_actors_but_plural_groups_are():
    text = "The German and Swiss and Polish scientists met Russians and the Slavic Brotherhood."
    found = tag(text, RULES, "", ("German", "NORP"), ("Swiss", "NORP"), ("Polish", "GPE"), ("Russians", "NORP"),
                ("Slavic Brotherhood", "NORP"))  # fmt: skip
    assert set(found) == {"Russians", "Slavic Brotherhood"}


# Caption and credit residue.
@pytest.mark.parametrize("span", ["Mikhail Metzel / TASS", "Photo: Jane Roe", "© Reuters", "Jane Roe Getty Images"])
def test_caption_and_credit_residue_is_not_an_actor(span):
    assert tag(f"Crowds gathered. {span}", RULES, "", (span, "PERSON")) == {}


def test_a_paragraph_break_inside_a_span_ends_the_name():
    text = "He joined the Royal Navy\n\nFollowing the war he built a firm."
    assert set(tag(text, RULES, "", ("Royal Navy\n\nFollowing", "ORG"))) == {"Royal Navy"}


# Gazetteer: countries, capitals and states the model missed are found; standing alone only.
def test_countries_the_model_missed_are_found_but_not_inside_other_names():
    text = "Talks in Ghana went on. Georgia Brown, of Jordan Valley Farms, said Chad was calm."
    found = tag(text, RULES, "", ("Georgia Brown", "PERSON"))
    assert set(found) == {"Georgia Brown", "Ghana", "Chad"} and found["Ghana"]["type"] == "GPE"


# Confidence: weak actors are marked, so facets and alerts can leave them out.
def test_a_one_word_unknown_name_mentioned_once_is_weak_and_a_repeated_full_name_is_not():
    text = "Jane Doe spoke. Bailey nodded. Later Jane Doe left for Paris."
    found = {a["name"]: a for a in canonical_actors(
        [Mention("Jane Doe", "PERSON", 0), Mention("Bailey", "PERSON", 16), Mention("Jane Doe", "PERSON", 36), Mention("Paris", "GPE", 54)],
        RULES, "Jane Doe speaks", text)}  # fmt: skip
    assert found["Bailey"]["weak"] and not found["Jane Doe"]["weak"] and not found["Paris"]["weak"]
    assert found["Jane Doe"]["confidence"] > found["Paris"]["confidence"] > found["Bailey"]["confidence"]


def test_a_person_named_by_one_word_only_is_weak_however_often_unless_the_headline_names_them():
    text = "Galois wrote. Galois fought. Galois died. Holt won."
    found = tag(text, ActorRules(), "Holt wins", ("Galois wrote", "PERSON"), ("Galois fought", "PERSON"), ("Galois died", "PERSON"),
                ("Holt", "PERSON"))  # fmt: skip
    assert found["Galois"]["mentions"] == 3 and found["Galois"]["weak"] and not found["Holt"]["weak"]


def test_a_place_named_once_in_the_lead_is_not_weak_but_an_unknown_word_or_a_later_place_named_once_is():
    text = "Wool came from Lancashire, said Bailey." + " The mills were busy." * 30 + " Some went to Buxton."
    found = tag(text, ActorRules(), "", ("Lancashire", "GPE"), ("Bailey", "ORG"), ("Buxton", "GPE"))
    assert not found["Lancashire"]["weak"] and found["Bailey"]["weak"] and found["Buxton"]["weak"]


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


# Watchlists speak of the same actors: canonical names and aliases on both sides.
@pytest.mark.parametrize(
    ("watched", "written"), [("United States Army", "U.S. Army"), ("U.S. Army", "United States Army"), ("Kyiv", "Kiev")]
)
def test_an_alert_on_one_name_of_an_actor_fires_on_another(watched, written):
    from newswatch.pipelines.match import WatchlistMatcher
    from newswatch.pipelines.watchlist import Entity, Rule, with_canonical_names

    (rule,) = with_canonical_names([Rule("army", "Army", entities=(Entity(watched),))], RULES.canonical)
    text = f"A unit of the {written} arrived on Monday."
    mention = Mention(written, "GPE" if written == "Kiev" else "ORG", text.index(written))
    article = {"title": "", "text": text, "ner": {"status": "tagged"}, "actors": canonical_actors([mention], RULES, "", text)}
    assert [r.id for r, _ in WatchlistMatcher([rule]).match(article)] == ["army"]
