"""Search and alert queries over the indexed news, in Elasticsearch's safe simple_query_string syntax."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch, NotFoundError

from newswatch.pipelines.clean import straight_apostrophes
from newswatch.settings import Settings

# Markers the terminal view turns into bold and the web view into <mark>. C1 control characters: cleaning
# removes them from feed text, so only Elasticsearch puts them there; and they lie above U+0020, so they
# survive Elasticsearch trimming each fragment's ends as Java's String.trim() does (everything up to
# U+0020): C0 markers such as \x02 were lost where a fragment starts or ends with the match.
HIGHLIGHT = ("\x80", "\x81")
SHOWN_QUERY_CHARS = 120  # a pasted page as a query must not become a page-long error line or title
# Each text field twice: as the standard analyzer indexes it, and as ``.words`` (the classic analyzer,
# which drops English possessives): "Lukashenko" then finds "Lukashenko's", one token to the standard one.
SEARCHED_FIELDS = ["title^3", "title.words^3", "text", "text.words", "actors.name.text^2"]
# The snippets search shows, marked through both analyses of each field. The highlighter re-analyzes the
# text (the index keeps no offsets); past Elasticsearch's default limit on that (max_text_chars may exceed
# it) it marks what lies within instead of failing the search.
HIGHLIGHT_REQUEST = {
    "pre_tags": [HIGHLIGHT[0]],
    "post_tags": [HIGHLIGHT[1]],
    "fields": {
        "title": {"number_of_fragments": 0, "matched_fields": ["title", "title.words"]},
        "text": {"fragment_size": 160, "number_of_fragments": 2, "matched_fields": ["text", "text.words"]},
    },
    "max_analyzed_offset": 1_000_000,
}
_RELATIVE = re.compile(r"^(\d+)([mhdwMy])$")


class QueryError(ValueError):
    """A query or filter the user must fix; the message says what is wrong."""


@dataclass
class SearchRequest:
    query: str = ""
    actors: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    sort: str = "relevance"  # or "newest"
    page: int = 1
    size: int = 10


MAX_PAGE_SIZE = 100  # hits per page of a search
MAX_TOP = 1_000  # buckets per list in stats
ALERT_STATES = ("pending", "delivered", "failed", "no target")
OPERATORS = {"AND": "", "&&": "", "OR": "|", "||": "|", "NOT": "-", "!": "-"}
_TOKEN = re.compile(r'"[^"]*"?|[()]|[^\s()"]+')


def date_bound(value: str, flag: str) -> str:
    """'7d', '12h', '2w' -> Elasticsearch date math; a real ISO date or date-time passes through, normalised."""
    value = value.strip()
    if m := _RELATIVE.match(value):
        return f"now-{m.group(1)}{m.group(2)}"
    try:
        return date.fromisoformat(value).isoformat() if len(value) == 10 else datetime.fromisoformat(value).isoformat()
    except ValueError:
        raise QueryError(f"{flag} {value!r}: use a relative age like 7d, 12h, 2w, or a date like 2020-09-13") from None


def check_range(since: str | None, until: str | None) -> None:
    """Both bounds valid, and in order when both are dates."""
    bounds = [date_bound(v, flag) if v else None for v, flag in ((since, "--since"), (until, "--until"))]
    if all(b and not b.startswith("now") for b in bounds) and _as_utc(bounds[0]) > _as_utc(bounds[1]):
        raise QueryError(f"--since {since} is after --until {until}")


def _as_utc(iso: str) -> datetime:
    moment = datetime.fromisoformat(iso)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def check_search(req: SearchRequest, settings: Settings) -> None:
    """Reject what Elasticsearch would refuse, or silently get wrong, with the bound that applies."""
    if req.page < 1:
        raise QueryError(f"--page {req.page}: pages start at 1")
    if not 1 <= req.size <= MAX_PAGE_SIZE:
        raise QueryError(f"--size {req.size}: use 1 to {MAX_PAGE_SIZE}")
    if req.page * req.size > settings.es_max_result_window:
        deepest = settings.es_max_result_window // req.size
        raise QueryError(f"--page {req.page}: with --size {req.size} pages go up to {deepest}; narrow the search with filters instead")
    if req.sort not in ("relevance", "newest"):
        raise QueryError(f"--sort {req.sort!r}: use relevance or newest")
    check_range(req.since, req.until)


def check_stats(req: SearchRequest, top: int) -> None:
    if not 1 <= top <= MAX_TOP:
        raise QueryError(f"--top {top}: use 1 to {MAX_TOP}")
    check_range(req.since, req.until)


def check_alerts(settings: Settings, size: int, state: str | None) -> None:
    if not 1 <= size <= settings.es_max_result_window:
        raise QueryError(f"--size {size}: use 1 to {settings.es_max_result_window}")
    if state is not None and state not in ALERT_STATES:
        raise QueryError(f"--state {state!r}: use {', '.join(ALERT_STATES)}")


def simple_query(query: str) -> str:
    """The query in simple_query_string syntax, with AND, OR and NOT (upper case, as users type them)
    turned into the operators it knows: all words required, ``|``, ``-``. AND binds tighter than OR, as
    users expect (``a b OR c`` is ``(a b) | c``; the raw syntax alone reads left to right). A query
    without these words, or with nothing else (``AND`` alone is the word), is passed on unchanged; quoted
    phrases are never touched. NOT NOT cancels out."""
    tokens = _TOKEN.findall(query)
    if not any(t in OPERATORS for t in tokens) or all(t in OPERATORS or t in ("(", ")") for t in tokens):
        return query
    return _render(_tree(_translate(tokens)))


def _translate(tokens: list[str]) -> list[str]:
    out: list[str] = []
    negate = False
    for token in tokens:
        op = OPERATORS.get(token)
        if op is not None:
            negate = negate != (op == "-")
            if op == "|":
                out.append("|")
            continue
        out.append(f"-{token}" if negate and token != ")" else token)
        negate = False
    return out


def _tree(tokens: list[str]) -> list:
    """Nested lists for parentheses; a group is (sign, items). Unbalanced brackets are forgiven."""
    stack: list[list] = [[]]
    for token in tokens:
        if token in ("(", "-("):
            group: list = []
            stack[-1].append((token[:-1], group))
            stack.append(group)
        elif token == ")":
            if len(stack) > 1:
                stack.pop()
        else:
            stack[-1].append(token)
    return stack[0]


def _render(items: list) -> str:
    alternatives: list[list[str]] = [[]]
    for item in items:
        if item == "|":
            alternatives.append([])
        else:
            alternatives[-1].append(item if isinstance(item, str) else f"{item[0]}({_render(item[1])})")
    alternatives = [a for a in alternatives if a]
    if len(alternatives) == 1:
        return " ".join(alternatives[0])
    return " | ".join(a[0] if len(a) == 1 else f"({' '.join(a)})" for a in alternatives)


def build_query(req: SearchRequest) -> dict[str, Any]:
    filters: list[dict] = []
    filters += [{"term": {"actors.name": a}} for a in req.actors]
    filters += [
        {"bool": {"should": [{"term": {"topics.label": t}}, {"term": {"topics.id": t}}], "minimum_should_match": 1}} for t in req.topics
    ]
    if req.sources:
        filters.append({"terms": {"source": list(req.sources)}})
    if req.languages:
        filters.append({"terms": {"language": list(req.languages)}})
    if req.since or req.until:
        rng = {}
        if req.since:
            rng["gte"] = date_bound(req.since, "--since")
        if req.until:
            rng["lte"] = date_bound(req.until, "--until")
        filters.append({"range": {"published_at": rng}})
    text = simple_query(straight_apostrophes(req.query))  # as cleaning wrote the articles: "Putin’s" is "Putin's"
    must = (
        [{"simple_query_string": {"query": text, "fields": SEARCHED_FIELDS, "default_operator": "and"}}]
        if text.strip()
        else [{"match_all": {}}]
    )
    return {"bool": {"must": must, "filter": filters}}


def search(es: Elasticsearch, settings: Settings, req: SearchRequest) -> dict[str, Any]:
    check_search(req, settings)
    sort = (
        [{"published_at": {"order": "desc", "missing": "_last"}}, "_score"]
        if req.sort == "newest"
        else ["_score", {"published_at": {"order": "desc", "missing": "_last"}}]
    )
    try:
        resp = es.search(
            index=settings.articles_alias,
            query=build_query(req),
            sort=sort,
            from_=(req.page - 1) * req.size,
            size=req.size,
            track_total_hits=True,
            source_excludes=["minhash", "minhash_bands", "text"],
            highlight=HIGHLIGHT_REQUEST,
        )
    except BadRequestError as exc:
        raise QueryError(f"Elasticsearch rejected the query {shown(req.query)}: {_reason(exc)}") from None
    except NotFoundError:
        raise nothing_indexed(settings) from None
    hits = []
    for h in resp["hits"]["hits"]:
        doc = h["_source"]
        hl = h.get("highlight", {})
        snippet = " … ".join(hl.get("text", [])) or (doc.get("summary") or "")[:200]
        title = (hl.get("title") or [doc.get("title", "")])[0]
        hits.append({**doc, "score": h.get("_score"), "title_highlight": title, "snippet": snippet})
    result = {"total": resp["hits"]["total"]["value"], "page": req.page, "size": req.size, "hits": hits}
    if (run_as := simple_query(req.query)) != req.query:
        result["query_as_run"] = run_as
    return result


def shown(query: str) -> str:
    """A query as messages and titles quote it: as typed, in typographic quotes (a phrase's own quotes need no
    escaping), cut after ``SHOWN_QUERY_CHARS`` characters."""
    if len(query) > SHOWN_QUERY_CHARS:
        query = f"{query[:SHOWN_QUERY_CHARS]}… ({len(query):,} characters)"
    return f"“{query}”"


def matching(total: int, query: str) -> str:
    """'1 article matches “Putin”', '3 articles match “Putin”'."""
    return f"{total:,} article matches {shown(query)}" if total == 1 else f"{total:,} articles match {shown(query)}"


def nothing_indexed(settings: Settings) -> QueryError:
    return QueryError(
        f"nothing is indexed under {settings.articles_alias} yet (setting index_prefix {settings.index_prefix!r}): "
        "run `newswatch run --once` first"
    )


def _reason(exc: BadRequestError) -> str:
    try:
        root = exc.body["error"]["root_cause"][0]
        return f"{root.get('type')}: {str(root.get('reason'))[:300]}"
    except (TypeError, KeyError, IndexError):
        return str(exc.message)


def list_alerts(es: Elasticsearch, settings: Settings, rule: str | None = None, size: int = 50, state: str | None = None) -> list[dict]:
    """Alerts, newest first; only one rule's, or only those in one delivery state, when asked."""
    from newswatch.query.alerts import AlertFilter, find_alerts

    check_alerts(settings, size, state)
    return find_alerts(es, settings, AlertFilter(rule=rule, status=state, size=size))["alerts"]


