"""The full fault-injection campaign: every fault on every emulated platform, with figures.

`python -m bench.faults` drives the real `crosspost run` daemon against each platform's
emulator (the building blocks of `tests/test_fault_injection.py`, `tests/faults.py`):
5xx bursts, a 429 with the platform's wait, an answer slower than the timeout, a lost
answer, revoked credentials, a platform down for longer than the retry budget, and a
stream of essays under the platform's rate limit. It prints and writes
`bench/reliability-faults.json`: faults injected, publications, how many ended as expected,
duplicates, losses, the most requests one publication needed, the 429s the emulators had
to give, and secret hits. `--rounds N` repeats the campaign; `--platform` narrows it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as host
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.faults import (
    MAX_ATTEMPTS,
    NO_LOOKUP,
    PLATFORMS,
    RATE_WAIT,
    RETRY_BASE,
    TIMEOUT,
    Outcome,
    Site,
    after_fault,
    attempts_in,
    lost_response,
    platform_down,
    rate_limited,
    revoked_credentials,
    running,
    server_error_burst,
    slow_answer,
    steady_stream,
    streaming,
    wait_said,
    words_of,
)

OUT = Path(__file__).resolve().parent / "reliability-faults.json"
STREAM_ESSAYS = 6
FAULTS: dict[str, Callable[[Site], Outcome]] = {
    "server-error-burst": server_error_burst,
    "rate-limited": rate_limited,
    "slow-answer": slow_answer,
    "lost-response": lost_response,
    "revoked-credentials": revoked_credentials,
    "platform-down": platform_down,
}


def expected(outcome: Outcome) -> str:
    """The state a publication must end in after this fault on this platform."""
    if outcome.fault in ("revoked-credentials", "platform-down"):
        return "failed"
    if outcome.fault in ("slow-answer", "lost-response") and outcome.platform in NO_LOOKUP:
        return "failed"  # no look-up: a person checks, nothing is sent twice
    return "published"


def problems(outcome: Outcome) -> list[str]:
    """What about this outcome breaks the promise (empty: as expected)."""
    found: list[str] = []
    want = expected(outcome)
    for row in outcome.rows:
        if row["state"] != want:
            found.append(f"ended {row['state']}, expected {want}: {row['last_error']}")
        if row["state"] == "failed" and "next step:" not in (row["last_error"] or ""):
            found.append("failed without a next step")
    need = len(outcome.rows) if want == "published" else 0
    if want == "published" and outcome.posts != need:
        found.append(f"{outcome.posts} posts for {need} publications")
    if want == "failed" and outcome.posts > (1 if outcome.fault != "platform-down" else 0):
        found.append(f"{outcome.posts} posts after a failure")
    if outcome.throttled:
        found.append(f"the emulator had to answer 429 {outcome.throttled}x")
    if outcome.fault == "rate-limited":
        refused, later = after_fault(outcome)
        not_before = wait_said(outcome.extra["fault"], refused.at, outcome.extra["wall_minus_mono"])
        if not later or later[0].at < not_before - 0.01:
            found.append("did not wait as long as the 429 said")
    if outcome.fault == "slow-answer" and outcome.platform not in NO_LOOKUP:
        slow, later = after_fault(outcome)
        if not later or later[0].at - slow.at < 2 * TIMEOUT - 0.05:
            found.append("looked up sooner than the timeout again after the late answer")
    if outcome.fault == "revoked-credentials":
        row = outcome.row
        if row["attempts"] != 1 or len(outcome.requests) > 2:
            found.append(f"retried: {row['attempts']} attempts, {len(outcome.requests)} requests")
        words = words_of(outcome.answers[-1].body) if outcome.answers else []
        if not any(w.lower() in (row["last_error"] or "").lower() for w in words):
            found.append("the platform's own words are not in last_error")
    if outcome.fault == "platform-down":
        attempts = attempts_in(outcome.requests, gap=0.45 * RETRY_BASE)
        if len(attempts) != MAX_ATTEMPTS or outcome.row["attempts"] != MAX_ATTEMPTS:
            found.append(f"{len(attempts)} attempts seen, {outcome.row['attempts']} counted")
    return found


def record(outcome: Outcome, leaks: list[str], alive: bool) -> dict[str, Any]:
    publications = max(1, len(outcome.rows))
    want = expected(outcome)
    duplicates = max(0, outcome.posts - publications)
    published = sum(r["state"] == "published" for r in outcome.rows)
    unfinished = sum(r["state"] not in ("published", "failed") for r in outcome.rows)
    losses = unfinished + max(0, published - outcome.posts)
    found = problems(outcome) + [f"secret: {hit}" for hit in leaks]
    if not alive:
        found.append("the daemon died")
    return {
        "platform": outcome.platform,
        "fault": outcome.fault,
        "faults_injected": outcome.injected,
        "publications": publications,
        "expected": want,
        "states": [r["state"] for r in outcome.rows],
        "attempts": [r["attempts"] for r in outcome.rows],
        "posts": outcome.posts,
        "requests": len(outcome.requests),
        "requests_per_publication": round(len(outcome.requests) / publications, 2),
        "emulator_429s": outcome.throttled,
        "duplicates": duplicates,
        "losses": losses,
        "secret_hits": len(leaks),
        "as_expected": not found,
        "problems": found,
        "seconds": round(time.monotonic() - outcome.started, 2),
    }


def campaign(platforms: list[str], folder: Path) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for name in platforms:
        with running(name, folder / f"{name}-faults") as site:
            for scenario in FAULTS.values():
                outcome = scenario(site)
                results.append(record(outcome, site.leaks(), site.alive()))
                print(_line(results[-1]), flush=True)
        with streaming(name, folder / f"{name}-stream") as site:
            outcome = steady_stream(site, STREAM_ESSAYS)
            results.append(record(outcome, site.leaks(), site.alive()))
            print(_line(results[-1]), flush=True)
    return results


def _line(result: dict[str, Any]) -> str:
    verdict = "ok" if result["as_expected"] else "PROBLEM " + "; ".join(result["problems"])
    return (
        f"{result['platform']:>9} {result['fault']:<20} {','.join(result['states']):<28} "
        f"posts={result['posts']:<2} requests={result['requests']:<3} "
        f"{result['seconds']:>5.1f}s {verdict}"
    )


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    def total(rows: list[dict[str, Any]]) -> dict[str, Any]:
        outcomes = [s for r in rows for s in r["states"]]
        return {
            "scenarios": len(rows),
            "faults_injected": sum(r["faults_injected"] for r in rows),
            "publications": sum(r["publications"] for r in rows),
            "published": outcomes.count("published"),
            "failed": outcomes.count("failed"),
            "as_expected": sum(r["as_expected"] for r in rows),
            "duplicates": sum(r["duplicates"] for r in rows),
            "losses": sum(r["losses"] for r in rows),
            "requests": sum(r["requests"] for r in rows),
            "max_requests_per_publication": max(
                (r["requests_per_publication"] for r in rows), default=0
            ),
            "emulator_429s": sum(r["emulator_429s"] for r in rows),
            "secret_hits": sum(r["secret_hits"] for r in rows),
        }

    faults = sorted({r["fault"] for r in results})
    return {
        "totals": total(results),
        "by_fault": {f: total([r for r in results if r["fault"] == f]) for f in faults},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--platform", action="append", choices=PLATFORMS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    platforms = args.platform or list(PLATFORMS)
    started = time.monotonic()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="crosspost-faults-") as tmp:
        for round_ in range(args.rounds):
            results += campaign(platforms, Path(tmp) / f"round-{round_}")
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": host.python_version(), "cpus": os.cpu_count()},
        "command": "python -m bench.faults",
        "settings": {
            "max_attempts": MAX_ATTEMPTS,
            "retry_base_seconds": RETRY_BASE,
            "timeout_seconds": TIMEOUT,
            "rate_limit_wait_seconds": RATE_WAIT,
            "stream_essays": STREAM_ESSAYS,
            "rounds": args.rounds,
        },
        "seconds": round(time.monotonic() - started, 1),
        **summary(results),
        "scenarios": results,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"totals": report["totals"], "seconds": report["seconds"]}, indent=2))
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
