"""Who may use the console, and what a page may do in the browser.

- Loopback needs no password: only this machine connects; the Host header must name a
  loopback address too, so a web page elsewhere cannot reach the console by DNS rebinding.
- Any other address needs `console.password` (or the console refuses to start). The
  password is compared as a SHA-256 digest with `hmac.compare_digest`, never as text.
- A session is a random id in an `HttpOnly`, `SameSite=Strict` cookie; every form carries
  a CSRF token (an HMAC of the session id under a key made at start), and a POST without
  the right one is refused with 403.
- Every answer carries a strict Content-Security-Policy: scripts and styles from the
  console itself only, no inline script, frames only from `srcdoc` (and those sandboxed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pydantic import SecretStr

SESSION_COOKIE = "crosspost_console"
CSRF_FIELD = "csrf"
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-src 'self'",
        "child-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


class Guard:
    """Sessions, the password check and CSRF tokens of one console process."""

    def __init__(self, password: SecretStr | None) -> None:
        self.password_digest = digest(password.get_secret_value()) if password else None
        self.key = secrets.token_bytes(32)
        self.signed_in: set[str] = set()

    @property
    def needs_login(self) -> bool:
        return self.password_digest is not None

    def new_session(self) -> str:
        return secrets.token_urlsafe(32)

    def csrf_token(self, session: str) -> str:
        return hmac.new(self.key, session.encode("ascii"), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: str | None, token: str | None) -> bool:
        if not session or not token:
            return False
        return hmac.compare_digest(self.csrf_token(session), token)

    def password_ok(self, given: str) -> bool:
        if self.password_digest is None:
            return True
        return hmac.compare_digest(self.password_digest, digest(given))

    def allowed(self, session: str | None) -> bool:
        return not self.needs_login or (session is not None and session in self.signed_in)


Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Any]


class SecurityHeaders:
    """ASGI middleware: the headers above on every answer, the page's and the stream's,
    and a `Server-Timing` header with the time the console took to start answering."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                extra = [(k, v) for k, v in extra if k not in present]
                # the server's own time for the answer (bench/console.py reads it)
                spent = (time.perf_counter() - started) * 1000
                extra.append((b"server-timing", f"app;dur={spent:.1f}".encode()))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def allowed_hosts(bind: str, port: int, loopback: bool) -> list[str]:
    """Host headers the console answers: on loopback only loopback names (no rebinding)."""
    if not loopback:
        return ["*"]
    names = {*LOOPBACK_NAMES, bind if ":" not in bind else f"[{bind}]"}
    return sorted(names)
