"""The CI-sized crash matrix: 25 SIGKILLs of the real daemon across every phase (a second daemon
started beside a running or stopping one among them), every target
(WordPress, Ghost and the Bluesky PDS real, the rest on emulators). `python -m bench.crash_matrix`
runs the full one (300+ kills) whose figures are in docs/RELIABILITY.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.crash_matrix import PHASES, TARGETS, run_matrix

SEED = 20261127
KILLS = 25


@pytest.mark.slow
@pytest.mark.wordpress
@pytest.mark.ghost
@pytest.mark.pds
def test_sigkill_in_every_phase_never_duplicates_loses_or_leaks(tmp_path: Path) -> None:
    figures = run_matrix(tmp_path, seed=SEED, kills=KILLS)
    summary = figures.summary()
    # the kills really happened, in every phase
    assert summary["kills_landed"] >= 20, summary
    assert set(summary["kills"]) == set(PHASES), summary
    assert sum(figures.second_daemons.values()) >= 2, summary  # second daemons really started
    # and the work was real: every essay to every target
    assert figures.essays >= 10 and figures.publications == figures.essays * len(TARGETS)
    assert figures.posts_checked >= figures.essays * 10
    assert figures.duplicates == []
    assert figures.missing == []
    assert figures.inconsistent == []
    assert figures.daemon_deaths == []
    assert figures.secret_hits == []
    assert dict(figures.rate_limit_answers) == {}  # a restart does not forget what was sent
