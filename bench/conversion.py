"""Conversion benchmark: read + render for every destination, and Markdown→HTML against pandoc.

pandoc runs once per file as a user would script it (`pandoc -f markdown -t html FILE`);
our side reads and renders the same files in this process. Medians and spread over repeats.
"""

from __future__ import annotations

import random
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from connectors import REGISTRY, connector_class
from connectors.base import RenderContext
from pipeline.readers import read_bytes
from pipeline.render.html import render_html
from pipeline.render.parts import blocks_for

ROOT = Path(__file__).resolve().parent.parent
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


def render_everywhere(name: str, data: bytes) -> int:
    essay = read_bytes(Path(name), data)
    posts = 0
    for platform in REGISTRY:
        cls = connector_class(platform)
        ctx = RenderContext(
            target=platform, options=cls.example_options, link="https://blog.example.org/essay"
        )
        draft = cls.render(essay, ctx)
        posts += len(draft.posts)
    return posts


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
    result["markdown_to_html_vs_pandoc"] = versus_pandoc(
        generated[:: 5 if quick else 2] + [f for f in files if f[0].endswith(".md")],
        repeats=1 if quick else 3,
    )
    return result


def versus_pandoc(files: list[tuple[str, bytes]], repeats: int) -> dict[str, Any]:
    def ours() -> None:
        for name, data in files:
            render_html(blocks_for(read_bytes(Path(name), data), "blog"))

    ours_samples = timed(ours, repeats)
    pandoc = shutil.which("pandoc")
    result: dict[str, Any] = {"files": len(files), "ours": summary(ours_samples)}
    result["ours"]["files_per_second"] = len(files) / statistics.median(ours_samples)
    if pandoc is None:
        result["pandoc"] = None
        result["note"] = "pandoc not installed (apt-get install pandoc): no ratio"
        return result
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, data in files:
            path = Path(tmp) / name
            path.write_bytes(data)
            paths.append(path)

        def theirs() -> None:
            for path in paths:
                subprocess.run(
                    [pandoc, "-f", "markdown", "-t", "html", str(path)],
                    check=True,
                    capture_output=True,
                )

        theirs_samples = timed(theirs, repeats)
    version = subprocess.run([pandoc, "--version"], capture_output=True, text=True).stdout
    result["pandoc"] = summary(theirs_samples)
    result["pandoc"]["version"] = version.splitlines()[0]
    result["pandoc"]["files_per_second"] = len(files) / statistics.median(theirs_samples)
    result["ratio_ours_over_pandoc"] = (
        result["ours"]["files_per_second"] / result["pandoc"]["files_per_second"]
    )
    result["goal_ratio"] = 10.0
    return result
