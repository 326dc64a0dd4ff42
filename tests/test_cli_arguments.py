"""Arguments are checked before they reach Elasticsearch: a value out of bounds is one line saying the
bound, with exit code 2, never a traceback or a silently empty answer."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from newswatch.interfaces.cli import app

BAD_ARGUMENTS = [
    (
        ["search", "x", "--page", "100000"],
        "error: --page 100000: with --size 10 pages go up to 1000; narrow the search with filters instead",
    ),
    (["search", "x", "--page", "0"], "error: --page 0: pages start at 1"),
    (["search", "x", "--size", "500"], "error: --size 500: use 1 to 100"),
    (
        ["search", "x", "--since", "2020-13-45"],
        "error: --since '2020-13-45': use a relative age like 7d, 12h, 2w, or a date like 2020-09-13",
    ),
    (["search", "x", "--until", "yesterday"], "error: --until 'yesterday': use a relative age like 7d, 12h, 2w, or a date like 2020-09-13"),
    (["search", "x", "--since", "2020-09-10", "--until", "2020-09-01"], "error: --since 2020-09-10 is after --until 2020-09-01"),
    (["stats", "x", "--top", "0"], "error: --top 0: use 1 to 1000"),
    (
        ["stats", "x", "--since", "2020-02-30"],
        "error: --since '2020-02-30': use a relative age like 7d, 12h, 2w, or a date like 2020-09-13",
    ),
    (["alerts", "--size", "100000"], "error: --size 100000: use 1 to 10000"),
    (["alerts", "--size", "0"], "error: --size 0: use 1 to 10000"),
    (["alerts", "--state", "sent"], "error: --state 'sent': use pending, delivered, failed, no target"),
]


@pytest.mark.parametrize(("args", "line"), BAD_ARGUMENTS, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_an_argument_out_of_bounds_is_one_line_naming_the_bound(args, line):
    # checked before anything is asked of Elasticsearch: the address given has no server
    result = CliRunner().invoke(app, args, env={"NEWSWATCH_ES_URL": "http://127.0.0.1:9"})
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [line]
    assert result.stdout == ""


@pytest.mark.integration
def test_the_deepest_page_inside_the_result_window_is_answered(indexed):
    _, settings, _ = indexed
    result = CliRunner().invoke(
        app, ["search", "--page", "100", "--size", "100", "--json"], env={"NEWSWATCH_INDEX_PREFIX": settings.index_prefix}
    )
    assert result.exit_code == 0, result.output
    assert '"total": 3' in result.stdout and '"hits": []' in result.stdout


def test_a_zero_interval_for_serve_is_refused(tmp_path):
    rules = tmp_path / "w.yaml"
    rules.write_text("rules: []\n")
    result = CliRunner().invoke(app, ["serve", "--interval", "0", "--watchlist", str(rules)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: --interval 0: use 1 second or more"]


@pytest.mark.integration
@pytest.mark.parametrize("args", [["search", "x"], ["stats"], ["watch", "test", "kremlin-watch"], ["watch", "backfill", "kremlin-watch"]])
def test_asking_before_anything_is_indexed_is_one_line_saying_so(es_settings, args):
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (1, 2)
    assert result.stderr.splitlines() == [
        f"error: nothing is indexed under {es_settings.articles_alias} yet (setting index_prefix {es_settings.index_prefix!r}): "
        "run `newswatch run --once` first"
    ]
