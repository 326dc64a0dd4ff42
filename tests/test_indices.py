"""Every index newswatch creates follows the es_shards/es_replicas settings, so a one-node cluster stays green."""

import pytest

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
