"""Alerts end to end: a new item about a watched entity -> exactly one signed webhook; copies stay quiet."""

import asyncio
import json
import shutil
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newswatch.flows.delivery import deliver_pending
from newswatch.flows.feedlist import Feed
from newswatch.flows.poll import poll_feeds
from newswatch.flows.raw_store import RawStore
from newswatch.paths import SEEDS_DIR
from newswatch.pipelines.pipeline import run
from newswatch.settings import Settings
from newswatch.store import connect, ensure_indices
from tests.conftest import demo_batch
from tests.receiver import Receiver
from tests.test_e2e import newswatch

pytestmark = pytest.mark.integration
SECRET = "test-secret-not-for-production"
FEEDS = SEEDS_DIR / "demo" / "feeds"


def watchlist(path: Path, hook: str) -> Path:
    path.write_text(
        "rules:\n"
        "  - id: lukashenko\n"
        "    name: Lukashenko\n"
        "    entities: [{name: Alexander Lukashenko, aliases: [Lukashenko]}]\n"
        f"    deliver: [{{webhook: '{hook}', secret_env: NEWSWATCH_TEST_HOOK_SECRET}}]\n"
    )
    return path


def rss_with(items_from: Path, keep_titles: list[str]) -> str:
    """The demo feed reduced to the items whose titles start with one of ``keep_titles``."""
    text = items_from.read_text(encoding="utf-8")
    head, *items = text.split("<item>")
    kept = [i for i in items if any(f"<title>{t}" in i for t in keep_titles)]
    tail = "\n  </channel>\n</rss>\n"
    return head + "".join("<item>" + i.split("</item>")[0] + "</item>" for i in kept) + tail


