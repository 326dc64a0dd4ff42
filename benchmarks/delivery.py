"""Alert delivery throughput: N alerts to a local webhook receiver, each delivered once and recorded.

    .venv/bin/python -m benchmarks.delivery [--alerts 2000] [--receiver-delay 0.01]

Builds N alerts the way the pipeline does (``build_alert`` for one webhook rule, over N distinct
stories), writes them to a fresh alerts index, then times one ``deliver_pending`` with default
settings. The receiver (a threaded HTTP server on loopback, verifying each HMAC signature) waits
``--receiver-delay`` seconds per request, like a real endpoint would. Checked afterwards: the receiver
got every alert id exactly once, and Elasticsearch records every alert as delivered.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from elasticsearch import helpers

from newswatch.flows.delivery import deliver_pending
from newswatch.pipelines.match import Hit, build_alert
from newswatch.pipelines.watchlist import load_watchlist
from newswatch.settings import Settings
from newswatch.store import connect, ensure_indices
from tests.receiver import Receiver

SECRET = "bench-secret"


def alerts(n: int, rules_file: Path) -> list[dict]:
    (rule,) = load_watchlist(rules_file)
    now = datetime.now(UTC).isoformat()
    made = []
    for i in range(n):
        text = f"Story {i}: the central bank held rates, officials in Minsk said on day {i}."
        article = {"id": f"story-{i:05d}", "title": f"Story {i}", "text": text, "url": f"https://bench.example/{i}",
                   "source": "Bench", "published_at": now, "ingested_at": now}  # fmt: skip
        made.append(build_alert(rule, [Hit("bank", "keyword", text.index("bank"), text.index("bank") + 4)], article))
    return made


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--receiver-delay", type=float, default=0.01, help="seconds the receiver takes per request")
    args = parser.parse_args()
    os.environ["NEWSWATCH_BENCH_HOOK_SECRET"] = SECRET
    receiver = Receiver(SECRET, delay_s=args.receiver_delay).start()
    settings = Settings(index_prefix=f"nwspeed-delivery-{uuid.uuid4().hex[:6]}")
    es = connect(settings)
    load = os.getloadavg()[0]
    print(f"{args.alerts} alerts, receiver delay {args.receiver_delay * 1000:.0f} ms, {os.cpu_count()} cores, load {load:.2f}")
    try:
        ensure_indices(es, settings)
        with tempfile.TemporaryDirectory() as tmp:
            rules = Path(tmp) / "rules.yaml"
            rules.write_text(
                "rules:\n  - id: bench\n    keywords: [bank]\n"
                f"    deliver: [{{webhook: '{receiver.url}', secret_env: NEWSWATCH_BENCH_HOOK_SECRET}}]\n"
            )
            made = alerts(args.alerts, rules)
        helpers.bulk(es, ({"_op_type": "create", "_index": settings.alerts_index, "_id": a["id"], "_source": a} for a in made))
        start = time.perf_counter()
        report = deliver_pending(es, settings)
        elapsed = time.perf_counter() - start
        again = deliver_pending(es, settings)
        recorded = es.count(index=settings.alerts_index, query={"term": {"delivery.status": "delivered"}})["count"]
    finally:
        receiver.stop()
        es.options(ignore_status=404).indices.delete(index=f"{settings.index_prefix}-*", expand_wildcards="all")
        for t in es.options(ignore_status=404).indices.get_index_template(name=f"{settings.index_prefix}-*").get("index_templates", []):
            es.indices.delete_index_template(name=t["name"])
    ids = [r["alert_id"] for r in receiver.received]
    verified = all(r["verified"] for r in receiver.received)
    rate = report.delivered / elapsed
    print(f"delivered {report.delivered} in {elapsed:.2f} s: {rate:.0f} alerts/s; failed {report.failed}, pending {report.pending}")
    print(f"receiver: {len(ids)} requests, {len(set(ids))} distinct alert ids, all signatures verified: {verified}")
    print(f"recorded as delivered in Elasticsearch: {recorded}; a second pass delivered {again.delivered}")
    print(f"exactly once: {len(ids) == len(set(ids)) == recorded == args.alerts}")


if __name__ == "__main__":
    main()