def stats(es: Elasticsearch, settings: Settings, req: SearchRequest, top: int = 10, interval: str = "day") -> dict[str, Any]:
    """Top actors, topics and sources, and a per-day (or per-hour) timeline, for the articles a query finds."""
    check_stats(req, top)
    if interval not in ("day", "hour"):
        raise QueryError(f"interval {interval!r}: use day or hour")
    try:
        resp = es.search(
            index=settings.articles_alias,
            query=build_query(req),
            size=0,
            track_total_hits=True,
            aggs={
                # Weak actors (a one-off word the model guessed) are searchable but not counted here.
                "actors": {"terms": {"field": "actor_names", "size": top}},
                "topics": {"terms": {"field": "topics.label", "size": top}},
                "sources": {"terms": {"field": "source", "size": top}},
                "timeline": {"date_histogram": {"field": "published_at", "calendar_interval": interval, "min_doc_count": 1}},
            },
        )
    except BadRequestError as exc:
        raise QueryError(f"Elasticsearch rejected the query {shown(req.query)}: {_reason(exc)}") from None
    except NotFoundError:
        raise nothing_indexed(settings) from None
    aggs = resp["aggregations"]
    buckets = lambda name: [(b["key"], b["doc_count"]) for b in aggs[name]["buckets"]]  # noqa: E731
    width = 10 if interval == "day" else 13  # 2020-09-13 or 2020-09-13T11
    timeline = [(b["key_as_string"][:width], b["doc_count"]) for b in aggs["timeline"]["buckets"]]
    return {
        "total": resp["hits"]["total"]["value"],
        "actors": buckets("actors"),
        "topics": buckets("topics"),
        "sources": buckets("sources"),
        "timeline": timeline,
        **({"per_day": timeline} if interval == "day" else {}),
    }
