"""The ``newswatch`` command: run and schedule the monitor, search, list alerts, tag a text by hand."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from newswatch.query.search import HIGHLIGHT, QueryError, SearchRequest, list_alerts, search, stats
from newswatch.settings import Settings, load_settings
from newswatch.store import StoreUnavailable, check_available, connect

# Prefect reads these at import: a slow first start of the ephemeral API (database migrations on a
# 2-core machine) must not time out, and its state belongs with the project's other local state.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_HOME", str(Path(".newswatch/prefect").resolve()))
Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)

app = typer.Typer(help="Watch news feeds, get alerts on watched entities, search what was collected.", no_args_is_help=True)
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)

FeedsOpt = Annotated[Path | None, typer.Option("--feeds", help="feed list (YAML or OPML); default: setting feeds_file")]
WatchOpt = Annotated[Path | None, typer.Option("--watchlist", help="watchlist YAML; default: setting watchlist_file")]


def fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


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
    settings_or_exit(feeds_file=feeds, watchlist_file=watchlist)  # fail fast on bad settings
    from newswatch.flows.feedlist import FeedListError
    from newswatch.flows.monitor import monitor
    from newswatch.pipelines.watchlist import WatchlistError

    try:
        report = monitor(feeds_file=str(feeds) if feeds else None, watchlist_file=str(watchlist) if watchlist else None, force=True)
    except (FeedListError, WatchlistError, ValueError) as exc:
        fail(str(exc))
    print_report(report)
    # A broken feed is reported and the run goes on; the run itself failed when nothing could be polled
    # or when what was polled could not be indexed (it waits in the raw store).
    all_feeds_failed = report["polled"] > 0 and report["failed"] == report["polled"]
    if all_feeds_failed or any(not e.startswith("feed ") for e in report["errors"]):
        raise typer.Exit(1)


REPORT_KEYS = (
    "feeds", "polled", "not_modified", "failed", "new_items", "batches_processed",
    "articles_indexed", "copies", "alerts", "alerts_delivered", "deliveries_failed", "items_rejected",
)  # fmt: skip


def print_report(report: dict) -> None:
    table = Table(title="monitor run", show_header=False)
    for key in REPORT_KEYS:
        table.add_row(key.replace("_", " "), str(report[key]))
    out.print(table)
    for e in report["errors"]:
        err.print(f"[red]error:[/] {e}", highlight=False)


@app.command()
def serve(
    interval: Annotated[int | None, typer.Option(help="seconds between runs; default: setting serve_interval_s")] = None,
    feeds: FeedsOpt = None,
    watchlist: WatchOpt = None,
) -> None:
    """Run the monitor on an interval schedule, against a Prefect server the project starts."""
    from newswatch.flows.schedule import serve_monitor

    settings = settings_or_exit(feeds_file=feeds, watchlist_file=watchlist)
    serve_monitor(settings, interval or settings.serve_interval_s, feeds, watchlist)


def _rich_highlight(s: str) -> Text:
    text = Text()
    for i, part in enumerate(s.replace(HIGHLIGHT[1], HIGHLIGHT[0]).split(HIGHLIGHT[0])):
        text.append(part, style="bold yellow" if i % 2 else "")
    return text


@app.command("search")
def search_cmd(
    query: Annotated[str, typer.Argument(help='simple_query_string: "a phrase", a AND b, a | b, -not, prefix*')] = "",
    actor: Annotated[list[str] | None, typer.Option("--actor", help="canonical actor name (repeatable)")] = None,
    topic: Annotated[list[str] | None, typer.Option("--topic", help="topic label or IPTC id (repeatable)")] = None,
    source: Annotated[list[str] | None, typer.Option("--source")] = None,
    lang: Annotated[list[str] | None, typer.Option("--lang")] = None,
    since: Annotated[str | None, typer.Option(help="e.g. 7d, 12h, 2020-09-01")] = None,
    until: Annotated[str | None, typer.Option()] = None,
    sort: Annotated[str, typer.Option(help="relevance or newest")] = "relevance",
    page: int = 1,
    size: int = 10,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Full-text search over indexed articles, with filters and highlighted snippets."""
    settings = settings_or_exit()
    req = SearchRequest(
        query, tuple(actor or ()), tuple(topic or ()), tuple(source or ()), tuple(lang or ()), since, until, sort, page, size
    )
    try:
        result = search(es_or_exit(settings), settings, req)
    except QueryError as exc:
        fail(str(exc), 2)
    if as_json:
        for h in result["hits"]:
            h["title_highlight"] = h["title_highlight"].replace(HIGHLIGHT[0], "").replace(HIGHLIGHT[1], "")
            h["snippet"] = h["snippet"].replace(HIGHLIGHT[0], "").replace(HIGHLIGHT[1], "")
        out.print_json(json.dumps(result, ensure_ascii=False))
        return
    table = Table(title=f"{result['total']} articles match {query!r} (page {page})", show_lines=True)
    for col in ("published", "source", "title / snippet", "actors", "topics"):
        table.add_column(col)
    for h in result["hits"]:
        body = _rich_highlight(h["title_highlight"])
        body.append("\n")
        body.append_text(_rich_highlight(h["snippet"]))
        actors = ", ".join(a["name"] for a in h.get("actors", [])[:5])
        topics = ", ".join(t["label"] for t in h.get("topics", [])[:4])
        table.add_row((h.get("published_at") or "")[:16], h.get("source", ""), body, actors, topics)
    out.print(table)


