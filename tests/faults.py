"""Building blocks of the fault-injection campaign (issue 6, item 2).

One `Site` is one emulated platform (its contract harness) plus a home folder and the real
`crosspost run` daemon as a subprocess, configured with two targets on that platform:
`main` (valid credentials) and `revoked` (the harness's refused ones). Each scenario drops
one essay (or a few), injects its fault through `harness.server.inject`, waits until the
publication settles, and returns an `Outcome`: what the platform holds, every request it
saw, what the emulator itself answered (so 429s it *had* to send are counted apart from
injected ones) and the row as `crosspost status --json` shows it.

`tests/test_fault_injection.py` asserts on outcomes; `bench/faults.py` runs every fault on
every platform and writes the figures. Both use these same pieces.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import re
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.contract.harness import Harness
from tests.daemon_helpers import (
    everything_written,
    make_home,
    secret_hits,
    start_daemon,
    stop_daemon,
    wait_for,
)
from tests.emulators.base import Emulator, Request, Response

# every platform served by an in-process emulator (WordPress, Ghost and Bluesky are real
# servers behind the fault proxy, covered by the contract suite)
PLATFORMS = (
    "devto",
    "medium",
    "patreon",
    "substack",
    "mastodon",
    "x",
    "linkedin",
    "threads",
    "telegram",
)
NO_LOOKUP = frozenset({"medium", "telegram"})  # no API to look a post up: a person decides

MAX_ATTEMPTS = 4
RETRY_BASE = 0.3  # seconds; the backoff doubles per attempt, with jitter in [cap/2, cap]
TIMEOUT = 1.5  # each target's `timeout_seconds`: an answer later than this is in doubt
SLOW_BY = 0.6  # the slow answer comes this long after our timeout
RATE_WAIT = 2  # seconds the injected 429s ask us to wait
BURST = (500, 502, 503)
# fault scenarios measure retries, not the limiter: their target's limit is lifted (the
# emulators still count any 429 they have to give); `steady_stream` proves the limiter
RELAXED = {"rate_limit": [1000, 1.0]}
# steady streams: the emulator's own documented limit where its window is short enough for
# a test run (dev.to's 1 write/s, Telegram's ~1 message/s per chat); else a scaled-down
# window given to both the emulator and the target's `rate_limit`
SCALED: dict[str, tuple[dict[str, Any], list[float]]] = {
    "mastodon": ({"rate_limit": 3, "rate_window": 2.0}, [3, 2.0]),
    "x": ({"window": 2.0}, [3, 2.0]),  # and limits["tweets"] = 3, below
    "threads": ({"post_quota": 3, "window": 3.0}, [3, 3.0]),
    "linkedin": ({"daily_quota": 3, "quota_window": 2.0}, [3, 2.0]),
}
TERMINAL = {"published", "failed", "awaiting-manual", "cancelled"}


def open_harness(platform: str) -> Harness:
    module = importlib.import_module(f"tests.contract.harness_{platform}")
    return module.make_harness()


# ------------------------------------------------------------------ configuration


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {type(value).__name__}")


def toml_table(name: str, table: dict[str, Any]) -> str:
    lines = [f"[targets.{name}]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in table.items()]
    return "\n".join(lines)


def revoked_table(harness: Harness) -> dict[str, Any]:
    """The harness's target with the credentials the platform refuses (revoked, expired)."""
    table = harness.target_table()
    bad = harness.connector(valid_credentials=False).account.credentials
    table["credentials"] = {key: value.get_secret_value() for key, value in bad.items()}
    return table


def all_secrets(harness: Harness) -> dict[str, str]:
    secrets = harness.secrets()
    bad = harness.connector(valid_credentials=False).account.credentials
    secrets.update({f"revoked.{k}": v.get_secret_value() for k, v in bad.items()})
    return secrets


def config_for(harness: Harness, main_extra: dict[str, Any] | None = None) -> str:
    main = {**harness.target_table(), "timeout_seconds": TIMEOUT, **(main_extra or {})}
    revoked = {**revoked_table(harness), "timeout_seconds": TIMEOUT}
    return "\n".join(
        [
            'timezone = "UTC"',
            "settle_seconds = 0.1",
            "inbox_poll_seconds = 0.2",
            f"max_attempts = {MAX_ATTEMPTS}",
            f"retry_base_seconds = {RETRY_BASE}",
            "retry_max_seconds = 5",
            toml_table("main", main),
            toml_table("revoked", revoked),
        ]
    )


