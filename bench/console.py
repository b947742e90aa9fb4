"""The console's pages at 100,000 publications: the server's own time per answer.

A store of 10,000 essays x 10 targets (100,000 publications) is bulk-inserted (the scheduler
bench's rows), then spread over the states an operator sees (most published, some failed
with a long error, some awaiting a person, the rest scheduled over the next weeks). A real
`crosspost console` process serves it; each page is asked for repeatedly over loopback and
the console's `Server-Timing` header gives the server's time (the client's wall time, HTTP
included, is reported beside it). Goal: the status page under 200 ms server time.
"""

from __future__ import annotations

import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bench.drop import make_home, percentiles, start_process, stop_process
from bench.scheduler import config, fill
from pipeline.store import Store

GOAL_MS = 200.0
REPEAT = 30
ERROR = (
    "mastodon (out3): request refused (422): Validation failed: Text character limit of 500 "
    "exceeded -- next step: fix the essay or the target's options, then `crosspost retry`"
)


def spread_states(url: str) -> None:
    """Most rows published, one in fifty failed, one in a hundred awaiting a person."""
    store = Store(url)
    now = datetime.now(UTC)
    store.set_by_id_modulo(
        10,
        range(7),
        {"state": "published", "remote_url": "https://example.org/p", "published_at": now},
    )
    store.set_by_id_modulo(50, [7], {"state": "failed", "last_error": ERROR})
    store.set_by_id_modulo(100, [9], {"state": "awaiting-manual"})
    store.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pages(total: int) -> dict[str, str]:
    today = datetime.now(UTC).date().isoformat()
    return {
        "status, first page": "/queue",
        "status, page 1,000 deep (keyset)": f"/queue?after={total - 50_000}",
        "status, failed only": "/queue?state=failed",
        "status, one target": "/queue?target=out3",
        "status, one essay": "/queue?essay=5000",
        "status, due in a date range": f"/queue?from={today}&to=2100-01-01",
        "calendar, week": "/calendar",
        "calendar, month": "/calendar?view=month",
        "publication": "/publications/4242",
    }


def measure(base: str, path: str) -> dict[str, Any]:
    http = requests.Session()
    http.get(base + path, timeout=60)  # warm: templates compiled, caches filled
    server: list[float] = []
    wall: list[float] = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        answer = http.get(base + path, timeout=60)
        wall.append(time.perf_counter() - started)
        assert answer.status_code == 200, (path, answer.status_code)
        timing = answer.headers["server-timing"].partition("dur=")[2]
        server.append(float(timing) / 1000)
    return {"server": percentiles(server), "wall": percentiles(wall)}


def run(quick: bool = False) -> dict[str, Any]:
    total = 10_000 if quick else 100_000
    with tempfile.TemporaryDirectory() as folder:
        home = make_home(Path(folder), config(None))
        url = f"sqlite:///{home / 'crosspost.db'}"
        filled = fill(url, total, datetime.now(UTC))
        spread_states(url)
        port = free_port()
        proc = start_process(home, "console", "--port", str(port), log_name="console.out")
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    requests.get(base + "/static/console.css", timeout=2)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            results = {name: measure(base, path) for name, path in pages(total).items()}
        finally:
            stop_process(proc)
    return {
        "publications": total,
        "fill_s": round(filled, 2),
        "repeat": REPEAT,
        "goal_ms": GOAL_MS,
        "pages": results,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
