"""A loopback HTTP server base for platform emulators, with fault injection.

Each platform emulator subclasses `Emulator`, declares its routes with `@route`, keeps what
was published in its own state, and enforces the platform contract written in its own
docstring (auth, required fields, limits, error shapes). Tests steer faults with `inject`:

- `status`: answer with an error status (5xx bursts, 429 with headers) instead of handling;
- `drop`: handle the request (the post is created) and then reset the connection, so the
  client never learns the outcome: the "lost response" every connector must survive;
- `slow`: sleep before answering (longer than the client's timeout);
- `reset_before`: close the connection without handling (nothing created).

`requests_seen` counts every request, so a test can assert "nothing retried in a tight loop".
`on_request` lets a test act while a request is in flight (the crash matrix kills the client).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)
    status: int | None = None  # what it was answered; None if the connection was reset

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)

    def header(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return default

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str sent as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"

    def payload(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body).encode("utf-8")


@dataclass
class Fault:
    kind: str  # status | drop | slow | reset_before
    times: int = 1
    method: str | None = None
    path: str | None = None  # regex searched in the path
    status: int = 503
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def matches(self, req: Request) -> bool:
        if self.method and self.method.upper() != req.method:
            return False
        return not (self.path and not re.search(self.path, req.path))


Handler = Callable[..., Response]


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Declare an emulator method as the handler of `METHOD pattern` (regex, full match)."""

    def mark(fn: Handler) -> Handler:
        fn.__dict__.setdefault("_routes", []).append((method.upper(), re.compile(pattern)))
        return fn

    return mark


class Emulator:
    """Base class: routing, fault injection, request log, and a sliding-window rate limiter."""

    name = "emulator"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.requests_seen: list[Request] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        for attr in dir(type(self)):
            fn = getattr(type(self), attr, None)
            for method, pattern in getattr(fn, "_routes", []):
                self._routes.append((method, pattern, getattr(self, attr)))
        self._windows: dict[str, list[float]] = {}
        # called with each request as it arrives, before it is handled: the crash matrix
        # kills the client here, so the platform processes a request nobody waits for
        self.on_request: Callable[[Request], None] | None = None
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self.server is not None, "emulator not started"
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Emulator:
        emulator = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def setup(self) -> None:
                # headers and body go out in two writes; without NODELAY, Nagle plus the
                # client's delayed ACK add ~40 ms to every answer
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _serve(self) -> None:
                emulator._dispatch(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        self.server = _QuietServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults ------------------------------------------------------------

    def inject(self, kind: str, **kw: Any) -> Fault:
        fault = Fault(kind=kind, **kw)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def _take_fault(self, req: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(req):
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    # -- rate limiting -------------------------------------------------------

    def over_limit(self, bucket: str, limit: int, window: float) -> float | None:
        """Count one hit in `bucket`; return seconds until a slot frees if over `limit`."""
        now = time.monotonic()
        with self.lock:
            hits = [t for t in self._windows.get(bucket, []) if now - t < window]
            if len(hits) >= limit:
                self._windows[bucket] = hits
                return max(0.0, window - (now - hits[0]))
            hits.append(now)
            self._windows[bucket] = hits
            return None

    def remaining(self, bucket: str, limit: int, window: float) -> int:
        now = time.monotonic()
        with self.lock:
            return max(
                0, limit - len([t for t in self._windows.get(bucket, []) if now - t < window])
            )

    # -- dispatch ------------------------------------------------------------

    def not_found(self, req: Request) -> Response:
        return Response(404, {"error": "Not found"})

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        req = Request(
            method=handler.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=dict(handler.headers.items()),
            body=body,
        )
        with self.lock:
            self.requests_seen.append(req)
        if self.on_request:
            self.on_request(req)
        fault = self._take_fault(req)
        if fault and fault.kind == "reset_before":
            _reset(handler)
            return
        if fault and fault.kind == "slow":
            time.sleep(fault.delay)
        if fault and fault.kind == "status":
            response = Response(fault.status, fault.body, dict(fault.headers))
        else:
            response = self.handle(req)
        if fault and fault.kind == "drop":
            _reset(handler)
            return
        req.status = response.status
        self._send(handler, response)

    def handle(self, req: Request) -> Response:
        for method, pattern, fn in self._routes:
            if method != req.method:
                continue
            match = pattern.fullmatch(req.path)
            if match:
                try:
                    return fn(req, **match.groupdict())
                except Exception as exc:  # an emulator bug must show as a 500, not a hang
                    return Response(500, {"error": f"emulator error: {type(exc).__name__}: {exc}"})
        return self.not_found(req)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, response: Response) -> None:
        payload = response.payload()
        try:
            handler.send_response(response.status)
            if payload or response.status not in (204, 304):
                handler.send_header("Content-Type", response.content_type)
            for key, value in response.headers.items():
                handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass


class _QuietServer(ThreadingHTTPServer):
    """Injected resets make the handler fail on flush; that is the point, not an error."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


def _reset(handler: BaseHTTPRequestHandler) -> None:
    """Close the connection abruptly (RST), as a crashed proxy or a dropped network would."""
    try:
        handler.connection.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
        )
        handler.connection.close()
    except OSError:
        pass
    handler.close_connection = True
