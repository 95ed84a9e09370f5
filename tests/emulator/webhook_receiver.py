"""A real HTTP server on a free loopback port that records webhook deliveries, answering each
with the next scripted status (then 200), optionally after a scripted delay."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def header(self, name: str) -> str:
        return self.headers[name.lower()]


@dataclass
class Script:
    statuses: list[int] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status, delay = self.server.receiver.record(
            Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        )
        if delay:
            time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        """Quiet: pytest shows what matters."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: "Receiver"


class Receiver:
    def __init__(self, statuses: list[int] | None = None, delays: list[float] | None = None):
        self.script = Script(list(statuses or []), list(delays or []))
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.receiver = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/webhooks"

    def record(self, received: Received) -> tuple[int, float]:
        with self._lock:
            self.requests.append(received)
            status = self.script.statuses.pop(0) if self.script.statuses else 200
            delay = self.script.delays.pop(0) if self.script.delays else 0.0
        return status, delay

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        """The first `count` deliveries, waiting for them up to a deadline."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} deliveries, got {len(self.requests)}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def wait_until(predicate: Any, timeout: float = 15.0, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {message}")
