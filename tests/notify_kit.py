"""A real local HTTP receiver for Apprise's json:// channel, and a port nobody listens on.

Apprise `json://127.0.0.1:PORT/path` POSTs {"title": ..., "message": ..., ...}; the
receiver keeps every body it gets, in order, with its path.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, server: ThreadingHTTPServer):
        self.server = server
        self.port = server.server_address[1]
        self.got: list[dict] = []
        self.lock = threading.Lock()

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def messages(self, path: str | None = None) -> list[dict]:
        with self.lock:
            return [m for m in self.got if path is None or m["path"] == f"/{path}"]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 15) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.messages(path)) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages(path)


@contextmanager
def receiver():
    """A running receiver on a free port; stopped afterwards."""
    box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            with box[0].lock:
                box[0].got.append({"path": self.path, **json.loads(body or b"{}")})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.append(Receiver(server))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A local port with nothing listening (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
