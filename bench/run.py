"""`make bench`: run the benchmark suite, write bench/results.json and docs/BENCHMARKS.md.

Benchmarks are not tests: they measure and report; the goals are printed beside the numbers.
`--quick` runs every section at a small size (under a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import commands, console, conversion, drop, ratelimit, scaleout, scheduler
from bench.report import write_report

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = {
    "conversion": conversion.run,
    "commands": commands.run,
    "drop": drop.run,
    "scheduler": scheduler.run,
    "ratelimit": ratelimit.run,
    "scaleout": scaleout.run,
    "console": console.run,
}


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append")
    args = parser.parse_args()
    results_path = ROOT / "bench" / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    results["machine"] = machine()
    results["quick"] = args.quick
    for name in args.only or SECTIONS:
        print(f"bench: {name} ...", flush=True)
        results[name] = SECTIONS[name](quick=args.quick)
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    write_report(results, ROOT / "docs" / "BENCHMARKS.md")
    print(f"wrote {results_path} and docs/BENCHMARKS.md")


if __name__ == "__main__":
    main()
