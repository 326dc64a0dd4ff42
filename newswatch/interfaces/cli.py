"""The ``newswatch`` command: run and schedule the monitor, search, list alerts, tag a text by hand."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from contextlib import suppress
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from newswatch.interfaces.ephemeral import without_heartbeats
from newswatch.interfaces.formatting import duration as _duration
from newswatch.query.search import (
    ALERT_STATES,
    HIGHLIGHT,
    QueryError,
    SearchRequest,
    check_alerts,
    check_search,
    check_stats,
    list_alerts,
    matching,
    search,
    shown,
    stats,
)
from newswatch.settings import Settings, load_settings
from newswatch.store import StoreUnavailable, check_available, connect

# Prefect reads these at import: a slow first start of the ephemeral API (database migrations on a
# 2-core machine) must not time out, and its state belongs with the project's other local state.
# No telemetry: its heartbeat fights the run for the SQLite database ("database is locked" tracebacks).
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_HOME", str(Path(".newswatch/prefect").resolve()))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)

app = typer.Typer(help="Watch news feeds, get alerts on watched entities, search what was collected.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)  # fmt: skip
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # terminal control: escape sequences, OSC 8 links, bells


def consoles() -> tuple[Console, Console]:
    """Consoles that print text as it is: no Rich markup, no emoji codes, no auto-highlighting. Text from
    feeds and users is data; only styles this module sets on Text objects ever reach the terminal."""
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
    plain_only = {"markup": False, "emoji": False, "highlight": False}
    return Console(width=width, **plain_only), Console(stderr=True, soft_wrap=True, **plain_only)


out, err = consoles()


def plain(value: object) -> Text:
    """Any value as unstyled text, with terminal control characters (escape sequences) removed."""
    return Text(_CONTROL.sub("", "" if value is None else str(value)))


FeedsOpt = Annotated[Path | None, typer.Option("--feeds", help="feed list (YAML or OPML); default: setting feeds_file")]
WatchOpt = Annotated[Path | None, typer.Option("--watchlist", help="watchlist YAML; default: setting watchlist_file")]


def fail(message: str, code: int = 1) -> None:
    err.print(Text.assemble(("error:", "bold red"), " ", plain(message)))
    raise typer.Exit(code)


def warn(message: str) -> None:
    err.print(Text.assemble(("warning:", "yellow"), " ", plain(message)))


def _print_version(wanted: bool) -> None:
    if wanted:
        try:
            out.print(plain(f"newswatch {version('newswatch')}"))
        except PackageNotFoundError:
            out.print(plain("newswatch (not installed)"))
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Watch news feeds, get alerts on watched entities, search what was collected."""
    global out, err
    out, err = consoles()  # per invocation: the terminal (or COLUMNS) may differ from import time


def rules_or_exit(settings: Settings) -> list:
    """Every watchlist rule a run will use, checked now (schema, targets, secrets set, files writable)."""
    from newswatch.pipelines.watchlist import WatchlistError, load_rules

    try:
        return load_rules(settings, check_environment=True)
    except WatchlistError as exc:
        fail(str(exc))
    raise AssertionError  # unreachable


def settings_or_exit(**overrides) -> Settings:
    try:
        return load_settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"setting {'.'.join(str(p) for p in first['loc'])} (NEWSWATCH_{str(first['loc'][0]).upper()}): {first['msg']}")
    raise AssertionError  # unreachable


def es_or_exit(settings: Settings):
    try:
        es = connect(settings)
        check_available(es, settings)
    except (StoreUnavailable, ValueError) as exc:
        fail(str(exc))
    return es


