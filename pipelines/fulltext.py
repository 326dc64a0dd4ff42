"""Optional full text for feeds that carry only summaries: fetch the page politely, extract with trafilatura.

Off by default (setting ``fulltext_enabled``, or ``full_text: true`` per feed). The same limits as
polling apply (timeout, size cap, User-Agent), and private, loopback and link-local addresses are
refused unless ``fulltext_allow_private`` is set, so a feed cannot make newswatch probe the network.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import httpx
import trafilatura

from newswatch.settings import Settings


class FullTextError(RuntimeError):
    """The page could not be fetched or held no article text; the message names the URL."""


def _is_private(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        raise FullTextError(f"{host}: cannot resolve ({exc.strerror})") from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            return True
    return False


def fetch_full_text(url: str, settings: Settings) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FullTextError(f"{url}: not an http(s) URL")
    if not settings.fulltext_allow_private and _is_private(parts.hostname):
        raise FullTextError(f"{url}: refused, {parts.hostname} is a private or loopback address (setting fulltext_allow_private)")
    try:
        with httpx.stream("GET", url, headers={"User-Agent": settings.user_agent}, timeout=settings.poll_timeout_s,
                          follow_redirects=True) as resp:  # fmt: skip
            if resp.status_code >= 400:
                raise FullTextError(f"{url}: HTTP {resp.status_code}")
            body = bytearray()
            for chunk in resp.iter_bytes():
                body += chunk
                if len(body) > settings.poll_max_bytes:
                    raise FullTextError(f"{url}: page exceeds poll_max_bytes={settings.poll_max_bytes}")
    except httpx.HTTPError as exc:
        raise FullTextError(f"{url}: {type(exc).__name__}") from None
    text = trafilatura.extract(bytes(body), url=url, include_comments=False, include_tables=False, favor_precision=True)
    if not text:
        raise FullTextError(f"{url}: no article text found on the page")
    return text
