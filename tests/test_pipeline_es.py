"""The Beam pipeline against the real Elasticsearch: stories indexed once, copies clustered, alerts once."""

import pytest

from newswatch.flows.raw_store import RawStore
from newswatch.pipelines.pipeline import run
from newswatch.query.search import HIGHLIGHT, QueryError, SearchRequest, list_alerts, search, stats
from newswatch.store import connect, ensure_indices
from tests.conftest import demo_batch

pytestmark = pytest.mark.integration


def count(es, index):
    es.indices.refresh(index=index)
    return es.count(index=index)["count"]


def test_demo_feeds_become_three_stories_one_copy_and_three_alerts(indexed):
    es, settings, report = indexed
    assert report.get("items_read") == 5
    assert report.get("articles_created") == 3
    assert report.get("copies_created") == 1
    assert report.get("alerts_created") == 3
    assert count(es, settings.articles_alias) == 3 and count(es, settings.alerts_index) == 3


def test_worker_processes_give_what_one_in_process_worker_gives(es_settings):
    """Runs of 200 items or more tag in one worker process per core (newswatch.pipelines.sdk_worker)."""
    settings = es_settings.model_copy(update={"direct_num_workers": 2})
    ensure_indices(connect(settings), settings)
    report = run([demo_batch(settings)], settings)
    assert [report.get(k) for k in ("articles_created", "copies_created", "alerts_created", "items_rejected")] == [3, 1, 3, 0]


def test_a_rerun_adds_nothing(indexed):
    es, settings, _ = indexed
    again = run([demo_batch(settings)], settings)
    assert again.get("articles_created") == 0 and again.get("alerts_created") == 0
    assert count(es, settings.articles_alias) == 3 and count(es, settings.alerts_index) == 3
    assert count(es, settings.copies_index) == 1


def test_the_seed_article_is_found_with_its_actors(indexed):
    es, settings, _ = indexed
    result = search(es, settings, SearchRequest("Lukashenko"))
    assert result["total"] == 1
    hit = result["hits"][0]
    assert hit["source"] == "The Moscow Times"
    names = {a["name"] for a in hit["actors"]}
    assert {"Vladimir Putin", "Alexander Lukashenko"} <= names
    assert "{}Lukashenko{}".format(*HIGHLIGHT) in hit["snippet"]


def test_a_snippet_that_starts_with_the_match_still_marks_it(indexed):
    """Elasticsearch trims each fragment like Java's String.trim(): a marker at its start or end must survive that."""
    es, settings, _ = indexed
    (hit,) = search(es, settings, SearchRequest("Putin"))["hits"]
    fragments = hit["snippet"].split(" … ")
    assert any(f.startswith("{}Putin{} ".format(*HIGHLIGHT)) for f in fragments), fragments
    for fragment in fragments:
        marks = [c for c in fragment if c in HIGHLIGHT]
        assert marks == list(HIGHLIGHT) * (len(marks) // 2), fragment


FEED = {"id": "minsk", "url": "http://minsk.example/feed.xml", "source": "Minsk Courier"}
POSSESSIVES = [  # feeds print both apostrophes; each name appears only in the possessive
    {"feed": FEED, "guid": "k", "link": "http://minsk.example/k", "title": "Kolesnikova’s trial opens in Minsk",
     "content": "Maria Kolesnikova’s lawyers asked for an open court. The hearing was adjourned until Monday."},
    {"feed": FEED, "guid": "b", "link": "http://minsk.example/b", "title": "Supporters queue outside the court",
     "content": "Viktar Babariko's supporters queued for hours. The former banker had planned to stand for president."},
]  # fmt: skip


def test_a_name_only_in_the_possessive_is_found_by_the_name_whatever_the_apostrophe(es_settings):
    """The standard analyzer keeps "Kolesnikova's" as one token; search also reads the classic analysis of each
    field, and cleaning writes typographic apostrophes as ASCII ones, as search does with the query."""
    ensure_indices(connect(es_settings), es_settings)
    run([RawStore(es_settings.data_dir).write_batch(POSSESSIVES)], es_settings)

    (hit,) = search(es := connect(es_settings), es_settings, SearchRequest("Kolesnikova"))["hits"]
    assert hit["title_highlight"] == "{}Kolesnikova's{} trial opens in Minsk".format(*HIGHLIGHT)
    assert hit["snippet"].startswith("Maria {}Kolesnikova's{} lawyers".format(*HIGHLIGHT))

    def titles(query: str) -> list[str]:
        return [h["title"] for h in search(es, es_settings, SearchRequest(query))["hits"]]

    assert titles("Kolesnikova's") == titles("Kolesnikova’s") == ["Kolesnikova's trial opens in Minsk"]
    assert titles("Babariko’s") == titles('"Babariko supporters"') == ["Supporters queue outside the court"]
    assert titles("s") == []  # no lone "s" left over from a split possessive


def test_the_syndicated_copy_joined_the_seed_story(indexed):
    es, settings, _ = indexed
    (hit,) = search(es, settings, SearchRequest("Lukashenko"))["hits"]
    assert hit["cluster"]["copies"] == 1
    assert hit["cluster"]["sources"] == ["Demo Wire", "The Moscow Times"]


def test_each_watched_entity_alerted_once_for_the_story(indexed):
    es, settings, _ = indexed
    alerts = list_alerts(es, settings)
    assert sorted(a["rule_id"] for a in alerts) == ["belarus-leadership", "kremlin-watch", "street-protests"]
    assert len({a["cluster_id"] for a in alerts}) == 1
    lukashenko = next(a for a in alerts if a["rule_id"] == "belarus-leadership")
    assert lukashenko["matched"][0]["term"] == "Alexander Lukashenko"
    assert lukashenko["delay_from_ingestion_s"] >= 0


def test_search_filters(indexed):
    es, settings, _ = indexed
    total = lambda **kw: search(es, settings, SearchRequest(**kw))["total"]  # noqa: E731
    assert total(query="") == 3
    assert total(actors=("Vladimir Putin",)) == 1
    assert total(topics=("politics",)) == 1
    economy = {h["title"] for h in search(es, settings, SearchRequest(topics=("medtop:04000000",)))["hits"]}  # by IPTC id
    assert "Harbour Bank reports higher quarterly profit as lending grows" in economy
    assert not any("cycle lanes" in t for t in economy)
    assert total(sources=("Demo Wire",)) == 1
    assert total(languages=("en",)) == 3
    assert total(since="2020-09-13T11:00:00Z") == 2
    assert total(until="2020-09-13T10:00:00Z") == 1
    assert total(query='"street protests"') == 1
    assert total(query="Lukash*") == 1
    assert total(query="Lukashenko -Putin") == 0


def test_paging_and_newest_first(indexed):
    es, settings, _ = indexed
    page1 = search(es, settings, SearchRequest("", sort="newest", size=2))
    page2 = search(es, settings, SearchRequest("", sort="newest", size=2, page=2))
    dates = [h["published_at"] for h in page1["hits"] + page2["hits"]]
    assert len(dates) == 3 and dates == sorted(dates, reverse=True)


def test_stats_aggregate_actors_topics_sources_and_days(indexed):
    es, settings, _ = indexed
    s = stats(es, settings, SearchRequest(""), top=50)
    assert s["total"] == 3
    assert ("Vladimir Putin", 1) in s["actors"]
    assert dict(s["sources"]) == {"The Moscow Times": 2, "Demo Wire": 1}
    assert s["per_day"] == [("2020-09-13", 3)]


def test_a_malformed_query_or_filter_is_a_clear_error(indexed):
    es, settings, _ = indexed
    with pytest.raises(QueryError, match="--since"):
        search(es, settings, SearchRequest("x", since="last tuesday"))
    with pytest.raises(QueryError, match="--sort"):
        search(es, settings, SearchRequest("x", sort="random"))


def test_facets_count_confident_actors_while_search_still_finds_weak_ones(es_settings, detector):
    """A one-off word the model guessed (weak) stays searchable but is not listed among the top actors."""
    from newswatch.paths import SEEDS_DIR
    from newswatch.pipelines.actors import ActorRules, Mention, canonical_actors, confident_names
    from newswatch.pipelines.enrich import prepare
    from newswatch.pipelines.sink import bulk_create
    from newswatch.store import connect, ensure_indices

    es = connect(es_settings)
    ensure_indices(es, es_settings)
    text = "Jane Doe spoke in Paris on Monday. Bailey nodded. Later Jane Doe left Paris for talks."
    item = {"feed": {"id": "t", "url": "http://example.org/feed"}, "guid": "g1", "link": "http://example.org/a1",
            "title": "Jane Doe speaks", "content": text}  # fmt: skip
    article = prepare(item, detector, es_settings)
    mentions = [Mention(span, label, text.index(span)) for span, label in (("Jane Doe", "PERSON"), ("Bailey", "PERSON"), ("Paris", "GPE"))]
    article["actors"] = canonical_actors(mentions, ActorRules.from_file(SEEDS_DIR / "actors" / "aliases.yaml"), article["title"], text)
    article["actor_names"] = confident_names(article["actors"])
    bulk_create(es, es_settings.articles_alias, [article], es_settings)
    es.indices.refresh(index=es_settings.articles_alias)

    facets = dict(stats(es, es_settings, SearchRequest(""), top=20)["actors"])
    assert facets == {"Jane Doe": 1, "Paris": 1}
    assert search(es, es_settings, SearchRequest("", actors=("Bailey",)))["total"] == 1