def essay_text(marker: str, target: str = "main") -> str:
    return (
        "---\n"
        f'title: "Fault essay {marker}"\n'
        f"canonical_url: https://blog.example.org/fault-essay-{marker}\n"
        "tags: [writing]\n"
        f"targets: [{target}]\n"
        "---\n\n"
        f"A first paragraph about {marker} that serves as the teaser.\n\n"
        "A second paragraph, so the essay has a body.\n"
    )


# ------------------------------------------------------------------ what the platform answered


@dataclass
class Answer:
    request: Request
    status: int
    body: Any


class Answers:
    """Records what the emulator itself answered (injected faults bypass `handle`)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.lock = threading.Lock()
        self.seen: list[Answer] = []
        inner = emulator.handle

        def recording(req: Request) -> Response:
            response = inner(req)
            with self.lock:
                self.seen.append(Answer(req, response.status, response.body))
            return response

        emulator.handle = recording  # type: ignore[method-assign]

    def since(self, start: float) -> list[Answer]:
        with self.lock:
            return [a for a in self.seen if a.request.at >= start]


def throttled(answers: list[Answer]) -> list[Answer]:
    """The 429s the emulator had to answer (Threads says "limit reached" with code 4)."""
    return [a for a in answers if a.status == 429 or _graph_code(a.body) == 4]


def _graph_code(body: Any) -> int | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return None


def words_of(body: Any) -> list[str]:
    """The human sentences in an error body (every string leaf of six characters or more)."""
    if isinstance(body, dict):
        return [w for v in body.values() for w in words_of(v)]
    if isinstance(body, list):
        return [w for v in body for w in words_of(v)]
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str) and len(body.strip()) >= 6:
        return [body.strip()]
    return []


# ------------------------------------------------------------------ one platform, one daemon


@dataclass
class Outcome:
    """What one scenario left behind, as the operator and the platform see it."""

    platform: str
    fault: str
    injected: int
    rows: list[dict[str, Any]]
    posts: int
    requests: list[Request]
    answers: list[Answer]
    started: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def row(self) -> dict[str, Any]:
        assert len(self.rows) == 1, self.rows
        return self.rows[0]

    @property
    def throttled(self) -> int:
        return len(throttled(self.answers))


class Site:
    """One emulated platform with the real daemon publishing to it from a temp home."""

    def __init__(self, platform: str, folder: Path, main_extra: dict[str, Any] | None = None):
        self.platform = platform
        self.harness = open_harness(platform)
        self.server = self.harness.server
        self.answers = Answers(self.server)
        self.home = make_home(folder, config_for(self.harness, main_extra))
        self.secrets = all_secrets(self.harness)
        self.output: list[str] = []
        self.proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> Site:
        self.proc = start_daemon(self.home)
        proc = self.proc

        def drain() -> None:  # a long run prints more than a pipe buffer holds
            assert proc.stdout is not None
            for line in proc.stdout:
                self.output.append(line)

        self._reader = threading.Thread(target=drain, daemon=True)
        self._reader.start()
        return self

    def stop(self) -> None:
        try:
            if self.proc is not None:
                self.output.append(stop_daemon(self.proc))
                if self._reader is not None:
                    self._reader.join(timeout=10)
        finally:
            self.harness.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- observing -----------------------------------------------------------

    def status(self) -> list[dict[str, Any]]:
        """`crosspost status --json`, run through the CLI's own entry point (in this process:
        a subprocess per look would cost a second of start-up on a loaded machine)."""
        from pipeline.cli import main

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["--home", str(self.home), "status", "--json"])
        assert code == 0, out.getvalue()
        return json.loads(out.getvalue())

    def rows(self, marker: str) -> list[dict[str, Any]]:
        return [r for r in self.status() if marker in r["essay"]]

    def settle(
        self, markers: list[str], timeout: float = 60, done: Callable[[dict], bool] | None = None
    ) -> list[dict[str, Any]]:
        """Wait until each essay's publication is finished (or `done` says so)."""
        finished = done or (lambda row: row["state"] in TERMINAL)
        found: list[dict[str, Any]] = []

        def ready() -> bool:
            nonlocal found
            assert self.alive(), "the daemon died:\n" + "".join(self.output[-40:])
            found = [r for r in self.status() if any(m in r["essay"] for m in markers)]
            return len(found) == len(markers) and all(finished(r) for r in found)

        wait_for(ready, timeout=timeout, every=0.1)
        return found

    def posts(self, marker: str) -> int:
        return sum(marker in str(p.get("text", "")) for p in self.harness.posts())

    def leaks(self) -> list[str]:
        return secret_hits(everything_written(self.home, ["".join(self.output)]), self.secrets)

    # -- acting --------------------------------------------------------------

    def drop(self, target: str = "main") -> str:
        marker = uuid.uuid4().hex[:10]
        partial = self.home.parent / f"fault-{marker}.md"
        partial.write_text(essay_text(marker, target), encoding="utf-8")
        partial.rename(self.home / "inbox" / partial.name)  # whole at once, never half
        return marker

    def scenario(
        self,
        fault: str,
        inject: Callable[[], int],
        target: str = "main",
        timeout: float = 60,
        quiet_after: float = 0.0,
    ) -> Outcome:
        """Inject, drop one essay, wait for its publication to finish, collect the figures.

        `quiet_after` keeps watching that long after it finished, so a retry that should
        not happen would still be seen.
        """
        self.server.clear_faults()
        started = time.monotonic()
        seen_before = len(self.server.requests_seen)
        injected = inject()
        marker = self.drop(target)
        rows = self.settle([marker], timeout=timeout)
        if quiet_after:
            time.sleep(quiet_after)
            rows = self.rows(marker)
        self.server.clear_faults()
        return Outcome(
            platform=self.platform,
            fault=fault,
            injected=injected,
            rows=rows,
            posts=self.posts(marker),
            requests=list(self.server.requests_seen[seen_before:]),
            answers=self.answers.since(started),
            started=started,
            extra={"marker": marker, "create_path": self.harness.create_path},
        )


