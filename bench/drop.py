"""Drop to published: a file lands in the inbox of a running `crosspost run` daemon; how long
until every immediate target (static site, outbox, a Mastodon emulator) has published it?

The daemon is the real program in a subprocess on the embedded default (SQLite). Each drop
is written under a hidden name and renamed into the inbox (atomic, as an editor's save is),
then the bench waits for the outputs (the outbox file, the emulator's status) and reads the
publications' `published_at` from the database once: latency = the last `published_at` minus
the moment of the rename, so polling cost never enters the number. Drops are sequential with
a random pause, so they land at every phase of the daemon's poll interval.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.store import Store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "home-base.md"
TOKEN = "bench-drop-token"
GOAL_P99_S = 1.0


# ---------------------------------------------------------------- shared helpers


def percentiles(samples: list[float]) -> dict[str, float]:
    """Median, p10, p90, p99 and max of seconds, in milliseconds."""
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p10_ms": at(0.10),
        "p90_ms": at(0.90),
        "p99_ms": at(0.99),
        "max_ms": ordered[-1] * 1000,
        "n": len(ordered),
    }


def env_for(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra or {})
    return env


def make_home(folder: Path, config: str) -> Path:
    for name in ("inbox", "processed", "failed", "site", "outbox", "logs"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    (folder / "crosspost.toml").write_text(textwrap.dedent(config), encoding="utf-8")
    (folder / "crosspost.toml").chmod(0o600)
    return folder


def start_process(home: Path, *args: str, log_name: str = "daemon.out") -> subprocess.Popen[bytes]:
    """`crosspost --home HOME ARGS` in its own session, output to a file (never a full pipe)."""
    out = open(home / log_name, "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "--home", str(home), *args],
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env_for(),
        cwd=ROOT,
        start_new_session=True,
    )


def wait_for_text(path: Path, text: str, proc: subprocess.Popen[bytes], timeout: float) -> float:
    """Seconds until `text` appears in the file; raises if the process dies or time runs out."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if path.exists() and text in path.read_text(errors="replace"):
            return time.monotonic() - started
        if proc.poll() is not None:
            raise RuntimeError(f"process exited: {path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.01)
    raise TimeoutError(f"{text!r} not seen in {timeout} s")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def essay_text(index: int, tag: str = "drop") -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    return text.replace("Own Your Archive", f"Own Your Archive {tag} {index}").replace(
        "own-your-archive", f"own-your-archive-{tag}-{index}"
    )


# ---------------------------------------------------------------- the measurement


def config_for(mastodon_url: str, poll: float, settle: float, watch: bool) -> str:
    return f"""
    timezone = "UTC"
    inbox_poll_seconds = {poll}
    settle_seconds = {settle}
    inbox_watch = {"true" if watch else "false"}
    [targets.site]
    platform = "static_site"
    options = {{ base_url = "https://blog.example.org" }}
    [targets.announce]
    platform = "outbox"
    after = "site"
    options = {{ as = "mastodon" }}
    [targets.toot]
    platform = "mastodon"
    base_url = "{mastodon_url}"
    after = "site"
    credentials = {{ access_token = "{TOKEN}" }}
    """


def published_times(store: Store, source_name: str) -> list[datetime | None]:
    """When each publication of the dropped file was published (None: not yet)."""
    return [
        row.published_at if row.state == "published" else None
        for row in store.publications_of_source(source_name)
    ]


def measure(poll: float, settle: float, watch: bool, drops: int, seed: int = 7) -> dict[str, Any]:
    """Sequential drops into one running daemon; latency per drop in seconds."""
    from tests.emulators.mastodon import MastodonEmulator

    rng = random.Random(seed)
    emulator = MastodonEmulator()
    emulator.add_account(TOKEN, "writer")
    latencies: list[float] = []
    with emulator, tempfile.TemporaryDirectory(prefix="bench-drop-") as tmp:
        home = make_home(Path(tmp), config_for(emulator.base_url, poll, settle, watch))
        proc = start_process(home, "run")
        store: Store | None = None  # opened once the daemon has made the database
        try:
            startup = wait_for_text(home / "daemon.out", "daemon started", proc, 60)
            store = Store(f"sqlite:///{home / 'crosspost.db'}")
            for index in range(drops + 1):  # the first drop warms imports and is not counted
                # polling: land at every phase of the poll interval; watching: phase is moot
                time.sleep(rng.uniform(0.02, 0.1) if watch else rng.uniform(0.02, 0.02 + poll))
                name = f"essay-{index}.md"
                hidden = home / "inbox" / f".{name}.tmp"
                hidden.write_text(essay_text(index), encoding="utf-8")
                os.rename(hidden, home / "inbox" / name)
                dropped = time.time()
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    toots = len(emulator.published())
                    outbox = home / "outbox" / "announce"
                    files = len(list(outbox.glob("*.json"))) if outbox.exists() else 0
                    if toots > index and files > index:
                        times = published_times(store, name)
                        if len(times) == 3 and all(times):
                            break
                    time.sleep(0.005)
                else:
                    raise TimeoutError(f"drop {index} not published within 60 s")
                if index:
                    latencies.append(max(t.timestamp() for t in times if t) - dropped)
        finally:
            if store is not None:
                store.close()
            stop_process(proc)
    return {
        "inbox_poll_seconds": poll,
        "settle_seconds": settle,
        "inbox_watch": watch,
        "daemon_start_s": startup,
        "latency": percentiles(latencies),
        "goal_p99_ms": GOAL_P99_S * 1000,
        "goal_met": percentiles(latencies)["p99_ms"] < GOAL_P99_S * 1000,
    }


CONFIGS = [
    # (label, inbox_poll_seconds, settle_seconds, inbox_watch, share of the drops)
    ("defaults (poll 1 s, settle 0.5 s), watching the folder", 1.0, 0.5, True, 1.0),
    ("defaults (poll 1 s, settle 0.5 s), polling only", 1.0, 0.5, False, 0.4),
    ("poll 0.1 s, settle 0.1 s, polling only", 0.1, 0.1, False, 0.4),
    ("settle 0.1 s, watching the folder", 1.0, 0.1, True, 0.4),
]


def run(quick: bool = False) -> dict[str, Any]:
    drops = 20 if quick else 100
    configs = CONFIGS[:1] if quick else CONFIGS
    return {
        "drops": drops,
        "targets": [
            "site (static_site)",
            "announce (outbox, after site)",
            "toot (Mastodon emulator, after site)",
        ],
        "configs": {
            label: measure(poll, settle, watch, max(20, int(drops * share)))
            for label, poll, settle, watch, share in configs
        },
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
