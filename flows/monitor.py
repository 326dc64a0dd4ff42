"""The ``monitor`` flow: poll the feeds, land new items in the raw store, run the pipeline, report counts.

Tasks stay thin over the plain functions in flows/ and pipelines/; retries and scheduling live here.
Elasticsearch being down never loses an item: they wait in the raw store for the next run.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from rich.progress import Progress, TextColumn

from newswatch.flows import feed_state
from newswatch.flows.delivery import DeliveryReport, deliver_pending
from newswatch.flows.feedlist import Feed, load_feeds
from newswatch.flows.poll import FeedResult, poll_feeds
from newswatch.flows.raw_store import RawStore
from newswatch.pipelines.pipeline import run as run_pipeline
from newswatch.settings import Settings, load_settings
from newswatch.store import StoreUnavailable, check_available, connect, ensure_indices


@dataclass
class MonitorReport:
    feeds: int = 0
    polled: int = 0
    not_modified: int = 0
    failed: int = 0
    new_items: int = 0
    batches_processed: int = 0
    articles_indexed: int = 0
    copies: int = 0
    alerts: int = 0
    items_rejected: int = 0
    alerts_delivered: int = 0
    deliveries_failed: int = 0
    alerts_pending: int = 0  # still undelivered after the run; ``pending_reason`` says why
    pending_reason: str = ""
    errors: list[str] = field(default_factory=list)
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


@task(name="store-raw-batch", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def store_task(store: RawStore, items: list[dict]) -> str | None:
    return store.write_batch(items)


@task(name="run-pipeline", cache_policy=NO_CACHE)
def pipeline_task(batches: list[str], settings: Settings) -> dict[str, int]:
    return run_pipeline(batches, settings).counters


def monitor_once(settings: Settings, force: bool = False) -> MonitorReport:
    """One pass: the body of the ``monitor`` flow (its tasks need a flow run around them)."""
    log = get_run_logger()
    report = MonitorReport()
    feeds = load_feeds(settings.feeds_file)
    report.feeds = len(feeds)
    es = connect(settings)
    try:
        check_available(es, settings)
        ensure_indices(es, settings)
        states = feed_state.load_states(es, settings, feeds)
    except StoreUnavailable as exc:
        es, states = None, {}
        report.errors.append(f"{exc}: new items are kept in the raw store for the next run")
    feeds = [feed_state.with_moves(f, states.get(f.id)) for f in feeds]
    due = feeds if force else [f for f in feeds if feed_state.is_due(states.get(f.id))]
    with report.timed("poll"):
        results = poll_task(due, settings, states)
    store = RawStore(settings.data_dir)
    for r in results:
        report.polled += 1
        if r.status == "failed":
            report.failed += 1
            log.error(r.line())
            report.errors.append(r.line())
        elif r.status == "not_modified":
            report.not_modified += 1
        elif r.warning:
            log.warning(r.line())
    fresh = {r.feed.id: feed_state.new_items(r, states.get(r.feed.id)) for r in results}
    items = [it for r in results for it in fresh[r.feed.id]]
    report.new_items = len(items)
    with report.timed("store"):
        store_task(store, items)
    if es is None:
        log.error(report.errors[0])
        return report
    new_states = [feed_state.next_state(r, states.get(r.feed.id), settings, len(fresh[r.feed.id])) for r in results]
    feed_state.save_states(es, settings, new_states)
    del results, fresh, items, new_states  # the items are in the raw store now; the pipeline streams them from there
    process_pending(store, settings, report)
    deliver(settings, report)
    return report


@task(name="deliver-alerts", cache_policy=NO_CACHE)
def deliver_task(settings: Settings) -> DeliveryReport:
    return deliver_pending(connect(settings), settings)


def deliver(settings: Settings, report: MonitorReport) -> None:
    """Deliver due alerts after indexing; a failing target is recorded and retried next run, never blocking."""
    with report.timed("delivery"):
        result = deliver_task(settings)
    report.alerts_delivered, report.deliveries_failed = result.delivered, result.failed
    report.alerts_pending, report.pending_reason = result.pending, result.why_pending()
    if result.pending:
        get_run_logger().warning("%d alerts wait: %s", result.pending, result.why_pending())


def process_pending(store: RawStore, settings: Settings, report: MonitorReport) -> None:
    """Run the pipeline over every pending batch; mark them done only once it has succeeded."""
    log = get_run_logger()
    batches = store.pending()
    if not batches:
        return
    try:
        with report.timed("pipeline"):
            counters = pipeline_task(batches, settings)
    except Exception as exc:  # the batches stay pending: nothing is lost
        msg = f"pipeline failed, {len(batches)} raw batches kept for the next run: {_one_line(exc)}"
        log.error(msg)
        report.errors.append(msg)
        return
    for b in batches:
        store.mark_done(b)
    report.batches_processed = len(batches)
    report.articles_indexed = counters.get("articles_created", 0)
    report.copies = counters.get("copies_created", 0)
    report.alerts = counters.get("alerts_created", 0)
    report.items_rejected = counters.get("items_rejected", 0)
    for name, ms in counters.items():
        if name.startswith("ms_"):
            report.seconds[name[3:]] = round(ms / 1000, 3)
    log.info("pipeline counters: %s", counters)


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:300] if lines else ''}"


@flow(name="monitor", log_prints=True)
def monitor(feeds_file: str | None = None, watchlist_file: str | None = None, force: bool = False, interval_s: int | None = None) -> dict:
    """Poll the due feeds and process what is new; returns the run's counts."""
    settings = load_settings(feeds_file=feeds_file, watchlist_file=watchlist_file, serve_interval_s=interval_s)
    report = monitor_once(settings, force=force)
    get_run_logger().info(
        "feeds=%d polled=%d not_modified=%d failed=%d new_items=%d articles_indexed=%d copies=%d alerts=%d",
        report.feeds, report.polled, report.not_modified, report.failed, report.new_items,
        report.articles_indexed, report.copies, report.alerts,
    )  # fmt: skip
    return report.__dict__


@flow(name="replay")
def replay_flow() -> dict:
    """Process every pending raw batch (left by an outage, or requeued by ``newswatch replay --all``)."""
    settings = load_settings()
    es = connect(settings)
    check_available(es, settings)
    ensure_indices(es, settings)
    report = MonitorReport()
    process_pending(RawStore(settings.data_dir), settings, report)
    deliver(settings, report)
    return report.__dict__
