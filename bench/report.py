"""docs/BENCHMARKS.md from bench/results.json: method, machine, medians and spread."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _ms(s: dict[str, float]) -> str:
    return f"{s['median_ms']:.2f} ms (p10 {s['p10_ms']:.2f}, p90 {s['p90_ms']:.2f}, n={s['runs']})"


def conversion_section(c: dict[str, Any]) -> list[str]:
    lines = ["## Conversion", ""]
    lines += _conversion_goal_rows(c)
    lines += [
        "All 14 connectors' `render`, read + render per essay, in the bench's own process:",
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
    ]
    v = c["markdown_to_html_vs_pandoc"]
    lines += [
        "### Markdown → HTML against pandoc",
        "",
        f"{v['files']} Markdown files, 1–100 KB ({v.get('bytes', 0) / 1024:.0f} KB in all); "
        "pandoc run once per file (`pandoc -f markdown -t html FILE`, as a user would script "
        "it); ours reads and renders sanitised HTML in a process of its own (imports not "
        "counted), today's code and the baseline's, interleaved round by round with pandoc.",
        "",
        "| tool | all files | files/s | × pandoc |",
        "|---|---|---|---|",
    ]
    for side, label in (("now", "crosspost (this code)"), ("before", "crosspost (baseline)")):
        if side in v:
            r = v[side]
            ratio = f"{r['ratio_over_pandoc']:.1f}×" if "ratio_over_pandoc" in r else "–"
            lines.append(f"| {label} | {_ms(r)} | {r['files_per_second']:.0f} | {ratio} |")
    if v.get("pandoc"):
        p = v["pandoc"]
        lines += [
            f"| {p['version']} | {_ms(p)} | {p['files_per_second']:.1f} | 1× |",
            "",
            f"Ratio: **{v['ratio_ours_over_pandoc']:.1f}×** pandoc's per-file throughput "
            f"(goal ≥ {v['goal_ratio']:.0f}×: {_met(v['ratio_ours_over_pandoc'] >= 10)}).",
        ]
    else:
        lines += ["", v.get("note", "pandoc not run")]
    return [*lines, ""]


def _conversion_goal_rows(c: dict[str, Any]) -> list[str]:
    """Read + render for every destination, this code against the baseline's, same run."""
    rows = c.get("goal_rows")
    if not rows:
        return []
    base = c.get("baseline", {})
    goal = c["goal_10kb_all_destinations_ms"]
    load = c.get("load_average_before"), c.get("load_average_after")
    lines = [
        f"Read + render for all 14 destinations (goal: under {goal:.0f} ms each, median). "
        "Timed in a process of its own per side, this code and the baseline "
        f"(`{base.get('commit')}`, its `pipeline/` and `connectors/` from `git archive`), "
        "alternating which goes first, round after round; wall-clock time and the same runs' "
        "CPU time (on a machine shared with other work the CPU time is what the code costs).",
        "",
    ]
    if load[0] and load[1]:
        lines += [
            f"Load average (1, 5, 15 min) on {c.get('cpus', 'these')} CPUs: "
            f"{', '.join(f'{x:.1f}' for x in load[0])} before, "
            f"{', '.join(f'{x:.1f}' for x in load[1])} after.",
            "",
        ]
    if base.get("note"):
        lines += [f"Baseline: {base['note']}.", ""]
    lines += [
        "| input | now (wall) | baseline (wall) | speedup | now (CPU) | baseline (CPU) | "
        "speedup (CPU) | goal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, r in rows.items():
        now, now_cpu = r["now"], r["now_cpu"]
        before = _ms(r["before"]) if "before" in r else "–"
        before_cpu = _ms(r["before_cpu"]) if "before_cpu" in r else "–"
        speedup = f"{r['speedup']:.2f}×" if "speedup" in r else "–"
        speedup_cpu = f"{r['speedup_cpu']:.2f}×" if "speedup_cpu" in r else "–"
        lines.append(
            f"| {label} ({r['bytes'] / 1024:.1f} KB) | {_ms(now)} | {before} | {speedup} | "
            f"{_ms(now_cpu)} | {before_cpu} | {speedup_cpu} | "
            f"{_met(now['median_ms'] < goal)} |"
        )
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
        "The benchmarks drive the test suite's emulators, fault campaign and crash matrix "
        "(`bench.TEST_HELPERS`), so they run from the repository root with the `test` extra "
        "installed; `tests/test_bench_depends.py` keeps that dependency to those helpers.",
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
    lines += waiting_summary(results)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ------------------------------------------------ daemon, scheduler, rate limit, scale-out


def _lat(s: dict[str, float]) -> str:
    return (
        f"p50 {s['p50_ms']:.0f} ms, p90 {s['p90_ms']:.0f}, p99 {s['p99_ms']:.0f}, "
        f"max {s['max_ms']:.0f} (n={s['n']})"
    )


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def drop_section(d: dict[str, Any]) -> list[str]:
    lines = [
        "## Drop to published",
        "",
        "A file renamed into the inbox of a running `crosspost run` (SQLite) until every "
        "immediate target has it: " + ", ".join(d["targets"]) + ". Latency = the last "
        "`published_at` minus the rename; drops one after another, the first not counted.",
        "",
        "| settings | latency | goal p99 < 1 s |",
        "|---|---|---|",
    ]
    for label, c in d["configs"].items():
        lines.append(f"| {label} | {_lat(c['latency'])} | {_met(c['goal_met'])} |")
    lines += [
        "",
        "The floor is `settle_seconds` (a file must be still that long before it is taken); "
        "when watching (watchdog installed, `inbox_watch = true`) nothing else waits, when "
        "polling add up to `inbox_poll_seconds`. The rest is reading, planning and three "
        "publications (the two `after = site` ones in parallel).",
        "",
    ]
    return lines


def scheduler_section(s: dict[str, Any]) -> list[str]:
    g = s["goals"]
    lines = [
        "## Scheduler precision and scale",
        "",
        f"Pending publications bulk-inserted (ten outbox targets), due at "
        f"{s['due_per_second']:.1f} per second at every size; then the real daemon. Start = "
        "process start until it logged `daemon started` (after syncing its jobs); lateness "
        "of probe publications inserted while it runs = `published_at - due_at`; `status` as "
        "a command (Python start and imports included) and its own work in process.",
        "",
        "| store | pending | start | jobs (sync) | RSS after start / end | lateness | "
        "status command | status in process |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in s["runs"]:
        if r.get("start_s") is None:
            lines.append(f"| {r['db']} | {r['pending']:,} | {r.get('note')} | | | | | |")
            continue
        mem = f"{r['memory_kb_after_start']['VmRSS'] / 1024:.0f} / "
        mem += f"{r['memory_kb_end']['VmRSS'] / 1024:.0f} MB"
        late = _lat(r["lateness"]) if r.get("lateness") else "none published"
        st = r["status"]
        lines.append(
            f"| {r['db']} | {r['pending']:,} | {r['start_s']:.2f} s | {r['jobs']} "
            f"({r['sync_ms']:.0f} ms) | {mem} | {late} | {st['command']['p50_ms']:.0f} ms "
            f"| {st['in_process']['p50_ms']:.0f} ms |"
        )
    bare = [f"{r['status']['bare_python_start_ms']:.0f}" for r in s["runs"] if "status" in r]
    lines += [
        "",
        f"Goals: start < {g['start_s']:.0f} s, lateness p99 < {g['lateness_p99_ms']:.0f} ms, "
        f"status < {g['status_ms']:.0f} ms at 100,000 rows, memory growth sub-linear. A bare "
        "`python -c pass` on this machine takes "
        + ", ".join(bare)
        + " ms; the command's time is mostly Python starting and importing.",
        "",
    ]
    t = s.get("sigterm")
    if t:
        spread = _lat(t["exit_s"]) if t.get("exit_s") else "none exited"
        lines += [
            f"SIGTERM to exit with {t['overdue']:,} publications overdue at start: "
            f"{t['under_10_s']} of {t['tries']} under {g.get('sigterm_exit_s', 10):.0f} s "
            f"({spread}); rows left `publishing` afterwards: {t['left_publishing']}.",
            "",
        ]
    return lines


def ratelimit_section(r: dict[str, Any]) -> list[str]:
    count, seconds = r["limit"]
    lines = [
        "## Rate-limit efficiency",
        "",
        f"{r['documented']}: the emulator enforces {count} per {seconds:.0f} s, the target "
        f"says `rate_limit = [{count}, {seconds:.0f}]`. Rate counted after the first window's "
        "burst: `(posts - limit) / (last - first)`.",
        "",
        "| publisher | backlog | published | duplicates | 429s | rate | of allowed | goal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for x in r["runs"]:
        eff = f"{100 * x['efficiency']:.1f} %" if x["efficiency"] else "-"
        rate = f"{x['rate_per_s']:.2f}/s" if x["rate_per_s"] else "-"
        lines.append(
            f"| {x['mode']} | {x['backlog']} | {x['published']} | {x['duplicates']} | "
            f"{x['responses_429']} | {rate} | {eff} | {_met(x['goal_met'])} |"
        )
    return [*lines, "", "Goal: at least 90 % of the allowed rate and no 429 at all.", ""]


def scaleout_section(s: dict[str, Any]) -> list[str]:
    lines = [
        "## Scale-out",
        "",
        f"`crosspost worker` processes on one PostgreSQL store; the platform answers every "
        f"request after {s['latency_ms']:.0f} ms. Backlog made due at once when all workers "
        "are up. See docs/SCALE_OUT.md.",
        "",
        "| workers | publications | seconds | per second | duplicates | lost |",
        "|---|---|---|---|---|---|",
    ]
    for x in s["runs"]:
        lines.append(
            f"| {x['workers']} | {x['published']} | {x['seconds']:.2f} | "
            f"{x['per_second']:.1f} | {x['duplicates']} | {x['lost']} |"
        )
    return [*lines, ""]


# ------------------------------------------------------------ commands people wait for


def _wall_cpu(t: dict[str, Any]) -> str:
    return f"{t['wall']['p50_ms']:.0f} ms (CPU {t['cpu']['p50_ms']:.0f} ms)"


def commands_section(c: dict[str, Any]) -> list[str]:
    g = c["goals"]
    p = c["preview"]
    lines = [
        "## Commands people wait for",
        "",
        "Each command a process, every command of a comparison in the same rounds in turn; "
        "medians of wall time (what a person waits) with CPU time (user + system) beside it, "
        "which the machine's load disturbs less. `before` is the tree named by "
        f"`BENCH_BEFORE_TREE` ({c.get('before_tree') or 'not given'}), run in the same rounds.",
        "",
        f"### `crosspost preview F --target wordpress --json` against `pandoc F` "
        f"({p['bytes'] / 1024:.0f} KB essay)",
        "",
        "| command | median wall (CPU) | n |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {_wall_cpu(t)} | {t['wall']['n']} |" for name, t in p["times"].items()]
    if "ratio_over_pandoc" in p:
        before = p.get("before_ratio_over_pandoc")
        lines += [
            "",
            f"Ratio to pandoc: **{p['ratio_over_pandoc']:.1f}×**"
            + (f" (before: {before:.1f}×)" if before else "")
            + f"; goal ≤ {g['preview_over_pandoc']:.0f}×: "
            + _met(p["ratio_over_pandoc"] <= g["preview_over_pandoc"])
            + ".",
        ]
    else:
        lines += ["", p.get("note", "")]
    lines += [
        "",
        "### `crosspost status` against `python -c pass`",
        "",
        "The quick path reads settings stamped by the full loader and the rows over the DB-API; "
        "the full path (its stamp removed before each run) validates every setting and reads "
        "through SQLAlchemy, as every `status` did before.",
        "",
        "| store | publications | command | median wall (CPU) | × python |",
        "|---|---|---|---|---|",
    ]
    for s in c["status"]:
        bare = s["times"]["python -c pass"]["wall"]["p50_ms"]
        for name, t in s["times"].items():
            lines.append(
                f"| {s['db']} | {s['pending']:,} | {name} | {_wall_cpu(t)} | "
                f"{t['wall']['p50_ms'] / bare:.1f}× |"
            )
    lines += [
        "",
        f"Goal: ≤ {g['status_over_python']:.0f}× `python -c pass` (same interpreter, same "
        "run): "
        + ", ".join(
            f"{s['db']} {s['ratio_over_python']:.1f}× "
            + _met(s["ratio_over_python"] <= g["status_over_python"])
            for s in c["status"]
        )
        + ". Quick and full path printed the same: "
        + ", ".join(
            f"{s['db']} {'yes' if s['same_output_quick_and_full'] else '**no**'}"
            for s in c["status"]
        )
        + ".",
        "",
    ]
    each = c.get("per_command")
    if each:
        lines += [
            "### Each quick-answer command, before and after",
            "",
            "On a home where one essay was published (status, logs, plan) and one with a "
            "WordPress target (preview); `--version` is new.",
            "",
            "| command | median wall (CPU) |",
            "|---|---|",
            *(f"| {name} | {_wall_cpu(t)} |" for name, t in each.items()),
            "",
        ]
    imports = c.get("daemon_imports")
    if imports:
        lines += [
            "### What `crosspost run` pays before it starts: importing the daemon",
            "",
            "| command | median wall (CPU) |",
            "|---|---|",
            *(f"| {name} | {_wall_cpu(t)} |" for name, t in imports.items()),
            "",
        ]
    return lines


# figures from before issue 16's work that this run does not measure again (the old tree's
# daemon is not rerun): each says where it comes from
EARLIER = {
    "start": "1.71 s SQLite, 1.76 s PostgreSQL (make bench, 2026-11-27); 1.44 s quiet "
    "(issue 16); 1.04 s once timers moved to memory (issue 20, 2026-12-03)",
    "lateness": "p99 28 ms SQLite, 45 ms PostgreSQL (make bench, 2026-11-27)",
    "sigterm": "hung in 8 of 8 tries (issue 16)",
    "drop": "p99 663 ms (make bench, 2026-11-27); 847 ms (issue 16)",
}


def waiting_summary(results: dict[str, Any]) -> list[str]:
    """Issue 16's goals in one table: this run's figure beside the one before."""
    rows: list[str] = []
    c = results.get("commands")
    if c:
        p = c["preview"]
        if "ratio_over_pandoc" in p:
            before = p.get("before_ratio_over_pandoc")
            rows.append(
                f"| `preview F` vs `pandoc F` | ≤ {c['goals']['preview_over_pandoc']:.0f}× | "
                + (f"{before:.1f}× (same run)" if before else "-")
                + f" | {p['ratio_over_pandoc']:.1f}× | "
                + _met(p["ratio_over_pandoc"] <= c["goals"]["preview_over_pandoc"])
                + " |"
            )
        for s in c["status"]:
            before = s.get("before_ratio_over_python")
            rows.append(
                f"| `status`, {s['pending']:,} publications, {s['db']}, vs `python -c pass` | "
                f"≤ {c['goals']['status_over_python']:.0f}× | "
                + (f"{before:.1f}× (same run)" if before else "-")
                + f" | {s['ratio_over_python']:.1f}× | "
                + _met(s["ratio_over_python"] <= c["goals"]["status_over_python"])
                + " |"
            )
    sched = results.get("scheduler")
    if sched:
        for r in sched["runs"]:
            if r["pending"] != 100_000:
                continue
            start, cpu = r.get("start_s"), r.get("start_cpu_s")
            rows.append(
                f"| daemon start, 100,000 pending, {r['db']} | ≤ 1 s quiet | {EARLIER['start']} | "
                + (f"{start:.2f} s" if start is not None else "did not start")
                + (f" (CPU {cpu:.2f} s)" if cpu is not None else "")
                + f" | {_met(start is not None and start <= 1.0)} |"
            )
            late = r.get("lateness")
            if late:
                rows.append(
                    f"| firing lateness p99, 100,000 pending, {r['db']} | < 1 s | "
                    f"{EARLIER['lateness']} | {late['p99_ms']:.0f} ms | "
                    f"{_met(late['p99_ms'] < 1000)} |"
                )
        t = sched.get("sigterm")
        if t:
            rows.append(
                f"| SIGTERM to exit, {t['overdue']:,} overdue at start | < 10 s in "
                f"{t['tries']} of {t['tries']} | {EARLIER['sigterm']} | {t['under_10_s']} of "
                f"{t['tries']}, max {t['max_s']:.2f} s, {t['left_publishing']} left publishing"
                f" | {_met(t['under_10_s'] == t['tries'] and not t['left_publishing'])} |"
            )
    d = results.get("drop")
    if d:
        watched = next((v for k, v in d["configs"].items() if "watching" in k), None)
        if watched:
            rows.append(
                f"| drop → published, watching the folder (defaults) | p99 < 1 s | "
                f"{EARLIER['drop']} | p99 {watched['latency']['p99_ms']:.0f} ms | "
                f"{_met(watched['goal_met'])} |"
            )
    if not rows:
        return []
    return [
        "## Where people wait: issue 16's goals",
        "",
        "Ratios come from one run (this one); a `before` marked *same run* is the older tree "
        "timed in the same rounds, the others are earlier figures, named with their source. "
        "The machine is shared and noisy: medians.",
        "",
        "| measure | goal | before | after (this run) | |",
        "|---|---|---|---|---|",
        *rows,
        "",
    ]


def console_section(s: dict[str, Any]) -> list[str]:
    lines = [
        "## Operator console",
        "",
        f"`python -m bench.console`: {s['publications']:,} publications (10 targets; 70 % "
        "published, 2 % failed with a long error, 1 % awaiting a person, the rest scheduled) "
        "served by a real `crosspost console` on SQLite; each page asked "
        f"{s['repeat']} times after one warm-up. Server time is the console's own "
        "(`Server-Timing` header); wall time adds HTTP on loopback.",
        "",
        "| page | server p50 | p90 | max | wall p50 | goal |",
        "|---|---|---|---|---|---|",
    ]
    for name, x in s["pages"].items():
        server, wall = x["server"], x["wall"]
        goal = f"< {s['goal_ms']:.0f} ms" if name.startswith("status") else ""
        if goal:
            goal += " met" if server["p90_ms"] < s["goal_ms"] else " MISSED"
        lines.append(
            f"| {name} | {server['p50_ms']:.0f} ms | {server['p90_ms']:.0f} | "
            f"{server['max_ms']:.0f} | {wall['p50_ms']:.0f} ms | {goal} |"
        )
    lines += [
        "",
        "Every status page is keyset-paged (by id, or by due time when a date range is "
        "given, so the `due_at` index serves the range and the order); the page's counts "
        "(matching rows, rows per state) are index scans. No new index was needed.",
    ]
    return [*lines, ""]
