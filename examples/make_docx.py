"""Write examples/kitchen-table-publishing.docx, the Word example essay (python-docx).

Run `python examples/make_docx.py` after changing the text; the .docx is committed, so
`make demo` needs nothing beyond the package.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import docx

OUT = Path(__file__).with_name("kitchen-table-publishing.docx")


def main() -> None:
    document = docx.Document()
    document.core_properties.author = "Ada Writer"
    document.core_properties.title = "Kitchen-Table Publishing"
    document.core_properties.created = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
    document.core_properties.modified = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
    document.add_heading("Kitchen-Table Publishing", level=1)
    intro = document.add_paragraph("A Word document is where many essays start. ")
    intro.add_run("crosspost reads it as it is").bold = True
    intro.add_run(": headings, lists, quotes and emphasis survive the trip.")
    document.add_heading("What You Need", level=2)
    for item in ("A draft you like.", "A home folder.", "Ten minutes."):
        document.add_paragraph(item, style="List Bullet")
    document.add_paragraph("Write at the kitchen table; publish everywhere.", style="Quote")
    document.add_paragraph("Drop the file into the inbox and the rest follows.")
    document.save(OUT)


if __name__ == "__main__":
    main()