@contextlib.contextmanager
def running(platform: str, folder: Path, **kw: Any) -> Iterator[Site]:
    """A platform under faults: the target's limiter lifted (see RELAXED)."""
    site = Site(platform, folder, main_extra=RELAXED, **kw)
    try:
        yield site.start()
    finally:
        site.stop()


@contextlib.contextmanager
def streaming(platform: str, folder: Path) -> Iterator[Site]:
    """A platform with its rate limit in force on both sides (see SCALED)."""
    emulator_limits, target_limit = SCALED.get(platform, ({}, None))
    site = Site(platform, folder, main_extra={"rate_limit": target_limit} if target_limit else None)
    try:
        server: Any = site.server
        for name, value in emulator_limits.items():
            setattr(server, name, value)
        if platform == "x":
            server.limits["tweets"] = 3
        if platform == "telegram":  # the harness lifts them for the contract suite
            server.chat_limit, server.chat_window = 3, 3.0
        yield site.start()
    finally:
        site.stop()


# ------------------------------------------------------------------ the faults


def create_fault(site: Site, **kw: Any) -> dict[str, Any]:
    """Aim a fault at the platform's create call (the POST that makes a post visible)."""
    return {"method": "POST", "path": site.harness.create_path, **kw}


def server_error_burst(site: Site) -> Outcome:
    """500, 502 and 503 in a row on the create call, then the platform recovers."""

    def inject() -> int:
        for status in BURST:
            body = {"error": f"server error {status}"}
            site.server.inject("status", **create_fault(site, status=status, body=body))
        return len(BURST)

    return site.scenario("server-error-burst", inject)


def rate_limited(site: Site) -> Outcome:
    """One 429 (in the platform's own shape, with its wait header) on the create call."""
    fault = site.harness.rate_limit_fault(RATE_WAIT)
    said: dict[str, float] = {}

    def inject() -> int:
        site.server.inject("status", **create_fault(site, **fault))
        said["wall_minus_mono"] = time.time() - time.monotonic()
        return 1

    outcome = site.scenario("rate-limited", inject)
    outcome.extra["fault"] = fault
    outcome.extra["wall_minus_mono"] = said["wall_minus_mono"]
    return outcome


