"""Commands people wait for, as processes: `crosspost preview FILE` against `pandoc FILE`, and
`crosspost status` at 100,000 publications (SQLite and PostgreSQL) against `python -c pass`.
PostgreSQL's table statistics are gathered after the bulk load (`ANALYZE`, as autovacuum
would within a minute); without them its planner scans for each of `status`'s queries.

Every command in a comparison runs in the same rounds, one after another in turn, so a
burst of load on this shared machine hits all of them alike; the figures are medians of
wall time (what a person waits) with CPU time (user + system, from `wait4`) beside it,
which the load disturbs less. With `BENCH_BEFORE_TREE=DIR` (a checkout of an older
commit, e.g. `git archive be4386d | tar -x -C DIR`) the same commands also run on that
tree, so before and after come from the same run.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.conversion import generated_markdown
from bench.drop import env_for, make_home, percentiles
from bench.scheduler import config, database, fill
from pipeline.store.scratch import gather_statistics

ROOT = Path(__file__).resolve().parent.parent
GOALS = {"preview_over_pandoc": 2.0, "status_over_python": 5.0}
PREVIEW_CONFIG = """timezone = "UTC"
[targets.wordpress]
platform = "wordpress"
base_url = "https://blog.example.org"
credentials = { username = "bench", app_password = "bench-app-password" }
"""


class Command:
    """One command line to time, on a tree (this one or the before tree)."""

    def __init__(
        self,
        argv: list[str],
        tree: Path | None = None,
        before_each: Callable[[], None] | None = None,
    ) -> None:
        self.argv = argv
        self.env = env_for({"PYTHONPATH": str(tree)} if tree else None)
        self.cwd = tree or ROOT  # `python -m` puts the working folder first on the path
        self.before_each = before_each

    def once(self) -> tuple[float, float]:
        """Wall and CPU seconds of one run (the output is discarded; the exit code checked)."""
        if self.before_each:
            self.before_each()
        started = time.perf_counter()
        proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 3):  # status exits 3 for a stale daemon: still an answer
            raise RuntimeError(f"{' '.join(self.argv)} exited {proc.returncode}")
        return wall, usage.ru_utime + usage.ru_stime


def rounds(commands: dict[str, Command], count: int, warmup: int = 2) -> dict[str, Any]:
    """Each command `count` times, in turn; medians and spread of wall and CPU time."""
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for index in range(warmup + count):
        for name, command in commands.items():
            wall, cpu = command.once()
            if index >= warmup:
                walls[name].append(wall)
                cpus[name].append(cpu)
    return {
        name: {"wall": percentiles(walls[name]), "cpu": percentiles(cpus[name])}
        for name in commands
    }


def before_tree() -> Path | None:
    tree = os.environ.get("BENCH_BEFORE_TREE")
    return Path(tree) if tree and (Path(tree) / "pipeline" / "cli.py").is_file() else None


def crosspost(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", *args]


def preview_vs_pandoc(count: int) -> dict[str, Any]:
    """`crosspost preview F --target wordpress --json` and `pandoc F` on one 10 KB essay."""
    pandoc = shutil.which("pandoc")
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as tmp:
        home = make_home(Path(tmp), PREVIEW_CONFIG)
        essay = Path(tmp) / "essay.md"
        essay.write_text(generated_markdown(10 * 1024, random.Random(16)), encoding="utf-8")
        args = ("--home", str(home), "preview", str(essay), "--target", "wordpress", "--json")
        commands = {"python -c pass": Command([sys.executable, "-c", "pass"])}
        if pandoc:
            commands["pandoc F"] = Command([pandoc, str(essay)])
        commands["crosspost preview"] = Command(crosspost(*args))
        tree = before_tree()
        if tree:
            commands["crosspost preview (before)"] = Command(crosspost(*args), tree)
        result: dict[str, Any] = {"bytes": essay.stat().st_size, "times": rounds(commands, count)}
    times = result["times"]
    if pandoc:
        result["ratio_over_pandoc"] = (
            times["crosspost preview"]["wall"]["p50_ms"] / times["pandoc F"]["wall"]["p50_ms"]
        )
        if tree:
            result["before_ratio_over_pandoc"] = (
                times["crosspost preview (before)"]["wall"]["p50_ms"]
                / times["pandoc F"]["wall"]["p50_ms"]
            )
    else:
        result["note"] = "pandoc not installed (apt-get install pandoc): no ratio"
    return result


def steady(text: str) -> str:
    return re.sub(r"\(\d+ s ago\)", "(N s ago)", text)


def status_at_scale(kind: str, pending: int, count: int) -> dict[str, Any]:
    """`crosspost status` on `pending` publications: the quick path, the full path (its
    settings stamp removed before each run) and, when given, the before tree."""
    with database(kind) as pg_url, tempfile.TemporaryDirectory(prefix="bench-status-") as tmp:
        home = make_home(Path(tmp), config(pg_url))
        url = pg_url or f"sqlite:///{home / 'crosspost.db'}"
        fill(url, pending, datetime.now(UTC))
        if pg_url:  # the statistics autovacuum gathers within a minute of a bulk load
            gather_statistics(pg_url)
        args = crosspost("--home", str(home), "status")
        shown = {}
        for label in ("full", "quick"):  # the full run stamps the settings for the quick one
            done = subprocess.run(args, capture_output=True, text=True, env=env_for(), cwd=ROOT)
            shown[label] = steady(done.stdout)
        stamp = home / ".settings-cache.json"
        commands = {
            "python -c pass": Command([sys.executable, "-c", "pass"]),
            "crosspost status": Command(args),
            "crosspost status (full path)": Command(
                args, before_each=lambda: stamp.unlink(missing_ok=True)
            ),
        }
        tree = before_tree()
        if tree:
            commands["crosspost status (before)"] = Command(args, tree)
        times = rounds(commands, count)
    bare = times["python -c pass"]["wall"]["p50_ms"]
    return {
        "db": kind,
        "pending": pending,
        "same_output_quick_and_full": shown["quick"] == shown["full"],
        "times": times,
        "ratio_over_python": times["crosspost status"]["wall"]["p50_ms"] / bare,
        "before_ratio_over_python": (
            times["crosspost status (before)"]["wall"]["p50_ms"] / bare if tree else None
        ),
    }


def daemon_imports(count: int) -> dict[str, Any]:
    """What `crosspost run` pays before it does anything: importing the daemon's modules."""
    commands = {
        "python -c pass": Command([sys.executable, "-c", "pass"]),
        "import pipeline.daemon": Command([sys.executable, "-c", "import pipeline.daemon"]),
    }
    tree = before_tree()
    if tree:
        commands["import pipeline.daemon (before)"] = Command(
            [sys.executable, "-c", "import pipeline.daemon"], tree
        )
    return rounds(commands, count)


