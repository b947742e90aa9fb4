"""bench/ depends on the test suite only through the helpers it declares, which need no pytest."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from bench import TEST_HELPERS

ROOT = Path(__file__).resolve().parent.parent


def imported_from_tests(path: Path) -> set[str]:
    """The `tests...` modules a file imports, at module level or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name == "tests" or name.startswith("tests.")}


def declared(module: str) -> bool:
    return any(module == h or module.startswith(h + ".") for h in TEST_HELPERS)


def test_bench_imports_only_the_declared_test_helpers() -> None:
    used = {
        (path.name, module)
        for path in sorted((ROOT / "bench").glob("*.py"))
        for module in imported_from_tests(path)
    }
    assert used, "bench/ no longer uses the test helpers: drop TEST_HELPERS and this test"
    assert [pair for pair in used if not declared(pair[1])] == []


def test_the_declared_helpers_import_without_pytest() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {list(TEST_HELPERS)!r}: importlib.import_module(name)\n"
        "import tests.emulators.mastodon, tests.emulators.latency_target\n"
        "print(sorted(m for m in ('pytest', 'hypothesis', '_pytest') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
