"""The blog HTML made from every new source sample is valid HTML5 by the W3C Nu checker.

Google Docs exports, Substack pages, rich Medium copies and Word documents with pictures
and notes, rendered as the WordPress connector sends them (footnote section included),
each wrapped in a minimal document and checked in one run of the checker: zero errors.
The checker and the helpers are the ones the Markdown suite uses.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.readers import read_file
from tests.test_render_html_valid import AUTHORS_OUTLINE, blog_html, document, vnu_jar

GOLDEN = Path(__file__).parent / "golden"
SAMPLES = [
    *sorted((GOLDEN / "gdocs").glob("*.html")),
    *sorted((GOLDEN / "substack").glob("*.html")),
    *sorted((GOLDEN / "medium").glob("*.txt")),
    *sorted((GOLDEN / "docx").glob("*.docx")),
]


def test_blog_html_of_every_source_sample_is_valid_html5(tmp_path: Path) -> None:
    java = shutil.which("java")
    if java is None:
        pytest.fail("Java is needed for the W3C Nu checker (install default-jre-headless)")
    for path in SAMPLES:
        page = tmp_path / f"{path.parent.name}-{path.stem}.html"
        page.write_text(document(path.stem, blog_html(read_file(path))), encoding="utf-8")
    result = subprocess.run(
        [java, "-jar", str(vnu_jar()), "--format", "json", "--exit-zero-always",
         *sorted(str(p) for p in tmp_path.glob("*.html"))],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    messages = json.loads(result.stderr or result.stdout)["messages"]
    errors = [
        f"{Path(m.get('url', '')).name}: {m.get('message')} ({m.get('extract', '')!r})"
        for m in messages
        if m.get("type") == "error" and not AUTHORS_OUTLINE.search(m.get("message", ""))
    ]
    assert errors == [], "\n".join(errors)
    assert len(SAMPLES) >= 12
