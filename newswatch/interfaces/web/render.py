"""Turning data into HTML safely: autoescaped templates, highlight markers, links only for http(s)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChainableUndefined, Environment, FileSystemLoader
from markupsafe import Markup, escape

from newswatch.interfaces.formatting import duration
from newswatch.query.search import HIGHLIGHT

_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True, undefined=ChainableUndefined)
templates = Jinja2Templates(env=_env)


def marked(text: str | None) -> Markup:
    """Feed text with the search engine's highlight markers: everything escaped, then the markers as <mark>."""
    safe = str(escape(text or ""))
    return Markup(safe.replace(HIGHLIGHT[0], "<mark>").replace(HIGHLIGHT[1], "</mark>"))


def plain(text: str | None) -> str:
    return (text or "").replace(HIGHLIGHT[0], "").replace(HIGHLIGHT[1], "")


def http_url(url: str | None) -> str | None:
    """The URL if it is http(s) (the only links a page may carry), else None."""
    if not url or not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def when(value: str | None, with_time: bool = True) -> str:
    if not value:
        return "–"
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value[:16]
    return dt.strftime("%Y-%m-%d %H:%M UTC" if with_time else "%Y-%m-%d")


def url_with(request: Request, drop: tuple[str, ...] = ("page",), **changes: object) -> str:
    """This page's URL with some parameters changed: ``add_actor='X'`` adds, ``del_actor='X'`` removes one value."""
    items = [(k, v) for k, v in request.query_params.multi_items() if v and k not in drop]
    for key, value in changes.items():
        op, _, name = key.partition("_")
        if op == "add" and (name, str(value)) not in items:
            items.append((name, str(value)))
        elif op == "del":
            items = [(k, v) for k, v in items if (k, v) != (name, str(value))]
        elif op == "set":
            items = [(k, v) for k, v in items if k != name] + ([(name, str(value))] if value not in (None, "") else [])
    return f"{request.url.path}?{urlencode(items)}" if items else request.url.path


def bars(points: list[tuple[str, int]], width: int = 600, height: int = 120) -> list[dict]:
    """Bar geometry for the SVG chart: one bar per bucket, scaled to the tallest, at most 48 units wide."""
    if not points:
        return []
    top = max(n for _, n in points) or 1
    step = width / len(points)
    bar = min(max(step * 0.8, 1), 48)
    return [
        {"key": period(k), "count": n, "x": round(i * step + (step - bar) / 2, 2), "w": round(bar, 2),
         "h": round(n / top * (height - 4), 2), "y": round(height - n / top * (height - 4), 2)}
        for i, (k, n) in enumerate(points)
    ]  # fmt: skip


def period(key: str) -> str:
    """A timeline bucket for people: 2020-09-13, or 2020-09-13 11:00 for an hour."""
    return f"{key.replace('T', ' ')}:00" if len(key) == 13 else key


_env.filters.update(marked=marked, plain=plain, when=when, duration=duration, period=period)
_env.globals.update(http_url=http_url, url_with=url_with, bars=bars)
