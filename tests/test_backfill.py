"""`newswatch watch backfill RULE`: the alerts a new rule would have raised on articles already indexed,
once per story cluster, listed with --dry-run or raised and delivered; running it again, or a later run
that sees another copy of the same story, raises nothing twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newswatch.interfaces.cli import app

pytestmark = pytest.mark.integration
BELARUS = "Putin to Back Belarus ‘Succession’ but Not Street Protests, Bloomberg Says"


@pytest.fixture
def new_rule(indexed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The demo indexed, then a rule added that no run has applied yet (in the user's own watchlist)."""
    es, settings, _ = indexed
    monkeypatch.setenv("COLUMNS", "300")
    added = CliRunner().invoke(app, ["watch", "add", "belarus", "--keyword", "Belarus", "--jsonl", str(tmp_path / "out.jsonl")])
    assert added.exit_code == 0, added.output
    return es, settings, tmp_path / "out.jsonl"


def backfill(*args: str) -> dict:
    result = CliRunner().invoke(app, ["watch", "backfill", "belarus", "--since", "3650d", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def rule_alerts(es, settings) -> list[dict]:
    es.indices.refresh(index=settings.alerts_index)
    return [h["_source"] for h in es.search(index=settings.alerts_index, query={"term": {"rule_id": "belarus"}})["hits"]["hits"]]


def test_a_dry_run_lists_then_backfill_raises_and_delivers_once_per_story(new_rule):
    es, settings, delivered_to = new_rule
    plan = backfill("--dry-run")
    # two demo articles mention Belarus, but they are one story (a syndicated copy): one alert
    assert [(a["title"], a["exists"]) for a in plan["alerts"]] == [(BELARUS, False)]
    assert plan["alerts_raised"] == 0
    assert rule_alerts(es, settings) == [] and not delivered_to.exists()
    first = backfill()
    assert first["alerts_raised"] == 1
    assert first["delivered"] >= 1  # delivery is a run's: every due alert goes, the demo rules' pending ones too
    assert [json.loads(line)["title"] for line in delivered_to.read_text().splitlines()] == [BELARUS]
    again = backfill()
    assert (again["alerts_raised"], [a["exists"] for a in again["alerts"]]) == (0, [True])
    assert len(rule_alerts(es, settings)) == 1 and len(delivered_to.read_text().splitlines()) == 1


def test_backfill_as_a_table_says_what_it_raised_and_delivered(new_rule):
    result = CliRunner().invoke(app, ["watch", "backfill", "belarus", "--since", "3650d"])
    assert result.exit_code == 0, result.output
    assert BELARUS in result.stdout and "new" in result.stdout
    assert "raised 1 alerts; delivered " in result.stdout and "Traceback" not in result.output


def test_a_later_run_seeing_another_copy_of_the_story_does_not_alert_again(new_rule):
    from newswatch.flows.raw_store import RawStore
    from newswatch.pipelines.pipeline import run
    from tests.conftest import demo_batch

    es, settings, _ = new_rule
    backfill()
    store = RawStore(settings.data_dir)
    copy = [dict(it) for it in store.read(demo_batch(settings)) if it["title"] == BELARUS]
    for it in copy:
        it["link"] = it["guid"] = "https://another-outlet.example/2020/09/13/putin-belarus-succession"
    report = run([store.write_batch(copy)], settings)
    assert report.counters.get("copies_created") == 1  # the same story, folded into its cluster
    assert report.counters.get("alerts_created", 0) == 0
    assert [a["title"] for a in rule_alerts(es, settings)] == [BELARUS]


def test_an_unknown_rule_or_a_bad_since_is_one_line(es_settings):
    assert CliRunner().invoke(app, ["watch", "add", "belarus", "--keyword", "Belarus"]).exit_code == 0
    result = CliRunner().invoke(app, ["watch", "backfill", "nope"])
    assert result.exit_code == 2 and result.stderr.splitlines()[0].endswith("no rule with id 'nope'")
    result = CliRunner().invoke(app, ["watch", "backfill", "belarus", "--since", "last week"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: --since 'last week': use a relative age like 7d, 12h, 2w, or a date like 2020-09-13"]
