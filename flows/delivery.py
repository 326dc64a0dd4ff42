"""Alert delivery: a signed webhook, Apprise URLs (email, Slack, Telegram, Teams, ...) and a JSONL file.

Delivery runs after indexing and never blocks it. Each target is tried, retried with backoff and
recorded on the alert in Elasticsearch; an alert is marked delivered only after every target took it.
The alert id travels with every delivery, so a receiver can drop the rare repeat after a crash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from elasticsearch import Elasticsearch, helpers

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


class Session:
    """One delivery round's shared means: one HTTP connection pool, and bounded parallelism per target
    (a URL takes ``per_target`` deliveries at a time, a JSONL file one)."""

    def __init__(self, timeout_s: float, per_target: int = 1) -> None:
        self.timeout_s, self.per_target = timeout_s, per_target
        self.http = httpx.Client(timeout=timeout_s, limits=httpx.Limits(max_connections=None, max_keepalive_connections=64))
        self._lock = threading.Lock()
        self._gates: dict[str, threading.Semaphore] = {}

    def gate(self, target: dict) -> threading.Semaphore:
        name = target_name(target)
        with self._lock:
            if name not in self._gates:
                self._gates[name] = threading.Semaphore(1 if "jsonl" in target else self.per_target)
            return self._gates[name]

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_exc) -> None:
        self.http.close()


def send_webhook(target: dict, alert: dict, session: Session) -> None:
    body = json.dumps(payload(alert), ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json", ALERT_ID_HEADER: alert["id"]}
    secret_env = target.get("secret_env")
    if secret_env:
        secret = os.environ.get(secret_env)
        if not secret:
            raise DeliveryError(f"{target_name(target)}: the signing secret variable {secret_env} is not set")
        headers[SIGNATURE_HEADER] = sign(body, secret)
    try:
        resp = session.http.post(target["webhook"], content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{target_name(target)}: {type(exc).__name__}") from None
    if resp.status_code >= 300:
        raise DeliveryError(f"{target_name(target)}: HTTP {resp.status_code}")


def send_jsonl(target: dict, alert: dict, _session: Session) -> None:
    path = Path(target["jsonl"])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(payload(alert), ensure_ascii=False) + "\n")


def send_apprise(target: dict, alert: dict, _session: Session) -> None:
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


SENDERS: dict[str, Callable[[dict, dict, Session], None]] = {"webhook": send_webhook, "jsonl": send_jsonl, "apprise": send_apprise}


def deliver_one(alert: dict, session: Session) -> tuple[list[str], dict[str, str]]:
    """Try every target not yet done (each within its parallelism bound); returns (targets now done, errors by target)."""
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
            with session.gate(target):
                SENDERS[kind](target, alert, session)
            done.append(name)
        except DeliveryError as exc:
            errors[name] = str(exc)
        except OSError as exc:
            errors[name] = f"{name}: {exc.strerror or type(exc).__name__}"
    return done, errors


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0  # tried in this run and failed: retried with backoff
    waiting: int = 0  # held back by a rule's throttle or digest period
    backing_off: int = 0  # failed earlier, next attempt not yet due

    @property
    def pending(self) -> int:
        """Alerts still undelivered after this run."""
        return self.failed + self.waiting + self.backing_off

    def why_pending(self) -> str:
        reasons = {"failed now, retried with backoff": self.failed, "throttled or in a digest": self.waiting,
                   "backing off after an earlier failure": self.backing_off}  # fmt: skip
        return ", ".join(f"{n} {why}" for why, n in reasons.items() if n)


def deliver_pending(es: Elasticsearch, settings: Settings, now: datetime | None = None, timeout_s: float | None = None) -> DeliveryReport:
    """Deliver every alert that is due, concurrently; record outcomes in bulk with optimistic concurrency.

    One refresh first (the stage boundary: the alerts the pipeline wrote must be found), then rounds of
    ``delivery_page_size`` alerts in a stable order: deliver in parallel, record the round in one bulk.
    """
    now = now or datetime.now(UTC)
    timeout_s = settings.delivery_timeout_s if timeout_s is None else timeout_s
    es.indices.refresh(index=settings.alerts_index)
    report = DeliveryReport(backing_off=_count_due(es, settings, now, due=False))
    allowance = _throttle_allowance(es, settings, now)
    digests: dict[str, list[dict]] = {}
    with (
        Session(timeout_s, settings.delivery_per_target) as session,
        ThreadPoolExecutor(max_workers=settings.delivery_concurrency, thread_name_prefix="deliver") as pool,
    ):
        for page in _due_alerts(es, settings, now):
            now_due = []
            for hit in page:
                alert = hit["_source"]
                if alert.get("delivery", {}).get("digest"):
                    digests.setdefault(alert["rule_id"], []).append(hit)
                elif allowance.get(alert["rule_id"], 1) <= 0:
                    report.waiting += 1
                else:
                    if alert["rule_id"] in allowance:
                        allowance[alert["rule_id"]] -= 1
                    now_due.append(hit)
            outcomes = pool.map(lambda h: deliver_one(h["_source"], session), now_due)
            _record(es, [(hit, *outcome) for hit, outcome in zip(now_due, outcomes, strict=True)], now, report)
        _deliver_digests(es, digests, now, session, report)
    if report.delivered or report.failed:  # one refresh at the end: the outcomes show in `newswatch alerts` at once
        es.indices.refresh(index=settings.alerts_index)
    return report


def _deliver_digests(es: Elasticsearch, digests: dict[str, list[dict]], now: datetime, session: Session, report: DeliveryReport) -> None:
    for hits in digests.values():
        alerts = [h["_source"] for h in hits]
        period = DIGEST_PERIODS[alerts[0]["delivery"]["digest"]]
        if now - min(datetime.fromisoformat(a["alerted_at"]) for a in alerts) < period:
            report.waiting += len(hits)
            continue
        done, errors = deliver_one(digest_message(alerts), session)
        _record(es, [(hit, done, errors) for hit in hits], now, report)


def _due_filter(now: datetime, due: bool) -> dict:
    not_yet = {"range": {"delivery.next_attempt_at": {"gt": now.isoformat()}}}
    return {
        "bool": {
            "filter": [{"terms": {"delivery.status": ["pending", "failed"]}}, *([] if due else [not_yet])],
            "must_not": [not_yet] if due else [],
        }
    }


def _count_due(es: Elasticsearch, settings: Settings, now: datetime, due: bool) -> int:
    return es.count(index=settings.alerts_index, query=_due_filter(now, due))["count"]


def _due_alerts(es: Elasticsearch, settings: Settings, now: datetime) -> Iterator[list[dict]]:
    """Every due alert, oldest first, a page at a time (search_after on a stable sort: no cap, no skips)."""
    after = None
    while True:
        resp = es.search(
            index=settings.alerts_index,
            query=_due_filter(now, due=True),
            sort=[{"alerted_at": "asc"}, {"id": "asc"}],
            size=settings.delivery_page_size,
            seq_no_primary_term=True,
            **({"search_after": after} if after else {}),
        )
        hits = resp["hits"]["hits"]
        if not hits:
            return
        yield hits
        after = hits[-1]["sort"]


def _throttle_allowance(es: Elasticsearch, settings: Settings, now: datetime) -> dict[str, int]:
    """rule id -> alerts it may still send this hour, for throttled rules with due alerts (two aggregations)."""
    throttled = {"bool": {"filter": [{"exists": {"field": "delivery.throttle_per_hour"}}, _due_filter(now, due=True)]}}
    limit = {"limit": {"max": {"field": "delivery.throttle_per_hour"}}}
    resp = es.search(
        index=settings.alerts_index, query=throttled, size=0, aggs={"rules": {"terms": {"field": "rule_id", "size": 10_000}, "aggs": limit}}
    )
    limits = {b["key"]: int(b["limit"]["value"]) for b in resp["aggregations"]["rules"]["buckets"] if b["limit"]["value"]}
    if not limits:
        return {}
    sent_last_hour = [
        {"terms": {"rule_id": sorted(limits)}},
        {"term": {"delivery.status": "delivered"}},
        {"range": {"delivery.delivered_at": {"gte": (now - timedelta(hours=1)).isoformat()}}},
    ]
    sent = es.search(
        index=settings.alerts_index,
        query={"bool": {"filter": sent_last_hour}},
        size=0,
        aggs={"rules": {"terms": {"field": "rule_id", "size": len(limits)}}},
    )
    recent = {b["key"]: b["doc_count"] for b in sent["aggregations"]["rules"]["buckets"]}
    return {rule: n - recent.get(rule, 0) for rule, n in limits.items()}


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


def _record(es: Elasticsearch, outcomes: list[tuple[dict, list[str], dict[str, str]]], now: datetime,
            report: DeliveryReport) -> None:  # fmt: skip
    """Store the outcomes in one bulk, no refresh wait; a version conflict means another worker recorded it first."""
    actions = []
    for hit, done, errors in outcomes:
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
        actions.append({"_op_type": "update", "_index": hit["_index"], "_id": hit["_id"], "doc": {"delivery": delivery},
                        "if_seq_no": hit["_seq_no"], "if_primary_term": hit["_primary_term"]})  # fmt: skip
    if not actions:
        return
    _, errors = helpers.bulk(es, actions, raise_on_error=False, max_retries=3)
    lost = [e for e in errors if e.get("update", {}).get("status") != 409]
    if lost:
        raise DeliveryError(f"{len(lost)} delivery records were not stored: {lost[0].get('update', {}).get('error')}")
