"""Polling feeds: bounded, timed, size-capped async HTTP (and local files), parsed by feedparser.

One broken feed never stops the others: every failure becomes a ``FeedResult`` naming the feed and
the reason. Conditional GET validators and a body hash make an unchanged feed cost almost nothing.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import feedparser
import httpx

from newswatch.flows.feedlist import Feed
from newswatch.pipelines.urls import is_http_url
from newswatch.settings import Settings

MAX_REDIRECTS = 5


class FeedError(Exception):
    """Why a feed yielded nothing this time; ``kind`` classifies it for backoff and the health report."""

    def __init__(self, kind: str, message: str, http_status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.kind, self.http_status, self.retry_after = kind, http_status, retry_after


@dataclass
class Validators:
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass
class FeedResult:
    feed: Feed
    status: str  # "ok", "not_modified", "failed"
    items: list[dict] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None
    warning: str | None = None
    http_status: int | None = None
    retry_after: float | None = None
    bytes_received: int = 0
    validators: Validators = field(default_factory=Validators)
    moved_to: str | None = None  # a permanent redirect's target

    def line(self) -> str:
        """One line for logs and the terminal, naming the feed."""
        if self.status == "failed":
            return f"feed {self.feed.url}: {self.error}"
        note = f" ({self.warning})" if self.warning else ""
        return f"feed {self.feed.url}: {self.status}, {len(self.items)} items{note}"


def _body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


async def fetch_http(
    client: httpx.AsyncClient, feed: Feed, known: Validators, settings: Settings
) -> tuple[bytes | None, dict, httpx.Response]:
    """GET with validators; returns (body or None when not modified, headers, response)."""
    headers = {"User-Agent": settings.user_agent, "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
    if known.etag:
        headers["If-None-Match"] = known.etag
    if known.last_modified:
        headers["If-Modified-Since"] = known.last_modified
    async with client.stream("GET", feed.fetch_url, headers=headers) as resp:
        if resp.status_code == 304:
            return None, dict(resp.headers), resp
        if resp.status_code >= 400:
            raise _http_error(resp)
        declared = int(resp.headers.get("content-length") or 0)
        if declared > settings.poll_max_bytes:
            raise FeedError("too_large", f"body of {declared} bytes exceeds poll_max_bytes={settings.poll_max_bytes}", resp.status_code)
        chunks, size = [], 0
        async for chunk in resp.aiter_bytes():  # decoded: a gzip bomb is capped on what it expands to
            size += len(chunk)
            if size > settings.poll_max_bytes:
                raise FeedError("too_large", f"body exceeds poll_max_bytes={settings.poll_max_bytes} bytes", resp.status_code)
            chunks.append(chunk)
        return b"".join(chunks), dict(resp.headers), resp


def _http_error(resp: httpx.Response) -> FeedError:
    retry_after = _retry_after(resp.headers.get("retry-after"))
    kind = {404: "gone", 410: "gone", 401: "forbidden", 403: "forbidden", 429: "rate_limited"}.get(resp.status_code)
    kind = kind or ("server_error" if resp.status_code >= 500 else "client_error")
    return FeedError(kind, f"HTTP {resp.status_code} {resp.reason_phrase}".strip(), resp.status_code, retry_after)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        from email.utils import parsedate_to_datetime

        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def read_file(feed: Feed, settings: Settings) -> bytes:
    path = Path(unquote(urlsplit(feed.url).path)) if feed.url.startswith("file:") else Path(feed.url)
    try:
        if path.stat().st_size > settings.poll_max_bytes:
            raise FeedError("too_large", f"file exceeds poll_max_bytes={settings.poll_max_bytes} bytes")
        return path.read_bytes()
    except FileNotFoundError:
        raise FeedError("not_found", "file not found") from None
    except IsADirectoryError:
        raise FeedError("not_found", "is a directory, not a feed file") from None
    except PermissionError:
        raise FeedError("forbidden", "permission denied") from None


def parse_feed(feed: Feed, body: bytes, headers: dict, settings: Settings, fetched_at: datetime) -> tuple[list[dict], str | None]:
    """Entries of a feed document; keeps usable entries of a malformed feed and says why it is malformed."""
    if body.lstrip()[:1] == b"{":
        return parse_json_feed(feed, body, settings, fetched_at), None
    parsed = feedparser.parse(body, response_headers={k.lower(): v for k, v in headers.items()}, sanitize_html=False)
    reason = None
    if parsed.bozo:
        exc = parsed.get("bozo_exception")
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip(": ")
    if not parsed.entries:
        if not parsed.version:
            raise FeedError("not_a_feed", f"not an RSS/Atom feed ({reason or 'no feed elements found'})")
        return [], reason and f"malformed: {reason}"
    base = link_base(parsed.feed.get("link"), feed)
    items = [entry_to_item(e, feed, fetched_at, base) for e in parsed.entries[: settings.max_items_per_feed]]
    source_title = parsed.feed.get("title")
    if source_title and not feed.source:
        for it in items:
            it["feed"]["source"] = it["feed"]["source"] or source_title
            it["feed"]["title"] = it["feed"]["title"] or source_title
    warning = f"malformed, kept {len(items)} entries: {reason}" if reason else None
    if len(parsed.entries) > settings.max_items_per_feed:
        warning = (
            warning + "; " if warning else ""
        ) + f"only the first {settings.max_items_per_feed} of {len(parsed.entries)} entries kept"
    return items, warning


def parse_json_feed(feed: Feed, body: bytes, settings: Settings, fetched_at: datetime) -> list[dict]:
    """JSON Feed 1.0/1.1 (jsonfeed.org), which feedparser does not read."""
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FeedError("not_a_feed", f"not a feed (invalid JSON: {exc})") from None
    if not isinstance(doc, dict) or "jsonfeed.org/version" not in str(doc.get("version", "")):
        raise FeedError("not_a_feed", "JSON document is not a JSON Feed (no jsonfeed.org version)")
    items = []
    for it in doc.get("items", [])[: settings.max_items_per_feed]:
        if not isinstance(it, dict):
            continue
        authors = it.get("authors") or ([it["author"]] if isinstance(it.get("author"), dict) else [])
        items.append({
            "feed": {**feed.describe(), "source": feed.source or doc.get("title"), "title": feed.name or doc.get("title")},
            "guid": str(it.get("id")) if it.get("id") is not None else None,
            "link": resolve_link(it.get("url") or it.get("external_url"), link_base(doc.get("home_page_url"), feed)),
            "title": it.get("title", ""),
            "summary": it.get("summary", ""),
            "content": it.get("content_html") or it.get("content_text") or "",
            "authors": [a.get("name") for a in authors if isinstance(a, dict) and a.get("name")],
            "categories": [t for t in it.get("tags", []) if isinstance(t, str)],
            "published": _iso_text(it.get("date_published")),
            "updated": _iso_text(it.get("date_modified")),
            "enclosures": [
                {"url": a.get("url"), "type": a.get("mime_type"), "length": a.get("size_in_bytes")} for a in it.get("attachments", [])
            ],
            "fetched_at": fetched_at.isoformat(),
        })  # fmt: skip
    return items


def _iso_text(value: str | None) -> str | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def _iso(struct: time.struct_time | None) -> str | None:
    return datetime.fromtimestamp(calendar.timegm(struct), UTC).isoformat() if struct else None


def link_base(channel_link: str | None, feed: Feed) -> str | None:
    """What a relative item link is relative to (after any xml:base): the channel's link, else the feed's URL."""
    for candidate in (channel_link, feed.fetch_url):
        if candidate and is_http_url(candidate):
            return candidate
    return None


def resolve_link(link: str | None, base: str | None) -> str | None:
    """A relative link made absolute against ``base``; other links as they are (``prepare`` judges them)."""
    if not isinstance(link, str) or not base:
        return link
    try:
        return link if urlsplit(link.strip()).scheme else urljoin(base, link.strip())
    except ValueError:
        return link


def entry_to_item(e: feedparser.FeedParserDict, feed: Feed, fetched_at: datetime, base: str | None = None) -> dict:
    content = e.get("content") or []
    return {
        "feed": feed.describe(),
        "guid": e.get("id") or e.get("guid"),
        "link": resolve_link(e.get("link"), base),
        "title": e.get("title", ""),
        "summary": e.get("summary", ""),
        "content": content[0].get("value", "") if content else "",
        "authors": [a.get("name") for a in e.get("authors", []) if a.get("name")],
        "categories": [t.get("term") for t in e.get("tags", []) if t.get("term")],
        "published": _iso(e.get("published_parsed")),
        "updated": _iso(e.get("updated_parsed")),
        "enclosures": [{"url": x.get("href"), "type": x.get("type"), "length": x.get("length")} for x in e.get("enclosures", [])],
        "fetched_at": fetched_at.isoformat(),
    }


class HostGate:
    """Politeness per host: at most ``poll_per_host`` requests at once, ``poll_host_min_gap_s`` between starts."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.slots: dict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(settings.poll_per_host))
        self.next_start: dict[str, float] = defaultdict(float)

    @contextlib.asynccontextmanager
    async def enter(self, host: str):
        async with self.slots[host]:
            loop = asyncio.get_running_loop()
            start = max(loop.time(), self.next_start[host])
            self.next_start[host] = start + self.settings.poll_host_min_gap_s
            await asyncio.sleep(start - loop.time())
            yield


