"""Feed health sorted for the web pages (failing first), and OPML import into the feed list.

The rows come from the query layer (``query.feeds.feed_health``, as the CLI shows them); this module
reads and writes the feed list, which belongs to flows/, a sibling of query/ in the layering.
"""

from __future__ import annotations

import ipaddress
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from elasticsearch import Elasticsearch

from newswatch.flows.feedlist import FeedListError, load_feeds, read_opml, write_opml, write_yaml
from newswatch.query.feeds import feed_health
from newswatch.query.search import QueryError
from newswatch.settings import Settings

SORTS = ("failing", "name", "last_success", "failures", "next_due")


def sorted_feed_health(es: Elasticsearch, settings: Settings, sort: str = "failing", descending: bool = False) -> list[dict[str, Any]]:
    """The query layer's feed health rows (the listed feeds, then any other feed with a record), sorted
    for a page: the failing ones first unless another order is asked for."""
    if sort not in SORTS:
        raise QueryError(f"sort {sort!r}: use one of {', '.join(SORTS)}")
    rows = feed_health(es, settings, load_feeds(settings.feeds_file, settings.local_feed_dirs), only_listed=False)
    rows = [{**r, "name": r["name"] or r["url"], "polled": r["status"] != "never polled"} for r in rows]
    return sorted(rows, key=_sort_key(sort), reverse=descending)


def _sort_key(sort: str):
    if sort == "failing":
        return lambda r: (-r["consecutive_failures"], r["name"].lower())
    if sort == "name":
        return lambda r: r["name"].lower()
    if sort == "failures":
        return lambda r: (r["consecutive_failures"], r["name"].lower())
    return lambda r: (r[f"{sort}_at"] or "", r["name"].lower())


MAX_OPML_BYTES = 5_000_000


def is_private_host(url: str) -> bool:
    """A URL whose host is ``localhost`` or a loopback, private, link-local or otherwise non-public IP address.

    Host names are not resolved here (a name's address can change before the poll): this refuses what
    an upload can name outright.
    """
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


def import_opml(settings: Settings, data: bytes) -> dict[str, list[str]]:
    """Add the http(s) feeds of an OPML document to the feed list; known URLs and local paths are skipped.

    Local paths are refused because an uploaded list must not make the poller read this machine's files;
    so are feeds on this machine's or the private network's addresses (an uploaded list must not make the
    poller probe internal services), unless setting ``web_import_private_feeds`` allows them.
    """
    if len(data) > MAX_OPML_BYTES:
        raise FeedListError(f"OPML upload: larger than {MAX_OPML_BYTES:,} bytes")
    with tempfile.TemporaryDirectory(prefix="newswatch-opml-") as tmp:
        upload = Path(tmp) / "upload.opml"
        upload.write_bytes(data)
        try:
            offered = read_opml(upload, local_dirs=())  # an upload never names a local file newswatch would read
        except FeedListError as exc:
            raise FeedListError(str(exc).replace(str(upload), "OPML upload")) from None
    path = Path(settings.feeds_file)
    listed = load_feeds(path, settings.local_feed_dirs) if path.exists() else []
    known = {f.url for f in listed}
    added = []
    for f in offered:
        if f.is_http and f.url not in known and (settings.web_import_private_feeds or not is_private_host(f.url)):
            added.append(f)
            known.add(f.url)
    skipped = [*offered.skipped_urls, *(f.url for f in offered if f not in added)]
    if added:
        writer = write_opml if path.suffix.lower() in (".opml", ".xml") else write_yaml
        path.write_text(writer([*listed, *added]) + "\n", encoding="utf-8")
    return {"added": [f.url for f in added], "skipped": skipped}