@app.command()
def run(
    once: Annotated[bool, typer.Option("--once", help="poll every feed now and process what is new")] = False,
    feeds: FeedsOpt = None,
    watchlist: WatchOpt = None,
) -> None:
    """Run the monitor flow now (Prefect, ephemeral local API)."""
    if not once:
        fail("use `newswatch run --once` for one run now, or `newswatch serve` for a schedule", 2)
    settings = settings_or_exit(feeds_file=feeds, watchlist_file=watchlist)  # fail fast on bad settings or rules
    rules_or_exit(settings)
    api_ready = quiet_one_off_run(settings)
    from newswatch.flows.feedlist import FeedListError
    from newswatch.flows.monitor import monitor
    from newswatch.pipelines.watchlist import WatchlistError

    prepare_while_prefect_starts(settings)
    wait_for(api_ready)
    try:
        with without_heartbeats():
            report = monitor(feeds_file=str(feeds) if feeds else None, watchlist_file=str(watchlist) if watchlist else None, force=True)
    except (FeedListError, WatchlistError, ValueError) as exc:
        fail(str(exc))
    exit_if_locked(report)
    print_report(report)
    # A broken feed is reported and the run goes on; the run itself failed when nothing could be polled
    # or when what was polled could not be indexed (it waits in the raw store).
    all_feeds_failed = report["polled"] > 0 and report["failed"] == report["polled"]
    if all_feeds_failed or any(not e.startswith("feed ") for e in report["errors"]):
        raise typer.Exit(1)


