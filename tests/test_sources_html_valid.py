"""The blog HTML made from every new source sample is valid HTML5 by the W3C Nu checker.

Google Docs exports, Substack pages, rich Medium copies and Word documents with pictures
and notes, rendered as the WordPress connector sends them (footnote section included),
each wrapped in a minimal document and checked in one run of the checker: zero errors.
The checker and the helpers are the ones the Markdown suite uses.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.readers import read_file
from tests.test_render_html_valid import AUTHORS_OUTLINE, blog_html
from tests.validators import fragment_errors

GOLDEN = Path(__file__).parent / "golden"
SAMPLES = [
    *sorted((GOLDEN / "gdocs").glob("*.html")),
    *sorted((GOLDEN / "substack").glob("*.html")),
    *sorted((GOLDEN / "medium").glob("*.txt")),
    *sorted((GOLDEN / "docx").glob("*.docx")),
]


def test_blog_html_of_every_source_sample_is_valid_html5() -> None:
    pages = {f"{p.parent.name}-{p.stem}": blog_html(read_file(p)) for p in SAMPLES}
    errors = [str(p) for p in fragment_errors(pages) if not AUTHORS_OUTLINE.search(p.message)]
    assert errors == [], "\n".join(errors)
    assert len(SAMPLES) >= 12
