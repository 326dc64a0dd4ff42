"""The JSON API, ``/api/v1``: every answer comes from the query layer the CLI and the pages use."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import HTMLResponse

from newswatch.interfaces.feeds import import_opml, sorted_feed_health
from newswatch.interfaces.web.backfill import backfill
from newswatch.interfaces.web.params import alert_filter, search_request
from newswatch.interfaces.web.render import marked, plain, templates
from newswatch.query.actors import actor_profile
from newswatch.query.alerts import AlertFilter, find_alerts
from newswatch.query.rules import create_rule, delete_rule, get_rule, list_rules, preview_rule, replace_rule
from newswatch.query.search import SearchRequest, search, stats
from newswatch.query.stories import get_story, story_copies
from newswatch.query.watchlists import rule_would_match
from newswatch.store import check_available

router = APIRouter(prefix="/api")
v1 = APIRouter(prefix="/v1", tags=["v1"])
Search = Annotated[SearchRequest, Depends(search_request)]
Rule = Annotated[dict[str, Any], Body(description="a watchlist rule, as in schemas/watchlist.schema.json")]


def _ctx(request: Request):
    return request.app.state.es, request.app.state.settings


def hit_json(hit: dict) -> dict:
    """A search hit for JSON: plain title and snippet, plus escaped HTML with <mark> around the matches."""
    return {
        **hit,
        "title_html": str(marked(hit.get("title_highlight"))),
        "snippet_html": str(marked(hit.get("snippet"))),
        "title_highlight": plain(hit.get("title_highlight")),
        "snippet": plain(hit.get("snippet")),
    }


@v1.get("/health")
def health(request: Request) -> dict:
    """Whether Elasticsearch answers, and its cluster status."""
    es, settings = _ctx(request)
    return {"elasticsearch": check_available(es, settings)}


@v1.get("/search")
def search_api(request: Request, req: Search) -> dict:
    """Full-text search with filters; one hit per story (its copies are under /stories/{id}/copies)."""
    result = search(*_ctx(request), req)
    return {**result, "hits": [hit_json(h) for h in result["hits"]]}


@v1.get("/stats")
def stats_api(request: Request, req: Search, interval: str = "day", top: int = 10) -> dict:
    """Top actors, topics, sources and a per-day or per-hour timeline for a search."""
    return stats(*_ctx(request), req, max(1, min(top, 100)), interval=interval)


@v1.get("/stories/{story_id}")
def story_api(request: Request, story_id: str) -> dict:
    """A story: its first article, its copies, the alerts it raised."""
    return get_story(*_ctx(request), story_id)


@v1.get("/stories/{story_id}/copies")
def copies_api(request: Request, story_id: str) -> list[dict]:
    """The copies of a story (syndicated or near-identical articles), oldest first."""
    return story_copies(*_ctx(request), story_id)


@v1.get("/actors/{name:path}")
def actor_api(request: Request, name: str, since: str = "", interval: str = "day") -> dict:
    """An actor's mentions over time, co-occurring actors, topics, sources and latest stories."""
    profile = actor_profile(*_ctx(request), name, since or None, interval)
    return {**profile, "latest": [hit_json(h) for h in profile["latest"]]}


@v1.get("/alerts")
def alerts_api(request: Request, f: Annotated[AlertFilter, Depends(alert_filter)]) -> dict:
    """Alerts, newest first, filtered by rule, delivery state and time."""
    return find_alerts(*_ctx(request), f)


@v1.get("/feeds")
def feeds_api(request: Request, sort: str = "failing", desc: bool = False) -> list[dict]:
    """Every listed feed's health, the failing ones first."""
    return sorted_feed_health(*_ctx(request), sort, desc)


@v1.post("/feeds/import")
def import_feeds_api(request: Request, body: Annotated[dict[str, str], Body(description='{"opml": "<opml ...>"}')]) -> dict:
    """Add the http(s) feeds of an OPML document to the feed list; returns what was added and skipped."""
    return import_opml(request.app.state.settings, body.get("opml", "").encode())


@v1.get("/watchlists")
def rules_api(request: Request) -> list[dict]:
    """The watchlist rules, as written in the watchlist file."""
    return list_rules(request.app.state.settings)


@v1.post("/watchlists", status_code=201)
def create_rule_api(request: Request, rule: Rule) -> dict:
    """Add a rule (validated like `newswatch watch add`); it takes effect on the next run."""
    return create_rule(request.app.state.settings, rule)


@v1.post("/watchlists/preview")
def preview_api(request: Request, rule: Rule) -> list[dict]:
    """Which indexed articles a draft rule would have matched; nothing is saved."""
    return [_match(a, terms) for a, terms in preview_rule(*_ctx(request), rule)]


@v1.get("/watchlists/{rule_id}")
def rule_api(request: Request, rule_id: str) -> dict:
    return get_rule(request.app.state.settings, rule_id)


@v1.put("/watchlists/{rule_id}")
def replace_rule_api(request: Request, rule_id: str, rule: Rule) -> dict:
    """Replace a rule with a new version (the id may change); an invalid version changes nothing."""
    return replace_rule(request.app.state.settings, rule_id, rule)


@v1.delete("/watchlists/{rule_id}", status_code=204)
def delete_rule_api(request: Request, rule_id: str) -> Response:
    """Remove a rule; the alerts it raised stay."""
    delete_rule(request.app.state.settings, rule_id)
    return Response(status_code=204)


@v1.get("/watchlists/{rule_id}/test")
def test_rule_api(request: Request, rule_id: str) -> list[dict]:
    """Which indexed articles a saved rule would have matched (`newswatch watch test`)."""
    return [_match(a, terms) for a, terms in rule_would_match(*_ctx(request), rule_id)]


@v1.post("/watchlists/{rule_id}/backfill")
def backfill_api(request: Request, rule_id: str, body: Annotated[dict[str, Any] | None, Body()] = None) -> dict:
    """Raise the alerts a rule would have raised on indexed articles (once per story), then deliver what is due.

    Body (JSON, optional): {"since": "30d", "dry_run": false}."""
    body = body or {}
    return backfill(*_ctx(request), rule_id, str(body.get("since", "30d")), bool(body.get("dry_run", False)))


def _match(article: dict, terms: list[str]) -> dict:
    keep = ("id", "title", "url", "source", "published_at", "cluster")
    return {**{k: article.get(k) for k in keep}, "terms": terms}


router.include_router(v1)


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def docs(request: Request) -> Response:
    """The OpenAPI description as a page (no external assets, no inline script)."""
    spec = request.app.openapi()
    return templates.TemplateResponse(request, "api_docs.html", {"spec": spec, "page": "api"})
