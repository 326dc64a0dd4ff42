"""Delivery takes every due alert in one run, a round at a time, and says how many still wait and why."""

import os
from datetime import UTC, datetime, timedelta

import pytest
from elasticsearch import helpers

from benchmarks.delivery import alerts
from newswatch.flows.delivery import deliver_pending
from newswatch.pipelines.pipeline import pipeline_options
from newswatch.settings import Settings
from newswatch.store import connect, ensure_indices
from tests.receiver import Receiver

SECRET = "test-secret-not-for-production"


def stored_alerts(settings: Settings, n: int, hook: str, tmp_path, throttle: int | None = None) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - id: bank\n    keywords: [bank]\n"
        + (f"    throttle_per_hour: {throttle}\n" if throttle else "")
        + f"    deliver: [{{webhook: '{hook}', secret_env: NEWSWATCH_TEST_HOOK_SECRET}}]\n"
    )
    es = connect(settings)
    ensure_indices(es, settings)
    docs = alerts(n, rules)
    helpers.bulk(es, ({"_op_type": "create", "_index": settings.alerts_index, "_id": a["id"], "_source": a} for a in docs))


@pytest.mark.integration
def test_more_alerts_than_a_round_are_all_delivered_once_and_recorded(es_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSWATCH_TEST_HOOK_SECRET", SECRET)
    receiver = Receiver(SECRET).start()
    settings = es_settings.model_copy(update={"delivery_page_size": 7, "delivery_per_target": 3})
    stored_alerts(settings, 40, receiver.url, tmp_path)
    es = connect(settings)

    report = deliver_pending(es, settings)

    assert (report.delivered, report.failed, report.pending) == (40, 0, 0)
    ids = [r["alert_id"] for r in receiver.received]
    assert len(ids) == 40 and len(set(ids)) == 40 and all(r["verified"] for r in receiver.received)
    delivered = es.count(index=settings.alerts_index, query={"term": {"delivery.status": "delivered"}})["count"]
    assert delivered == 40, "every outcome is recorded and searchable right after the run"
    assert deliver_pending(es, settings).delivered == 0 and len(receiver.received) == 40
    receiver.stop()


@pytest.mark.integration
def test_alerts_held_back_are_counted_with_the_reason(es_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSWATCH_TEST_HOOK_SECRET", SECRET)
    receiver = Receiver(SECRET).start()
    stored_alerts(es_settings, 5, receiver.url, tmp_path, throttle=2)
    es = connect(es_settings)

    report = deliver_pending(es, es_settings)

    assert (report.delivered, report.pending) == (2, 3) and len(receiver.received) == 2
    assert report.why_pending() == "3 throttled or in a digest"
    later = deliver_pending(es, es_settings, now=datetime.now(UTC) + timedelta(hours=2))
    assert (later.delivered, later.pending) == (2, 1)
    receiver.stop()


def test_the_local_runner_uses_every_core_unless_the_run_is_small():
    big = pipeline_options(Settings(), items=5_000).get_all_options()
    assert big["direct_num_workers"] == os.cpu_count()
    assert big["direct_running_mode"] == ("multi_processing" if (os.cpu_count() or 1) > 1 else "in_memory")
    small = pipeline_options(Settings(), items=10).get_all_options()
    assert (small["direct_num_workers"], small["direct_running_mode"]) == (1, "in_memory")
    assert pipeline_options(Settings(direct_num_workers=3), items=10).get_all_options()["direct_num_workers"] == 3
