"""Time read + render in a process of its own, against whichever code tree is on the path.

`bench/conversion.py` runs this file twice per round, once with today's tree and once with a
baseline tree extracted by `git archive`, so both are measured the same way in the same run.
It imports only what both trees have (`connectors.REGISTRY`, `connector_class`,
`RenderContext`, `read_bytes`, `render_html`, `blocks_for`).

    python bench/conversion_worker.py everywhere|html REPEATS FILE...

prints JSON: `{"samples": {name: [seconds, ...]}, "cpu": {name: [seconds, ...]}}`, wall-clock
time and this thread's CPU time of each run (on a loaded machine the CPU time shows what the
code costs, the wall-clock time what a user waits); `everywhere` times each file read and
rendered for every destination, `html` times all files read and rendered as blog HTML.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from connectors import REGISTRY, connector_class
from connectors.base import RenderContext
from pipeline.readers import read_bytes
from pipeline.render.html import render_html
from pipeline.render.parts import blocks_for

LINK = "https://blog.example.org/essay"


def render_everywhere(name: str, data: bytes) -> int:
    """Read one file and render it for every destination; the number of posts made."""
    essay = read_bytes(Path(name), data)
    posts = 0
    for platform in REGISTRY:
        cls = connector_class(platform)
        ctx = RenderContext(target=platform, options=cls.example_options, link=LINK)
        posts += len(cls.render(essay, ctx).posts)
    return posts


def html_of_all(files: list[tuple[str, bytes]]) -> None:
    """Markdown -> sanitised blog HTML for every file, as `crosspost` converts one."""
    for name, data in files:
        render_html(blocks_for(read_bytes(Path(name), data), "blog"))


def main() -> None:
    mode, repeats, paths = sys.argv[1], int(sys.argv[2]), [Path(p) for p in sys.argv[3:]]
    files = [(p.name, p.read_bytes()) for p in paths]
    jobs = {name: (lambda n=name, d=data: render_everywhere(n, d)) for name, data in files}
    if mode == "html":
        jobs = {"all": lambda: html_of_all(files)}
        html_of_all(files[:1])
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for name, job in jobs.items():
        if mode == "everywhere":
            job()  # imports, emoji lists, regexes: not what we time
        for _ in range(repeats):
            started, started_cpu = time.perf_counter(), time.thread_time()
            job()
            cpu.setdefault(name, []).append(time.thread_time() - started_cpu)
            wall.setdefault(name, []).append(time.perf_counter() - started)
    print(json.dumps({"samples": wall, "cpu": cpu}))


if __name__ == "__main__":
    main()