HOME_CONFIG = """timezone = "UTC"
[targets.site]
platform = "static_site"
[targets.announce]
platform = "outbox"
after = "site"
"""


def per_command(count: int) -> dict[str, Any]:
    """Every quick-answer command, this tree and the before tree, on a home where one essay
    was published (status, logs, plan) and a home with a WordPress target (preview)."""
    essay = ROOT / "examples" / "home-base.md"
    with tempfile.TemporaryDirectory(prefix="bench-cmds-") as tmp:
        home = make_home(Path(tmp) / "home", HOME_CONFIG)
        shutil.copy(essay, home / "inbox" / essay.name)
        subprocess.run(
            crosspost("--home", str(home), "run", "--once"),
            env=env_for(),
            cwd=ROOT,
            capture_output=True,
        )
        blog = make_home(Path(tmp) / "blog", PREVIEW_CONFIG)
        lines = {
            "status": ["--home", str(home), "status"],
            "status --json": ["--home", str(home), "status", "--json"],
            "logs": ["--home", str(home), "logs"],
            "--help": ["--help"],
            "--version": ["--version"],
            "plan F": ["--home", str(home), "plan", str(essay)],
            "preview F": ["--home", str(blog), "preview", str(essay), "--target", "wordpress"],
        }
        tree = before_tree()
        commands = {"python -c pass": Command([sys.executable, "-c", "pass"])}
        for name, args in lines.items():
            commands[name] = Command(crosspost(*args))
            if tree and name != "--version":  # an option the before tree did not have
                commands[f"{name} (before)"] = Command(crosspost(*args), tree)
        return rounds(commands, count)


def run(quick: bool = False) -> dict[str, Any]:
    count = 5 if quick else 15
    pending = 10_000 if quick else 100_000
    kinds = ["sqlite"] if quick else ["sqlite", "postgresql"]
    return {
        "goals": GOALS,
        "before_tree": str(before_tree()) if before_tree() else None,
        "preview": preview_vs_pandoc(count),
        "status": [status_at_scale(kind, pending, count) for kind in kinds],
        "daemon_imports": daemon_imports(count),
        "per_command": per_command(count),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=1))
