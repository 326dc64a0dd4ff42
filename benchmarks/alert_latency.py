"""Alert latency under ``newswatch serve``: from the moment a feed serves a watched item to its webhook.

    nice -n 19 .venv/bin/python -m benchmarks.alert_latency [--minutes 10] [--every 5] [--interval 60] [--initial 500]

The real CLI as a subprocess (``newswatch serve --interval 60``, default settings otherwise, a fresh
index prefix, data dir and Prefect home; the Prefect server it starts listens on
``NEWSWATCH_PREFECT_PORT``, 4292 here) with one watchlist rule (the watched person's name as a phrase,
so the figure is the path's latency, not the NER's view of a made-up name) whose target is a local
webhook receiver (``tests/receiver.py``, signatures verified).

Feeds: ``--feeds`` RSS files on a local server (``benchmarks/end_to_end.py``: one loopback address per
feed) already holding ``--initial`` distinct articles mixed from corpus sentences, so the first cycle
does real pipeline work (none of them matches the rule). Once that cycle has finished, a new item is
published every ``--every`` seconds for ``--minutes``, round robin over the feeds, newest first, with its
real pubDate: another sentence mix with one sentence naming the watched person. Its publish time is the
moment the rewritten feed file replaces the old one (the file's mtime is set to the next whole second,
so a conditional GET in the same second never hides it behind a 304: the server's Last-Modified has
one-second resolution).

Printed: published, delivered, duplicates, p50 / p95 / max published-to-delivered, whether p95 <=
interval + 30 s; every serve cycle (from Prefect's API: scheduled time, start lag, duration, the time
of its tasks, and the counts of the flow's log line); then the idle cycles after publishing stopped,
next to the first cycle. Everything started is stopped at the end and the indices are deleted.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import httpx

from benchmarks.end_to_end import cleanup, mixed_articles, serve, write_feeds
from newswatch.settings import Settings
from tests.receiver import Receiver

WATCHED = "Ilse Marrowby"
SECRET = "latency-secret"
RECEIVER_PORTS = range(18700, 18800)
LOG_LINE = re.compile(
    r"Flow run '(?P<name>[^']+)' - feeds=(?P<feeds>\d+) polled=(?P<polled>\d+) not_modified=(?P<not_modified>\d+) "
    r"failed=(?P<failed>\d+) new_items=(?P<new_items>\d+) articles_indexed=(?P<indexed>\d+) copies=\d+ alerts=(?P<alerts>\d+)"
)
COUNTERS_LINE = re.compile(r"Flow run '(?P<name>[^']+)' - pipeline counters: (?P<counters>\{.*\})")
STAGES = ("poll-feeds", "store-raw-batch", "process-batches", "deliver-alerts")


def free_port(ports: range) -> int:
    for port in ports:
        with socket.socket() as s, contextlib.suppress(OSError):
            s.bind(("127.0.0.1", port))
            return port
    raise SystemExit(f"no free port in {ports.start}-{ports.stop - 1}")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def epoch(iso: str | None) -> float | None:
    return datetime.fromisoformat(iso).timestamp() if iso else None


class Publisher:
    """Adds watched items to the feed files, one at a time, and remembers when each went live."""

    def __init__(self, root: Path, feeds: int, stories: list[tuple[str, list[str]]]) -> None:
        self.root, self.feeds, self.stories = root, feeds, stories
        self.published: dict[str, float] = {}  # item URL -> epoch seconds it was first served

    def publish(self, k: int) -> None:
        f = k % self.feeds
        path, host = self.root / f"feed{f}.xml", f"feed{f}.bench.example"
        headline, paragraphs = self.stories[k]
        url = f"https://{host}/live-{k}"
        now = datetime.now(UTC)
        watched = f"{WATCHED} commented on the news at {now:%H:%M:%S}, her office said in statement number {k}."
        body = "".join(f"<p>{escape(p)}</p>" for p in [watched, *paragraphs])
        item = (f"<item><title>{escape(headline)} ({WATCHED})</title><link>{url}</link><guid>{url}</guid>"
                f"<pubDate>{format_datetime(now)}</pubDate><description>{escape(body)}</description></item>")  # fmt: skip
        xml = path.read_text(encoding="utf-8")
        head = xml.index("</link>") + len("</link>")  # the channel's link: new items go first, as in real feeds
        tmp = path.with_suffix(".tmp")
        tmp.write_text(xml[:head] + item + xml[head:], encoding="utf-8")
        os.utime(tmp, (time.time(), math.ceil(time.time())))
        os.replace(tmp, path)
        self.published[url] = time.time()


class Serve:
    """``newswatch serve`` in its own process group, its output in a file, its Prefect server's API at hand."""

    def __init__(self, cwd: Path, env: dict[str, str], args: list[str], api: str) -> None:
        self.log = cwd / "serve.log"
        self.api = api
        cmd = [sys.executable, "-m", "newswatch.interfaces.cli", "serve", *args]
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.started = time.time()

    def flow_runs(self) -> list[dict]:
        try:
            resp = httpx.post(f"{self.api}/flow_runs/filter", json={"sort": "EXPECTED_START_TIME_ASC", "limit": 200}, timeout=10)
            return resp.json() if resp.status_code == 200 else []
        except httpx.HTTPError:
            return []

    def task_runs(self, flow_run_id: str) -> list[dict]:
        resp = httpx.post(f"{self.api}/task_runs/filter", json={"flow_runs": {"id": {"any_": [flow_run_id]}}}, timeout=10)
        return resp.json()

    def counts(self) -> dict[str, dict[str, int]]:
        """The flow's own summary line per flow run name (from serve's output)."""
        found: dict[str, dict[str, int]] = {}
        text = self.log.read_text(errors="replace")
        for m in LOG_LINE.finditer(text):
            found[m["name"]] = {k: int(v) for k, v in m.groupdict().items() if k != "name"}
        for m in COUNTERS_LINE.finditer(text):  # the pipeline's own milliseconds (tagging, ...)
            found.setdefault(m["name"], {}).update(ast.literal_eval(m["counters"]))
        return found

    def finished(self) -> list[dict]:
        """Completed (or failed) cycles, with their counts, oldest first."""
        counts = self.counts()
        runs = [r for r in self.flow_runs() if r["state_type"] in ("COMPLETED", "FAILED", "CRASHED")]
        return [{**r, "counts": counts.get(r["name"], {})} for r in runs]

    def wait(self, done, timeout_s: float, what: str) -> list[dict]:
        """Poll the cycles until ``done(cycles)``; exits with serve's last lines when serve died or time ran out."""
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"newswatch serve exited ({self.proc.returncode}) while waiting for {what}:\n{self.tail()}")
            cycles = self.finished()
            if done(cycles):
                return cycles
            time.sleep(2)
        raise SystemExit(f"gave up waiting {timeout_s:.0f} s for {what}:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM (serve stops the Prefect server it started), then the whole process group."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def cycle_line(run: dict, t0: float) -> str:
    """One serve cycle: when it was due, how late it started, how long each part took, what it did."""
    start, end = epoch(run["start_time"]), epoch(run["end_time"])
    lag = start - epoch(run["expected_start_time"])
    c = run["counts"]
    what = f"polled {c['polled']}/{c['feeds']}, 304 {c['not_modified']}, new {c['new_items']}, alerts {c['alerts']}" if c else "no summary"
    if "ms_tag" in c:
        what += f", tagging {c['ms_tag'] / 1000:.1f} worker-s"
    due = epoch(run["expected_start_time"]) - t0
    return f"  {run['name']:<24} due +{due:5.0f} s  start lag {lag:5.1f} s  took {end - start:6.1f} s  {what}  {run['stages']}"


def stages(serve: Serve, run: dict) -> str:
    """Seconds of the flow's tasks, and the start-up before the first one (imports, settings, ES checks)."""
    tasks = {t["name"].rsplit("-", 1)[0]: t for t in serve.task_runs(run["id"]) if t.get("start_time")}
    parts = []
    if "poll-feeds" in tasks:
        run["poll_at"] = epoch(tasks["poll-feeds"]["start_time"])
        parts.append(f"start-up {epoch(tasks['poll-feeds']['start_time']) - epoch(run['start_time']):.1f}")
    for name in STAGES:
        t = tasks.get(name)
        if t and t.get("end_time"):
            parts.append(f"{name.split('-')[0]} {epoch(t['end_time']) - epoch(t['start_time']):.1f}")
    return "(" + ", ".join(parts) + ")"


def write_rule(path: Path, url: str) -> None:
    path.write_text(
        "rules:\n  - id: latency-watch\n    name: Latency watch\n"
        f"    phrases: [{WATCHED}]\n"  # matched in the text: the latency of the path, whatever the NER makes of a made-up name
        f"    deliver: [{{webhook: '{url}', secret_env: NEWSWATCH_BENCH_HOOK_SECRET}}]\n",
        encoding="utf-8",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0, help="how long watched items are published")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between two published items")
    parser.add_argument("--interval", type=int, default=60, help="newswatch serve --interval")
    parser.add_argument("--initial", type=int, default=500, help="articles the feeds hold before serve starts")
    parser.add_argument("--feeds", type=int, default=5)
    parser.add_argument("--idle-cycles", type=int, default=2, help="cycles without new items to time after publishing")
    parser.add_argument("--prefix", default=f"nw-latency-{uuid.uuid4().hex[:6]}")
    parser.add_argument("--serve-log", type=Path, help="keep serve's output in this file")
    parser.add_argument("--prefect-port", type=int, default=int(os.environ.get("NEWSWATCH_PREFECT_PORT", "4292")))
    args = parser.parse_args()
    n_live = int(args.minutes * 60 / args.every)
    api = f"http://127.0.0.1:{args.prefect_port}/api"
    with contextlib.suppress(httpx.HTTPError):
        httpx.get(f"{api}/health", timeout=3)
        raise SystemExit(f"something already answers on {api}: give --prefect-port a free port")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    stories = mixed_articles(args.initial + n_live)
    print(f"serve --interval {args.interval}; {args.initial} articles in {args.feeds} feeds before it starts; then "
          f"{n_live} watched items, one every {args.every:g} s for {args.minutes:g} min; prefix {args.prefix}")  # fmt: skip
    print("settings: all defaults (the flow gets serve_interval_s from --interval), except the index prefix, data dir and Prefect port")

    settings = Settings(index_prefix=args.prefix)
    receiver = Receiver(SECRET, port=free_port(RECEIVER_PORTS)).start()
    with tempfile.TemporaryDirectory(prefix="nw-latency-") as tmp:
        root = Path(tmp)
        (root / "feeds").mkdir()
        template, _ = write_feeds(root / "feeds", stories[: args.initial], 0.0, args.feeds)
        server = serve(root / "feeds")
        feeds_file, rules = root / "feeds.yaml", root / "rules.yaml"
        feeds_file.write_text(template.read_text().replace("{port}", str(server.server_address[1])), encoding="utf-8")
        write_rule(rules, receiver.url)
        env = {**os.environ, "NEWSWATCH_INDEX_PREFIX": args.prefix, "NEWSWATCH_DATA_DIR": str(root / "data"),
               "NEWSWATCH_PREFECT_API_URL": api, "PREFECT_HOME": str(root / "prefect"), "NEWSWATCH_BENCH_HOOK_SECRET": SECRET,
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "COLUMNS": "250"}  # fmt: skip
        publisher = Publisher(root / "feeds", args.feeds, stories[args.initial :])
        proc = Serve(root, env, ["--interval", str(args.interval), "--feeds", str(feeds_file), "--watchlist", str(rules)], api)
        try:
            cycles = proc.wait(lambda c: len(c) >= 1, 1800, "the first cycle")
            print(f"first cycle done {time.time() - proc.started:.0f} s after serve started; publishing")
            t_pub = time.time()
            for k in range(n_live):
                time.sleep(max(0.0, t_pub + k * args.every - time.time()))
                publisher.publish(k)
            last = time.time()
            wanted = set(publisher.published)
            deadline = last + 3 * args.interval + 120
            while time.time() < deadline and not wanted <= {r["body"]["url"] for r in receiver.received}:
                time.sleep(1)
            idle = lambda c: sum(1 for r in c if epoch(r["start_time"]) > last and r["counts"].get("new_items") == 0)  # noqa: E731
            cycles = proc.wait(lambda c: idle(c) >= args.idle_cycles, (args.idle_cycles + 2) * args.interval * 1.5 + 120, "idle cycles")
            for run in cycles:
                run["stages"] = stages(proc, run)
            states = feed_states(settings)
        finally:
            proc.stop()
            server.shutdown()
            receiver.stop()
            prefect_left = prefect_up(api)
            cleanup(settings)
        serve_tail = proc.tail(5)
        if args.serve_log:
            shutil.copyfile(proc.log, args.serve_log)
    report(args, publisher.published, receiver.received, cycles, proc.started, last, states)
    print(f"stopped: serve and its process group; Prefect server at {api} still answering: {prefect_left}; indices {args.prefix}-* deleted")
    if prefect_left:
        print(serve_tail)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def prefect_up(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def feed_states(settings: Settings) -> list[dict]:
    from newswatch.store import connect

    hits = connect(settings).search(index=settings.feeds_index, size=100, source=["name", "interval_s", "next_due_at", "last_polled_at"])
    return sorted((h["_source"] for h in hits["hits"]["hits"]), key=lambda s: s["name"])


def split_by_poll(published: dict[str, float], arrivals: dict[str, list[float]], cycles: list[dict]) -> str:
    """Each latency as waiting for the poll that saw the item, then that cycle's work up to the webhook."""
    polls = sorted(r["poll_at"] for r in cycles if "poll_at" in r)
    waits, works, passed_over = [], [], 0
    for url, t in published.items():
        if url in arrivals and (seen := [p for p in polls if t < p <= min(arrivals[url])]):
            waits.append(seen[-1] - t)  # the last cycle that started before the webhook delivered it
            works.append(min(arrivals[url]) - seen[-1])
            passed_over += len(seen) > 1  # a cycle ran after it was published and did not take it
    if not waits:
        return "  (no cycle's poll found between publish and delivery)"
    return (f"  waiting for the poll that took it: p50 {percentile(waits, 50):.1f} s, max {max(waits):.1f} s; "
            f"from that poll to the webhook: p50 {percentile(works, 50):.1f} s, max {max(works):.1f} s; "
            f"items passed over by a cycle: {passed_over}")  # fmt: skip


def report(args, published: dict[str, float], received: list[dict], cycles: list[dict], t0: float, last: float, states: list[dict]) -> None:
    ids = [r["alert_id"] for r in received]
    arrivals: dict[str, list[float]] = {}
    for r in received:
        arrivals.setdefault(r["body"]["url"], []).append(r["at"])
    latencies = [min(arrivals[u]) - t for u, t in published.items() if u in arrivals]
    unexpected = set(arrivals) - set(published)
    print("\nserve cycles (Prefect flow runs; stage seconds from its task runs):")
    for run in cycles:
        print(cycle_line(run, t0))
    print("feed states at the end: " + "; ".join(f"{s['name']} interval {s.get('interval_s')} s" for s in states))
    print("\nalert latency, published (feed serves the item) to delivered (receiver gets the webhook):")
    print(f"  published {len(published)}, delivered {len(latencies)}, missing {len(published) - len(latencies)}, "
          f"duplicates {len(ids) - len(set(ids))}, alerts for unpublished items {len(unexpected)}, "
          f"signatures verified {all(r['verified'] for r in received)}")  # fmt: skip
    if latencies:
        print(split_by_poll(published, arrivals, cycles))
        p95 = percentile(latencies, 95)
        print(f"  p50 {percentile(latencies, 50):.1f} s, p95 {p95:.1f} s, max {max(latencies):.1f} s, min {min(latencies):.1f} s; "
              f"target p95 <= interval + 30 = {args.interval + 30} s: {'met' if p95 <= args.interval + 30 else 'NOT met'}")  # fmt: skip
    first = cycles[0]
    first_s = epoch(first["end_time"]) - epoch(first["start_time"])
    idle = [r for r in cycles if epoch(r["start_time"]) > last and r["counts"].get("new_items") == 0]
    print(f"\nfirst cycle ({args.initial} articles): {first_s:.1f} s {first['stages']}")
    for run in idle:
        took = epoch(run["end_time"]) - epoch(run["start_time"])
        c = run["counts"]
        print(f"idle cycle {run['name']}: {took:.1f} s = {took / first_s:.1%} of the first (target < 5 %); "
              f"polled {c['polled']}/{c['feeds']}, 304 {c['not_modified']} {run['stages']}")  # fmt: skip


if __name__ == "__main__":
    main()
