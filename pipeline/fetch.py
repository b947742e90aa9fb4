"""Bounded HTTP GET for things an essay or a setting points at (images, feeds).

Only http(s), on every hop; at most `max_bytes` read (declared or streamed); connect and
read timeouts plus an overall deadline; at most 5 redirects and no loops. A fresh session
is used, so no platform's credentials travel to the resource's host. A remote file can make
a fetch fail, with the reason in `FetchError`, never hang it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

MAX_REDIRECTS = 5


class FetchError(Exception):
    """The resource could not be fetched within the limits; the message says why.

    `status` is the HTTP status when the host answered with an error, else None.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


@dataclass
class Fetched:
    url: str
    content: bytes
    content_type: str  # without parameters, e.g. "image/png"


def shown(url: str) -> str:
    """A URL for messages: scheme, host and path, never a query (it may hold a token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else url[:80]


def fetch(
    url: str,
    *,
    max_bytes: int = 10 * 1024 * 1024,
    timeout: tuple[float, float] = (5.0, 15.0),
    total_seconds: float | None = None,
) -> Fetched:
    deadline = time.monotonic() + total_seconds if total_seconds else None
    seen: set[str] = set()
    with requests.Session() as http:
        for _ in range(MAX_REDIRECTS + 1):
            scheme = urlsplit(url).scheme.lower()
            if scheme not in {"http", "https"}:
                raise FetchError(f"not an http(s) URL: {shown(url)} (only http/https)")
            if url in seen:
                raise FetchError(f"too many redirects (a loop) at {shown(url)}")
            seen.add(url)
            try:
                response = http.get(url, stream=True, timeout=timeout, allow_redirects=False)
            except requests.RequestException as exc:
                raise FetchError(f"cannot fetch {shown(url)}: {type(exc).__name__}") from None
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
    raise FetchError(f"too many redirects (more than {MAX_REDIRECTS}) for {shown(url)}")


def _read(response: requests.Response, max_bytes: int, deadline: float | None) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"larger than {max_bytes} bytes ({declared} declared)")
    chunks: list[bytes] = []
    total = 0
    try:
        for chunk in response.iter_content(64 * 1024):
            total += len(chunk)
            if total > max_bytes:
                raise FetchError(f"larger than {max_bytes} bytes")
            if deadline is not None and time.monotonic() > deadline:
                raise FetchError("the download took too long")
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise FetchError(f"the transfer failed: {type(exc).__name__}") from None
    return b"".join(chunks)


def fetch_image(
    url: str,
    *,
    max_bytes: int,
    timeout: tuple[float, float] = (5.0, 15.0),
    total_seconds: float | None = None,
    guess_type: bool = False,
) -> Fetched:
    """An image: served as `image/*` (or, with `guess_type`, named like one) and not empty."""
    got = fetch(url, max_bytes=max_bytes, timeout=timeout, total_seconds=total_seconds)
    content_type = got.content_type.lower()
    if not content_type.startswith("image/") and guess_type:
        import mimetypes

        content_type = mimetypes.guess_type(urlsplit(url).path)[0] or ""
    if not content_type.startswith("image/"):
        raise FetchError(f"not an image ({got.content_type or 'no type'}) at {shown(url)}")
    if not got.content:
        raise FetchError(f"empty image at {shown(url)}")
    return Fetched(got.url, got.content, content_type)
