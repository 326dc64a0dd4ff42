"""The Elasticsearch side: connecting, applying the index templates, and clear errors when it is down."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from elasticsearch import ApiError, BadRequestError, Elasticsearch, TransportError

from newswatch.paths import SCHEMAS_DIR
from newswatch.settings import Settings


class StoreUnavailable(RuntimeError):
    """Elasticsearch cannot be used right now; articles stay in the raw store for the next run."""


def safe_url(url: str) -> str:
    """The URL without credentials, fit for logs and errors."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}{parts.path.rstrip('/')}"


def connect(settings: Settings) -> Elasticsearch:
    return Elasticsearch(**settings.es_client_kwargs())


def check_available(es: Elasticsearch, settings: Settings) -> str:
    """The cluster's health status, or ``StoreUnavailable`` with one line that names the server."""
    where = safe_url(settings.es_url)
    try:
        return str(es.cluster.health(timeout="5s")["status"])
    except ApiError as exc:
        if exc.meta.status == 401:
            raise StoreUnavailable(
                f"Elasticsearch at {where} refused the credentials (HTTP 401): check NEWSWATCH_ES_USERNAME/PASSWORD or API key"
            ) from None
        raise StoreUnavailable(f"Elasticsearch at {where} answered HTTP {exc.meta.status}: {exc.message}") from None
    except TransportError as exc:
        raise StoreUnavailable(f"Elasticsearch at {where} is unreachable ({type(exc).__name__}: {_first_line(exc)})") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _template(name: str) -> dict[str, Any]:
    body = json.loads((SCHEMAS_DIR / "elasticsearch" / f"{name}.template.json").read_text())
    body.pop("_comment", None)
    return body


def ensure_indices(es: Elasticsearch, settings: Settings) -> None:
    """Apply the templates and create the indices and the articles alias; safe to run every time.

    Every index newswatch creates has a template here, so each follows the es_shards/es_replicas settings.
    """
    layout = {
        "articles": f"{settings.articles_alias}-*",
        "copies": settings.copies_index,
        "alerts": settings.alerts_index,
        "feeds": settings.feeds_index,
        "deadletter": settings.deadletter_index,
    }
    shards = {"number_of_shards": settings.es_shards, "number_of_replicas": settings.es_replicas}
    for name, pattern in layout.items():
        body = _template("articles" if name == "copies" else name)
        body["index_patterns"] = [pattern]
        body["template"].setdefault("settings", {}).setdefault("index", {}).update(shards)
        es.indices.put_index_template(name=f"{settings.index_prefix}-{name}", **body)
    if not es.indices.exists_alias(name=settings.articles_alias):
        _create(es, f"{settings.articles_alias}-000001", aliases={settings.articles_alias: {"is_write_index": True}})
    for index in (layout["copies"], settings.alerts_index, settings.feeds_index, settings.deadletter_index):
        _create(es, index)
    _follow_replicas(es, settings, [settings.articles_alias, *list(layout.values())[1:]])
    _add_missing_subfields(es, [settings.articles_alias, settings.copies_index])


def _add_missing_subfields(es: Elasticsearch, indices: list[str]) -> None:
    """An articles index an earlier version made gains the subfields its template has added since (such as
    ``text.words``), so the articles indexed from now on are searched as new ones are; older ones keep the
    analysis they were indexed with until they are re-indexed."""
    wanted = _template("articles")["template"]["mappings"]["properties"]
    for index, body in es.indices.get_mapping(index=",".join(indices)).items():
        have = body["mappings"].get("properties", {})
        grown = {
            name: {**have[name], "fields": {**_same_offsets(spec["fields"], have[name]), **have[name].get("fields", {})}}
            for name, spec in wanted.items()
            if name in have and not spec.get("fields", {}).keys() <= have[name].get("fields", {}).keys()
        }
        if grown:
            es.indices.put_mapping(index=index, properties=grown)


def _same_offsets(subfields: dict[str, dict], parent: dict) -> dict[str, dict]:
    """Text subfields that keep their field's offsets (postings offsets or term vectors, as older versions
    indexed them): highlighting through ``matched_fields`` needs one offset source, else it fails or is empty."""
    kept = {k: parent[k] for k in ("index_options", "term_vector") if k in parent}
    return {name: {**spec, **kept} if spec.get("type") == "text" else spec for name, spec in subfields.items()}


def _follow_replicas(es: Elasticsearch, settings: Settings, indices: list[str]) -> None:
    """An index made before its template existed (older versions' dead-letter index) takes the replicas setting too."""
    current = es.indices.get_settings(index=",".join(indices), name="index.number_of_replicas")
    off = [name for name, body in current.items() if body["settings"]["index"]["number_of_replicas"] != str(settings.es_replicas)]
    if off:
        es.indices.put_settings(index=",".join(off), settings={"index": {"number_of_replicas": settings.es_replicas}})


def _create(es: Elasticsearch, index: str, **body: Any) -> None:
    """Create an index unless it exists; another worker creating it at the same moment is fine."""
    if es.indices.exists(index=index):
        return
    try:
        es.indices.create(index=index, **body)
    except BadRequestError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