async def poll_one(client: httpx.AsyncClient, feed: Feed, known: Validators, settings: Settings, gate: HostGate) -> FeedResult:
    """Fetch and parse one feed; every outcome, good or bad, is a ``FeedResult`` naming the feed."""
    fetched_at = datetime.now(UTC)
    try:
        if feed.is_http:
            # The deadline starts once the host lets us in, and ends a server that trickles bytes.
            async with gate.enter(urlsplit(feed.fetch_url).hostname or ""), asyncio.timeout(settings.poll_timeout_s * 2):
                body, headers, resp = await fetch_http(client, feed, known, settings)
            moved, status = _permanent_redirect(resp), resp.status_code
            if body is None:
                return FeedResult(feed, "not_modified", http_status=304, validators=known, moved_to=moved)
            validators = Validators(resp.headers.get("etag"), resp.headers.get("last-modified"), _body_hash(body))
        else:
            body, headers, moved, status = read_file(feed, settings), {}, None, None
            validators = Validators(body_hash=_body_hash(body))
        if known.body_hash and validators.body_hash == known.body_hash:
            return FeedResult(feed, "not_modified", http_status=status, bytes_received=len(body), validators=validators, moved_to=moved)
        items, warning = parse_feed(feed, body, headers, settings, fetched_at)
        return FeedResult(feed, "ok", items, warning=warning, bytes_received=len(body), validators=validators, moved_to=moved,
                          http_status=status)  # fmt: skip
    except FeedError as exc:
        return FeedResult(feed, "failed", error=str(exc), error_kind=exc.kind, http_status=exc.http_status, retry_after=exc.retry_after)
    except TimeoutError:
        return FeedResult(feed, "failed", error=f"timed out after {settings.poll_timeout_s * 2:.0f} s", error_kind="timeout")
    except httpx.TooManyRedirects:
        return FeedResult(feed, "failed", error=f"more than {MAX_REDIRECTS} redirects", error_kind="redirect_loop")
    except httpx.TimeoutException as exc:
        return FeedResult(feed, "failed", error=f"timed out ({type(exc).__name__})", error_kind="timeout")
    except httpx.HTTPError as exc:
        return FeedResult(feed, "failed", error=f"{type(exc).__name__}: {exc}", error_kind="network")


def _permanent_redirect(resp: httpx.Response) -> str | None:
    if resp.history and all(r.status_code in (301, 308) for r in resp.history):
        return str(resp.url)
    return None


async def poll_feeds(
    feeds: list[Feed], settings: Settings, known: dict[str, Validators] | None = None, on_done: Callable[[FeedResult], None] | None = None
) -> list[FeedResult]:
    """Poll every feed concurrently (bounded overall and per host); results in the feeds' order."""
    known = known or {}
    overall = asyncio.Semaphore(settings.poll_concurrency)
    gate = HostGate(settings)
    timeout = httpx.Timeout(settings.poll_timeout_s, connect=min(10.0, settings.poll_timeout_s))
    limits = httpx.Limits(max_connections=settings.poll_concurrency)
    async with httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=True, max_redirects=MAX_REDIRECTS) as client:

        async def bounded(feed: Feed) -> FeedResult:
            async with overall:
                result = await poll_one(client, feed, known.get(feed.id, Validators()), settings, gate)
            if on_done:
                on_done(result)
            return result

        return await asyncio.gather(*(bounded(f) for f in feeds))
