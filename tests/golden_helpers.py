"""Golden files: the expected output checked in next to its input, compared exactly.

Run with `UPDATE_GOLDEN=1` to (re)write the expected files, then read the diff: a golden
file is the specification of what the author meant, not a snapshot of whatever came out.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest


def check_golden(actual: str, expected_path: Path) -> None:
    """Fail with a unified diff unless `actual` equals the file (one trailing newline added)."""
    if not actual.endswith("\n"):
        actual += "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        expected_path.parent.mkdir(parents=True, exist_ok=True)
        expected_path.write_text(actual, encoding="utf-8", newline="\n")
        return
    if not expected_path.exists():
        pytest.fail(f"{expected_path} is missing; run with UPDATE_GOLDEN=1 and review it")
    expected = expected_path.read_text(encoding="utf-8")
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=str(expected_path),
            tofile="actual",
        )
        pytest.fail("output differs from the golden file:\n" + "".join(diff), pytrace=False)
