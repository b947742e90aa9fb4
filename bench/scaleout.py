"""Scale-out: N `crosspost worker` processes on one PostgreSQL store, against a slow platform.

A backlog of publications (one Mastodon status each) is planned into a throwaway database,
due a minute ahead, while N workers start; once every worker is up the backlog is made due
in one UPDATE and the clock starts. The platform is the Mastodon emulator with 20 ms on
every answer (`tests/emulators/latency_target.py`), so publishers mostly wait on the
network, as they would on a real one. Measured: publications per second until the last is
published, for N = 1, 2, 4; every run checks that each status exists exactly once and no
publication is lost.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.drop import essay_text, make_home, start_process, stop_process, wait_for_text
from bench.scheduler import database
from tests.emulators.latency_target import SlowMastodon

TOKEN = "bench-scale-token"
LATENCY = 0.02


def config(url: str, database_url: str) -> str:
    return f"""
    timezone = "UTC"
    database_url = "{database_url}"
    [targets.toot]
    platform = "mastodon"
    base_url = "{url}"
    credentials = {{ access_token = "{TOKEN}" }}
    """


def plan_backlog(home: Path, count: int, due: datetime) -> None:
    from pipeline.publishing.pipeline import Pipeline
    from pipeline.readers import read_bytes
    from pipeline.settings import load_settings

    engine = Pipeline(home, load_settings(home), clock=lambda: due)
    try:
        for index in range(count):
            data = essay_text(index, "scale").encode()
            engine.add_essay(read_bytes(Path(f"s-{index}.md"), data), f"s-{index}.md", data)
    finally:
        engine.close()


def measure(workers: int, backlog: int) -> dict[str, Any]:
    from pipeline.store import State, Store

    emulator = SlowMastodon(latency=LATENCY)
    emulator.add_account(TOKEN, "writer")
    with (
        emulator,
        database("postgresql") as url,
        tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp,
    ):
        home = make_home(Path(tmp), config(emulator.base_url, url))
        plan_backlog(home, backlog, datetime.now(UTC) + timedelta(minutes=1))
        procs = [start_process(home, "worker", log_name=f"worker-{n}.out") for n in range(workers)]
        store = Store(url)
        try:
            for n, proc in enumerate(procs):
                wait_for_text(home / f"worker-{n}.out", "worker started", proc, 60)
            started = time.monotonic()
            store.due_all_at(datetime.now(UTC))
            deadline = started + 300
            published = 0
            while published < backlog and time.monotonic() < deadline:
                time.sleep(0.05)
                published = store.state_counts().get(State.PUBLISHED.value, 0)
            elapsed = time.monotonic() - started
        finally:
            for proc in procs:
                stop_process(proc)
            with contextlib.suppress(Exception):
                store.close()
        texts = Counter(s["text"] for s in emulator.published())
    return {
        "workers": workers,
        "backlog": backlog,
        "published": published,
        "seconds": elapsed,
        "per_second": published / elapsed,
        "statuses": sum(texts.values()),
        "duplicates": sum(n - 1 for n in texts.values() if n > 1),
        "lost": backlog - len(texts),
    }


def run(quick: bool = False) -> dict[str, Any]:
    counts = [2] if quick else [1, 2, 4]
    backlog = 40 if quick else 300
    runs = [measure(n, backlog) for n in counts]
    for result in runs:
        assert result["duplicates"] == 0 and result["lost"] == 0, result
    return {"latency_ms": LATENCY * 1000, "runs": runs}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
