"""One timed HTTP call for every connector, and what a network failure means.

The line that matters is never-sent versus maybe-sent: a failure before any byte left
(connection refused, unknown host, connect timeout) created nothing and is `Transient`;
once the request may have been received (read timeout, reset mid-answer) a write is
`InDoubt` and must be looked up before it is sent again. Reads are always `Transient`.

Error messages name the host only: some platforms (Telegram) put the token in the path,
and a URL may carry `user:password@`. The `requests` exception is dropped from the chain
for the same reason: its text holds the full URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from connectors.errors import InDoubt, Rejected, Transient

# (connect, read) seconds: a dead host fails fast, a slow one gets time
DEFAULT_TIMEOUT = (5.0, 30.0)
USER_AGENT = "crosspost/0.1 (+https://example.invalid/crosspost)"


def session_for(session: requests.Session | None = None) -> requests.Session:
    """The session a connector sends through, named as crosspost unless told otherwise."""
    http = session or requests.Session()
    http.headers.setdefault("User-Agent", USER_AGENT)
    return http


def timed_request(
    http: requests.Session,
    method: str,
    url: str,
    *,
    platform: str,
    target: str,
    base_url: str = "",
    read_timeout: float | None = None,
    **kw: Any,
) -> requests.Response:
    """One HTTP call with our timeouts; network failures mapped to the error family.

    `url` may be a path below `base_url`. `read_timeout` is the target's own patience
    (`timeout_seconds`); an explicit `timeout=` wins over both.
    """
    if read_timeout is not None:
        kw.setdefault("timeout", (DEFAULT_TIMEOUT[0], read_timeout))
    kw.setdefault("timeout", DEFAULT_TIMEOUT)
    if not url.startswith(("http://", "https://")):
        url = f"{base_url}{url}"
    if not url.startswith(("http://", "https://")):
        raise Rejected(
            f"target {target!r} has no usable base_url ({url!r})",
            next_step=f"set targets.{target}.base_url to the platform's http(s) URL",
        )
    safe = method.upper() in {"GET", "HEAD"}
    try:
        response = http.request(method, url, **kw)
    except requests.exceptions.ConnectTimeout:
        raise Transient(f"{platform}: could not connect in time to {host_of(url)}") from None
    except requests.exceptions.ConnectionError as exc:
        if _never_sent(exc) or safe:
            raise Transient(f"{platform}: cannot reach {host_of(url)}") from None
        raise InDoubt(f"{platform}: connection lost after sending to {host_of(url)}") from None
    except requests.exceptions.Timeout:
        if safe:
            raise Transient(f"{platform}: {host_of(url)} did not answer in time") from None
        raise InDoubt(
            f"{platform}: no answer in time from {host_of(url)}",
            settle=_read_seconds(kw["timeout"]),
        ) from None
    except requests.exceptions.InvalidURL:
        raise Rejected(f"target {target!r} has an invalid URL") from None
    if _web_page(response, kw.get("headers")):
        raise Rejected(
            f"{platform} ({target}): {host_of(url)} answered with a web page "
            f"(HTTP {response.status_code}), not the {platform} API",
            status=response.status_code,
            next_step=f"check targets.{target}.base_url: it must point at the "
            f"{platform} server itself, not at a web site",
        )
    return response


def host_of(url: str) -> str:
    """The host part of a URL: error messages name where, never the path (tokens live there)
    nor a `user:password@` written into the URL."""
    return (urlsplit(url).netloc or url.split("/")[0]).rpartition("@")[2]


def _web_page(response: requests.Response, headers: Mapping[str, str] | None) -> bool:
    """An HTML page where an API answer was due: base_url names a website (its front page or
    its 404 page), not the platform's API. Nothing was created, and retrying cannot help.

    Server errors stay the connector's to map (a proxy's 502 page is passing), as do refused
    credentials and rate limits; a caller that asked for HTML (Patreon's web app) gets it.
    """
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if kind not in {"text/html", "application/xhtml+xml"}:
        return False
    if response.status_code >= 500 or response.status_code in {401, 403, 407, 408, 429}:
        return False
    accept = next((v for k, v in (headers or {}).items() if k.lower() == "accept"), "")
    return "html" not in accept.lower()


def _read_seconds(timeout: Any) -> float:
    """The read part of a `requests` timeout: a number, or (connect, read)."""
    read = timeout[1] if isinstance(timeout, tuple) else timeout
    return float(read or 0.0)


def _never_sent(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection failed before any byte of the request could be sent."""
    text = repr(exc).lower()
    markers = (
        "connection refused",
        "name or service not known",
        "newconnectionerror",
        "failed to resolve",
        "no route to host",
    )
    return any(marker in text for marker in markers)
