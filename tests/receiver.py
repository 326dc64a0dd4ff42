"""A local webhook receiver for tests: records each delivery and whether its signature verified."""

from __future__ import annotations

import http.server
import json
import threading
import time
from dataclasses import dataclass, field

from newswatch.flows.delivery import ALERT_ID_HEADER, SIGNATURE_HEADER, verify


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128  # socketserver's default backlog of 5 drops concurrent deliveries' connects (1 s SYN retries)


@dataclass
class Receiver:
    secret: str
    port: int = 0
    delay_s: float = 0.0
    received: list[dict] = field(default_factory=list)

    def start(self) -> Receiver:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(outer.delay_s)
                outer.received.append({
                    "alert_id": self.headers.get(ALERT_ID_HEADER),
                    "verified": verify(body, outer.secret, self.headers.get(SIGNATURE_HEADER, "")),
                    "body": json.loads(body),
                    "at": arrived,  # epoch seconds the request arrived (benchmarks/alert_latency.py joins on it)
                })  # fmt: skip
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = _Server(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