def quiet_one_off_run(settings: Settings) -> Callable[[], None]:
    """Checks that no other run holds the data dir (exit 75), before Prefect starts. The run prints its own
    report (errors and warnings, one line each), so Prefect's and Beam's console logging stays off: set
    PREFECT_LOGGING_LEVEL to see it. Prefect's temporary server starts now and dies with the command;
    the returned function waits until it answers."""
    from newswatch.flows.run_lock import EXIT_LOCKED, RunInProgress, run_lock

    try:
        with run_lock(settings.data_dir):
            pass
    except RunInProgress as exc:
        fail(str(exc), EXIT_LOCKED)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
    import logging

    from newswatch.interfaces.ephemeral import start_temporary_api
    from newswatch.pipelines.memory import limit_malloc_arenas

    limit_malloc_arenas(settings.malloc_arena_max)  # the temporary server inherits the limit, as the run's workers do
    api_ready = start_temporary_api()  # stopped with this command, even by kill -9

    # Their errors are in the report, one line each. Prefect's background services (EventsWorker,
    # APILogWorker) log under their bare class names, outside the "prefect" logger tree.
    for name in ("apache_beam", "elastic_transport", "newswatch", "EventsWorker", "APILogWorker"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return api_ready


def prepare_while_prefect_starts(settings: Settings) -> None:
    """Work the run does first anyway, done while Prefect's temporary server starts on another core (~1 s
    that the command would otherwise spend waiting): the index templates and indices and the public
    gazetteers behind the actor rules. The flow still runs its own checks (``ensure_indices`` again, a few
    no-op requests) and loads the rules again (~0.1 s): only the gazetteers, cached per process, carry
    over. Whatever fails here is left to the run, which reports it in its own words (a store that does
    not answer costs at most 5 s more here)."""
    from elastic_transport import TransportError
    from elasticsearch import ApiError

    from newswatch.pipelines.enrich import Knowledge
    from newswatch.store import ensure_indices

    with suppress(StoreUnavailable, TransportError, ApiError, ValueError):
        es = connect(settings).options(request_timeout=min(5.0, settings.es_timeout_s))
        check_available(es, settings)
        ensure_indices(es, settings)
    with suppress(ValueError, OSError):
        Knowledge.load(settings)


def wait_for(api_ready: Callable[[], None]) -> None:
    """Prefect's temporary server that never answers is one line, not a traceback."""
    try:
        api_ready()
    except RuntimeError as exc:
        fail(str(exc))


def exit_if_locked(report: dict) -> None:
    """Another run holds the data dir: one line and exit code 75 (try again later)."""
    from newswatch.flows.run_lock import EXIT_LOCKED

    if report.get("locked"):
        fail(report["errors"][0], EXIT_LOCKED)


REPORT_KEYS = (
    "feeds", "polled", "not_modified", "failed", "new_items", "batches_processed", "batches_quarantined",
    "articles_indexed", "copies", "alerts", "alerts_delivered", "deliveries_failed", "alerts_pending", "items_rejected",
)  # fmt: skip
WALL_STAGES = ("poll", "store", "pipeline", "delivery")


def print_report(report: dict) -> None:
    table = Table(title="monitor run", show_header=False)
    for key in REPORT_KEYS:
        if key in report:  # a count the flow does not report is left out, not shown as 0
            table.add_row(key.replace("_", " "), str(report[key]))
    out.print(table)
    if report.get("alerts_pending"):
        out.print(
            plain(f"{report['alerts_pending']} alerts wait: {report.get('pending_reason') or 'see newswatch alerts --state pending'}"),
            soft_wrap=True,
        )
    seconds = report.get("seconds", {})
    if seconds:
        wall = ", ".join(f"{k} {seconds[k]:.1f}" for k in WALL_STAGES if k in seconds)
        inner = ", ".join(f"{k} {v:.1f}" for k, v in seconds.items() if k not in WALL_STAGES)
        out.print(plain(f"seconds: {wall}" + (f" (inside the pipeline, over all workers: {inner})" if inner else "")), soft_wrap=True)
    for w in report.get("warnings", []):
        warn(w)
    for e in report["errors"]:
        err.print(Text.assemble(("error:", "red"), " ", plain(e)))


@app.command()
def serve(
    interval: Annotated[
        int | None,
        typer.Option(
            help="seconds between runs; each run polls only the feeds that are due (adaptive per-feed intervals, "
            "capped by max_interval_s); default: setting serve_interval_s"
        ),
    ] = None,
    feeds: FeedsOpt = None,
    watchlist: WatchOpt = None,
    web: Annotated[bool, typer.Option("--web", help="also serve the web app on setting web_host:web_port")] = False,
) -> None:
    """Run the monitor on an interval schedule, against a Prefect server the project starts."""
    from newswatch.flows.schedule import serve_monitor

    settings = settings_or_exit(feeds_file=feeds, watchlist_file=watchlist)
    rules_or_exit(settings)
    if interval is not None and interval < 1:
        fail(f"--interval {interval}: use 1 second or more", 2)
    if web:
        from newswatch.interfaces.web.security import WebConfigError
        from newswatch.interfaces.web.server import serve_in_background

        try:
            serve_in_background(settings, settings.web_host, settings.web_port)
        except WebConfigError as exc:
            fail(str(exc))
        err.print(plain(f"web app on http://{settings.web_host}:{settings.web_port}/"))
    serve_monitor(settings, interval or settings.serve_interval_s, feeds, watchlist)


def _highlighted(s: str) -> Text:
    """Search highlights in bold; everything else, and the highlighted words too, as plain text."""
    text = Text()
    for i, part in enumerate(s.replace(HIGHLIGHT[1], HIGHLIGHT[0]).split(HIGHLIGHT[0])):
        text.append_text(plain(part))
        if i % 2:
            text.stylize("bold yellow", len(text) - len(plain(part)))
    return text


def _json(data: object) -> None:
    out.print_json(json.dumps(data, ensure_ascii=False))


@app.command("search")
def search_cmd(
    query: Annotated[
        str, typer.Argument(help='all words required; "a phrase", a OR b (or a | b), NOT a (or -a), prefix*, (a OR b) c')
    ] = "",
    actor: Annotated[list[str] | None, typer.Option("--actor", help="canonical actor name (repeatable)")] = None,
    topic: Annotated[list[str] | None, typer.Option("--topic", help="topic label or IPTC id (repeatable)")] = None,
    source: Annotated[list[str] | None, typer.Option("--source")] = None,
    lang: Annotated[list[str] | None, typer.Option("--lang")] = None,
    since: Annotated[str | None, typer.Option(help="e.g. 7d, 12h, 2020-09-01")] = None,
    until: Annotated[str | None, typer.Option()] = None,
    sort: Annotated[str, typer.Option(help="relevance or newest")] = "relevance",
    page: Annotated[int, typer.Option(help="from 1; page x size stays within the result window (10,000)")] = 1,
    size: Annotated[int, typer.Option(help="hits per page, 1 to 100")] = 10,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Full-text search over indexed articles, with filters and highlighted snippets."""
    settings = settings_or_exit()
    req = SearchRequest(
        query, tuple(actor or ()), tuple(topic or ()), tuple(source or ()), tuple(lang or ()), since, until, sort, page, size
    )
    try:
        check_search(req, settings)  # before connecting: a bad argument is the user's to fix first
        result = search(es_or_exit(settings), settings, req)
    except QueryError as exc:
        fail(str(exc), 2)
    if as_json:
        for h in result["hits"]:
            h["title_highlight"] = h["title_highlight"].replace(HIGHLIGHT[0], "").replace(HIGHLIGHT[1], "")
            h["snippet"] = h["snippet"].replace(HIGHLIGHT[0], "").replace(HIGHLIGHT[1], "")
        _json(result)
        return
    run_as = f" (run as {shown(result['query_as_run'])})" if "query_as_run" in result else ""
    table = Table(title=plain(f"{matching(result['total'], query)}{run_as} (page {page})"), show_lines=True)
    for col in ("published", "source", "title / snippet", "actors", "topics"):
        table.add_column(col)
    for h in result["hits"]:
        body = _highlighted(h["title_highlight"])
        body.append("\n")
        body.append_text(_highlighted(h["snippet"]))
        actors = ", ".join(a["name"] for a in h.get("actors", [])[:5])
        topics = ", ".join(t["label"] for t in h.get("topics", [])[:4])
        table.add_row(plain((h.get("published_at") or "")[:16]), plain(h.get("source")), body, plain(actors), plain(topics))
    out.print(table)


@app.command("stats")
def stats_cmd(
    query: Annotated[str, typer.Argument(help="as in search")] = "",
    since: Annotated[str | None, typer.Option(help="e.g. 7d, 12h, 2020-09-01")] = None,
    top: Annotated[int, typer.Option(help="how many actors, topics and sources to list, 1 to 1000")] = 10,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Top actors, topics and sources, and a per-day timeline, for a query."""
    settings = settings_or_exit()
    req = SearchRequest(query, since=since)
    try:
        check_stats(req, top)
        result = stats(es_or_exit(settings), settings, req, top)
    except QueryError as exc:
        fail(str(exc), 2)
    if as_json:
        _json(result)
        return
    out.print(plain(matching(result["total"], query)))
    for name in ("actors", "topics", "sources", "per_day"):
        table = Table(title=name.replace("_", " "))
        table.add_column(name)
        table.add_column("articles", justify="right")
        for key, n in result[name]:
            table.add_row(plain(key), str(n))
        out.print(table)


@app.command()
def alerts(
    rule: Annotated[str | None, typer.Option(help="only this rule's alerts")] = None,
    state: Annotated[str | None, typer.Option(help=f"only alerts in this delivery state: {', '.join(ALERT_STATES)}")] = None,
    size: Annotated[int, typer.Option(help="how many, newest first (1 to 10,000)")] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List alerts, newest first, with what matched, how long it took and its delivery state."""
    settings = settings_or_exit()
    try:
        check_alerts(settings, size, state)
        found = list_alerts(es_or_exit(settings), settings, rule, size, state)
    except QueryError as exc:
        fail(str(exc), 2)
    if as_json:
        _json(found)
        return
    table = Table(title=plain(f"{len(found)} alerts" + (f" ({state})" if state else "")), show_lines=True)
    for col in ("alerted", "rule", "title", "matched", "delay: fetched → alert", "published → alert", "delivery"):
        table.add_column(col)
    for a in found:
        matched = ", ".join(f"{m['term']} ({m['kind']})" for m in a["matched"])
        delivery = a.get("delivery", {})
        status = delivery.get("status", "") + (f": {delivery['last_error']}" if delivery.get("last_error") else "")
        table.add_row(plain(a["alerted_at"][:19]), plain(a["rule_id"]), plain(a.get("title")), plain(matched),
                      _duration(a.get("delay_from_ingestion_s")), _duration(a.get("delay_from_publication_s")), plain(status))  # fmt: skip
    out.print(table)


def decode_text(raw: bytes, name: str) -> str:
    """UTF-8, or the encoding charset-normalizer finds (Latin-1, cp1252, ...); a binary file is one error line."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = None if b"\x00" in raw else from_bytes(raw).best()
    if best is None:
        raise ValueError(f"{name}: not a text file (not UTF-8, and no text encoding fits it)")
    return str(best)


@app.command()
def tag(
    file: Annotated[str, typer.Argument(help="a text or HTML file, or - for standard input")],
    title: Annotated[str, typer.Option(help="the article's title")] = "",
    language: Annotated[str | None, typer.Option(help="language hint")] = None,
    watchlist: WatchOpt = None,
) -> None:
    """Print the enriched article (clean text, language, actors, topics, watch matches) as JSON; nothing is indexed."""
    from newswatch.pipelines.enrich import Knowledge, Models, prepare, tag_batch
    from newswatch.pipelines.language import build_detector
    from newswatch.pipelines.match import WatchlistMatcher

    settings = settings_or_exit(watchlist_file=watchlist)
    try:
        body = decode_text(sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes(), file)
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    except ValueError as exc:
        fail(str(exc))
    source = "stdin" if file == "-" else str(Path(file).resolve())
    item = {"feed": {"id": "manual", "url": source, "language": language}, "guid": source, "title": title, "content": body}
    try:
        knowledge = Knowledge.load(settings)
        article = prepare(item, build_detector(settings.languages), settings)
        tag_batch([article], Models.load(settings), knowledge, settings.spacy_batch_size)
    except ValueError as exc:
        fail(str(exc))
    article["watch"] = [rule.id for rule, _ in WatchlistMatcher(knowledge.rules).match(article)]
    for key in ("minhash", "minhash_bands", "shingles"):
        article.pop(key)
    out.print_json(json.dumps(article, ensure_ascii=False))


@app.command()
def feeds(
    feeds_file: Annotated[Path | None, typer.Option("--feeds", help="only the feeds of this list (YAML or OPML)")] = None,
    export: Annotated[str | None, typer.Option(help="print the feed list as opml or yaml instead (e.g. to convert OPML to YAML)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Each feed's health: last success, error class and last error, failures in a row, next poll. Shows the
    configured list and every other feed with a health record, or with --feeds only that list."""
    from newswatch.flows.feedlist import FeedListError, load_feeds, write_opml, write_yaml
    from newswatch.query.feeds import feed_health

    settings = settings_or_exit(feeds_file=feeds_file)
    try:
        listed = load_feeds(settings.feeds_file, settings.local_feed_dirs)
    except FeedListError as exc:
        if export or feeds_file:
            fail(str(exc))
        warn(f"{exc}; showing the feeds with a health record")
        listed = []
    if export:
        writers = {"opml": write_opml, "yaml": write_yaml}
        if export not in writers:
            fail(f"--export {export!r}: use opml or yaml", 2)
        sys.stdout.write(writers[export](listed) + "\n")
        return
    rows = feed_health(es_or_exit(settings), settings, listed, only_listed=feeds_file is not None)
    if as_json:
        _json(rows)
        return
    table = Table(title=plain(f"{len(rows)} feeds"))
    for col in ("feed", "status", "last success", "failures", "error class", "last error", "next due"):
        table.add_column(col)
    for r in rows:
        feed = r["name"] or r["url"]
        table.add_row(plain(feed if r["listed"] else f"{feed} (not in the list)"), plain(r["status"]),
                      plain((r["last_success_at"] or "never")[:19]), str(r["consecutive_failures"]), plain(r["last_error_class"]),
                      plain((r["last_error"] or "").strip()), plain((r["next_due_at"] or "now")[:19]))  # fmt: skip
    out.print(table)


@app.command()
def replay(
    all_done: Annotated[bool, typer.Option("--all", help="move every processed batch back to pending first")] = False,
    quarantined: Annotated[bool, typer.Option("--quarantined", help="retry the quarantined batches (see `newswatch batches`)")] = False,
) -> None:
    """Process pending raw batches again (after an outage), or with --all every batch ever stored."""
    settings = settings_or_exit()
    es_or_exit(settings)
    api_ready = quiet_one_off_run(settings)
    from newswatch.flows.monitor import replay_flow
    from newswatch.flows.raw_store import RawStore

    wait_for(api_ready)

    store = RawStore(settings.data_dir)
    if all_done:
        store.requeue(store.done())
    if quarantined:
        store.release(store.quarantined(), attempts=settings.batch_max_attempts - 1)  # one more try each
    with without_heartbeats():
        report = replay_flow()
    exit_if_locked(report)
    print_report(report)
    if report["errors"]:
        raise typer.Exit(1)


@app.command()
def batches() -> None:
    """Raw batches waiting or quarantined, with their failed attempts and last error; and how many are done."""
    from newswatch.flows.raw_store import RawStore

    settings = settings_or_exit()
    store = RawStore(settings.data_dir)
    pending, quarantined = store.pending(), store.quarantined()
    out.print(plain(f"raw store {settings.data_dir}: {len(pending)} pending, {len(quarantined)} quarantined, {len(store.done())} done"))
    for state, listed in (("pending", pending), ("quarantined", quarantined)):
        for b in listed:
            info = store.failures(b)
            why = f", {info['attempts']} failed runs, last: {info.get('last_error')}" if info["attempts"] else ""
            out.print(plain(f"{state} {b.rsplit('/', 1)[-1]}{why}"))
    if quarantined:
        out.print(plain("retry the quarantined batches with `newswatch replay --quarantined`"))


watch_app = typer.Typer(
    help="Manage watchlist rules: runs read setting watchlist_file plus your own file (setting user_watchlist_file), "
    "where `watch add` writes.",
    no_args_is_help=True,
)
app.add_typer(watch_app, name="watch")
EditOpt = Annotated[Path | None, typer.Option("--watchlist", help="the file to edit; default: setting user_watchlist_file")]


@watch_app.command("list")
def watch_list(watchlist: WatchOpt = None) -> None:
    """The rules, with what each watches; every rule is checked, and the first problem is reported."""
    settings = settings_or_exit(watchlist_file=watchlist)
    rules = rules_or_exit(settings)
    files = ", ".join(str(p) for p in settings.watchlist_files)
    table = Table(title=plain(f"{len(rules)} rules in {files}"))
    for col in ("id", "name", "entities", "keywords / phrases", "mode", "deliver"):
        table.add_column(col)
    for r in rules:
        table.add_row(plain(r.id), plain(r.name), plain(", ".join(e.name for e in r.entities)), plain(", ".join((*r.keywords, *r.phrases))),
                      plain(r.mode), plain(", ".join(next(iter(t)) for t in r.deliver)))  # fmt: skip
    out.print(table)


@watch_app.command("add")
def watch_add(
    rule_id: Annotated[str, typer.Argument(help="lower-case id, e.g. belarus-leadership")],
    name: Annotated[str | None, typer.Option()] = None,
    entity: Annotated[list[str] | None, typer.Option("--entity", help="canonical name (repeatable)")] = None,
    keyword: Annotated[list[str] | None, typer.Option("--keyword")] = None,
    phrase: Annotated[list[str] | None, typer.Option("--phrase")] = None,
    mode: Annotated[str, typer.Option(help="any or all")] = "any",
    webhook: Annotated[str | None, typer.Option(help="deliver to this http(s) URL (signed when --secret-env is given)")] = None,
    secret_env: Annotated[str | None, typer.Option(help="environment variable holding the webhook secret (must be set)")] = None,
    jsonl: Annotated[str | None, typer.Option(help="append alerts to this file")] = None,
    watchlist: EditOpt = None,
) -> None:
    """Add a rule to your watchlist (its comments are kept); it takes effect on the next run."""
    from newswatch.pipelines.watchlist import WatchlistError
    from newswatch.query.watchlists import add_rule, editable_file

    settings = settings_or_exit(watchlist_file=watchlist)
    rule: dict = {"id": rule_id, "name": name or rule_id, "mode": mode}
    if entity:
        rule["entities"] = [{"name": e} for e in entity]
    if keyword:
        rule["keywords"] = keyword
    if phrase:
        rule["phrases"] = phrase
    deliver = []
    if webhook or secret_env:
        deliver.append({k: v for k, v in (("webhook", webhook), ("secret_env", secret_env)) if v})
    if jsonl:
        deliver.append({"jsonl": jsonl})
    if deliver:
        rule["deliver"] = deliver
    try:
        path = editable_file(settings, watchlist)
        add_rule(path, rule, settings)
    except WatchlistError as exc:
        fail(str(exc))
    out.print(plain(f"added rule {rule_id} to {path}"))


@watch_app.command("remove")
def watch_remove(rule_id: str, watchlist: EditOpt = None) -> None:
    """Remove a rule from your watchlist; alerts it raised stay in the index."""
    from newswatch.pipelines.watchlist import WatchlistError
    from newswatch.query.watchlists import editable_file, remove_rule

    settings = settings_or_exit(watchlist_file=watchlist)
    try:
        path = editable_file(settings, watchlist)
        remove_rule(path, rule_id, settings)
    except WatchlistError as exc:
        fail(str(exc))
    out.print(plain(f"removed rule {rule_id} from {path}"))


@watch_app.command("test")
def watch_test(rule_id: str, watchlist: WatchOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Which indexed articles the rule would have matched."""
    from newswatch.pipelines.watchlist import WatchlistError
    from newswatch.query.watchlists import rule_would_match

    settings = settings_or_exit(watchlist_file=watchlist)
    try:
        found = rule_would_match(es_or_exit(settings), settings, rule_id)
    except (WatchlistError, QueryError) as exc:
        fail(str(exc))
    if as_json:
        _json([{"id": a["id"], "title": a["title"], "url": a["url"], "terms": t} for a, t in found])
        return
    table = Table(title=plain(f"rule {rule_id} would match {len(found)} indexed articles"))
    for col in ("published", "source", "title", "matched"):
        table.add_column(col)
    for a, terms in found:
        table.add_row(plain((a.get("published_at") or "")[:16]), plain(a.get("source")), plain(a.get("title")), plain(", ".join(terms)))
    out.print(table)


@watch_app.command("backfill")
def watch_backfill(
    rule_id: str,
    since: Annotated[str, typer.Option(help="articles published since: 30d, 12h, 2w or a date like 2020-09-01")] = "30d",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only list the alerts it would raise")] = False,
    watchlist: WatchOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Raise (and deliver) the alerts a rule would have raised on articles already indexed, once per story.

    Running it again, or a later run seeing the same story, raises nothing twice."""
    from newswatch.flows.delivery import deliver_pending
    from newswatch.pipelines.watchlist import WatchlistError
    from newswatch.query.backfill import plan_backfill, run_backfill

    settings = settings_or_exit(watchlist_file=watchlist)
    es = es_or_exit(settings)
    if not dry_run:
        rules_or_exit(settings)
    try:
        done = plan_backfill(es, settings, rule_id, since) if dry_run else run_backfill(es, settings, rule_id, since)
    except (WatchlistError, QueryError) as exc:
        fail(str(exc), 2)
    delivery = deliver_pending(es, settings) if done.created else None  # as a run does: every due alert
    summary = {"rule": rule_id, "since": since, "articles_checked": done.articles_checked, "stories": len(done.alerts),
               "new_alerts": len(done.new), "alerts_raised": done.created, "delivered": delivery.delivered if delivery else 0,
               "deliveries_failed": delivery.failed if delivery else 0, "dry_run": dry_run}  # fmt: skip
    if as_json:
        _json({**summary, "alerts": done.alerts})
        return
    table = Table(title=plain(f"rule {rule_id}: stories matched since {since}: {len(done.alerts)}"))
    for col in ("published", "source", "title", "matched", "alert"):
        table.add_column(col)
    for a in done.alerts:
        table.add_row(plain((a.get("published_at") or "")[:16]), plain(a.get("source")), plain(a.get("title")),
                      plain(", ".join(m["term"] for m in a["matched"])), plain("already raised" if a["exists"] else "new"))  # fmt: skip
    out.print(table)
    if dry_run:
        out.print(plain(f"dry run: new alerts it would raise: {len(done.new)}; already raised: {len(done.alerts) - len(done.new)}"))
    else:
        out.print(
            plain(
                f"raised {done.created} alerts; delivered {summary['delivered']}, failed {summary['deliveries_failed']}"
                " (due alerts of every rule)"
            )
        )


@app.command()
def web(
    host: Annotated[str | None, typer.Option(help="address to listen on; default: setting web_host (127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="default: setting web_port (8080)")] = None,
) -> None:
    """Serve the web app and the JSON API (/api/v1, docs at /api/docs); beyond loopback it needs a token or users."""
    from newswatch.interfaces.web.security import WebConfigError
    from newswatch.interfaces.web.server import serve as serve_web

    settings = settings_or_exit()
    host, port = host or settings.web_host, port or settings.web_port
    es_or_exit(settings)
    try:
        serve_web(settings, host, port, on_ready=lambda: err.print(plain(f"newswatch web on http://{host}:{port}/ (Ctrl-C stops it)")))
    except WebConfigError as exc:
        fail(str(exc))


@app.command("web-password")
def web_password(name: Annotated[str, typer.Argument(help="user name for the web app")]) -> None:
    """Print a users-file line (name:scrypt hash) for setting web_users_file; the password is asked for."""
    from newswatch.interfaces.web.security import hash_password

    if ":" in name or not name.strip():
        fail("user name: give a name without ':'", 2)
    password = typer.prompt("password", hide_input=True, confirmation_prompt=True, err=True)
    if len(password) < 8:
        fail("password: use at least 8 characters", 2)
    out.print(plain(f"{name}:{hash_password(password)}"), soft_wrap=True)


if __name__ == "__main__":
    app()
