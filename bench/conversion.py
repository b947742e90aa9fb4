"""Conversion benchmark: read + render for every destination, and Markdown→HTML against pandoc.

pandoc runs once per file as a user would script it (`pandoc -f markdown -t html FILE`);
our side reads and renders the same files in this process. Medians and spread over repeats.

Before and after in the same run: the goal rows are timed in subprocesses
(bench/conversion_worker.py), alternately on today's tree and on the code of `BASELINE`
extracted with `git archive`, so machine noise falls on both alike.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.conversion_worker import render_everywhere

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "bench" / "conversion_worker.py"
# The code before "each format rendered once per essay" (issue 16): main on 2026-12-03.
BASELINE = os.environ.get("CROSSPOST_BENCH_BASELINE", "be4386d")
CORPUS = [
    ROOT / "tests/golden/readers/medium-copy-north-korean-troops.txt",
    ROOT / "tests/golden/readers/markdown-front-matter.md",
    ROOT / "tests/golden/html/medium-export-night-trains.html",
    ROOT / "examples/home-base.md",
]
# a small vocabulary for generated essays
WORDS = [
    "archive", "platform", "essay", "writer", "reader", "syndicate", "publish", "home",
    "tenant", "rules", "reach", "format", "payout", "account", "vanish", "link", "rot",
    "patron", "thread", "network",
]  # fmt: skip


def generated_markdown(size: int, rng: random.Random) -> str:
    """A Markdown essay of about `size` bytes with headings, lists, links, emphasis, a quote."""
    parts = [
        "---",
        f"title: Generated essay {rng.randint(1, 10**6)}",
        "tags: [bench, writing]",
        "---",
        "",
    ]
    total = 0
    section = 1
    while total < size:
        chunk: list[str] = [f"## {section}. {' '.join(rng.choices(WORDS, k=4)).title()}", ""]
        for _ in range(3):
            sentence = " ".join(rng.choices(WORDS, k=rng.randint(20, 60)))
            chunk.append(
                f"{sentence.capitalize()} **{rng.choice(WORDS)}** and "
                f"[a link](https://example.org/{rng.choice(WORDS)}) *too*."
            )
            chunk.append("")
        chunk += [
            f"- **{rng.choice(WORDS).title()}:** {' '.join(rng.choices(WORDS, k=12))}"
            for _ in range(3)
        ]
        chunk += ["", f"> {' '.join(rng.choices(WORDS, k=15))}", ""]
        text = "\n".join(chunk)
        parts.append(text)
        total += len(text)
        section += 1
    return "\n".join(parts)


def generated_set(count: int, seed: int = 7) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    sizes = [int(1024 * (100 ** (i / max(1, count - 1)))) for i in range(count)]  # 1 KB..100 KB
    return [(f"gen-{i:03d}.md", generated_markdown(s, rng).encode()) for i, s in enumerate(sizes)]


def timed(fn: Any, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": statistics.median(ordered) * 1000,
        "p10_ms": ordered[int(0.1 * (len(ordered) - 1))] * 1000,
        "p90_ms": ordered[int(0.9 * (len(ordered) - 1))] * 1000,
        "runs": len(ordered),
    }


def run(quick: bool = False) -> dict[str, Any]:
    repeats = 5 if quick else 20
    files = [(p.name, p.read_bytes()) for p in CORPUS]
    generated = generated_set(40 if quick else 200)
    render_everywhere(*files[0])  # warm imports
    per_essay = {
        name: summary(timed(lambda n=name, d=data: render_everywhere(n, d), repeats))
        for name, data in files
    }
    ten_kb = next((n, d) for n, d in generated if len(d) >= 10 * 1024)
    per_essay[f"generated 10 KB ({ten_kb[0]})"] = summary(
        timed(lambda: render_everywhere(*ten_kb), repeats)
    )
    all_generated = summary(
        timed(lambda: [render_everywhere(n, d) for n, d in generated], 1 if quick else 3)
    )
    result: dict[str, Any] = {
        "read_render_all_destinations": per_essay,
        "generated_set": {
            "essays": len(generated),
            "bytes": sum(len(d) for _, d in generated),
            "essays_per_second": len(generated) / (all_generated["median_ms"] / 1000),
        },
        "goal_10kb_all_destinations_ms": 10.0,
    }
    goal_inputs = {"10 KB Markdown essay": ten_kb, "8.5 KB Medium copy": files[0]}
    pandoc_files = generated[:: 5 if quick else 2] + [f for f in files if f[0].endswith(".md")]
    result["load_average_before"] = os.getloadavg()
    result["cpus"] = os.cpu_count()
    with code_trees() as (trees, note):
        result["baseline"] = {"commit": BASELINE, "available": trees["before"] is not None}
        if note:
            result["baseline"]["note"] = note
        result["goal_rows"] = versus_baseline(
            goal_inputs, trees, rounds=2 if quick else 8, repeats=5 if quick else 15
        )
        result["markdown_to_html_vs_pandoc"] = versus_pandoc(
            pandoc_files, trees, rounds=1 if quick else 3
        )
    result["load_average_after"] = os.getloadavg()
    return result


@contextmanager
def code_trees() -> Iterator[tuple[dict[str, Path | None], str | None]]:
    """Today's tree and `BASELINE`'s (pipeline/ and connectors/ from `git archive`) as
    PYTHONPATH roots; the baseline is None, with a note saying why, when git cannot give it."""
    with tempfile.TemporaryDirectory() as tmp:
        before: Path | None = Path(tmp)
        note = None
        command = ["git", "-C", str(ROOT), "archive", "--format=tar", BASELINE]
        try:
            archive = subprocess.run(
                [*command, "pipeline", "connectors"], capture_output=True, check=True
            ).stdout
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(tmp, filter="data")
        except FileNotFoundError:
            before, note = None, "git is not installed: no baseline measured, no ratio"
        except subprocess.CalledProcessError as failed:
            reason = failed.stderr.decode(errors="replace").strip().splitlines()[:1]
            before = None
            note = f"git archive {BASELINE} failed ({' '.join(reason)}): no baseline, no ratio"
        yield {"now": ROOT, "before": before}, note


def worker(tree: Path, mode: str, repeats: int, paths: list[Path]) -> dict[str, list[float]]:
    """bench/conversion_worker.py run with `tree` first on the path: its samples by name
    (wall-clock), and the same runs' CPU time under "cpu:" + name."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, str(WORKER), mode, str(repeats), *map(str, paths)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    measured = json.loads(done.stdout)
    cpu = {f"cpu:{name}": runs for name, runs in measured["cpu"].items()}
    return {**measured["samples"], **cpu}


