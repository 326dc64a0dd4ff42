"""The web tests' data: the demo feeds plus one hostile item, indexed once per test module."""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path

from newswatch.flows.feedlist import Feed, load_feeds
from newswatch.flows.poll import poll_feeds
from newswatch.flows.raw_store import RawStore
from newswatch.paths import SEEDS_DIR
from newswatch.settings import Settings
from newswatch.store import connect, ensure_indices
from tests.conftest import ES_URL

HOSTILE_TITLE = '<script>alert("t")</script> Zanzibarian <img src=x onerror=alert(1)> [bold red]rich[/bold red] **markdown**'
HOSTILE_SOURCE = 'Hostile <script>alert(6)</script><img src=x onerror="alert(5)">'
# Its link is http(s): an item whose link is javascript: is rejected before indexing (tests/test_item_links.py).
HOSTILE_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Hostile Wire</title><link>https://hostile.invalid/</link><description>x</description>
<item><title>{title}</title><link>https://hostile.invalid/zanzibar-harbour</link><guid>hostile-1</guid>
<pubDate>Sun, 13 Sep 2020 15:00:00 +0000</pubDate>
<description>Zanzibarian officials said &lt;a href="javascript:alert(2)" onclick="alert(3)"&gt;click&lt;/a&gt;
[link=https://evil.invalid]rich link[/link] and ![img](javascript:alert(4)) while the Zanzibarian harbour
reopened after a long strike that halted all shipping for a week.</description></item>
</channel></rss>
"""


def xml_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def index_demo(root: Path) -> Settings:
    """A fresh index prefix holding the demo feeds and the hostile item, with a scratch watchlist copy."""
    from newswatch.pipelines.pipeline import run

    root.mkdir(parents=True, exist_ok=True)
    watchlist = root / "watchlist.yaml"
    shutil.copy(SEEDS_DIR / "demo" / "watchlist.yaml", watchlist)
    hostile = root / "hostile.xml"
    hostile.write_text(HOSTILE_RSS.format(title=xml_text(HOSTILE_TITLE)), encoding="utf-8")
    feeds = root / "feeds.yaml"
    demo = SEEDS_DIR / "demo" / "feeds.yaml"
    feeds.write_text(demo.read_text(encoding="utf-8").replace("feeds/", str(demo.parent / "feeds") + "/"), encoding="utf-8")
    settings = Settings(
        es_url=ES_URL,
        index_prefix=f"nwtest-{uuid.uuid4().hex[:8]}",
        data_dir=str(root / "data"),
        watchlist_file=watchlist,
        user_watchlist_file=root / "my-watchlist.yaml",
        feeds_file=feeds,
    )
    es = connect(settings)
    ensure_indices(es, settings)
    listed = [*load_feeds(feeds), Feed(str(hostile), name="Hostile <b>Wire</b>", source=HOSTILE_SOURCE)]
    results = asyncio.run(poll_feeds(listed, settings))
    batch = RawStore(settings.data_dir).write_batch([it for r in results for it in r.items])
    run([batch], settings)
    es.indices.refresh(index=f"{settings.index_prefix}-*")
    return settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The web app under uvicorn on a free loopback port, in a thread."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("web server did not start within 20 s")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
