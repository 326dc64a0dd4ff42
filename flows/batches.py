"""Pending raw batches through the pipeline, so that one batch that keeps failing never blocks the others.

The pending batches run in chunks of at most ``pipeline_chunk_items`` items, one pipeline run each, so
memory stays flat however large the backlog. When that run fails and the server is fine, the fault is in a batch:
the batches are split in halves and run again until the failing ones are found; the others are marked
done. Each failing batch counts an attempt, and after ``batch_max_attempts`` it is quarantined with its
reason (see flows/raw_store.py). When the server is down, no batch is at fault: all stay pending.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from elasticsearch import ApiError, TransportError

from newswatch.flows.raw_store import RawStore
from newswatch.pipelines.memory import release_freed_memory
from newswatch.settings import Settings
from newswatch.store import StoreUnavailable, check_available, connect, safe_url

RunPipeline = Callable[[list[str], Settings], dict[str, int]]


@dataclass
class BatchOutcome:
    counters: Counter = field(default_factory=Counter)
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one line per failing batch
    quarantined: list[str] = field(default_factory=list)
    outage: str | None = None  # the server was unavailable: every batch stays pending


def one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:300] if lines else ''}".rstrip(": ")


def is_outage(exc: BaseException, settings: Settings) -> bool:
    """The server unreachable or overloaded (anywhere in the exception's chain), or not answering now."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (TransportError, ConnectionError, StoreUnavailable)):
            return True
        if isinstance(seen, ApiError) and (seen.meta.status in (401, 403, 429) or seen.meta.status >= 500):
            return True
        seen = seen.__cause__ or seen.__context__
    try:
        check_available(connect(settings), settings)
    except (StoreUnavailable, ValueError):
        return True
    return False


def process_pending(store: RawStore, settings: Settings, run: RunPipeline) -> BatchOutcome:
    """Run every pending batch; mark each done only once the pipeline has indexed it. Never raises."""
    outcome = BatchOutcome()
    try:
        for chunk in chunks(store, store.pending(), settings.pipeline_chunk_items):
            _run_isolating(store, settings, run, chunk, outcome)
            release_freed_memory()  # the runner's buffers of this chunk, before the next one fills them again
    except Exception as exc:  # the server is down: nothing is lost, everything waits
        where = f"Elasticsearch at {safe_url(settings.es_url)}"
        outcome.outage = f"pipeline failed, {len(store.pending())} raw batches kept for the next run: {where}: {one_line(exc)}"
    return outcome


def chunks(store: RawStore, batches: list[str], max_items: int) -> Iterator[list[str]]:
    """Consecutive batches, oldest first, grouped so that one pipeline run takes at most ``max_items`` items
    (a single larger batch, written before this limit existed, runs alone). Each run ends with a refresh,
    so the next one finds the stories of the runs before it, as a later run would."""
    chunk: list[str] = []
    size = 0
    for batch in batches:
        n = store.count(batch)
        if chunk and size + n > max_items:
            yield chunk
            chunk, size = [], 0
        chunk.append(batch)
        size += n
    if chunk:
        yield chunk


def _run_isolating(store: RawStore, settings: Settings, run: RunPipeline, batches: list[str], outcome: BatchOutcome) -> None:
    try:
        counters = run(batches, settings)
    except Exception as exc:
        if is_outage(exc, settings):
            raise
        if len(batches) > 1:
            mid = len(batches) // 2
            _run_isolating(store, settings, run, batches[:mid], outcome)
            _run_isolating(store, settings, run, batches[mid:], outcome)
            return
        _count_failure(store, settings, batches[0], one_line(exc), outcome)
        return
    for b in batches:
        store.mark_done(b)
    outcome.counters.update(counters)
    outcome.done += batches


def _count_failure(store: RawStore, settings: Settings, batch: str, reason: str, outcome: BatchOutcome) -> None:
    name = batch.rsplit("/", 1)[-1]
    if store.record_failure(batch, reason, settings.batch_max_attempts):
        outcome.quarantined.append(name)
        outcome.failed.append(
            f"raw batch {name} failed {settings.batch_max_attempts} times and is quarantined ({reason}); "
            "see `newswatch batches`, retry with `newswatch replay --quarantined`"
        )
    else:
        attempts = store.failures(batch)["attempts"]
        outcome.failed.append(f"raw batch {name} failed (attempt {attempts} of {settings.batch_max_attempts}, kept pending): {reason}")
