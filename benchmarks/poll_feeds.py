"""Polling benchmark: newswatch's poller against a plain sequential ``feedparser.parse(url)`` loop.

    .venv/bin/python -m benchmarks.poll_feeds [--feeds 1000] [--hosts 100] [--slow 0.05] [--failing 0.05]

Serves the bundled demo feeds (and, when present, the real-world corpus in ../shared) from local HTTP
servers on several loopback addresses, one per simulated host; a share of the feeds answer after one
second, another share answer HTTP 500. Both pollers fetch the same feeds in the same run. Then the
unchanged feeds are polled again with the validators of the first poll, and the bytes are counted.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import http.server
import random
import threading
import time
from pathlib import Path

import feedparser

from newswatch.flows.feedlist import Feed
from newswatch.flows.poll import poll_feeds
from newswatch.paths import PROJECT_ROOT, SEEDS_DIR
from newswatch.settings import Settings

CORPUS = PROJECT_ROOT.parent / "shared" / "corpora" / "feeds"


class Handler(http.server.SimpleHTTPRequestHandler):
    """Files by path; /slow/... waits a second first, /fail/... is a server error."""

    bytes_sent = 0
    lock = threading.Lock()

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/fail/"):
            self.send_error(500)
            return
        if self.path.startswith("/slow/"):
            time.sleep(1.0)
            self.path = self.path[len("/slow") :]
        super().do_GET()

    def copyfile(self, source, outputfile) -> None:
        data = source.read()
        with Handler.lock:
            Handler.bytes_sent += len(data)
        outputfile.write(data)


def serve(root: Path, hosts: int) -> list[tuple[http.server.ThreadingHTTPServer, str]]:
    servers = []
    for i in range(hosts):
        server = http.server.ThreadingHTTPServer((f"127.0.0.{i + 1}", 0), functools.partial(Handler, directory=str(root)))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append((server, f"http://127.0.0.{i + 1}:{server.server_address[1]}"))
    return servers


def feed_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.suffix in (".xml", ".atom", ".json"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--slow", type=float, default=0.05)
    parser.add_argument("--failing", type=float, default=0.05)
    args = parser.parse_args()
    root = CORPUS if CORPUS.is_dir() else SEEDS_DIR / "demo" / "feeds"
    files = feed_files(root)
    servers = serve(root, args.hosts)
    rng = random.Random(7)
    urls = []
    for i in range(args.feeds):
        base = servers[i % len(servers)][1]
        kind = rng.random()
        prefix = "/fail" if kind < args.failing else "/slow" if kind < args.failing + args.slow else ""
        urls.append(f"{base}{prefix}/{files[i % len(files)]}?copy={i}")
    feeds = [Feed(u) for u in urls]
    settings = Settings(poll_concurrency=64, poll_timeout_s=10)
    print(f"{args.feeds} feeds from {len(files)} files in {root}, on {args.hosts} loopback hosts; "
          f"{args.slow:.0%} answer after 1 s, {args.failing:.0%} answer HTTP 500")  # fmt: skip
    print(f"newswatch settings: concurrency {settings.poll_concurrency}, {settings.poll_per_host} per host, "
          f"{settings.poll_host_min_gap_s} s between requests to a host")  # fmt: skip

    Handler.bytes_sent = 0
    start = time.perf_counter()
    first = asyncio.run(poll_feeds(feeds, settings))
    ours = time.perf_counter() - start
    first_bytes = Handler.bytes_sent
    items = sum(len(r.items) for r in first)

    start = time.perf_counter()
    seq_items = sum(len(feedparser.parse(u).entries) for u in urls)
    sequential = time.perf_counter() - start

    Handler.bytes_sent = 0
    second = asyncio.run(poll_feeds(feeds, settings, {r.feed.id: r.validators for r in first if r.status == "ok"}))
    not_modified = sum(r.status == "not_modified" for r in second)

    print(f"newswatch poller:        {ours:7.2f} s  ({items} entries, {sum(r.status == 'failed' for r in first)} feeds failed)")
    print(f"sequential feedparser:   {sequential:7.2f} s  ({seq_items} entries)")
    print(f"speed-up:                {sequential / ours:7.1f}x")
    print(f"second poll, unchanged:  {Handler.bytes_sent:,} bytes of content vs {first_bytes:,} on the first poll; "
          f"{not_modified} feeds not modified (304)")  # fmt: skip
    for server, _ in servers:
        server.shutdown()


if __name__ == "__main__":
    main()