def interleaved(
    trees: dict[str, Path | None], mode: str, rounds: int, repeats: int, paths: list[Path]
) -> dict[str, dict[str, list[float]]]:
    """Samples per tree and name, pooled over `rounds` that alternate which tree goes first."""
    pooled: dict[str, dict[str, list[float]]] = {s: {} for s, t in trees.items() if t}
    for index in range(rounds):
        sides = list(pooled) if index % 2 == 0 else list(reversed(pooled))
        for side in sides:
            tree = trees[side]
            assert tree is not None
            for name, runs in worker(tree, mode, repeats, paths).items():
                pooled[side].setdefault(name, []).extend(runs)
    return pooled


def _written(files: list[tuple[str, bytes]], folder: str) -> list[Path]:
    paths = []
    for name, data in files:
        path = Path(folder) / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def versus_baseline(
    inputs: dict[str, tuple[str, bytes]],
    trees: dict[str, Path | None],
    rounds: int,
    repeats: int,
) -> dict[str, Any]:
    """Read + render for every destination, today's tree and the baseline's, interleaved."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = _written(list(inputs.values()), tmp)
        pooled = interleaved(trees, "everywhere", rounds, repeats, paths)
    rows: dict[str, Any] = {}
    for label, (name, data) in inputs.items():
        row: dict[str, Any] = {"file": name, "bytes": len(data)}
        row["now"] = summary(pooled["now"][name])
        row["now_cpu"] = summary(pooled["now"][f"cpu:{name}"])
        if "before" in pooled:
            row["before"] = summary(pooled["before"][name])
            row["before_cpu"] = summary(pooled["before"][f"cpu:{name}"])
            row["speedup"] = row["before"]["median_ms"] / row["now"]["median_ms"]
            row["speedup_cpu"] = row["before_cpu"]["median_ms"] / row["now_cpu"]["median_ms"]
        rows[label] = row
    return rows


def versus_pandoc(
    files: list[tuple[str, bytes]], trees: dict[str, Path | None], rounds: int
) -> dict[str, Any]:
    """Our Markdown→HTML (today's and the baseline's, each in a process of its own) against
    pandoc run once per file, the three interleaved round by round."""
    pandoc = shutil.which("pandoc")
    with tempfile.TemporaryDirectory() as tmp:
        paths = _written(files, tmp)
        pooled: dict[str, list[float]] = {}
        for _ in range(rounds):
            for side, runs in interleaved(trees, "html", 1, 1, paths).items():
                pooled.setdefault(side, []).extend(runs["all"])
            if pandoc is not None:
                pooled.setdefault("pandoc", []).extend(
                    timed(lambda: _pandoc_each(pandoc, paths), 1)
                )
    result: dict[str, Any] = {"files": len(files), "bytes": sum(len(d) for _, d in files)}
    for side in ("now", "before"):
        if side in pooled:
            result[side] = summary(pooled[side])
            result[side]["files_per_second"] = len(files) / statistics.median(pooled[side])
    result["ours"] = result["now"]
    if pandoc is None:
        result["pandoc"] = None
        result["note"] = "pandoc not installed (make pandoc): no ratio"
        return result
    version = subprocess.run([pandoc, "--version"], capture_output=True, text=True).stdout
    result["pandoc"] = summary(pooled["pandoc"])
    result["pandoc"]["version"] = version.splitlines()[0]
    result["pandoc"]["files_per_second"] = len(files) / statistics.median(pooled["pandoc"])
    for side in ("now", "before"):
        if side in result:
            ratio = result[side]["files_per_second"] / result["pandoc"]["files_per_second"]
            result[side]["ratio_over_pandoc"] = ratio
    result["ratio_ours_over_pandoc"] = result["now"]["ratio_over_pandoc"]
    result["goal_ratio"] = 10.0
    return result


def _pandoc_each(pandoc: str, paths: list[Path]) -> None:
    for path in paths:
        subprocess.run(
            [pandoc, "-f", "markdown", "-t", "html", str(path)], check=True, capture_output=True
        )
