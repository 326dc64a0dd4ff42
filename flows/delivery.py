"""Alert delivery: a signed webhook, Apprise URLs (email, Slack, Telegram, Teams, ...) and a JSONL file.

Delivery runs after indexing and never blocks it. Each target is tried, retried with backoff and
recorded on the alert in Elasticsearch; an alert is marked delivered only after every target took it.
The alert id travels with every delivery, so a receiver can drop the rare repeat after a crash.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from elasticsearch import ConflictError, Elasticsearch

from newswatch.settings import Settings

SIGNATURE_HEADER = "X-Newswatch-Signature"
ALERT_ID_HEADER = "X-Newswatch-Alert-Id"
MAX_BACKOFF = timedelta(hours=1)
DIGEST_PERIODS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}


class DeliveryError(RuntimeError):
    """A target did not take the alert; the message names the target (never its secret)."""


def sign(body: bytes, secret: str) -> str:
    """HMAC-SHA256 of the exact body, as 'sha256=<hex>' (the GitHub webhook convention)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str) -> bool:
    return hmac.compare_digest(sign(body, secret), signature)


def payload(alert: dict) -> dict:
    """What receivers get: the alert without its delivery bookkeeping."""
    return {k: v for k, v in alert.items() if k != "delivery"}


def target_name(target: dict) -> str:
    if "webhook" in target:
        return f"webhook {target['webhook']}"
    if "apprise" in target:
        return f"apprise {target['apprise'].split('://', 1)[0]}://…"
    return f"jsonl {target.get('jsonl')}"


