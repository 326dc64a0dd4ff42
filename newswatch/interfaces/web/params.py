"""Request parameters shared by the pages and the API, so both ask the query layer the same question."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request

from newswatch.pipelines.clean import without_control_characters
from newswatch.query.alerts import AlertFilter
from newswatch.query.search import SearchRequest

Many = Annotated[list[str], Query()]


def _clean(values: list[str]) -> tuple[str, ...]:
    return tuple(v.strip() for v in values if v.strip())


def search_request(
    q: str = "",
    actor: Many = [],  # noqa: B006 (FastAPI copies defaults)
    topic: Many = [],  # noqa: B006
    source: Many = [],  # noqa: B006
    lang: Many = [],  # noqa: B006
    since: str = "",
    until: str = "",
    sort: str = "relevance",
    page: int = 1,
    size: int = 20,
) -> SearchRequest:
    """The search filters: the CLI's options as query parameters (repeat a filter to require several). The
    query loses control and bidirectional formatting characters: the page shows it back three times."""
    filters = (_clean(actor), _clean(topic), _clean(source), _clean(lang))
    return SearchRequest(without_control_characters(q), *filters, since.strip() or None, until.strip() or None, sort, page, size)


def alert_filter(rule: str = "", status: str = "", since: str = "", until: str = "", page: int = 1, size: int = 50) -> AlertFilter:
    """The inbox filters: rule id, delivery state (pending, failed, delivered), alert time range."""
    return AlertFilter(rule.strip() or None, status.strip() or None, since.strip() or None, until.strip() or None, page, size)


def es_of(request: Request):
    return request.app.state.es


def settings_of(request: Request):
    return request.app.state.settings
