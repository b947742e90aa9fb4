"""`crosspost --version` answers with the installed version, before any command is chosen."""

from __future__ import annotations

import tomllib

from tests.daemon_helpers import ROOT, crosspost


def test_version_prints_the_packaged_version_and_exits_zero() -> None:
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = crosspost(ROOT / "no-such-home", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"crosspost {expected}\n"
