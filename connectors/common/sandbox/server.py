"""One local HTTP server for every vendor sandbox, routed by prefix: /<vendor>/<vendor's own path>.

A vendor is a `VendorApp` subclass in connectors/common/sandbox/<vendor>.py, listed in VENDORS. It
declares routes with `@route(method, regex)`, checks credentials in `authenticate`, holds its
records in `self.store` (mutable between runs) and speaks the vendor's paging and error bodies.
"""

from __future__ import annotations

import importlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from connectors.common.sandbox.http_faults import FaultInjector, FaultPlan

# vendor name -> "module:Class"; a new vendor adds one line here and one module beside this one.
VENDORS: dict[str, str] = {
    "zendesk": "connectors.zendesk.sandbox:ZendeskSandbox",
    "intercom": "connectors.intercom.sandbox:IntercomSandbox",
    "freshdesk": "connectors.freshdesk.sandbox:FreshdeskSandbox",
    "apple": "connectors.apple.sandbox:AppleSandbox",
    "google_play": "connectors.google_play.sandbox:GooglePlaySandbox",
    "typeform": "connectors.typeform.sandbox:TypeformSandbox",
    "surveymonkey": "connectors.surveymonkey.sandbox:SurveyMonkeySandbox",
    "qualtrics": "connectors.qualtrics.sandbox:QualtricsSandbox",
    "jira": "connectors.jira.sandbox:JiraSandbox",
    "github": "connectors.github.sandbox:GitHubSandbox",
    "slack": "connectors.slack.sandbox:SlackSandbox",
}


@dataclass
class Request:
    """One request as a vendor app sees it: the path after the vendor prefix, query, headers, body."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    base_url: str  # http://host:port/<vendor>, for absolute next-page links
    body: bytes = b""

    def q(self, name: str, default: str | None = None) -> str | None:
        """A query parameter's first value."""
        return self.query.get(name, default)

    def json(self) -> Any:
        """The body parsed as JSON ({} when empty); BadRequest when it is not JSON."""
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            raise BadRequest("the request body is not JSON") from None

    def form(self) -> dict[str, str]:
        """The body as an application/x-www-form-urlencoded form (first value of each key)."""
        text = self.body.decode("utf-8", errors="replace")
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


@dataclass
class Response:
    """What a vendor app answers: status, body (JSON-able, text, or raw bytes), extra headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class BadRequest(Exception):
    """Raised by a handler for an invalid parameter; becomes the vendor's 400 body."""


Handler = Callable[["VendorApp", Request, "re.Match[str]"], Response]


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Mark a VendorApp method as the handler of `method` on paths matching `pattern` (full match)."""

    def mark(fn: Handler) -> Handler:
        fn.__sandbox_route__ = (method.upper(), re.compile(pattern))  # type: ignore[attr-defined]
        return fn

    return mark


class VendorApp:
    """Base of a vendor sandbox: routes, credentials, records and page-size rules."""

    name: ClassVar[str]
    default_credentials: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        data: dict[str, list[dict[str, Any]]] | None = None,
        *,
        seed: int = 0,
        page_size_cap: int | None = None,
        credentials: dict[str, str] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.page_size_cap = page_size_cap
        self.credentials = {**self.default_credentials, **(credentials or {})}
        self.store: dict[str, list[dict[str, Any]]] = (
            data if data is not None else self.fixtures(seed)
        )
        self.routes = [
            (*fn.__sandbox_route__, fn)
            for fn in (getattr(self, n) for n in dir(type(self)) if not n.startswith("__"))
            if hasattr(fn, "__sandbox_route__")
        ]

    def fixtures(self, seed: int) -> dict[str, list[dict[str, Any]]]:
        """Seeded, invented records for every collection this vendor serves."""
        return {}

    def authenticate(self, request: Request) -> Response | None:
        """None when the request carries the expected credentials, else the vendor's 401 reply."""
        return None

    def error(self, status: int, message: str) -> Response:
        """The vendor's error body for a status (400, 404, 429, 500, 503)."""
        return Response(status, {"error": message})

    def page_size(self, request: Request, param: str, default: int, maximum: int) -> int:
        """The page size asked for, clamped to the vendor's maximum and the sandbox's cap."""
        raw = request.q(param)
        try:
            size = int(raw) if raw is not None else default
        except ValueError:
            raise BadRequest(f"{param} must be an integer, got {raw!r}") from None
        if size < 1:
            raise BadRequest(f"{param} must be at least 1, got {size}")
        size = min(size, maximum)
        return min(size, self.page_size_cap) if self.page_size_cap else size

    def handle(self, request: Request) -> Response:
        """Authenticate, then dispatch to the first route matching method and path."""
        denied = self.authenticate(request)
        if denied is not None:
            return denied
        for method, pattern, fn in self.routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                try:
                    with self.lock:
                        return fn(request, match)
                except BadRequest as exc:
                    return self.error(400, str(exc))
        return self.error(404, f"no route for {request.method} {request.path}")


