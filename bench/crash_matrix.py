"""The full crash matrix (issue 6): `python -m bench.crash_matrix --kills 300`.

Starts its own WordPress, Ghost and Bluesky PDS (cached in ~/.cache/crosspost-test-servers)
and the emulators, runs `tests.crash_matrix` and writes the figures to
bench/reliability-crash.json (quoted in docs/RELIABILITY.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from tests.crash_matrix import run_matrix

RESULTS = Path(__file__).parent / "reliability-crash.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=300)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--backlog", type=int, default=12, help="open publications to keep")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="crash-matrix-") as work:
        figures = run_matrix(Path(work), args.seed, args.kills, args.backlog)
    summary = {**figures.summary(), "clean": figures.clean}
    args.out.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=1, sort_keys=True))
    print(f"reproduce: python -m bench.crash_matrix --kills {args.kills} --seed {args.seed}")
    return 0 if figures.clean else 1


if __name__ == "__main__":
    sys.exit(main())
