"""A loopback TCP proxy that a test can cut: Elasticsearch going away in the middle of a request."""

from __future__ import annotations

import contextlib
import socket
import threading


class CuttableProxy:
    def __init__(self, target: tuple[str, int], cut_on: bytes | None = None, answer_status: int | None = None) -> None:
        self.target = target
        self.cut_on = cut_on  # a request containing this is cut in its middle ...
        self.answer_status = answer_status  # ... or, when set, answered with this HTTP status instead
        self.down = False
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        try:
            while data := src.recv(65536):
                if upstream and self.cut_on is not None and self.cut_on in data:
                    if self.answer_status:
                        src.sendall(_http_error(self.answer_status))
                        continue
                    dst.sendall(data[: len(data) // 2])  # half a request reaches the server
                    self.cut()
                    return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()

    def cut(self) -> None:
        """Drop every open connection and refuse new ones: the server is gone mid-request."""
        self.down = True
        with self._lock:
            for c in self._conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                    c.close()
                except OSError:
                    pass
            self._conns.clear()

    def restore(self) -> None:
        self.down = False
        self.cut_on = None
        self.answer_status = None

    def close(self) -> None:
        self.cut()
        self.listener.close()


def _http_error(status: int) -> bytes:
    body = b'{"error":{"type":"es_rejected_execution_exception","reason":"rejected by the test proxy"},"status":%d}' % status
    head = f"HTTP/1.1 {status} Rejected\r\nContent-Type: application/json\r\nX-Elastic-Product: Elasticsearch\r\n"
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
