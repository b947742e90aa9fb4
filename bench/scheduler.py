"""Scheduler precision and scale: 10,000 and 100,000 pending publications, SQLite and PostgreSQL.

The rows are bulk-inserted (essays plus publications in state `scheduled`, to ten fast local
outbox targets), due one after another at the same rate at every size (2.8 per second: 10,000
over the next hour, 100,000 over the next ten hours), so a larger store means more pending
work, not a faster stream), then the real daemon (`crosspost run`) starts on
them. Measured: start time (process start until "daemon started", which is logged after the
scheduler synced its jobs, and the sync alone as the daemon logs it), resident memory, firing
lateness of probe publications (inserted once the daemon runs, due a few seconds later,
lateness = `published_at - due_at`) while the bulk keeps falling due, and `crosspost status`
(the whole command as a user runs it, and the command's own work in process).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.drop import env_for, make_home, percentiles, start_process, stop_process, wait_for_text
from pipeline.store import State, Store

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGETS = 10
RATE = 10_000 / 3600  # bulk publications falling due per second, at every store size
GOALS = {"start_s": 1.0, "lateness_p99_ms": 1000.0, "status_ms": 200.0, "sigterm_exit_s": 10.0}
ESSAY_MD = "---\ntitle: Load {i}\n---\n\nA short essay, number {i}, for the scheduler bench.\n"


def config(database_url: str | None) -> str:
    lines = ['timezone = "UTC"', "inbox_poll_seconds = 1.0"]
    if database_url:
        lines.append(f'database_url = "{database_url}"')
    for t in range(TARGETS):
        lines += [f"[targets.out{t}]", 'platform = "outbox"']
    return "\n".join(lines) + "\n"


def essay_json(i: int) -> str:
    from pipeline.readers import read_bytes

    return read_bytes(Path("load.md"), ESSAY_MD.format(i=i).encode()).model_dump_json()


def fill(url: str, pending: int, now: datetime) -> float:
    """Bulk-insert `pending` scheduled publications (ten per essay); returns seconds taken."""
    started = time.perf_counter()
    store = Store(url)
    template = essay_json(0)
    essays = [
        essay_row(f"load-{i}", f"Load {i}", template.replace("Load 0", f"Load {i}"), now)
        for i in range(pending // TARGETS)
    ]
    step = timedelta(seconds=1 / RATE)
    publications = (
        (n // TARGETS, pub_row(n % TARGETS, now + step * (n + 1), now)) for n in range(pending)
    )
    store.bulk_insert(essays, publications)
    store.close()
    return time.perf_counter() - started


def essay_row(slug: str, title: str, essay: str, now: datetime) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": title,
        "content_hash": uuid.uuid4().hex,
        "source_name": f"{slug}.md",
        "source": "inbox",
        "essay_json": essay,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def pub_row(target: int, due: datetime, now: datetime) -> dict[str, Any]:
    return {
        "target": f"out{target}",
        "platform": "outbox",
        "state": "scheduled",
        "due_at": due,
        "offset_seconds": 0,
        "idempotency_key": uuid.uuid4().hex,
        "attempts": 0,
        "needs_update": 0,
        "created_at": now,
        "updated_at": now,
    }


def add_probes(url: str, count: int, first_due: datetime, every: float) -> list[int]:
    """Publications due soon, inserted while the daemon runs (as `crosspost reschedule` does)."""
    store = Store(url)
    now = datetime.now(UTC)
    essays = [
        essay_row(f"probe-{n}", f"Probe {n}", essay_json(-n), now) for n in range(0, count, TARGETS)
    ]
    publications = [
        (n // TARGETS, pub_row(n % TARGETS, first_due + timedelta(seconds=every * n), now))
        for n in range(count)
    ]
    ids = store.insert_rows(essays, publications)
    store.close()
    return ids


def lateness(url: str, ids: list[int], timeout: float) -> tuple[list[float], int]:
    """Seconds late for each probe publication, waiting until all are published."""
    store = Store(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            rows = store.publications_by_id(ids)
            done = [(row.due_at, row.published_at) for row in rows if row.published_at]
            if len(done) == len(ids) or time.monotonic() > deadline:
                return [(at - due).total_seconds() for due, at in done], len(ids) - len(done)
            time.sleep(0.25)
    finally:
        store.close()


def memory_kb(pid: int) -> dict[str, int]:
    fields: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                fields[key] = int(value.split()[0])
    return fields


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds the process has used: a start-up cost the machine's load
    does not inflate, beside the wall time that it does."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_times(home: Path, repeats: int) -> dict[str, Any]:
    """`crosspost status` as a process (wall), and its own work in process."""
    from pipeline import cli

    wall: list[float] = []
    lines = 0
    for _ in range(repeats):
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "--home", str(home), "status"],
            capture_output=True,
            text=True,
            env=env_for(),
            cwd=ROOT,
            timeout=600,
        )
        wall.append(time.perf_counter() - started)
        lines = result.stdout.count("\n")
    inproc: list[float] = []
    for _ in range(repeats):
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            cli.main(["--home", str(home), "status"])
        inproc.append(time.perf_counter() - started)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env_for(), check=True)
    bare = time.perf_counter() - started
    return {
        "command": percentiles(wall),
        "in_process": percentiles(inproc),
        "bare_python_start_ms": bare * 1000,
        "lines_printed": lines,
    }


@contextlib.contextmanager
def database(kind: str) -> Any:
    """A SQLAlchemy URL: None for the home's SQLite file, or a throwaway PostgreSQL database."""
    if kind == "sqlite":
        yield None
        return
    from pipeline.store.scratch import throwaway_database

    with throwaway_database(PG_SERVER, "crosspost_bench") as url:
        yield url


