"""`newswatch alerts --state pending|delivered|failed|"no target"` lists only the alerts in that delivery state, and
the run summary says how many alerts still wait when the flow reports it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newswatch.interfaces.cli import app, print_report
from tests.conftest import demo_batch


@pytest.fixture
def delivered_and_failed(es_settings, tmp_path: Path):
    """Two rules on the demo articles: one delivers to a file, one to a webhook nobody listens on."""
    from newswatch.flows.delivery import deliver_pending
    from newswatch.pipelines.pipeline import run
    from newswatch.store import connect, ensure_indices

    rules = tmp_path / "w.yaml"
    rules.write_text(
        "rules:\n"
        f"  - {{id: harbour, keywords: [Harbour Bank], deliver: [{{jsonl: '{tmp_path}/alerts.jsonl'}}]}}\n"
        "  - {id: riverton, keywords: [Riverton], deliver: [{webhook: 'http://127.0.0.1:9/hook'}]}\n"
    )
    settings = es_settings.model_copy(update={"watchlist_file": rules})
    es = connect(settings)
    ensure_indices(es, settings)
    assert run([demo_batch(settings)], settings).counters["alerts_created"] == 2
    deliver_pending(es, settings)
    es.indices.refresh(index=settings.alerts_index)
    return settings


def alerts(*args: str) -> list[dict]:
    result = CliRunner().invoke(app, ["alerts", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.integration
def test_alerts_filter_by_delivery_state(delivered_and_failed):
    assert [a["rule_id"] for a in alerts("--state", "delivered")] == ["harbour"]
    assert [a["rule_id"] for a in alerts("--state", "failed")] == ["riverton"]
    assert alerts("--state", "pending") == []
    assert sorted(a["rule_id"] for a in alerts()) == ["harbour", "riverton"]
    assert [a["rule_id"] for a in alerts("--state", "failed", "--rule", "harbour")] == []


@pytest.mark.integration
def test_an_alert_of_a_rule_without_targets_is_listed_as_no_target_and_never_counted_delivered(es_settings, tmp_path: Path):
    from newswatch.flows.delivery import deliver_pending
    from newswatch.pipelines.pipeline import run
    from newswatch.store import connect, ensure_indices

    rules = tmp_path / "w.yaml"
    rules.write_text("rules:\n  - {id: harbour, keywords: [Harbour Bank]}\n")
    settings = es_settings.model_copy(update={"watchlist_file": rules})
    es = connect(settings)
    ensure_indices(es, settings)
    assert run([demo_batch(settings)], settings).counters["alerts_created"] == 1
    report = deliver_pending(es, settings)
    assert (report.delivered, report.failed, report.pending) == (0, 0, 0)
    es.indices.refresh(index=settings.alerts_index)
    assert [a["rule_id"] for a in alerts("--state", "no target")] == ["harbour"]
    assert alerts("--state", "delivered") == [] and alerts("--state", "pending") == []


def test_the_run_summary_says_how_many_alerts_wait(capsys):
    print_report(
        {"alerts": 3, "alerts_delivered": 1, "alerts_pending": 2, "pending_reason": "2 failed now, retried with backoff", "errors": []}
    )
    printed = capsys.readouterr().out
    assert "alerts pending" in printed
    assert "2 alerts wait: 2 failed now, retried with backoff" in printed
