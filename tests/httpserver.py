"""A real local HTTP server for client tests: scripted replies, recorded requests, no mocking."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    """What the server sends: status, headers, body (dict/list become JSON), delay, a lying length."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    declared_length: int | None = None


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def q(self, name: str) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else None

    def form(self) -> dict[str, str]:
        """The body parsed as an urlencoded form."""
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


Handler = Callable[[Seen], Reply]


class LocalServer:
    """ThreadingHTTPServer on 127.0.0.1 answering every request with `handler(seen)`."""

    def __init__(self, handler: Handler, port: int = 0) -> None:
        self.handler = handler
        self.seen: list[Seen] = []
        owner = self

        class _RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True
            wbufsize = 1 << 16  # headers and body leave in one write, flushed per request

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                seen = Seen(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k: v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                owner.seen.append(seen)
                reply = owner.handler(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body
                if isinstance(body, dict | list):
                    payload = json.dumps(body).encode()
                    content_type = "application/json"
                elif isinstance(body, str):
                    payload, content_type = body.encode(), "application/json"
                else:
                    payload, content_type = body or b"", "application/octet-stream"
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", content_type)
                    length_header = reply.declared_length or len(payload)
                    self.send_header("Content-Length", str(length_header))
                    if reply.declared_length:
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _RequestHandler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving and free the port."""
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def servers() -> Iterator[Callable[..., LocalServer]]:
    """Yield a function that starts servers; all of them stop when the block ends."""
    started: list[LocalServer] = []

    def start(handler: Handler, port: int = 0) -> LocalServer:
        server = LocalServer(handler, port)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.close()


def scripted(*replies: Reply) -> Handler:
    """A handler answering with the given replies in order, repeating the last one."""
    queue = list(replies)

    def handle(seen: Seen) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handle