def test_new_item_delivers_one_signed_webhook_and_a_copy_does_not(es_settings, tmp_path, serve_dir, monkeypatch):
    receiver = Receiver(SECRET).start()
    monkeypatch.setenv("NEWSWATCH_TEST_HOOK_SECRET", SECRET)
    site = tmp_path / "site"
    site.mkdir()
    base = serve_dir(site)
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"feeds:\n  - {{url: '{base}/mt.xml', source: The Moscow Times}}\n")
    rules = watchlist(tmp_path / "watch.yaml", receiver.url)
    env = {"NEWSWATCH_WATCHLIST_FILE": str(rules), "NEWSWATCH_FEEDS_FILE": str(feeds)}

    (site / "mt.xml").write_text(rss_with(FEEDS / "moscow-times.xml", ["Riverton"]))
    first = newswatch("run", "--once", env=env)
    assert first.returncode == 0, first.stderr[-2000:]
    assert receiver.received == []

    (site / "mt.xml").write_text(rss_with(FEEDS / "moscow-times.xml", ["Riverton", "Putin"]))
    second = newswatch("run", "--once", env=env)
    assert second.returncode == 0, second.stderr[-2000:]
    assert len(receiver.received) == 1
    delivery = receiver.received[0]
    assert delivery["verified"] and delivery["body"]["rule_id"] == "lukashenko"
    assert delivery["body"]["matched"][0]["term"] == "Alexander Lukashenko"

    shutil.copy(FEEDS / "demo-wire.xml", site / "wire.xml")
    feeds.write_text(feeds.read_text() + f"  - {{url: '{base}/wire.xml', source: Demo Wire}}\n")
    third = newswatch("run", "--once", env=env)
    assert third.returncode == 0, third.stderr[-2000:]
    assert len(receiver.received) == 1, "a syndicated copy of the story must not alert again"

    alerts = json.loads(newswatch("alerts", "--json", env=env).stdout)
    assert len(alerts) == 1
    assert alerts[0]["delivery"]["status"] == "delivered" and alerts[0]["delay_from_ingestion_s"] is not None
    receiver.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_receiver_that_is_down_gets_the_alert_once_it_is_back(es_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSWATCH_TEST_HOOK_SECRET", SECRET)
    port = free_port()
    settings = Settings(watchlist_file=watchlist(tmp_path / "w.yaml", f"http://127.0.0.1:{port}/hook"))
    es = connect(settings)
    ensure_indices(es, settings)
    (result,) = asyncio.run(poll_feeds([Feed(str(FEEDS / "moscow-times.xml"), source="The Moscow Times")], settings))
    run([RawStore(settings.data_dir).write_batch(result.items)], settings)

    down = deliver_pending(es, settings)
    assert (down.delivered, down.failed) == (0, 1)
    (alert,) = [h["_source"] for h in es.search(index=settings.alerts_index)["hits"]["hits"]]
    assert alert["delivery"]["status"] == "failed" and f"127.0.0.1:{port}" in alert["delivery"]["last_error"]
    assert deliver_pending(es, settings).failed == 0, "backoff: not retried before next_attempt_at"

    receiver = Receiver(SECRET, port).start()
    later = datetime.now(UTC) + timedelta(hours=2)
    assert deliver_pending(es, settings, now=later).delivered == 1
    assert deliver_pending(es, settings, now=later + timedelta(hours=2)).delivered == 0
    assert len(receiver.received) == 1 and receiver.received[0]["verified"]
    receiver.stop()


def demo_indexed_with(rules: Path) -> tuple:
    """The demo feeds run through the pipeline with these watchlist rules; (client, settings)."""
    settings = Settings(watchlist_file=rules)
    es = connect(settings)
    ensure_indices(es, settings)
    run([demo_batch(settings)], settings)
    return es, settings


def test_a_digest_rule_sends_one_message_per_period(es_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSWATCH_TEST_HOOK_SECRET", SECRET)
    receiver = Receiver(SECRET).start()
    rules = tmp_path / "digest.yaml"
    rules.write_text(
        "rules:\n"
        "  - id: belarus-digest\n"
        "    phrases: [Belarus, Lukashenko, Putin, Kremlin]\n"
        "    digest: hourly\n"
        f"    deliver: [{{webhook: '{receiver.url}', secret_env: NEWSWATCH_TEST_HOOK_SECRET}}]\n"
        "  - id: any-news\n"
        "    keywords: [bank, cycle]\n"
        "    digest: daily\n"
        f"    deliver: [{{webhook: '{receiver.url}', secret_env: NEWSWATCH_TEST_HOOK_SECRET}}]\n"
    )
    es, settings = demo_indexed_with(rules)

    assert deliver_pending(es, settings).waiting == 3 and receiver.received == []
    in_two_hours = deliver_pending(es, settings, now=datetime.now(UTC) + timedelta(hours=2))
    assert in_two_hours.delivered == 1 and in_two_hours.waiting == 2
    (digest,) = receiver.received
    assert digest["verified"] and digest["body"]["digest"] == "hourly" and len(digest["body"]["alerts"]) == 1
    assert deliver_pending(es, settings, now=datetime.now(UTC) + timedelta(days=2)).delivered == 2
    assert len(receiver.received) == 2 and len(receiver.received[1]["body"]["alerts"]) == 2
    receiver.stop()


def test_apprise_targets_get_plain_text_notifications(es_settings, tmp_path):
    receiver = Receiver("unused").start()
    rules = tmp_path / "apprise.yaml"
    rules.write_text(
        "rules:\n"
        "  - id: lukashenko\n"
        "    entities: [{name: Alexander Lukashenko}]\n"
        f"    deliver: [{{apprise: 'json://127.0.0.1:{receiver.port}/hook'}}]\n"
    )
    es, settings = demo_indexed_with(rules)
    assert deliver_pending(es, settings).delivered == 1
    (note,) = receiver.received
    assert note["body"]["title"] == "newswatch: lukashenko"
    assert "Putin to Back Belarus" in note["body"]["message"] and "matched: Alexander Lukashenko" in note["body"]["message"]
    receiver.stop()


def test_a_throttled_rule_delays_alerts_and_loses_none(es_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSWATCH_TEST_HOOK_SECRET", SECRET)
    receiver = Receiver(SECRET).start()
    rules = tmp_path / "throttle.yaml"
    rules.write_text(
        "rules:\n"
        "  - id: local-and-business\n"
        "    keywords: [bank, cycle]\n"
        "    throttle_per_hour: 1\n"
        f"    deliver: [{{webhook: '{receiver.url}', secret_env: NEWSWATCH_TEST_HOOK_SECRET}}]\n"
    )
    es, settings = demo_indexed_with(rules)
    first = deliver_pending(es, settings)
    assert (first.delivered, first.waiting) == (1, 1)
    assert deliver_pending(es, settings).delivered == 0, "still within the hour"
    assert deliver_pending(es, settings, now=datetime.now(UTC) + timedelta(hours=2)).delivered == 1
    assert len(receiver.received) == 2 and len({r["alert_id"] for r in receiver.received}) == 2
    receiver.stop()