@app.command("stats")
def stats_cmd(
    query: Annotated[str, typer.Argument()] = "",
    since: Annotated[str | None, typer.Option()] = None,
    top: int = 10,
) -> None:
    """Top actors, topics and sources, and a per-day timeline, for a query."""
    settings = settings_or_exit()
    try:
        result = stats(es_or_exit(settings), settings, SearchRequest(query, since=since), top)
    except QueryError as exc:
        fail(str(exc), 2)
    out.print(f"{result['total']} articles match {query!r}")
    for name in ("actors", "topics", "sources", "per_day"):
        table = Table(title=name.replace("_", " "))
        table.add_column(name)
        table.add_column("articles", justify="right")
        for key, n in result[name]:
            table.add_row(str(key), str(n))
        out.print(table)


@app.command()
def alerts(
    rule: Annotated[str | None, typer.Option(help="only this rule's alerts")] = None,
    size: int = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List alerts, newest first, with what matched and how long it took."""
    settings = settings_or_exit()
    found = list_alerts(es_or_exit(settings), settings, rule, size)
    if as_json:
        out.print_json(json.dumps(found, ensure_ascii=False))
        return
    table = Table(title=f"{len(found)} alerts", show_lines=True)
    for col in ("alerted", "rule", "title", "matched", "delay: fetched → alert", "published → alert", "delivery"):
        table.add_column(col)
    for a in found:
        matched = ", ".join(f"{m['term']} ({m['kind']})" for m in a["matched"])
        table.add_row(a["alerted_at"][:19], a["rule_id"], a.get("title", ""), matched, _duration(a.get("delay_from_ingestion_s")),
                      _duration(a.get("delay_from_publication_s")), a.get("delivery", {}).get("status", ""))  # fmt: skip
    out.print(table)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"


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
        body = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
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
    feeds_file: FeedsOpt = None,
    export: Annotated[str | None, typer.Option(help="print the feed list as opml or yaml instead (e.g. to convert OPML to YAML)")] = None,
) -> None:
    """Each feed's health: last success, last error and its class, failures in a row, next poll."""
    from newswatch.flows import feed_state
    from newswatch.flows.feedlist import FeedListError, load_feeds, write_opml, write_yaml

    settings = settings_or_exit(feeds_file=feeds_file)
    try:
        listed = load_feeds(settings.feeds_file)
    except FeedListError as exc:
        fail(str(exc))
    if export:
        writers = {"opml": write_opml, "yaml": write_yaml}
        if export not in writers:
            fail(f"--export {export!r}: use opml or yaml", 2)
        sys.stdout.write(writers[export](listed) + "\n")
        return
    states = feed_state.load_states(es_or_exit(settings), settings, listed)
    table = Table(title=f"{len(listed)} feeds")
    for col in ("feed", "last success", "failures", "last error", "next due"):
        table.add_column(col)
    for f in listed:
        s = states.get(f.id, {})
        error = f"[{s.get('last_error_class')}] {s.get('last_error')}" if s.get("consecutive_failures") else ""
        table.add_row(f.name or f.url, (s.get("last_success_at") or "never")[:19], str(s.get("consecutive_failures", 0)), error,
                      (s.get("next_due_at") or "now")[:19])  # fmt: skip
    out.print(table)


@app.command()
def replay(
    all_done: Annotated[bool, typer.Option("--all", help="move every processed batch back to pending first")] = False,
) -> None:
    """Process pending raw batches again (after an outage), or with --all every batch ever stored."""
    from newswatch.flows.monitor import replay_flow
    from newswatch.flows.raw_store import RawStore

    settings = settings_or_exit()
    es_or_exit(settings)
    store = RawStore(settings.data_dir)
    if all_done:
        store.requeue(store.done())
    report = replay_flow()
    print_report(report)
    if report["errors"]:
        raise typer.Exit(1)


watch_app = typer.Typer(help="Manage watchlist rules (the file in setting watchlist_file).", no_args_is_help=True)
app.add_typer(watch_app, name="watch")


@watch_app.command("list")
def watch_list(watchlist: WatchOpt = None) -> None:
    """The rules, with what each watches."""
    from newswatch.pipelines.watchlist import WatchlistError, load_watchlist

    settings = settings_or_exit(watchlist_file=watchlist)
    try:
        rules = load_watchlist(settings.watchlist_file)
    except WatchlistError as exc:
        fail(str(exc))
    table = Table(title=f"{len(rules)} rules in {settings.watchlist_file}")
    for col in ("id", "name", "entities", "keywords / phrases", "mode", "deliver"):
        table.add_column(col)
    for r in rules:
        table.add_row(r.id, r.name, ", ".join(e.name for e in r.entities), ", ".join((*r.keywords, *r.phrases)), r.mode,
                      ", ".join(next(iter(t)) for t in r.deliver))  # fmt: skip
    out.print(table)


@watch_app.command("add")
def watch_add(
    rule_id: Annotated[str, typer.Argument(help="lower-case id, e.g. belarus-leadership")],
    name: Annotated[str | None, typer.Option()] = None,
    entity: Annotated[list[str] | None, typer.Option("--entity", help="canonical name (repeatable)")] = None,
    keyword: Annotated[list[str] | None, typer.Option("--keyword")] = None,
    phrase: Annotated[list[str] | None, typer.Option("--phrase")] = None,
    mode: Annotated[str, typer.Option(help="any or all")] = "any",
    webhook: Annotated[str | None, typer.Option(help="deliver to this URL (signed when --secret-env is given)")] = None,
    secret_env: Annotated[str | None, typer.Option(help="environment variable holding the webhook secret")] = None,
    jsonl: Annotated[str | None, typer.Option(help="append alerts to this file")] = None,
    watchlist: WatchOpt = None,
) -> None:
    """Add a rule; it takes effect on the next run."""
    from newswatch.pipelines.watchlist import WatchlistError
    from newswatch.query.watchlists import add_rule

    settings = settings_or_exit(watchlist_file=watchlist)
    rule: dict = {"id": rule_id, "name": name or rule_id, "mode": mode}
    if entity:
        rule["entities"] = [{"name": e} for e in entity]
    if keyword:
        rule["keywords"] = keyword
    if phrase:
        rule["phrases"] = phrase
    deliver = []
    if webhook:
        deliver.append({"webhook": webhook, **({"secret_env": secret_env} if secret_env else {})})
    if jsonl:
        deliver.append({"jsonl": jsonl})
    if deliver:
        rule["deliver"] = deliver
    try:
        add_rule(settings.watchlist_file, rule)
    except WatchlistError as exc:
        fail(str(exc))
    out.print(f"added rule {rule_id} to {settings.watchlist_file}")


@watch_app.command("remove")
def watch_remove(rule_id: str, watchlist: WatchOpt = None) -> None:
    """Remove a rule; alerts it raised stay in the index."""
    from newswatch.pipelines.watchlist import WatchlistError
    from newswatch.query.watchlists import remove_rule

    settings = settings_or_exit(watchlist_file=watchlist)
    try:
        remove_rule(settings.watchlist_file, rule_id)
    except WatchlistError as exc:
        fail(str(exc))
    out.print(f"removed rule {rule_id} from {settings.watchlist_file}")


@watch_app.command("test")
def watch_test(rule_id: str, watchlist: WatchOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Which indexed articles the rule would have matched."""
    from newswatch.pipelines.watchlist import WatchlistError
    from newswatch.query.watchlists import rule_would_match

    settings = settings_or_exit(watchlist_file=watchlist)
    try:
        found = rule_would_match(es_or_exit(settings), settings, rule_id)
    except WatchlistError as exc:
        fail(str(exc))
    if as_json:
        out.print_json(json.dumps([{"id": a["id"], "title": a["title"], "url": a["url"], "terms": t} for a, t in found]))
        return
    table = Table(title=f"rule {rule_id} would match {len(found)} indexed articles")
    for col in ("published", "source", "title", "matched"):
        table.add_column(col)
    for a, terms in found:
        table.add_row((a.get("published_at") or "")[:16], a.get("source", ""), a.get("title", ""), ", ".join(terms))
    out.print(table)


if __name__ == "__main__":
    app()