def send_webhook(target: dict, alert: dict, timeout_s: float) -> None:
    body = json.dumps(payload(alert), ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json", ALERT_ID_HEADER: alert["id"]}
    secret_env = target.get("secret_env")
    if secret_env:
        secret = os.environ.get(secret_env)
        if not secret:
            raise DeliveryError(f"{target_name(target)}: the signing secret variable {secret_env} is not set")
        headers[SIGNATURE_HEADER] = sign(body, secret)
    try:
        resp = httpx.post(target["webhook"], content=body, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{target_name(target)}: {type(exc).__name__}") from None
    if resp.status_code >= 300:
        raise DeliveryError(f"{target_name(target)}: HTTP {resp.status_code}")


def send_jsonl(target: dict, alert: dict, _timeout_s: float) -> None:
    path = Path(target["jsonl"])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(payload(alert), ensure_ascii=False) + "\n")


def send_apprise(target: dict, alert: dict, _timeout_s: float) -> None:
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(target["apprise"]):
        raise DeliveryError(f"{target_name(target)}: not a URL Apprise understands")
    if "alerts" in alert:  # a digest
        body = "\n".join(f"- {a.get('title', '')} {a.get('url') or ''}" for a in alert["alerts"])
    else:
        terms = ", ".join(m["term"] for m in alert.get("matched", []))
        body = f"{alert.get('title', '')}\n{alert.get('url') or ''}\nmatched: {terms}"
    # Text from feeds is sent as plain text, never as markup.
    if not notifier.notify(
        title=f"newswatch: {alert.get('rule_name', alert['rule_id'])}", body=body, body_format=apprise.NotifyFormat.TEXT
    ):
        raise DeliveryError(f"{target_name(target)}: notification failed")


SENDERS: dict[str, Callable[[dict, dict, float], None]] = {"webhook": send_webhook, "jsonl": send_jsonl, "apprise": send_apprise}


def deliver_one(alert: dict, timeout_s: float) -> tuple[list[str], dict[str, str]]:
    """Try every target not yet done; returns (targets now done, errors by target)."""
    delivery = alert.get("delivery", {})
    done = list(delivery.get("done", []))
    errors: dict[str, str] = {}
    for target in delivery.get("targets", []):
        name = target_name(target)
        if name in done:
            continue
        kind = next((k for k in SENDERS if k in target), None)
        try:
            if kind is None:
                raise DeliveryError(f"{name}: unknown delivery target {sorted(target)}")
            SENDERS[kind](target, alert, timeout_s)
            done.append(name)
        except DeliveryError as exc:
            errors[name] = str(exc)
        except OSError as exc:
            errors[name] = f"{name}: {exc.strerror or type(exc).__name__}"
    return done, errors


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    waiting: int = 0


def deliver_pending(es: Elasticsearch, settings: Settings, now: datetime | None = None, timeout_s: float = 10.0) -> DeliveryReport:
    """Deliver every alert that is due; record each outcome with optimistic concurrency (no double send)."""
    now = now or datetime.now(UTC)
    es.indices.refresh(index=settings.alerts_index)
    resp = es.search(
        index=settings.alerts_index,
        query={
            "bool": {
                "filter": [{"terms": {"delivery.status": ["pending", "failed"]}}],
                "must_not": [{"range": {"delivery.next_attempt_at": {"gt": now.isoformat()}}}],
            }
        },
        sort=[{"alerted_at": "asc"}],
        size=500,
        seq_no_primary_term=True,
    )
    report = DeliveryReport()
    digests: dict[str, list[dict]] = {}
    for hit in resp["hits"]["hits"]:
        alert = hit["_source"]
        if alert.get("delivery", {}).get("digest"):
            digests.setdefault(alert["rule_id"], []).append(hit)
        elif _throttled(es, settings, alert, now):
            report.waiting += 1
        else:
            _record(es, hit, *deliver_one(alert, timeout_s), now, report)
    for hits in digests.values():
        alerts = [h["_source"] for h in hits]
        period = DIGEST_PERIODS[alerts[0]["delivery"]["digest"]]
        if now - min(datetime.fromisoformat(a["alerted_at"]) for a in alerts) < period:
            report.waiting += len(hits)
            continue
        done, errors = deliver_one(digest_message(alerts), timeout_s)
        for hit in hits:
            _record(es, hit, done, errors, now, report)
    return report


def digest_message(alerts: list[dict]) -> dict:
    """One message for a rule's accumulated alerts; its id is stable for the same set of alerts."""
    first = alerts[0]
    ids = sorted(a["id"] for a in alerts)
    return {
        "id": hashlib.sha256("\x1f".join(["digest", *ids]).encode()).hexdigest()[:32],
        "rule_id": first["rule_id"],
        "rule_name": first.get("rule_name", first["rule_id"]),
        "digest": first["delivery"]["digest"],
        "title": f"{len(alerts)} new stories for {first.get('rule_name', first['rule_id'])}",
        "alerts": [payload(a) for a in alerts],
        "matched": [],
        "delivery": {"targets": first["delivery"].get("targets", []), "done": []},
    }


def _record(es: Elasticsearch, hit: dict, done: list[str], errors: dict[str, str], now: datetime, report: DeliveryReport) -> None:
    """Store one alert's delivery outcome; a conflicting write means another worker recorded it first."""
    delivery = dict(hit["_source"].get("delivery", {}))
    attempts = int(delivery.get("attempts", 0)) + 1
    delivery.update(done=done, attempts=attempts)
    if errors:
        delivery.update(
            status="failed",
            last_error="; ".join(errors.values()),
            next_attempt_at=(now + min(MAX_BACKOFF, timedelta(seconds=5 * 2 ** min(attempts, 10)))).isoformat(),
        )
        report.failed += 1
    else:
        delivery.update(status="delivered", delivered_at=datetime.now(UTC).isoformat(), last_error=None, next_attempt_at=None)
        report.delivered += 1
    with contextlib.suppress(ConflictError):
        es.update(index=hit["_index"], id=hit["_id"], doc={"delivery": delivery}, if_seq_no=hit["_seq_no"],
                  if_primary_term=hit["_primary_term"], refresh="wait_for")  # fmt: skip


def _throttled(es: Elasticsearch, settings: Settings, alert: dict, now: datetime) -> bool:
    limit = alert.get("delivery", {}).get("throttle_per_hour")
    if not limit:
        return False
    recent = es.count(
        index=settings.alerts_index,
        query={
            "bool": {
                "filter": [
                    {"term": {"rule_id": alert["rule_id"]}},
                    {"term": {"delivery.status": "delivered"}},
                    {"range": {"delivery.delivered_at": {"gte": (now - timedelta(hours=1)).isoformat()}}},
                ]
            }
        },
    )["count"]
    return recent >= limit
