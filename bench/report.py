"""docs/BENCHMARKS.md from bench/results.json: method, machine, medians and spread."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _ms(s: dict[str, float]) -> str:
    return f"{s['median_ms']:.2f} ms (p10 {s['p10_ms']:.2f}, p90 {s['p90_ms']:.2f}, n={s['runs']})"


def conversion_section(c: dict[str, Any]) -> list[str]:
    lines = [
        "## Conversion",
        "",
        "Read + render for every destination (all 14 connectors' `render`), per essay:",
        "",
        "| input | time |",
        "|---|---|",
    ]
    lines += [f"| {name} | {_ms(s)} |" for name, s in c["read_render_all_destinations"].items()]
    g = c["generated_set"]
    lines += [
        "",
        f"Generated set: {g['essays']} Markdown essays, 1–100 KB "
        f"({g['bytes'] / 1024:.0f} KB in all): **{g['essays_per_second']:.0f} essays/s** "
        "read + rendered for every destination.",
        "",
        f"Goal: a 10 KB essay in under {c['goal_10kb_all_destinations_ms']:.0f} ms for all "
        "destinations.",
        "",
    ]
    v = c["markdown_to_html_vs_pandoc"]
    lines += [
        "### Markdown → HTML against pandoc",
        "",
        f"{v['files']} Markdown files; pandoc run once per file (`pandoc -f markdown -t html "
        "FILE`, as a user would script it); ours reads and renders sanitised HTML in process.",
        "",
        "| tool | all files | files/s |",
        "|---|---|---|",
        f"| crosspost | {_ms(v['ours'])} | {v['ours']['files_per_second']:.0f} |",
    ]
    if v.get("pandoc"):
        p = v["pandoc"]
        lines += [
            f"| {p['version']} | {_ms(p)} | {p['files_per_second']:.1f} |",
            "",
            f"Ratio: **{v['ratio_ours_over_pandoc']:.1f}×** pandoc's per-file throughput "
            f"(goal ≥ {v['goal_ratio']:.0f}×).",
        ]
    else:
        lines += ["", v.get("note", "pandoc not run")]
    return [*lines, ""]


def write_report(results: dict[str, Any], path: Path) -> None:
    m = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Produced by `make bench` (`python -m bench.run`; `--quick` for a small run) from "
        "`bench/results.json`. Numbers are medians with the 10th and 90th percentiles over "
        "repeated runs, never a single run.",
        "",
        f"Machine: {m['platform']}, {m['cpus']} CPUs, Python {m['python']}; run {m['when']}"
        + (" (quick mode)" if results.get("quick") else "")
        + ".",
        "",
    ]
    if "conversion" in results:
        lines += conversion_section(results["conversion"])
    for name, section in results.items():
        writer = globals().get(f"{name}_section")
        if name != "conversion" and callable(writer):
            lines += writer(section)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