def wait_said(fault: dict[str, Any], answered_at: float, wall_minus_mono: float) -> float:
    """The monotonic moment before which the 429 asked us not to come back."""
    headers = {k.lower(): v for k, v in fault.get("headers", {}).items()}
    body = fault.get("body")
    if "retry-after" in headers:
        return answered_at + float(headers["retry-after"])
    if "x-rate-limit-reset" in headers:  # X: unix seconds
        return float(headers["x-rate-limit-reset"]) - wall_minus_mono
    if "x-ratelimit-reset" in headers:  # Mastodon: ISO 8601
        reset = datetime.fromisoformat(headers["x-ratelimit-reset"].replace("Z", "+00:00"))
        return reset.timestamp() - wall_minus_mono
    if isinstance(body, dict) and "parameters" in body:  # Telegram
        return answered_at + float(body["parameters"]["retry_after"])
    if isinstance(body, dict) and "errors" in body:  # Patreon
        return answered_at + float(body["errors"][0]["retry_after_seconds"])
    raise ValueError(f"no wait in {fault}")


def after_fault(outcome: Outcome) -> tuple[Request, list[Request]]:
    """The create call the fault hit (the first one), and every request after it."""
    path = re.compile(outcome.extra["create_path"])
    hit = next(r for r in outcome.requests if r.method == "POST" and path.search(r.path))
    return hit, [r for r in outcome.requests if r.at > hit.at]


def slow_answer(site: Site) -> Outcome:
    """The create call is answered after our timeout (the platform is still working on it)."""

    def inject() -> int:
        site.server.inject("slow", **create_fault(site, delay=TIMEOUT + SLOW_BY))
        return 1

    outcome = site.scenario("slow-answer", inject)
    # the late request lands after its sleep: wait for it before counting posts
    time.sleep(max(0.0, outcome.started + TIMEOUT + SLOW_BY + 0.3 - time.monotonic()))
    outcome.posts = site.posts(outcome.extra["marker"])
    return outcome


def lost_response(site: Site) -> Outcome:
    """The platform creates the post, then the connection is reset before the answer."""

    def inject() -> int:
        site.server.inject("drop", **create_fault(site))
        return 1

    return site.scenario("lost-response", inject)


def revoked_credentials(site: Site) -> Outcome:
    """The `revoked` target's credentials (the fault itself) are refused by the platform."""
    return site.scenario(
        "revoked-credentials", lambda: 1, target="revoked", quiet_after=4 * RETRY_BASE
    )


def platform_down(site: Site) -> Outcome:
    """Every request answers 503 for longer than the retry budget."""

    def inject() -> int:
        site.server.inject(
            "status", times=10_000, status=503, body={"error": "Service Unavailable"}
        )
        return 1

    outcome = site.scenario("platform-down", inject, quiet_after=4 * RETRY_BASE)
    outcome.injected = len(outcome.requests)  # every request was answered 503
    return outcome


def attempts_in(requests: list[Request], gap: float) -> list[list[Request]]:
    """Requests grouped into attempts: a pause of at least `gap` starts a new one."""
    groups: list[list[Request]] = []
    for req in sorted(requests, key=lambda r: r.at):
        if groups and req.at - groups[-1][-1].at < gap:
            groups[-1].append(req)
        else:
            groups.append([req])
    return groups


def steady_stream(site: Site, essays: int, timeout: float = 90) -> Outcome:
    """Several essays at once to one target, no fault: the limiter alone must keep the
    platform from ever answering 429."""
    site.server.clear_faults()
    started = time.monotonic()
    seen_before = len(site.server.requests_seen)
    markers = [site.drop() for _ in range(essays)]
    rows = site.settle(markers, timeout=timeout)
    return Outcome(
        platform=site.platform,
        fault="steady-stream",
        injected=0,
        rows=rows,
        posts=sum(site.posts(m) for m in markers),
        requests=list(site.server.requests_seen[seen_before:]),
        answers=site.answers.since(started),
        started=started,
        extra={"markers": markers},
    )
