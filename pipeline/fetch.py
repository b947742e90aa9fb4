"""Bounded HTTP GET for things an essay or a setting points at (images, feeds).

Only http(s), on every hop; at most `max_bytes` read (declared or streamed); connect and
read timeouts plus an overall deadline (`total_seconds`, 20 s unless the caller says); at
most 5 redirects and no loops. A fresh session is used, so no platform's credentials travel
to the resource's host. A remote file can make a fetch fail, with the reason in
`FetchError`, never hang it.

Why a watchdog: a host that drips one byte a second resets every read timeout, inside the
headers or the body, so no timeout on the reads ends it. At the deadline a timer shuts the
fetch's sockets down, and the blocked read returns.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

MAX_REDIRECTS = 5
TOTAL_SECONDS = 20.0  # the whole fetch, every hop and byte, unless the caller says otherwise


class FetchError(Exception):
    """The resource could not be fetched within the limits; the message says why.

    `status` is the HTTP status when the host answered with an error, else None.
    `permanent` says the same URL will fail the same way (a refused scheme, a redirect
    loop, too large, a 4xx), so retrying is useless; otherwise (no answer, too slow, a
    5xx) a later try may work.
    """

    def __init__(self, message: str, status: int | None = None, permanent: bool = False) -> None:
        self.status = status
        self.permanent = permanent or (status is not None and status < 500 and status != 429)
        super().__init__(message)


@dataclass
class Fetched:
    url: str
    content: bytes
    content_type: str  # without parameters, e.g. "image/png"


def shown(url: str) -> str:
    """A URL for messages: scheme, host and path; never a query or a user:password@ (either
    may hold a token)."""
    parts = urlsplit(url)
    if not parts.netloc:
        return url[:80]
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path}"


def fetch(
    url: str,
    *,
    max_bytes: int = 10 * 1024 * 1024,
    timeout: tuple[float, float] = (5.0, 15.0),
    total_seconds: float = TOTAL_SECONDS,
) -> Fetched:
    first = url
    with _Deadline(total_seconds) as deadline:
        try:
            return _fetch(url, max_bytes, timeout, deadline)
        except FetchError:
            if deadline.expired:
                raise FetchError(
                    f"{shown(first)} took longer than {total_seconds:g} s to download"
                ) from None
            raise


def _fetch(url: str, max_bytes: int, timeout: tuple[float, float], deadline: _Deadline) -> Fetched:
    first = url
    seen: set[str] = set()
    with requests.Session() as http:
        for scheme in ("http://", "https://"):
            http.mount(scheme, _WatchedAdapter())
        for _ in range(MAX_REDIRECTS + 1):
            scheme = urlsplit(url).scheme.lower()
            if scheme not in {"http", "https"}:
                hop = f", redirected from {shown(first)}" if url != first else ""
                raise FetchError(
                    f"not an http(s) URL: {shown(url)} (only http/https{hop})", permanent=True
                )
            if not urlsplit(url).hostname:
                raise FetchError(f"no host in {shown(url)}", permanent=True)
            if url in seen:
                raise FetchError(f"too many redirects (a loop) at {shown(url)}", permanent=True)
            seen.add(url)
            try:
                response = http.get(url, stream=True, timeout=timeout, allow_redirects=False)
            except requests.RequestException as exc:
                bad_url = isinstance(exc, requests.exceptions.InvalidURL)
                raise FetchError(
                    f"cannot fetch {shown(url)}: {type(exc).__name__}", permanent=bad_url
                ) from None
            with response:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("Location", ""))
                    continue
                if response.status_code != 200:
                    raise FetchError(
                        f"HTTP {response.status_code} for {shown(url)}", response.status_code
                    )
                content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
                return Fetched(url, _read(response, max_bytes, deadline), content_type)
    raise FetchError(
        f"too many redirects (more than {MAX_REDIRECTS}) from {shown(first)}", permanent=True
    )


def _read(response: requests.Response, max_bytes: int, deadline: _Deadline) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(
            f"{shown(response.url)} is larger than {max_bytes} bytes ({declared} declared)",
            permanent=True,
        )
    chunks: list[bytes] = []
    total = 0
    try:
        for chunk in response.iter_content(64 * 1024):
            total += len(chunk)
            if total > max_bytes:
                too_large = f"{shown(response.url)} is larger than {max_bytes} bytes"
                raise FetchError(too_large, permanent=True)
            if deadline.expired:
                raise FetchError("the download took too long")
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise FetchError(f"the transfer failed: {type(exc).__name__}") from None
    if deadline.expired:  # a body without a length ends when the watchdog cuts it: cut short
        raise FetchError("the download took too long")
    return b"".join(chunks)


def fetch_image(
    url: str,
    *,
    max_bytes: int,
    timeout: tuple[float, float] = (5.0, 15.0),
    total_seconds: float = TOTAL_SECONDS,
    guess_type: bool = False,
) -> Fetched:
    """An image: served as `image/*` (or, with `guess_type`, named like one) and not empty."""
    got = fetch(url, max_bytes=max_bytes, timeout=timeout, total_seconds=total_seconds)
    content_type = got.content_type.lower()
    if not content_type.startswith("image/") and guess_type:
        import mimetypes

        content_type = mimetypes.guess_type(urlsplit(url).path)[0] or ""
    if not content_type.startswith("image/"):
        raise FetchError(
            f"not an image ({got.content_type or 'no type'}) at {shown(url)}", permanent=True
        )
    if not got.content:
        raise FetchError(f"empty image at {shown(url)}", permanent=True)
    return Fetched(got.url, got.content, content_type)


# ---------------------------------------------------------------- the deadline's watchdog

_current = threading.local()  # the deadline of the fetch running on this thread


class _Deadline:
    """Shuts down every socket the fetch opened once `seconds` have passed."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _current.deadline = None

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv, unlike close()


class _Watched:
    """Hands each new socket to the running fetch's deadline."""

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        deadline = getattr(_current, "deadline", None)
        if deadline is not None:
            deadline.watch(sock)
        return sock


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    """`requests`' adapter, with connections the deadline can reach."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }
