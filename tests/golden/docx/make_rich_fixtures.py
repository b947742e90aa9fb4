"""Build the rich .docx fixtures: `python tests/golden/docx/make_rich_fixtures.py`.

Pictures with alt text, footnotes and endnotes, tables, strike/sub/superscript: what a
writer's Word file carries beyond styles. python-docx has no footnote API, so the notes
parts are written as XML and related to the document the way Word relates them. The
generated files are committed; tests never run this script.
"""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import docx
from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm
from docx.text.paragraph import Paragraph

from tests.golden.docx.make_fixtures import add_hyperlink, add_list_numbering, list_item, set_core

HERE = Path(__file__).parent
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG written by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(colour) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height, 9))
        + chunk(b"IEND", b"")
    )


def add_picture(document: docx.Document, data: bytes, alt: str, width_cm: float = 8) -> None:
    """A picture on its own line, with the alt text Word keeps in `wp:docPr/@descr`."""
    document.add_picture(BytesIO(data), width=Cm(width_cm))
    doc_pr = document.inline_shapes[-1]._inline.docPr
    doc_pr.set("descr", alt)


class Notes:
    """Footnotes or endnotes: Word's separators, then each note as a paragraph."""

    def __init__(self, kind: str) -> None:
        self.kind = kind  # "footnote" or "endnote"
        self.notes: list[str] = []

    def reference(self, paragraph: Paragraph, text: str) -> None:
        """Add note `text` and put its reference mark at the end of `paragraph`."""
        self.notes.append(text)
        run = OxmlElement("w:r")
        props = OxmlElement("w:rPr")
        style = OxmlElement("w:rStyle")
        style.set(qn("w:val"), f"{self.kind.capitalize()}Reference")
        props.append(style)
        run.append(props)
        ref = OxmlElement(f"w:{self.kind}Reference")
        ref.set(qn("w:id"), str(len(self.notes)))
        run.append(ref)
        paragraph._p.append(run)

    def xml(self) -> bytes:
        tag = self.kind
        separators = (
            f'<w:{tag} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{tag}>'
            f'<w:{tag} w:type="continuationSeparator" w:id="0"><w:p><w:r>'
            f"<w:continuationSeparator/></w:r></w:p></w:{tag}>"
        )
        notes = "".join(
            f'<w:{tag} w:id="{number}"><w:p><w:r><w:rPr><w:rStyle w:val="'
            f'{tag.capitalize()}Reference"/></w:rPr><w:{tag}Ref/></w:r>'
            f'<w:r><w:t xml:space="preserve"> {_escape(text)}</w:t></w:r></w:p></w:{tag}>'
            for number, text in enumerate(self.notes, 1)
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<w:{tag}s xmlns:w="{W}">{separators}{notes}</w:{tag}s>'
        ).encode()

    def attach(self, document: docx.Document) -> None:
        if not self.notes:
            return
        content_type, relation = {
            "footnote": (CONTENT_TYPE.WML_FOOTNOTES, RELATIONSHIP_TYPE.FOOTNOTES),
            "endnote": (CONTENT_TYPE.WML_ENDNOTES, RELATIONSHIP_TYPE.ENDNOTES),
        }[self.kind]
        part = Part(
            PackURI(f"/word/{self.kind}s.xml"), content_type, self.xml(), document.part.package
        )
        document.part.relate_to(part, relation)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def styled_run(paragraph: Paragraph, text: str, **styles: bool) -> None:
    run = paragraph.add_run(text)
    for name, value in styles.items():
        setattr(run.font, name, value)


