"""Feed lists: YAML (with per-feed options) and OPML (the RSS-reader convention), in and out."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import jsonschema
import yaml

from newswatch.paths import SCHEMAS_DIR
from newswatch.pipelines.urls import stable_id


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


def load_feeds(path: Path) -> list[Feed]:
    path = Path(path)
    if not path.exists():
        raise FeedListError(f"feed list {path}: file not found")
    if path.suffix.lower() in (".opml", ".xml"):
        return read_opml(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {"feeds": []}
        jsonschema.validate(data, json.loads((SCHEMAS_DIR / "feedlist.schema.json").read_text()))
    except yaml.YAMLError as exc:
        raise FeedListError(f"feed list {path}: not valid YAML: {exc}") from exc
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise FeedListError(f"feed list {path}: at {where}: {exc.message}") from exc
    list_max = data.get("max_interval_s")
    return [_feed({"max_interval_s": list_max, **entry}, path.parent) for entry in data["feeds"]]


def _feed(entry: dict, base: Path) -> Feed:
    url = entry["url"]
    if urlsplit(url).scheme not in ("http", "https", "file"):
        url = str((base / url).resolve())  # a path relative to the feed list
    options = {k: entry.get(k) for k in ("name", "source", "language", "interval_s", "max_interval_s")}
    return Feed(url, **options, tags=tuple(entry.get("tags", [])), full_text=bool(entry.get("full_text", False)))


def read_opml(path: Path) -> list[Feed]:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise FeedListError(f"feed list {path}: not valid OPML: {exc}") from exc
    feeds = []
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl")
        if url:
            name = outline.get("title") or outline.get("text")
            feeds.append(_feed({"url": url, "name": name, "language": outline.get("language")}, path.parent))
    return feeds


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
