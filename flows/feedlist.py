"""Feed lists: YAML (with per-feed options) and OPML (the RSS-reader convention), in and out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree as ET

import jsonschema
import yaml

from newswatch.paths import DEMO_FEEDS_DIR, SCHEMAS_DIR
from newswatch.pipelines.urls import is_http_url, stable_id


class FeedListError(ValueError):
    """A feed list that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Feed:
    url: str
    name: str | None = None
    source: str | None = None
    language: str | None = None
    interval_s: int | None = None
    max_interval_s: int | None = None  # a feed that must be fresh: its polling interval never grows past this
    tags: tuple[str, ...] = field(default_factory=tuple)
    full_text: bool = False
    moved_to: str | None = None  # where a permanent redirect sent it; polled there, known by its listed URL

    @property
    def fetch_url(self) -> str:
        return self.moved_to or self.url

    @property
    def id(self) -> str:
        return stable_id("feed", self.url)

    @property
    def is_http(self) -> bool:
        return urlsplit(self.url).scheme in ("http", "https")

    def describe(self) -> dict:
        """The feed as carried on every raw item."""
        return {"id": self.id, "url": self.url, "title": self.name, "source": self.source, "language": self.language,
                "tags": list(self.tags), "full_text": self.full_text}  # fmt: skip


class FeedList(list[Feed]):
    """The usable feeds of a list; ``skipped`` has one line for each entry that was left out, and why,
    ``skipped_urls`` those entries' URLs as listed."""

    def __init__(self, feeds: list[Feed] | None = None) -> None:
        super().__init__(feeds or [])
        self.skipped: list[str] = []
        self.skipped_urls: list[str] = []


def load_feeds(path: Path, local_dirs: Sequence[Path] = (DEMO_FEEDS_DIR,)) -> FeedList:
    """The feeds of a YAML or OPML list. A bad entry is skipped with its reason; a bad file raises ``FeedListError``.

    Only http(s) feeds are polled, and local feed files only inside ``local_dirs`` (setting local_feed_dirs):
    a feed list from elsewhere must not make newswatch read, index or probe the machine's files.
    """
    path = Path(path)
    if not path.exists():
        raise FeedListError(f"feed list {path}: file not found")
    if path.suffix.lower() in (".opml", ".xml"):
        return read_opml(path, local_dirs)
    return _checked(path, _read_yaml(path), local_dirs)


def read_opml(path: Path, local_dirs: Sequence[Path] = (DEMO_FEEDS_DIR,)) -> FeedList:
    return _checked(path, _opml_entries(path), local_dirs)


def _checked(path: Path, entries: list[dict], local_dirs: Sequence[Path]) -> FeedList:
    allowed = [Path(d).resolve() for d in local_dirs]
    feeds = FeedList()
    for n, entry in enumerate(entries, start=1):
        try:
            feeds.append(_feed(entry, path.parent, allowed))
        except ValueError as exc:
            feeds.skipped.append(f"feed list {path}: entry {n}: {exc}, skipped")
            if isinstance(entry.get("url"), str):
                feeds.skipped_urls.append(entry["url"])
    return feeds


def _read_yaml(path: Path) -> list[dict]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {"feeds": []}
    except yaml.YAMLError as exc:
        raise FeedListError(f"feed list {path}: not valid YAML: {exc}") from exc
    schema = json.loads((SCHEMAS_DIR / "feedlist.schema.json").read_text())
    bad: dict[int, str] = {}
    for err in jsonschema.validators.validator_for(schema)(schema).iter_errors(data):
        where = list(err.absolute_path)
        if len(where) >= 2 and where[0] == "feeds" and isinstance(where[1], int):  # one entry: skip it alone
            field = "/".join(str(p) for p in where[2:])
            bad.setdefault(where[1], f"{field}: {err.message}" if field else err.message)
        else:  # the list itself is unusable
            raise FeedListError(f"feed list {path}: at {'/'.join(str(p) for p in where) or '(top)'}: {err.message}")
    list_max = data.get("max_interval_s")
    return [
        {"invalid": bad[n], "url": entry.get("url") if isinstance(entry, dict) else None}
        if n in bad
        else {"max_interval_s": list_max, **entry}
        for n, entry in enumerate(data["feeds"])
    ]


def _feed(entry: dict, base: Path, allowed: list[Path]) -> Feed:
    if "invalid" in entry:
        raise ValueError(entry["invalid"])
    options = {k: entry.get(k) for k in ("name", "source", "language", "interval_s", "max_interval_s")}
    url = feed_location(entry["url"], base, allowed)
    return Feed(url, **options, tags=tuple(entry.get("tags", [])), full_text=bool(entry.get("full_text", False)))


def feed_location(url: str, base: Path, allowed: list[Path]) -> str:
    """An http(s) URL as it is, or a local path (``file://`` or relative to the list) inside an allowed folder."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme in ("http", "https") and not is_http_url(url):
            raise ValueError("no host, or a port that is not a number")
    except ValueError as exc:
        raise ValueError(f"invalid URL {url[:200]!r} ({exc})") from None
    if scheme in ("http", "https"):
        return url.strip()
    if scheme not in ("", "file"):
        raise ValueError(f"unsupported scheme {scheme!r} in {url[:200]!r} (feeds are http or https)")
    local = (base / (unquote(parts.path) if scheme == "file" else url.strip())).resolve()
    if not any(local.is_relative_to(d) for d in allowed):
        raise ValueError(f"local feed file {url.strip()[:200]!r} ({local}) is outside the folders allowed by setting local_feed_dirs")
    return str(local)


def _opml_entries(path: Path) -> list[dict]:
    """The entries of an OPML list (outlines with an ``xmlUrl``), in the YAML list's shape."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise FeedListError(f"feed list {path}: not valid OPML: {exc}") from exc
    return [
        {"url": o.get("xmlUrl"), "name": o.get("title") or o.get("text"), "language": o.get("language")}
        for o in root.iter("outline")
        if o.get("xmlUrl")
    ]


def write_opml(feeds: list[Feed]) -> str:
    root = ET.Element("opml", version="2.0")
    ET.SubElement(ET.SubElement(root, "head"), "title").text = "newswatch feeds"
    body = ET.SubElement(root, "body")
    for f in feeds:
        attrs = {"type": "rss", "text": f.name or f.url, "title": f.name or f.url, "xmlUrl": f.url}
        if f.language:
            attrs["language"] = f.language
        ET.SubElement(body, "outline", attrs)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def write_yaml(feeds: list[Feed]) -> str:
    entries = [{k: v for k, v in asdict(f).items() if v not in (None, ()) and k != "moved_to"} for f in feeds]
    for e in entries:
        if "tags" in e:
            e["tags"] = list(e["tags"])
    return yaml.safe_dump({"feeds": entries}, sort_keys=False, allow_unicode=True)