def make_orchard() -> docx.Document:
    """Title, pictures with alt text, footnotes, a bullet list and marks."""
    document = docx.Document()
    set_core(document, author="Hanna Okonkwo", created=datetime(2025, 4, 12, 8, tzinfo=UTC))
    notes = Notes("footnote")
    document.add_paragraph("Grafting an Old Orchard", style="Title")
    document.add_paragraph("Five apple trees, one pocket knife and a lot of tape", style="Subtitle")
    opening = document.add_paragraph("The orchard behind the chapel was planted around 1910. ")
    styled_run(opening, "Nobody", bold=True)
    opening.add_run(" knows the varieties any more, which is why we graft rather than replant.")
    notes.reference(
        opening, "The chapel's records mention “twelve trees from Hereford” and no names."
    )
    add_picture(document, png(48, 32, (96, 140, 60)), "Five gnarled apple trees in long grass")
    document.add_paragraph("The orchard in February, before pruning.", style="Caption")
    document.add_paragraph("Choosing scion wood", style="Heading 1")
    choose = document.add_paragraph("Cut pencil-thick shoots in January, while the tree sleeps")
    notes.reference(choose, "Store them wrapped in damp newspaper in the fridge until March.")
    choose.add_run(". Last year’s growth only; ")
    styled_run(choose, "never", italic=True)
    choose.add_run(" the fat water shoots.")
    bullets = add_list_numbering(document, ordered=False)
    list_item(document, bullets, "A sharp knife")
    list_item(document, bullets, "Grafting tape", level=1)
    list_item(document, bullets, "Patience")
    add_picture(document, png(40, 40, (200, 180, 120)), "A whip-and-tongue graft bound in tape", 5)
    closing = document.add_paragraph("Photographs of every graft are on ")
    add_hyperlink(
        closing, "the orchard group’s page", "https://orchard.example.org/grafts?utm_source=word"
    )
    closing.add_run(".")
    notes.attach(document)
    return document


def make_lab_notes() -> docx.Document:
    """No Title style; endnotes, a table, strike, sub- and superscript."""
    document = docx.Document()
    set_core(document, author="Tariq Haddad", created=datetime(2024, 12, 2, 15, tzinfo=UTC))
    endnotes = Notes("endnote")
    document.add_paragraph("Measuring a River with a Kitchen Scale", style="Heading 1")
    intro = document.add_paragraph("We wanted the river’s flow in m")
    styled_run(intro, "3", superscript=True)
    intro.add_run(" per second and had a budget of ")
    styled_run(intro, "£200", strike=True)
    intro.add_run(" £40.")
    endnotes.reference(intro, "The budget was cut after the first meeting.")
    document.add_paragraph("Method", style="Heading 2")
    method = document.add_paragraph("Dissolved CO")
    styled_run(method, "2", subscript=True)
    method.add_run(" changes with temperature, so every reading carries the water temperature.")
    endnotes.reference(method, "A thermometer from the same kitchen drawer, checked in ice water.")
    table = document.add_table(rows=3, cols=3)
    for row, cells in zip(
        table.rows,
        [("Site", "Depth (cm)", "Flow (m³/s)"), ("Weir", "42", "0.8"), ("Ford", "18", "0.6")],
        strict=True,
    ):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    add_picture(document, png(60, 20, (40, 90, 160)), "A chart of flow readings over twelve weeks")
    document.add_paragraph("The ford reading is low because half the river goes round the island.")
    endnotes.attach(document)
    return document


def make_letters() -> docx.Document:
    """Both kinds of notes in one document, an ordered list and a quote."""
    document = docx.Document()
    set_core(document, author="Maud Ellery", created=datetime(2025, 1, 20, 10, tzinfo=UTC))
    footnotes, endnotes = Notes("footnote"), Notes("endnote")
    document.add_paragraph("Letters Nobody Answered", style="Title")
    first = document.add_paragraph(
        "My great-aunt wrote to the council every spring for thirty years"
    )
    footnotes.reference(first, "The council kept every letter; the replies are another matter.")
    first.add_run(". The subject was always the same bus shelter.")
    document.add_paragraph("“The roof leaks on the left, as it did last year.”", style="Quote")
    steps = add_list_numbering(document, ordered=True)
    list_item(document, steps, "She wrote in March.")
    list_item(document, steps, "She copied the letter by hand.")
    list_item(document, steps, "She waited.")
    last = document.add_paragraph("The shelter was replaced in 2019, two years after her death")
    endnotes.reference(last, "The new one leaks on the right.")
    last.add_run(".")
    footnotes.attach(document)
    endnotes.attach(document)
    return document


def main() -> None:
    make_orchard().save(HERE / "orchard-pictures-footnotes.docx")
    make_lab_notes().save(HERE / "river-endnotes-table.docx")
    make_letters().save(HERE / "letters-both-notes.docx")


if __name__ == "__main__":
    main()
