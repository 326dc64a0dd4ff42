"""A large backlog runs as several pipeline runs of bounded size, so memory stays flat however many items
wait, and the result is the one a single run gives: each story once, its copies joined, one alert each."""

import pytest

from newswatch.flows.batches import chunks, process_pending
from newswatch.flows.monitor import store_task
from newswatch.flows.raw_store import RawStore
from newswatch.pipelines.pipeline import run
from newswatch.settings import Settings
from newswatch.store import connect, ensure_indices
from tests.conftest import demo_batch


def items(n: int, start: int = 0) -> list[dict]:
    return [{"guid": f"g{i}", "title": f"item {i}"} for i in range(start, start + n)]


def test_polled_items_land_in_batches_of_at_most_the_chunk_size(tmp_path):
    store = RawStore(str(tmp_path / "raw"))
    assert store_task.fn(store, items(5), Settings(pipeline_chunk_items=2)) is None
    assert sorted(store.count(b) for b in store.pending()) == [1, 2, 2]


def test_pending_batches_are_grouped_in_order_up_to_the_chunk_size(tmp_path):
    store = RawStore(str(tmp_path / "raw"))
    sizes = [3, 3, 1, 5, 9, 2]
    batches = [store.write_batch(items(n, 100 * k)) for k, n in enumerate(sizes)]
    groups = list(chunks(store, batches, max_items=7))
    assert [[store.count(b) for b in g] for g in groups] == [[3, 3, 1], [5], [9], [2]]
    assert [b for g in groups for b in g] == batches


@pytest.mark.integration
def test_a_backlog_run_in_chunks_gives_what_one_run_gives(es_settings):
    settings = es_settings.model_copy(update={"pipeline_chunk_items": 2})
    es = connect(settings)
    ensure_indices(es, settings)
    store = RawStore(settings.data_dir)
    demo = demo_batch(settings)
    for chunk in (RawStore.read(demo)[i : i + 2] for i in range(0, 5, 2)):
        store.write_batch(chunk)
    store.mark_done(demo)
    runs = []

    def pipeline(batches: list[str], s: Settings) -> dict[str, int]:
        runs.append(len(batches))
        return run(batches, s).counters

    outcome = process_pending(store, settings, pipeline)
    assert outcome.outage is None and not outcome.failed and len(runs) == 3 and store.pending() == []
    es.indices.refresh(index=f"{settings.articles_alias},{settings.copies_index},{settings.alerts_index}")
    assert es.count(index=settings.articles_alias)["count"] == 3
    assert es.count(index=settings.copies_index)["count"] == 1
    assert es.count(index=settings.alerts_index)["count"] == 3
