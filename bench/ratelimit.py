"""Rate-limit efficiency: a backlog for one Mastodon account, published by the real program.

The emulator enforces Mastodon's documented limit (300 requests per 5 minutes per token, a
fixed window) scaled down to 30 per 3 seconds so the run is short; the target says the same
in settings (`rate_limit = [30, 3]`). A backlog of essays is planned at once, then the
daemon (`crosspost run`) or a worker (`crosspost worker`) publishes it. Measured: 429
answers (goal: none), duplicates and losses (none), and the achieved rate against the
allowed one: the first window's burst is free, so the rate is counted after it,
`(posts - limit) / (last post - first post)` against `limit / window` (goal: >= 90 %).
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.drop import essay_text, make_home, start_process, stop_process, wait_for_text
from tests.emulators.base import Request, Response
from tests.emulators.mastodon import MastodonEmulator

TOKEN = "bench-rate-token"
LIMIT, WINDOW = 30, 3.0
GOAL_EFFICIENCY = 0.9


class CountingMastodon(MastodonEmulator):
    """The Mastodon emulator, noting when each status was created and every 429 it sent."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.created_at: list[float] = []
        self.too_many = 0

    def handle(self, req: Request) -> Response:
        response = super().handle(req)
        with self.lock:
            if response.status == 429:
                self.too_many += 1
            elif req.method == "POST" and req.path == "/api/v1/statuses" and response.status < 300:
                self.created_at.append(time.monotonic())
        return response


def config(url: str) -> str:
    return f"""
    timezone = "UTC"
    settle_seconds = 0
    [targets.toot]
    platform = "mastodon"
    base_url = "{url}"
    credentials = {{ access_token = "{TOKEN}" }}
    rate_limit = [{LIMIT}, {WINDOW}]
    """


def plan_backlog(home: Path, count: int) -> None:
    """Plan `count` essays (one status each) straight into the store, all due now."""
    from pipeline.publishing.pipeline import Pipeline
    from pipeline.readers import read_bytes
    from pipeline.settings import load_settings

    engine = Pipeline(home, load_settings(home))
    try:
        for index in range(count):
            data = essay_text(index, "rate").encode()
            engine.add_essay(read_bytes(Path(f"rate-{index}.md"), data), f"rate-{index}.md", data)
    finally:
        engine.close()


def measure(mode: str, backlog: int) -> dict[str, Any]:
    emulator = CountingMastodon(rate_limit=LIMIT, rate_window=WINDOW)
    emulator.add_account(TOKEN, "writer")
    with emulator, tempfile.TemporaryDirectory(prefix="bench-rate-") as tmp:
        home = make_home(Path(tmp), config(emulator.base_url))
        plan_backlog(home, backlog)
        proc = start_process(home, mode)
        try:
            ready = "daemon started" if mode == "run" else "worker started"
            wait_for_text(home / "daemon.out", ready, proc, 60)
            deadline = time.monotonic() + 10 * backlog / LIMIT * WINDOW + 30
            while len(emulator.created_at) < backlog and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)  # anything extra (a duplicate) would show now
        finally:
            stop_process(proc)
        statuses = emulator.published()
    times = sorted(emulator.created_at)
    texts = Counter(s["text"] for s in statuses)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = (len(times) - LIMIT) / span if span > 0 and len(times) > LIMIT else None
    allowed = LIMIT / WINDOW
    return {
        "mode": "daemon (crosspost run)" if mode == "run" else "worker (crosspost worker)",
        "backlog": backlog,
        "published": len(statuses),
        "duplicates": sum(n - 1 for n in texts.values() if n > 1),
        "responses_429": emulator.too_many,
        "seconds": span,
        "rate_per_s": rate,
        "allowed_per_s": allowed,
        "efficiency": rate / allowed if rate else None,
        "goal_efficiency": GOAL_EFFICIENCY,
        "goal_met": bool(rate and rate / allowed >= GOAL_EFFICIENCY and not emulator.too_many),
    }


def run(quick: bool = False) -> dict[str, Any]:
    backlog = 120 if quick else 150
    modes = ["run"] if quick else ["run", "worker"]
    return {
        "limit": [LIMIT, WINDOW],
        "documented": "Mastodon: 300 requests / 5 min per token (scaled 10x down in time)",
        "runs": [measure(mode, backlog) for mode in modes],
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
