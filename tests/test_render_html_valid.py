"""The blog HTML is valid HTML5 by the W3C Nu checker (npm `vnu-jar`, run with Java).

Every CommonMark spec example, the GFM samples and the golden essays are rendered as the
WordPress connector sends them, each wrapped in a minimal document, and checked in one
run of the checker: zero errors.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.document import Essay
from pipeline.readers import read_file
from pipeline.render.html import render_html
from pipeline.render.parts import blocks_for
from tests.npm_packages import npm_package
from tests.test_commonmark_spec import publish, spec
from tests.test_markdown_gfm import NOTES, TABLE, essay

VNU_VERSION = "26.9.27"
GOLDEN = Path(__file__).parent / "golden"
# Heading levels are the author's (the spec's own examples jump from h1 to h5): the
# checker's outline advice about skipped levels is about the writing, not the markup.
AUTHORS_OUTLINE = re.compile(r"^The heading .* skipping \d+ heading levels?\.$")


def vnu_jar() -> Path:
    return npm_package("vnu-jar", VNU_VERSION) / "build/dist/vnu.jar"


def document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>\n{body}\n</body></html>\n"
    )


def blog_html(source: Essay) -> str:
    return render_html(blocks_for(source, "blog"), source.footnotes)


def test_blog_html_is_valid_html5(tmp_path: Path) -> None:
    java = shutil.which("java")
    if java is None:
        pytest.fail("Java is needed for the W3C Nu checker (install default-jre-headless)")
    pages: dict[str, str] = {}
    for example in spec():
        pages[f"commonmark-{example.number:03d}.html"] = publish(example)
    pages["gfm-table.html"] = blog_html(essay(TABLE))
    pages["gfm-notes.html"] = blog_html(essay(NOTES))
    for path in sorted((GOLDEN / "readers").glob("*.md")) + sorted(
        (GOLDEN / "html").glob("*.html")
    ):
        pages[f"golden-{path.stem}.html"] = blog_html(read_file(path))
    for name, body in pages.items():
        (tmp_path / name).write_text(document(name, body), encoding="utf-8")
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
    assert len(pages) > 660
