"""The ``monitor`` flow: poll the feeds, land new items in the raw store, run the pipeline, report counts.

Tasks stay thin over the plain functions in flows/ and pipelines/; retries and scheduling live here.
Elasticsearch being down never loses an item: they wait in the raw store for the next run. Every
failure a run expects (the server gone at any stage, a full disk, a bad batch) is one line in the
report, never an exception out of a task: no traceback reaches the user.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from elasticsearch import ApiError, Elasticsearch, TransportError
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote
from rich.progress import Progress, TextColumn

from newswatch.flows import feed_state
from newswatch.flows.batches import BatchOutcome, one_line, process_pending
from newswatch.flows.delivery import DeliveryReport, deliver_pending
from newswatch.flows.feedlist import Feed, load_feeds
from newswatch.flows.poll import FeedResult, poll_feeds
from newswatch.flows.raw_store import RawStore, RawStoreError
from newswatch.flows.run_lock import RunInProgress, run_lock
from newswatch.pipelines import deadletter
from newswatch.pipelines.memory import limit_malloc_arenas, release_freed_memory
from newswatch.pipelines.pipeline import run as run_pipeline
from newswatch.settings import Settings, load_settings
from newswatch.store import StoreUnavailable, check_available, connect, ensure_indices, safe_url

ITEMS_KEPT = "new items are kept in the raw store for the next run"  # why a store outage loses nothing


@dataclass
class MonitorReport:
    feeds: int = 0
    polled: int = 0
    not_modified: int = 0
    failed: int = 0
    new_items: int = 0
    batches_processed: int = 0
    batches_quarantined: int = 0
    articles_indexed: int = 0
    copies: int = 0
    alerts: int = 0
    items_rejected: int = 0
    alerts_delivered: int = 0
    deliveries_failed: int = 0
    alerts_pending: int = 0  # still undelivered after the run; ``pending_reason`` says why
    pending_reason: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    locked: bool = False  # another run held the data dir: this one did nothing
    # Seconds per stage: poll, store, pipeline, delivery (wall clock); clean, lookups, tag, match, index,
    # summaries (inside the pipeline, summed over its worker processes).
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = round(self.seconds.get(stage, 0.0) + time.perf_counter() - start, 3)

    def error(self, line: str) -> None:
        get_run_logger().error(line)
        self.errors.append(line)

    def warning(self, line: str) -> None:
        get_run_logger().warning(line)
        self.warnings.append(line)


@task(name="poll-feeds", cache_policy=NO_CACHE)
def poll_task(feeds: list[Feed], settings: Settings, states: dict[str, dict]) -> list[FeedResult]:
    """Poll concurrently; in an interactive terminal, with a progress bar."""
    known = feed_state.validators_of(states)
    if not sys.stderr.isatty():
        return asyncio.run(poll_feeds(feeds, settings, known))
    with Progress(*Progress.get_default_columns(), TextColumn("{task.fields[failed]} failed"), transient=True) as progress:
        bar = progress.add_task("polling feeds", total=len(feeds), failed=0)
        failed = 0

        def done(result: FeedResult) -> None:
            nonlocal failed
            failed += result.status == "failed"
            progress.update(bar, advance=1, failed=failed)

        return asyncio.run(poll_feeds(feeds, settings, known, on_done=done))


@task(name="store-raw-batch", cache_policy=NO_CACHE)
def store_task(store: RawStore, items: list[dict], settings: Settings) -> str | None:
    """Land the items as batches of at most ``pipeline_chunk_items``; a store that cannot take them (disk
    full) is one line, and its temporary file is gone."""
    try:
        for start in range(0, len(items), settings.pipeline_chunk_items):
            store.write_batch(items[start : start + settings.pipeline_chunk_items])
    except RawStoreError as exc:
        return f"{exc}: the feeds are polled again next run"
    return None


@task(name="process-batches", cache_policy=NO_CACHE)
def pipeline_task(store: RawStore, settings: Settings) -> BatchOutcome:
    return process_pending(store, settings, lambda batches, s: run_pipeline(batches, s).counters)


def monitor_once(settings: Settings, force: bool = False) -> MonitorReport:
    """One pass: the body of the ``monitor`` flow (its tasks need a flow run around them)."""
    limit_malloc_arenas(settings.malloc_arena_max)  # first thing: the threads polling and storing start after it
    report = MonitorReport()
    feeds = load_feeds(settings.feeds_file, settings.local_feed_dirs)
    report.feeds = len(feeds)
    for line in feeds.skipped:
        report.error(line)
    es = connect(settings)
    outage = ""
    try:
        check_available(es, settings)
        ensure_indices(es, settings)
        states = feed_state.load_states(es, settings, feeds)
    except (StoreUnavailable, TransportError, ApiError) as exc:
        states, outage = {}, f"{_store_error(exc, settings)}: {ITEMS_KEPT}"
    feeds = [feed_state.with_moves(f, states.get(f.id)) for f in feeds]
    due = feeds if force else [f for f in feeds if feed_state.is_due(states.get(f.id))]
    with report.timed("poll"):
        results = poll_task(due, settings, states)
    try:
        landed = land_items(results, states, es, outage, settings, report)
    finally:
        forget_items(results)
    release_freed_memory()
    if landed and process_and_report(RawStore(settings.data_dir), settings, report):
        deliver(settings, report)
    return report


def land_items(results: list[FeedResult], states: dict[str, dict], es: Elasticsearch, outage: str, settings: Settings,
               report: MonitorReport) -> bool:  # fmt: skip
    """The new items into the raw store, then the feeds' states into Elasticsearch, unless it was found down
    (``outage``: the items wait in the store). True when both are done and the pipeline can take the items."""
    count_polls(results, report)
    fresh = {r.feed.id: feed_state.new_items(r, states.get(r.feed.id)) for r in results}
    items = [it for r in results for it in fresh[r.feed.id]]
    report.new_items = len(items)
    try:
        with report.timed("store"):
            store_error = store_task(RawStore(settings.data_dir), quote(items), settings)  # quoted: Prefect would walk every item, twice
    finally:
        items.clear()  # a task's parameters can outlive it like its result (see ``forget_items``)
    if store_error:
        report.error(store_error)  # feed states are not saved: the same items are fetched again
        return False
    if outage:
        report.error(outage)
        return False
    new_states = [feed_state.next_state(r, states.get(r.feed.id), settings, len(fresh[r.feed.id])) for r in results]
    try:
        feed_state.save_states(es, settings, new_states)
    except (TransportError, ApiError) as exc:
        report.error(f"{_store_error(exc, settings)}: {ITEMS_KEPT}")
        return False
    return True


def forget_items(results: list[FeedResult]) -> None:
    """Drop the polled items from the poll's results once they are in the raw store (or will be polled again).

    Prefect keeps the context of the task run that first starts its log and event services for the life of
    the process (their shutdown call copies it; PrefectHQ/prefect#10952), and with it that task's result and
    parameters: the poll's results or the store's items, every item with its text. At 25,000 items that held
    ~150 MB in the command through every pipeline run; under ``serve``, until the process ends. The pipeline
    streams the items from the store."""
    for r in results:
        r.items.clear()


def count_polls(results: list[FeedResult], report: MonitorReport) -> None:
    """Each feed's outcome into the report: a failure is an error line, a feed kept despite faults a warning."""
    for r in results:
        report.polled += 1
        if r.status == "failed":
            report.failed += 1
            report.error(r.line())
        elif r.status == "not_modified":
            report.not_modified += 1
        elif r.warning:
            report.warning(r.line())


def _store_error(exc: BaseException, settings: Settings) -> str:
    """Elasticsearch failing, as one line naming the server (never its credentials)."""
    if isinstance(exc, StoreUnavailable):
        return str(exc)
    return f"Elasticsearch at {safe_url(settings.es_url)} failed ({one_line(exc)})"


@task(name="deliver-alerts", cache_policy=NO_CACHE)
def deliver_task(settings: Settings) -> DeliveryReport | str:
    """The delivery report, or one line when Elasticsearch failed under it (alerts stay pending)."""
    try:
        return deliver_pending(connect(settings), settings)
    except (TransportError, ApiError, StoreUnavailable) as exc:
        return f"alert delivery stopped, undelivered alerts wait for the next run: {_store_error(exc, settings)}"


def deliver(settings: Settings, report: MonitorReport) -> None:
    """Deliver due alerts after indexing; a failing target is recorded and retried next run, never blocking."""
    with report.timed("delivery"):
        result = deliver_task(settings)
    if isinstance(result, str):
        report.error(result)
        return
    report.alerts_delivered, report.deliveries_failed = result.delivered, result.failed
    report.alerts_pending, report.pending_reason = result.pending, result.why_pending()


def process_and_report(store: RawStore, settings: Settings, report: MonitorReport) -> bool:
    """Process the pending batches into the report; False when Elasticsearch failed (all batches wait)."""
    started = datetime.now(UTC)
    with report.timed("pipeline"):
        outcome = pipeline_task(store, settings)
    for line in outcome.failed:
        report.error(line)
    if outcome.outage:
        report.error(outcome.outage)
        return False
    counters = outcome.counters
    report.batches_processed = len(outcome.done)
    report.batches_quarantined = len(outcome.quarantined)
    report.articles_indexed = counters.get("articles_created", 0)
    report.copies = counters.get("copies_created", 0)
    report.alerts = counters.get("alerts_created", 0)
    report.items_rejected = sum(counters.get(k, 0) for k in ("items_rejected", "articles_rejected", "copies_rejected", "alerts_rejected"))
    for name, ms in counters.items():
        if name.startswith("ms_"):
            report.seconds[name[3:]] = round(ms / 1000, 3)
    report_rejects(settings, started, report)
    get_run_logger().info("pipeline counters: %s", dict(counters))
    return True


def report_rejects(settings: Settings, started: datetime, report: MonitorReport, limit: int = 20) -> None:
    """One line per item this run rejected (the first ``limit``), read back from the dead-letter index."""
    try:
        records, total = deadletter.since(connect(settings), settings, started, limit)
    except (TransportError, ApiError) as exc:
        report.error(f"{_store_error(exc, settings)}: rejected items are in {settings.deadletter_index}")
        return
    for rec in records:
        report.error(deadletter.line(rec))
    if total > len(records):
        report.error(f"{total - len(records)} more items rejected; every record is in the index {settings.deadletter_index}")


def locked_report(exc: RunInProgress) -> dict:
    report = MonitorReport(locked=True)
    report.error(str(exc))
    return report.__dict__


@flow(name="monitor", log_prints=True)
def monitor(feeds_file: str | None = None, watchlist_file: str | None = None, force: bool = False, interval_s: int | None = None) -> dict:
    """Poll the due feeds and process what is new; returns the run's counts. One run at a time per data dir."""
    settings = load_settings(feeds_file=feeds_file, watchlist_file=watchlist_file, serve_interval_s=interval_s)
    try:
        with run_lock(settings.data_dir):
            report = monitor_once(settings, force=force)
    except RunInProgress as exc:
        return locked_report(exc)
    get_run_logger().info(
        "feeds=%d polled=%d not_modified=%d failed=%d new_items=%d articles_indexed=%d copies=%d alerts=%d",
        report.feeds, report.polled, report.not_modified, report.failed, report.new_items,
        report.articles_indexed, report.copies, report.alerts,
    )  # fmt: skip
    return report.__dict__


@flow(name="replay")
def replay_flow() -> dict:
    """Process every pending raw batch (left by an outage, or requeued by ``newswatch replay --all/--quarantined``)."""
    settings = load_settings()
    report = MonitorReport()
    try:
        with run_lock(settings.data_dir):
            es = connect(settings)
            check_available(es, settings)
            ensure_indices(es, settings)
            if process_and_report(RawStore(settings.data_dir), settings, report):
                deliver(settings, report)
    except RunInProgress as exc:
        return locked_report(exc)
    except (StoreUnavailable, TransportError, ApiError) as exc:
        report.error(f"{_store_error(exc, settings)}: the raw batches stay pending")
    return report.__dict__
