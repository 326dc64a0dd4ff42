"""Backfill from the web: the CLI's ``watch backfill`` (query.backfill), then delivery as a run does."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from newswatch.flows.delivery import deliver_pending
from newswatch.query.backfill import plan_backfill, run_backfill
from newswatch.settings import Settings

SHOWN = ("id", "cluster_id", "title", "source", "published_at", "exists")


def backfill(es: Elasticsearch, settings: Settings, rule_id: str, since: str = "30d", dry_run: bool = False) -> dict:
    """What the backfill found and raised; new alerts are delivered right away (every due alert, as a run)."""
    done = plan_backfill(es, settings, rule_id, since) if dry_run else run_backfill(es, settings, rule_id, since)
    delivery = deliver_pending(es, settings) if done.created else None
    return {"rule": rule_id, "since": since, "dry_run": dry_run, "articles_checked": done.articles_checked,
            "stories": len(done.alerts), "new_alerts": len(done.new), "alerts_raised": done.created,
            "delivered": delivery.delivered if delivery else 0, "deliveries_failed": delivery.failed if delivery else 0,
            "alerts": [{k: a.get(k) for k in SHOWN} for a in done.alerts]}  # fmt: skip