def measure(
    kind: str, pending: int, probes: int, start_timeout: float, quick: bool = False
) -> dict[str, Any]:
    with database(kind) as pg_url, tempfile.TemporaryDirectory(prefix="bench-sched-") as tmp:
        home = make_home(Path(tmp), config(pg_url))
        url = pg_url or f"sqlite:///{home / 'crosspost.db'}"
        result: dict[str, Any] = {"db": kind, "pending": pending}
        result["fill_s"] = fill(url, pending, datetime.now(UTC))
        proc = start_process(home, "run")
        try:
            try:
                result["start_s"] = wait_for_text(
                    home / "logs" / "crosspost.jsonl", "daemon started", proc, start_timeout
                )
            except TimeoutError:
                result["start_s"] = None
                result["note"] = f"not started within {start_timeout:.0f} s; stopped"
                result["memory_kb"] = memory_kb(proc.pid)
                return result
            result["start_cpu_s"] = cpu_seconds(proc.pid)
            started_line = next(
                json.loads(line)
                for line in (home / "logs" / "crosspost.jsonl").read_text().splitlines()
                if "daemon started" in line
            )
            result["sync_ms"] = started_line.get("sync_ms")
            result["jobs"] = started_line.get("jobs")
            result["memory_kb_after_start"] = memory_kb(proc.pid)
            lead = 2 if quick else 4  # seconds until the first probe is due
            first_due = datetime.now(UTC) + timedelta(seconds=lead)
            over = 3.0 if quick else 6.0
            ids = add_probes(url, probes, first_due, over / probes)
            late, missing = lateness(url, ids, timeout=lead + over + 30)
            result["lateness"] = percentiles(late) if late else None
            result["probes"] = {"count": probes, "over_seconds": over, "unpublished": missing}
            result["memory_kb_end"] = memory_kb(proc.pid)
            result["status"] = status_times(home, 1 if quick else 3)
        finally:
            stop_process(proc)
        return result


def sigterm_exits(tries: int, overdue: int) -> dict[str, Any]:
    """SIGTERM to exit, `tries` times, each start with `overdue` publications already due
    (the same home: what one stop released is overdue again at the next start)."""
    with tempfile.TemporaryDirectory(prefix="bench-sigterm-") as tmp:
        home = make_home(Path(tmp), config(None))
        url = f"sqlite:///{home / 'crosspost.db'}"
        fill(url, overdue, datetime.now(UTC) - timedelta(hours=1))
        log = home / "logs" / "crosspost.jsonl"
        exits: list[float] = []
        for _ in range(tries):
            before = log.read_text().count("daemon started") if log.exists() else 0
            proc = start_process(home, "run")
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                if log.exists() and log.read_text().count("daemon started") > before:
                    break
                time.sleep(0.01)
            sent = time.monotonic()
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
                exits.append(time.monotonic() - sent)
            except subprocess.TimeoutExpired:
                exits.append(float("inf"))
                stop_process(proc)
        store = Store(url)
        stuck = store.state_counts().get(State.PUBLISHING.value, 0)
        store.close()
        finite = [e for e in exits if e != float("inf")]
        return {
            "tries": tries,
            "overdue": overdue,
            "under_10_s": sum(e < 10 for e in exits),
            "exit_s": percentiles(finite) if finite else None,
            "max_s": max(exits),
            "left_publishing": stuck,
        }


def run(quick: bool = False) -> dict[str, Any]:
    sizes = [10_000] if quick else [10_000, 100_000]
    kinds = ["sqlite"] if quick else ["sqlite", "postgresql"]
    runs = [
        measure(kind, pending, probes=30 if quick else 60, start_timeout=120, quick=quick)
        for kind in kinds
        for pending in sizes
    ]
    sigterm = sigterm_exits(tries=3 if quick else 20, overdue=1000)
    return {
        "due_per_second": RATE,
        "targets": TARGETS,
        "goals": GOALS,
        "runs": runs,
        "sigterm": sigterm,
    }


if __name__ == "__main__":
    if sys.argv[1] == "sigterm":
        print(json.dumps(sigterm_exits(int(sys.argv[2]), int(sys.argv[3])), indent=1))
        sys.exit(0)
    sizes = [int(s) for s in sys.argv[2:]] or [10_000]
    for size in sizes:
        print(json.dumps(measure(sys.argv[1], size, 60, 300), indent=1), flush=True)
