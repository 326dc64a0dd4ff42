"""Search accepts AND, OR and NOT as users type them, with AND binding tighter than OR; the README's
examples, run on the real Elasticsearch over the demo articles."""

from __future__ import annotations

import pytest

from newswatch.query.search import QueryError, SearchRequest, matching, search, simple_query

HARBOUR = "Harbour Bank reports higher quarterly profit as lending grows"
RIVERTON = "Riverton council approves new cycle lanes after long debate"
BELARUS = "Putin to Back Belarus ‘Succession’ but Not Street Protests, Bloomberg Says"

# (what a user types, the simple_query_string it runs as, the demo articles it finds) — as in the README
EXAMPLES = [
    ("Harbour OR Riverton", "Harbour | Riverton", {HARBOUR, RIVERTON}),
    ("Belarus AND Lukashenko", "Belarus Lukashenko", {BELARUS}),
    ("Belarus NOT Harbour", "Belarus -Harbour", {BELARUS}),
    ("NOT (Belarus OR Harbour)", "-(Belarus | Harbour)", {RIVERTON}),
    ("Harbour OR Belarus Kremlin", "Harbour | (Belarus Kremlin)", {HARBOUR, BELARUS}),
    ("Riverton OR Harbour NOT lending", "Riverton | (Harbour -lending)", {RIVERTON}),
    ('"cycle lanes" OR "quarterly profit"', '"cycle lanes" | "quarterly profit"', {HARBOUR, RIVERTON}),
]


@pytest.mark.parametrize(("typed", "run_as", "_"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_operators_are_translated(typed, run_as, _):
    assert simple_query(typed) == run_as


def test_operator_words_with_nothing_to_join_are_words_and_two_nots_cancel():
    assert [simple_query(q) for q in ("AND", "OR OR", "NOT", "(NOT)")] == ["AND", "OR OR", "NOT", "(NOT)"]
    assert simple_query("NOT NOT Belarus") == "Belarus"
    assert simple_query("Harbour NOT NOT NOT Belarus") == "Harbour -Belarus"


def test_queries_without_operator_words_are_left_alone():
    for query in ('Lukashenko "street protests"', "a | b -c", "or and not", '"Google OR Slack"', "(a b"):
        assert simple_query(query) == query


@pytest.mark.integration
def test_each_example_finds_what_it_says_on_the_real_elasticsearch(indexed):
    es, settings, _ = indexed
    for typed, run_as, titles in EXAMPLES:
        typed_result = search(es, settings, SearchRequest(typed))
        raw_result = search(es, settings, SearchRequest(run_as))
        assert {h["title"] for h in typed_result["hits"]} == titles, typed
        assert {h["title"] for h in raw_result["hits"]} == titles, run_as
        assert typed_result["query_as_run"] == run_as


@pytest.mark.integration
def test_or_and_not_no_longer_return_nothing(indexed):
    """The reported bug: 'Google OR Slack' and 'Google NOT Slack' silently found 0 articles."""
    es, settings, _ = indexed
    assert search(es, settings, SearchRequest("Harbour OR Slack"))["total"] == 1
    assert search(es, settings, SearchRequest("Harbour NOT Slack"))["total"] == 1


def test_titles_quote_the_query_as_typed_and_count_in_words():
    assert matching(1, '"Lukashenko\'s disputed"') == '1 article matches “"Lukashenko\'s disputed"”'
    assert matching(1_234, "Putin") == "1,234 articles match “Putin”"


@pytest.mark.integration
def test_a_page_long_query_that_elasticsearch_refuses_is_one_short_line(indexed):
    es, settings, _ = indexed
    query = " | ".join(f"word{i}" for i in range(5000))  # more clauses than Elasticsearch takes
    with pytest.raises(QueryError) as refused:
        search(es, settings, SearchRequest(query))
    message = str(refused.value)
    assert message.startswith("Elasticsearch rejected the query “word0 | word1") and f"({len(query):,} characters)" in message
    assert len(message) < 600 and "\n" not in message
