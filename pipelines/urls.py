"""Canonical article URLs and the deterministic ids derived from them.

One story reached through ``?utm_source=twitter``, ``#comments``, ``m.`` or an ``/amp`` variant is
still one article: its id is a hash of the canonical URL, so a re-run or another feed that links the
same page upserts the same document instead of adding one.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

TRACKING_PARAMS = (
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid",
    "_ga", "_gl", "ref", "ref_src", "ref_url", "cmpid", "ito", "ncid", "sref", "smid", "taid", "guccounter",
    "outputType", "amp", "CMP", "mbid", "rss", "ocid", "src", "spm", "share", "s_cid", "at_medium", "at_campaign",
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "oly_", "vero_", "at_")
_MOBILE_HOST = re.compile(r"^(?:m|mobile|amp)\.(?=[^.]+\.[^.]+)")
_AMP_PATH = re.compile(r"(?:/amp/?$|/amp(?=/)|\.amp(?=\.html?$|$))")


class InvalidURLError(ValueError):
    """A link that cannot identify an article (not http(s), no host)."""


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL with a host that parses (``javascript:``, ``data:``, ``mailto:``, relative: no)."""
    try:
        parts = urlsplit(url.strip())
        return parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # "http://[::1", a port that is not a number
        return False


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, default port, tracking parameters, fragment and AMP/mobile variants gone."""
    url = (url or "").strip()
    if not is_http_url(url):
        raise InvalidURLError(f"not an http(s) article URL: {url[:200]!r}")
    parts = urlsplit(url)
    host = _MOBILE_HOST.sub("", parts.hostname.lower().rstrip("."))
    if host.startswith("www."):
        host = host[4:]
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    path = _AMP_PATH.sub("", parts.path).rstrip("/") or "/"
    query = _strip_tracking(parts.query)
    rebuilt = urlunsplit(("https", host + port, path, query, ""))
    canonical = urlsplit(canonicalize_url(rebuilt, keep_fragments=False))
    # w3lib may rewrite the path (backslashes, dot segments); trailing slashes are folded after it.
    return urlunsplit(canonical._replace(path=canonical.path.rstrip("/") or "/"))


def _strip_tracking(query: str) -> str:
    if not query:
        return ""
    cleaned = url_query_cleaner("?" + query, parameterlist=TRACKING_PARAMS, remove=True, keep_fragments=False)
    pairs = [p for p in cleaned.lstrip("?").split("&") if p and not p.lower().startswith(_TRACKING_PREFIXES)]
    return "&".join(pairs)


def stable_id(*parts: str) -> str:
    """A short, deterministic document id from its identifying parts."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def article_id(canonical: str) -> str:
    return stable_id("article", canonical)
