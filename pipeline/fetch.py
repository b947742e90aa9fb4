"""Bounded HTTP GET for things an essay or a setting points at (images, feeds).

Only http(s); at most `max_bytes` read; connect and read timeouts; at most 5 redirects,
each checked again for its scheme. A remote file can make a fetch fail, never hang it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

MAX_REDIRECTS = 5


class FetchError(Exception):
    """The resource could not be fetched within the limits; the message says why."""


@dataclass
class Fetched:
    url: str
    content: bytes
    content_type: str


def fetch(
    url: str,
    *,
    max_bytes: int = 10 * 1024 * 1024,
    timeout: tuple[float, float] = (5.0, 15.0),
    session: requests.Session | None = None,
) -> Fetched:
    http = session or requests.Session()
    seen: set[str] = set()
    for _ in range(MAX_REDIRECTS + 1):
        scheme = urlsplit(url).scheme.lower()
        if scheme not in {"http", "https"}:
            raise FetchError(f"refusing to fetch {scheme or 'a relative'}: URL (only http/https)")
        if url in seen:
            raise FetchError(f"redirect loop at {urlsplit(url).netloc}")
        seen.add(url)
        try:
            response = http.get(url, stream=True, timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise FetchError(
                f"cannot fetch from {urlsplit(url).netloc}: {type(exc).__name__}"
            ) from None
        with response:
            if response.is_redirect:
                url = urljoin(url, response.headers.get("Location", ""))
                continue
            if response.status_code != 200:
                raise FetchError(f"{urlsplit(url).netloc} answered {response.status_code}")
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > max_bytes:
                raise FetchError(f"{declared} bytes is over the {max_bytes}-byte limit")
            chunks: list[bytes] = []
            total = 0
            try:
                for chunk in response.iter_content(64 * 1024):
                    total += len(chunk)
                    if total > max_bytes:
                        raise FetchError(f"more than {max_bytes} bytes; not fetched")
                    chunks.append(chunk)
            except requests.RequestException as exc:
                raise FetchError(
                    f"transfer from {urlsplit(url).netloc} failed: {type(exc).__name__}"
                ) from None
            return Fetched(url, b"".join(chunks), response.headers.get("Content-Type", ""))
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")
