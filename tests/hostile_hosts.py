"""Badly behaved HTTP hosts on 127.0.0.1, for the network-hygiene tests.

The platform emulators answer like platforms; these answer like the rest of the web on a
bad day: images too large, streams that never end, bytes dripped one per second, sockets
that accept and never answer, redirect loops, redirects to `file://`, web pages where an
API was expected. Each is written on raw sockets, because `http.server` cannot misbehave
at the byte level (drip headers, lie about lengths).

`ImageHost` serves by path (see `HANDLERS`) and counts, per path, the bytes it managed to
send before the client hung up: a client that stops reading at its size limit shows as a
count near that limit, not as the whole stream.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urlsplit

STREAM_CHUNK = 64 * 1024


def tiny_png(marker: bytes = b"") -> bytes:
    """A valid 1x1 PNG; `marker` rides in a tEXt chunk, so a test can find these bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = b"\x89PNG\r\n\x1a\n"
    ihdr = chunk(b"IHDR", (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0]))
    text = chunk(b"tEXt", b"Comment\0" + marker) if marker else b""
    idat = chunk(b"IDAT", zlib.compress(b"\0\xff\x00\x00"))
    return header + ihdr + text + idat + chunk(b"IEND", b"")


class _Conn:
    """One accepted connection: the request line, and helpers that count what was sent."""

    def __init__(self, host: ImageHost, sock: socket.socket, path: str, query: str) -> None:
        self.host, self.sock, self.path = host, sock, path
        self.query = {k: v[0] for k, v in parse_qs(query).items()}

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)
        with self.host.lock:
            self.host.sent[self.path] += len(data)

    def head(self, status: str, headers: dict[str, str]) -> None:
        lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
        self.send("\r\n".join(lines).encode("latin-1"))

    def whole(self, status: str, body: bytes, content_type: str, **extra: str) -> None:
        headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
        self.head(status, {**headers, "Connection": "close", **extra})
        self.send(body)

    def redirect(self, location: str) -> None:
        self.whole("302 Found", b"", "text/plain", Location=location)

    def forever(self, piece: bytes = b"\0" * STREAM_CHUNK, pause: float = 0.0) -> None:
        """Send `piece` until the client hangs up or the host stops."""
        while not self.host.stopping.is_set():
            self.send(piece)
            if pause:
                self.host.stopping.wait(pause)


def _png(conn: _Conn) -> None:
    conn.whole("200 OK", tiny_png(conn.query.get("marker", "").encode()), "image/png")


def _big(conn: _Conn) -> None:
    """An honest Content-Length above the limit (`size` bytes), then the bytes."""
    size = int(conn.query.get("size", str(64 * 1024 * 1024)))
    conn.head("200 OK", {"Content-Type": "image/png", "Content-Length": str(size)})
    conn.forever()


def _endless(conn: _Conn) -> None:
    """No Content-Length: the body ends when the connection does, which is never."""
    conn.head("200 OK", {"Content-Type": "image/png", "Connection": "close"})
    conn.forever()


def _endless_chunked(conn: _Conn) -> None:
    conn.head("200 OK", {"Content-Type": "image/png", "Transfer-Encoding": "chunked"})
    piece = b"\0" * STREAM_CHUNK
    conn.forever(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")


def _lying(conn: _Conn) -> None:
    """Claims 1,000 bytes, then sends without end: only the claimed bytes may be read."""
    conn.head("200 OK", {"Content-Type": "image/png", "Content-Length": "1000"})
    conn.forever()


def _drip(conn: _Conn) -> None:
    """Headers at once, then the body one byte per second."""
    conn.head("200 OK", {"Content-Type": "image/png", "Content-Length": "100000"})
    conn.forever(b"\0", pause=1.0)


def _drip_headers(conn: _Conn) -> None:
    """The status line, then a header that never ends, one byte per second."""
    conn.send(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    conn.forever(b"a", pause=1.0)


def _silent(conn: _Conn) -> None:
    """Read the request, then say nothing until the client gives up."""
    conn.host.stopping.wait()


def _hops(conn: _Conn) -> None:
    """`/hops/N`: N redirects, each to a new URL, then the image."""
    left = int(conn.path.rsplit("/", 1)[-1])
    if left <= 0:
        _png(conn)
    else:
        conn.redirect(f"/hops/{left - 1}")


def _loop(conn: _Conn) -> None:
    conn.redirect("/loop")


def _pingpong(conn: _Conn) -> None:
    conn.redirect("/pingpong/b" if conn.path.endswith("/a") else "/pingpong/a")


def _to(conn: _Conn) -> None:
    """`/to?location=...`: a redirect to anywhere (file://, ftp://, data:)."""
    conn.redirect(conn.query["location"])


def _page(conn: _Conn) -> None:
    """A web page: what a blog's front page answers to any path."""
    page = b"<!DOCTYPE html><html><head><title>My blog</title></head><body>Hi</body></html>"
    conn.whole("200 OK", page, "text/html; charset=utf-8")


def _missing(conn: _Conn) -> None:
    """A web server's own 404 page: the path is not there (no API at this root)."""
    page = b"<html><head><title>404 Not Found</title></head><body>nginx</body></html>"
    conn.whole("404 Not Found", page, "text/html")


def _json(conn: _Conn) -> None:
    """Some other JSON service: valid JSON, none of the fields any platform answers with."""
    conn.whole("200 OK", b'{"service": "something else"}', "application/json")


HANDLERS: dict[str, Callable[[_Conn], None]] = {
    "/png": _png,
    "/big": _big,
    "/endless": _endless,
    "/endless-chunked": _endless_chunked,
    "/lying": _lying,
    "/drip": _drip,
    "/drip-headers": _drip_headers,
    "/silent": _silent,
    "/hops": _hops,
    "/loop": _loop,
    "/pingpong": _pingpong,
    "/to": _to,
    "/page": _page,
    "/missing": _missing,
    "/json": _json,
}


class ImageHost:
    """A threaded raw-socket HTTP/1.1 server; the first path segment picks the behaviour.

    Anything under `/page/...` or `/missing/...` answers the same, so either can stand in
    for a misconfigured API root (`base_url = host + "/page"`).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: dict[str, int] = defaultdict(int)  # path -> bytes sent before hang-up
        self.seen: list[str] = []  # request lines, in order
        self.stopping = threading.Event()
        host = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                host._serve(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def start(self) -> ImageHost:
        self.thread.daemon = True
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> ImageHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(10)
        try:
            request = _read_head(sock)
            line = request.split(b"\r\n", 1)[0].decode("latin-1")
            with self.lock:
                self.seen.append(line)
            target = line.split(" ")[1] if line.count(" ") >= 2 else "/"
            parts = urlsplit(target)
            path = unquote(parts.path)
            handler = HANDLERS.get("/" + path.split("/")[1], _missing)
            handler(_Conn(self, sock, path, parts.query))
        except OSError:
            return  # the client hung up: that is what most behaviours wait for


def _read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        piece = sock.recv(4096)
        if not piece:
            break
        data += piece
    return data


class SilentSocket:
    """A port that accepts connections (the kernel completes them) and never reads or answers.

    What a firewall-less host with a hung process looks like from outside.
    """

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.sock.close()


def closed_port() -> int:
    """A port nothing listens on (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def elapsed(action: Callable[[], object]) -> tuple[object, float]:
    """Run `action`; return what it returned (or the exception it raised) and the seconds."""
    started = time.monotonic()
    try:
        result: object = action()
    except Exception as exc:  # the exception is the result under test
        result = exc
    return result, time.monotonic() - started
