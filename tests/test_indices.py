"""Every index newswatch creates follows the es_shards/es_replicas settings, so a one-node cluster stays green."""

import pytest

from newswatch.query.search import HIGHLIGHT, SearchRequest, search
from newswatch.store import connect, ensure_indices

pytestmark = pytest.mark.integration


def test_every_index_newswatch_creates_follows_the_shards_and_replicas_settings(es_settings):
    settings = es_settings.model_copy(update={"es_shards": 2, "es_replicas": 0})
    es = connect(settings)
    ensure_indices(es, settings)

    indices = es.indices.get_settings(index=f"{settings.index_prefix}-*")
    assert {settings.deadletter_index, settings.alerts_index, settings.feeds_index, settings.copies_index} <= set(indices)
    for name, body in indices.items():
        assert (body["settings"]["index"]["number_of_shards"], body["settings"]["index"]["number_of_replicas"]) == ("2", "0"), name
    assert es.cluster.health(index=f"{settings.index_prefix}-*", wait_for_status="green", timeout="10s")["status"] == "green"


def test_an_index_made_before_its_template_takes_the_replicas_setting(es_settings):
    es = connect(es_settings)
    es.indices.create(index=es_settings.deadletter_index, settings={"number_of_replicas": 1})  # as older versions made it
    ensure_indices(es, es_settings)
    body = es.indices.get_settings(index=es_settings.deadletter_index)[es_settings.deadletter_index]
    assert body["settings"]["index"]["number_of_replicas"] == "0"


# how earlier versions indexed the body: term vectors, then offsets in the postings
EARLIER_BODIES = [{"term_vector": "with_positions_offsets"}, {"index_options": "offsets"}]


@pytest.mark.parametrize("body", EARLIER_BODIES, ids=["term vectors", "offsets"])
def test_an_articles_index_an_earlier_version_made_finds_possessives_in_what_it_indexes_next(es_settings, body):
    """Its new subfields keep the body's offsets: highlighting through both analyses needs one offset source."""
    es = connect(es_settings)
    earlier = {"title": {"type": "text", "fields": {"raw": {"type": "keyword", "ignore_above": 512}}}, "text": {"type": "text", **body},
               "published_at": {"type": "date"}}  # fmt: skip
    es.indices.create(index=f"{es_settings.articles_alias}-000001", mappings={"dynamic": "false", "properties": earlier},
                      aliases={es_settings.articles_alias: {"is_write_index": True}})  # fmt: skip
    ensure_indices(es, es_settings)
    ensure_indices(es, es_settings)  # and again: nothing left to add
    article = {"title": "Kolesnikova’s trial opens", "text": "Maria Kolesnikova's lawyers asked for an open court."}
    es.index(index=es_settings.articles_alias, id="next", document=article, refresh=True)
    (hit,) = search(es, es_settings, SearchRequest("Kolesnikova"))["hits"]
    assert hit["snippet"] == "Maria {}Kolesnikova's{} lawyers asked for an open court.".format(*HIGHLIGHT)