def load_vendor(name: str) -> type[VendorApp]:
    """The VendorApp class registered under a vendor name."""
    try:
        module, cls = VENDORS[name].split(":")
    except KeyError:
        raise KeyError(f"unknown sandbox vendor {name!r}; known: {sorted(VENDORS)}") from None
    return getattr(importlib.import_module(module), cls)


class Sandbox:
    """A running sandbox: `.url(vendor)` is a connector's base_url; `.vendor(name)` its data."""

    def __init__(
        self,
        apps: dict[str, VendorApp],
        faults: FaultPlan | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.apps = apps
        self.faults = FaultInjector(faults)
        self.log: list[tuple[str, str, str]] = []  # (vendor, path with query, fault or "")
        self.httpd = ThreadingHTTPServer((host, port), _handler_class(self))
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.host, self.port = host, self.httpd.server_address[1]
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> Sandbox:
        self._thread.start()
        return self

    def url(self, vendor: str) -> str:
        """The base_url a connector for this vendor should use."""
        if vendor not in self.apps:
            raise KeyError(f"vendor {vendor!r} is not served; serving {sorted(self.apps)}")
        return f"http://{self.host}:{self.port}/{vendor}"

    def vendor(self, name: str) -> Any:
        """The vendor app, to read or change its records between runs."""
        return self.apps[name]

    def requests_to(self, vendor: str, path_prefix: str = "") -> list[str]:
        """Paths (with query) requested from a vendor, optionally only those under a prefix."""
        return [p for v, p, _ in list(self.log) if v == vendor and p.startswith(path_prefix)]

    def stop(self) -> None:
        """Stop serving and free the port."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sandbox(
    data: dict[str, dict[str, list[dict[str, Any]]]] | None = None,
    faults: FaultPlan | None = None,
    page_size_cap: int | None = None,
    *,
    vendors: tuple[str, ...] | None = None,
    credentials: dict[str, dict[str, str]] | None = None,
    seed: int = 0,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Sandbox:
    """Start a sandbox serving `vendors` (default: all); data per vendor, else seeded fixtures."""
    apps = {
        name: load_vendor(name)(
            (data or {}).get(name),
            seed=seed,
            page_size_cap=page_size_cap,
            credentials=(credentials or {}).get(name),
        )
        for name in (vendors or tuple(VENDORS))
    }
    return Sandbox(apps, faults=faults, host=host, port=port).start()


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8780,
    faults: FaultPlan | None = None,
    *,
    seed: int = 0,
    page_size_cap: int | None = None,
    echo: Callable[[str], object] = print,
) -> None:
    """Serve every vendor with seeded fixtures until interrupted (`chorus sandbox`).

    Echoes each vendor's base_url, the invented credentials as shell exports and a config.
    """
    from connectors.common.sandbox.guide import sandbox_guide

    sandbox = start_sandbox(
        faults=faults, page_size_cap=page_size_cap, seed=seed, host=host, port=port
    )
    try:
        echo(sandbox_guide(sandbox))
        echo(f"\nServing on http://{sandbox.host}:{sandbox.port}; Ctrl-C stops.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


def _handler_class(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    """A request handler bound to one sandbox: prefix routing, faults, JSON replies."""

    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            vendor, _, rest = parts.path.lstrip("/").partition("/")
            app = sandbox.apps.get(vendor)
            fault = sandbox.faults.draw() if app is not None else None
            shown = rest + (f"?{parts.query}" if parts.query else "")
            sandbox.log.append((vendor, shown, fault or ""))
            if app is None:
                self._send(Response(404, {"error": f"no sandbox vendor {vendor!r}"}))
                return
            request = Request(
                method=self.command,
                path=rest,
                query={k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                headers=dict(self.headers.items()),
                base_url=f"http://{self.headers.get('Host') or sandbox.host}/{vendor}",
                body=body,
            )
            plan = sandbox.faults.plan
            if fault in ("429", "500", "503"):
                reply = app.error(int(fault), "sandbox fault")
                if fault in ("429", "503") and plan is not None:
                    reply.headers["Retry-After"] = f"{plan.retry_after:g}"
                self._send(reply)
                return
            if fault == "slow" and plan is not None:
                time.sleep(plan.slow_s)
            self._send(app.handle(request), truncate=fault == "truncate")

        def _send(self, reply: Response, truncate: bool = False) -> None:
            payload, kind = _encoded(reply.body)
            headers = {"Content-Type": kind, **reply.headers}  # a reply may name its own type
            try:
                self.send_response(reply.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                if truncate:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 2] if truncate else payload)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return _Handler


def _encoded(body: Any) -> tuple[bytes, str]:
    """A reply body as bytes and its default Content-Type: raw bytes, text, or JSON."""
    if isinstance(body, bytes | bytearray):
        return bytes(body), "application/octet-stream"
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return json.dumps(body).encode(), "application/json; charset=utf-8"
