"""The FastAPI application: security headers, authentication, CSRF, errors as one clear message."""

from __future__ import annotations

import logging
import re
import secrets
from pathlib import Path
from urllib.parse import quote, urlsplit

from elasticsearch import ApiError, NotFoundError, TransportError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from newswatch.flows.feedlist import FeedListError
from newswatch.interfaces.web import api, pages
from newswatch.interfaces.web.csrf import CSRF_COOKIE, CSRFError
from newswatch.interfaces.web.pages import SESSION_COOKIE
from newswatch.interfaces.web.render import templates
from newswatch.interfaces.web.security import Auth, is_loopback
from newswatch.pipelines.watchlist import WatchlistError
from newswatch.query.search import QueryError
from newswatch.query.stories import StoryNotFound
from newswatch.settings import Settings
from newswatch.store import StoreUnavailable, connect, safe_url

HERE = Path(__file__).parent
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PUBLIC = ("/static/", "/login")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
log = logging.getLogger("newswatch.web")


def create_app(settings: Settings, auth: Auth | None = None) -> FastAPI:
    app = FastAPI(title="newswatch", version="1", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.settings = settings
    app.state.es = connect(settings)
    app.state.auth = auth or Auth()
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.middleware("http")(_guard)
    _errors(app)
    return app


async def _guard(request: Request, call_next) -> Response:
    """Host check, authentication, the CSRF rule for API calls, and the security headers on every answer."""
    auth: Auth = request.app.state.auth
    refusal = _refuse(request, auth)
    response = refusal or await call_next(request)
    if not request.cookies.get(CSRF_COOKIE):
        response.set_cookie(CSRF_COOKIE, request.state.csrf, httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return _secured(request, response)


def _secured(request: Request, response: Response) -> Response:
    """The security headers, on every answer (errors from the outermost handler included)."""
    response.headers.update(
        {
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            # Pages may hold what a login protects; the packaged assets change only with a new version.
            "Cache-Control": "public, max-age=3600" if request.url.path.startswith("/static/") else "no-store",
        }
    )
    return response


def _refuse(request: Request, auth: Auth) -> Response | None:
    request.state.csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    request.state.user = None
    is_api = request.url.path.startswith("/api/")
    if not auth.required and not is_loopback(request.url.hostname or ""):
        # Open mode serves loopback only; a foreign Host header means DNS rebinding, not a user.
        return _error(request, 400, "this server answers on loopback only (Host header refused)")
    if auth.required and not request.url.path.startswith(PUBLIC):
        header = request.headers.get("authorization")
        user = auth.user_of_header(header) if header else auth.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if user is None:
            if is_api or header:
                return JSONResponse({"error": "authentication required: send Authorization: Bearer <token>"}, 401,
                                    headers={"WWW-Authenticate": 'Bearer realm="newswatch"'})  # fmt: skip
            return RedirectResponse(f"/login?next={quote(request.url.path)}", 303)
        request.state.user = user
    if request.method in UNSAFE and is_api and "authorization" not in request.headers:
        # Browser-borne API calls: JSON only (a cross-site form cannot send it) and no foreign Origin.
        origin = request.headers.get("origin")
        own = f"{request.url.scheme}://{request.url.netloc}"
        is_json = request.headers.get("content-type", "").split(";")[0].strip() == "application/json"
        if (origin and origin != own) or (request.method in {"POST", "PUT", "PATCH"} and not is_json):
            return _error(request, 403, "cross-site request refused: send JSON from this site, or an Authorization header")
    return None


def _error(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status)
    return templates.TemplateResponse(request, "error.html", {"message": message, "status": status}, status_code=status)


# The query layer's errors name the CLI's flags; on the web they name the query parameters. Only these
# flags are renamed: a message may also quote a command ("run `newswatch run --once` first").
WEB_PARAMETERS = {"page": "page", "size": "size", "since": "since", "until": "until", "sort": "sort", "top": "top", "state": "status"}
_FLAG = re.compile(r"(?<![\w-])--(" + "|".join(WEB_PARAMETERS) + r")\b(?!-)")


def web_wording(message: str) -> str:
    """``--page 0: pages start at 1`` becomes ``page 0: pages start at 1``; ``--state`` becomes ``status``."""
    return _FLAG.sub(lambda m: WEB_PARAMETERS[m.group(1)], message)


def _errors(app: FastAPI) -> None:
    @app.exception_handler(StoryNotFound)
    async def not_found(request: Request, exc: StoryNotFound) -> Response:
        return _error(request, 404, str(exc))

    @app.exception_handler(QueryError)
    async def bad_query(request: Request, exc: QueryError) -> Response:
        return _error(request, 400, web_wording(str(exc)))

    @app.exception_handler(WatchlistError)
    @app.exception_handler(FeedListError)
    async def bad_input(request: Request, exc: Exception) -> Response:
        return _error(request, 400, str(exc))

    @app.exception_handler(CSRFError)
    async def csrf(request: Request, exc: CSRFError) -> Response:
        return _error(request, 403, "the form expired or came from another site: reload the page and try again")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0]
        where = " ".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body", "path"))
        return _error(request, 400, f"{where or 'request'}: {first.get('msg', 'invalid')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "not found", 405: "method not allowed"}.get(exc.status_code, str(exc.detail))
        return _error(request, exc.status_code, message)

    @app.exception_handler(StoreUnavailable)
    async def unavailable(request: Request, exc: StoreUnavailable) -> Response:
        return _error(request, 503, str(exc))

    @app.exception_handler(NotFoundError)
    async def no_index(request: Request, exc: NotFoundError) -> Response:
        prefix = request.app.state.settings.index_prefix
        return _error(request, 503, f"nothing indexed yet under prefix {prefix!r}: run `newswatch run --once` first")

    @app.exception_handler(ApiError)
    @app.exception_handler(TransportError)
    async def store_down(request: Request, exc: Exception) -> Response:
        where = safe_url(request.app.state.settings.es_url)
        log.warning("Elasticsearch error: %s", type(exc).__name__)
        return _error(request, 503, f"Elasticsearch at {where} is unavailable ({type(exc).__name__}); try again shortly")

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", urlsplit(str(request.url)).path)
        return _secured(request, _error(request, 500, "internal error; it has been logged on the server"))
