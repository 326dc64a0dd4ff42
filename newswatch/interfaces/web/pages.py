"""The analyst pages: server-rendered HTML over the same query functions as the API and the CLI."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from newswatch.interfaces.feeds import MAX_OPML_BYTES, SORTS, import_opml, sorted_feed_health
from newswatch.interfaces.web.backfill import backfill
from newswatch.interfaces.web.csrf import checked_form
from newswatch.interfaces.web.params import alert_filter, search_request
from newswatch.interfaces.web.render import templates
from newswatch.interfaces.web.rule_form import form_of, rule_of
from newswatch.pipelines.watchlist import WatchlistError
from newswatch.query.actors import actor_profile
from newswatch.query.alerts import DELIVERY_STATES, AlertFilter, find_alerts
from newswatch.query.rules import create_rule, delete_rule, get_rule, list_rules, preview_rule, replace_rule
from newswatch.query.search import QueryError, SearchRequest, search, stats
from newswatch.query.stories import get_story

router = APIRouter(include_in_schema=False)
SESSION_COOKIE = "nw_session"


def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    context.setdefault("page", name.removesuffix(".html"))
    return templates.TemplateResponse(
        request, name, {"csrf": request.state.csrf, "user": request.state.user, **context}, status_code=status
    )


@router.get("/")
def home() -> Response:
    return RedirectResponse("/search", 302)


@router.get("/search")
def search_page(request: Request, req: Annotated[SearchRequest, Depends(search_request)], interval: str = "auto") -> Response:
    es, settings = request.app.state.es, request.app.state.settings
    try:
        result = search(es, settings, req)
        facts = stats(es, settings, req, 8, interval="day" if interval == "auto" else interval)
        if interval == "auto":
            # Everything on a day or two: per hour says more than one or two bars.
            interval = "hour" if 0 < len(facts["timeline"]) <= 2 else "day"
            if interval == "hour":
                facts = stats(es, settings, req, 8, interval="hour")
    except QueryError as exc:
        return page(request, "search.html", 400, req=req, error=str(exc), result=None, facts=None, interval=interval)
    pages = max(1, -(-min(result["total"], 10_000) // req.size))
    return page(request, "search.html", req=req, result=result, facts=facts, pages=pages, interval=interval, error=None)


@router.get("/story/{story_id}")
def story_page(request: Request, story_id: str) -> Response:
    story = get_story(request.app.state.es, request.app.state.settings, story_id)
    return page(request, "story.html", story=story, a=story["article"])


@router.get("/actor")
def actor_page(request: Request, name: str = "", since: str = "", interval: str = "day") -> Response:
    profile = actor_profile(request.app.state.es, request.app.state.settings, name, since or None, interval)
    return page(request, "actor.html", p=profile, since=since, interval=interval)


@router.get("/alerts")
def alerts_page(request: Request, f: Annotated[AlertFilter, Depends(alert_filter)]) -> Response:
    found = find_alerts(request.app.state.es, request.app.state.settings, f)
    return page(request, "alerts.html", found=found, f=f, states=DELIVERY_STATES)


@router.get("/feeds")
def feeds_page(request: Request, sort: str = "failing", desc: bool = False) -> Response:
    rows = sorted_feed_health(request.app.state.es, request.app.state.settings, sort, desc)
    return page(request, "feeds.html", rows=rows, sort=sort, desc=desc, sorts=SORTS)


@router.post("/feeds/import")
async def import_feeds(request: Request) -> Response:
    """Add the http(s) feeds of an uploaded OPML file to the feed list."""
    await checked_form(request)
    upload = (await request.form()).get("opml")
    data = await upload.read(MAX_OPML_BYTES + 1) if isinstance(upload, UploadFile) else b""
    result = import_opml(request.app.state.settings, data)
    rows = sorted_feed_health(request.app.state.es, request.app.state.settings)
    return page(request, "feeds.html", rows=rows, sort="failing", desc=False, sorts=SORTS, imported=result)


@router.get("/watchlists")
def rules_page(request: Request, saved: str = "") -> Response:
    settings = request.app.state.settings
    return page(request, "watchlists.html", rules=list_rules(settings), saved=saved, files=settings.watchlist_files, done=None)


@router.get("/watchlists/new")
def new_rule_page(request: Request) -> Response:
    return page(request, "rule_edit.html", form=form_of({}), original="", preview=None, error=None)


@router.get("/watchlists/{rule_id}/edit")
def edit_rule_page(request: Request, rule_id: str) -> Response:
    rule = get_rule(request.app.state.settings, rule_id)
    return page(request, "rule_edit.html", form=form_of(rule), original=rule_id, preview=None, error=None)


@router.post("/watchlists/save")
async def save_rule(request: Request) -> Response:
    """Preview the draft (action=preview) or save it; a rule that does not validate is shown with the reason."""
    form = await checked_form(request)
    es, settings = request.app.state.es, request.app.state.settings
    original = form.get("original", "")
    try:
        before = get_rule(settings, original) if original else None
        rule = rule_of(form, before)
        if form.get("action") == "preview":
            found = preview_rule(es, settings, rule)
            return page(request, "rule_edit.html", form=form_of(rule), original=original, preview=found, error=None)
        if original:
            replace_rule(settings, original, rule)
        else:
            create_rule(settings, rule)
    except WatchlistError as exc:
        return page(request, "rule_edit.html", 400, form=form, original=original, preview=None, error=str(exc))
    return RedirectResponse(f"/watchlists?saved={rule['id']}", 303)


@router.post("/watchlists/{rule_id}/delete")
async def delete_rule_page(request: Request, rule_id: str) -> Response:
    await checked_form(request)
    delete_rule(request.app.state.settings, rule_id)
    return RedirectResponse("/watchlists", 303)


@router.post("/watchlists/{rule_id}/backfill")
async def backfill_page(request: Request, rule_id: str) -> Response:
    """Raise the alerts the rule would have raised on what is indexed (since the given age), then deliver."""
    form = await checked_form(request)
    es, settings = request.app.state.es, request.app.state.settings
    done = backfill(es, settings, rule_id, form.get("since", "30d").strip() or "30d", form.get("dry_run") == "1")
    return page(request, "watchlists.html", rules=list_rules(settings), saved="", files=settings.watchlist_files, done=done)


@router.get("/login")
def login_page(request: Request, next: str = "/search") -> Response:
    return page(request, "login.html", next=_local(next), error=None, users=bool(request.app.state.auth.users))


@router.post("/login")
async def login(request: Request) -> Response:
    form = await checked_form(request)
    auth, target = request.app.state.auth, _local(form.get("next", "/search"))
    user = None
    if form.get("token") and auth.check_token(form["token"]):
        user = "token"
    elif form.get("username") and auth.check_user(form["username"], form.get("password", "")):
        user = form["username"]
    if user is None:
        return page(request, "login.html", 401, next=target, error="wrong token or user name and password", users=bool(auth.users))
    response = RedirectResponse(target, 303)
    secure = request.url.scheme == "https"
    response.set_cookie(SESSION_COOKIE, auth.open_session(user), httponly=True, samesite="strict", secure=secure)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await checked_form(request)
    request.app.state.auth.sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _local(target: str) -> str:
    """Only a path on this site: a login never redirects elsewhere."""
    parts = urlsplit(target)
    local = target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target and not parts.netloc
    return target if local else "/search"
