"""A feed server that misbehaves on purpose, one path per kind of trouble, on loopback only."""

from __future__ import annotations

import gzip
import http.server
import threading
import time
from pathlib import Path
from xml.sax.saxutils import escape

from newswatch.paths import SEEDS_DIR

GOOD = (SEEDS_DIR / "demo" / "feeds" / "moscow-times.xml").read_bytes()
LATIN1 = (
    '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>Zeitung</title>'
    "<item><title>Gr\xfc\xdfe aus M\xfcnchen</title><link>https://zeitung.example/a</link>"
    "<description>F\xfcr die Stra\xdfe</description></item></channel></rss>"
).encode("latin-1")
BOMB = gzip.compress(b"<rss>" + b" " * 60_000_000 + b"</rss>")
HUGE_CHUNK = b"<" * 1_000_000

# A feed whose bad items sit among good ones. Each good item has its own story, so none is a copy of another.
HUGE_LINK = "http://hostile.example/" + "a" * 100_000
GOOD_ITEMS = {  # link as published -> the article URL it must be indexed under
    "https://good.example/harbour-bridge": "https://good.example/harbour-bridge",
    "/stories/river-festival": "https://good.example/stories/river-festival",  # relative to the channel link
    "http://[::1]:8766/ipv6-story": "http://[::1]:8766/ipv6-story",
    "library-hours.html": "https://base.example/dir/library-hours.html",  # relative to the item's xml:base
}
BAD_ITEMS = {  # link -> what names the item in its rejection line
    HUGE_LINK: "hostile.example/aaaa",
    "javascript:alert(document.cookie)": "javascript:",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==": "data:text/html",
    "mailto:editor@hostile.example": "mailto:",
    "https://good.example/empty": "good.example/empty",  # no title and no text
}
STORIES = [
    ("Harbour bridge reopens after repairs", "Engineers finished welding the harbour bridge deck and traffic resumed on Tuesday morning."),
    ("River festival draws record crowds", "Boat races, food stalls and a lantern parade filled both banks of the river over the weekend."),
    (
        "Observatory opens its dome to students",
        "Pupils from six schools watched Saturn through the restored telescope during a night visit.",
    ),
    ("Library extends its opening hours", "The central library will stay open until ten in the evening from next month, the council said."),
]
LATE_STORY = ("Ferry timetable changes in winter", "Fewer crossings will run between December and February because of low demand.")


def poison_feed(late: bool = False) -> bytes:
    """RSS with every bad item of ``BAD_ITEMS`` among the good ones (and, when ``late``, one more good story)."""
    items = [_item(link, *story) for link, story in zip(GOOD_ITEMS, STORIES, strict=True)]
    items += [_item(link, "", "") if "empty" in link else _item(link, "Click here", "You have won a prize.") for link in BAD_ITEMS]
    if late:
        items.append(_item("https://good.example/ferry-timetable", *LATE_STORY))
    channel = "<title>Hostile Times</title><link>https://good.example/</link>" + "".join(items)
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{channel}</channel></rss>'.encode()


def _item(link: str, title: str, text: str) -> str:
    base = ' xml:base="https://base.example/dir/"' if link == "library-hours.html" else ""
    return (f"<item{base}><title>{title}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>"
            f"<description>{text}</description></item>")  # fmt: skip


class Hostile(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stop = threading.Event()
    poison_requests = 0

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/good.xml":
            if self.headers.get("If-None-Match") == '"v1"':
                return self._send(304, headers={"ETag": '"v1"'})
            return self._send(200, GOOD, {"Content-Type": "application/rss+xml", "ETag": '"v1"'})
        if path == "/silent.xml":  # accepts, never answers
            self.stop.wait(60)
            return None
        if path == "/trickle.xml":  # one byte a second, forever
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(60):
                if self.stop.is_set():
                    return None
                self.wfile.write(b"<")
                self.wfile.flush()
                time.sleep(1)
            return None
        if path == "/500.xml":
            return self._send(500, b"oops")
        if path == "/404.xml":
            return self._send(404, b"no")
        if path == "/429.xml":
            return self._send(429, b"slow down", {"Retry-After": "3600"})
        if path in ("/loop-a.xml", "/loop-b.xml"):
            return self._send(302, headers={"Location": "/loop-b.xml" if path == "/loop-a.xml" else "/loop-a.xml"})
        if path == "/moved.xml":
            return self._send(301, headers={"Location": "/good.xml"})
        if path == "/huge.xml":  # 50 MB, declared
            self.send_response(200)
            self.send_header("Content-Length", str(50 * len(HUGE_CHUNK)))
            self.end_headers()
            try:
                for _ in range(50):
                    self.wfile.write(HUGE_CHUNK)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        if path == "/huge-undeclared.xml":  # 50 MB, chunked, no length
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for _ in range(50):
                    self.wfile.write(f"{len(HUGE_CHUNK):x}\r\n".encode() + HUGE_CHUNK + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        if path == "/bomb.xml":  # 60 KB gzip that expands to 60 MB
            return self._send(200, BOMB, {"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"})
        if path == "/latin1.xml":  # declared in the XML, not in the header
            return self._send(200, LATIN1, {"Content-Type": "application/xml"})
        if path == "/poison.xml":  # from the second request on, one more good story
            Hostile.poison_requests += 1
            return self._send(200, poison_feed(late=Hostile.poison_requests > 1), {"Content-Type": "application/rss+xml"})
        if path == "/html.xml":
            return self._send(200, b"<!doctype html><html><body><h1>Front page</h1></body></html>", {"Content-Type": "text/html"})
        return self._send(404)


def start(tmp: Path | None = None) -> tuple[http.server.ThreadingHTTPServer, str]:
    Hostile.stop = threading.Event()
    Hostile.poison_requests = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def stop(server: http.server.ThreadingHTTPServer) -> None:
    Hostile.stop.set()
    server.shutdown()
    server.server_close()
