"""Independent references for the markup we write: the W3C Nu HTML checker (vnu).

The checker ships as a jar in the npm package `vnu-jar`; it is installed at test time into
the test-server cache (like Node 22 in `tests/servers/cache.py`), so a fresh machine needs
only npm and Java (`default-jre-headless`). One JVM checks a whole batch of files: starting
Java costs more than checking a page.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.servers.cache import npm_package

VNU_VERSION = "26.9.27"


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str
    extract: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message} [{self.extract.strip()[:80]}]"


def vnu_jar() -> Path:
    """The checker's jar, installed once per machine."""
    return npm_package("vnu", f"vnu-jar@{VNU_VERSION}", "node_modules/vnu-jar/build/dist/vnu.jar")


def html_errors(files: list[Path]) -> list[Problem]:
    """Every error the Nu checker reports for `files` (warnings left out), in one JVM run."""
    if not files:
        raise ValueError("no files to check: a validation of nothing proves nothing")
    java = shutil.which("java")
    if java is None:
        raise RuntimeError(
            "java is needed for the W3C Nu checker (apt install default-jre-headless)"
        )
    result = subprocess.run(
        [java, "-jar", str(vnu_jar()), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(result.stderr or result.stdout or '{"messages": []}')
    problems = [
        Problem(
            file=m.get("url", "").removeprefix("file:"),
            line=m.get("lastLine"),
            message=m.get("message", ""),
            extract=m.get("extract", ""),
        )
        for m in report.get("messages", [])
        if m.get("type") in {"error", "non-document-error"}
    ]
    if result.returncode not in (0, 1) and not problems:
        raise RuntimeError(f"the Nu checker failed to run: {result.stderr[-500:]}")
    return problems


def fragment_document(body: str, title: str = "fragment", lang: str = "en") -> str:
    """A minimal valid HTML document around a body fragment (a blog post's content)."""
    return (
        f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body>\n{body}\n</body></html>\n"
    )


def fragment_errors(fragments: dict[str, str]) -> list[Problem]:
    """Check named HTML fragments, each wrapped in a minimal document, in one batch."""
    with tempfile.TemporaryDirectory(prefix="vnu-") as folder:
        paths = []
        for index, (name, body) in enumerate(sorted(fragments.items())):
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80]
            path = Path(folder) / f"{index:03d}-{safe}.html"
            path.write_text(fragment_document(body), encoding="utf-8")
            paths.append(path)
        return html_errors(paths)
