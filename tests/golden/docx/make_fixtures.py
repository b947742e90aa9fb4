"""Build the .docx fixtures with python-docx: `python tests/golden/docx/make_fixtures.py`.

The generated files are committed; tests read them and never run this script, so a
python-docx upgrade cannot silently change what the reader is tested against.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

HERE = Path(__file__).parent


def add_hyperlink(paragraph: Paragraph, text: str, url: str) -> None:
    """python-docx has no hyperlink API: add the relationship and a w:hyperlink run."""
    rel_id = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel_id)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    style = OxmlElement("w:rStyle")
    style.set(qn("w:val"), "Hyperlink")
    props.append(style)
    run.append(props)
    text_el = OxmlElement("w:t")
    text_el.text = text
    text_el.set(qn("xml:space"), "preserve")
    run.append(text_el)
    link.append(run)
    paragraph._p.append(link)


def add_list_numbering(document: docx.Document, ordered: bool) -> str:
    """A three-level list definition, as Word writes one (the template's are single-level)."""
    numbering = document.part.numbering_part.element
    abstract_id = str(len(numbering.findall(qn("w:abstractNum"))) + 100)
    abstract = OxmlElement("w:abstractNum")
    abstract.set(qn("w:abstractNumId"), abstract_id)
    kind = OxmlElement("w:multiLevelType")
    kind.set(qn("w:val"), "hybridMultilevel")
    abstract.append(kind)
    for level in range(3):
        lvl = OxmlElement("w:lvl")
        lvl.set(qn("w:ilvl"), str(level))
        for tag, value in (
            ("w:start", "1"),
            ("w:numFmt", "decimal" if ordered else "bullet"),
            ("w:lvlText", f"%{level + 1}." if ordered else "•"),
        ):
            child = OxmlElement(tag)
            child.set(qn("w:val"), value)
            lvl.append(child)
        abstract.append(lvl)
    first_num = numbering.find(qn("w:num"))
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    num = numbering.add_num(int(abstract_id))
    return str(num.numId)


def list_item(document: docx.Document, num_id: str, text: str, level: int = 0) -> Paragraph:
    """A "List Paragraph" at `level` of list `num_id` (how Word marks a list item)."""
    paragraph = document.add_paragraph(text, style="List Paragraph")
    num_pr = OxmlElement("w:numPr")
    ilvl = OxmlElement("w:ilvl")
    ilvl.set(qn("w:val"), str(level))
    num = OxmlElement("w:numId")
    num.set(qn("w:val"), num_id)
    num_pr.append(ilvl)
    num_pr.append(num)
    paragraph._p.get_or_add_pPr().append(num_pr)
    return paragraph


def set_core(document: docx.Document, **values: object) -> None:
    props = document.core_properties
    props.author = ""
    props.keywords = ""
    props.title = ""
    for name, value in values.items():
        setattr(props, name, value)
    props.last_modified_by = ""
    props.revision = 1
    props.modified = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


def make_essay() -> docx.Document:
    """Title/Subtitle styles, headings, nested lists, marks, a link and a promo."""
    document = docx.Document()
    set_core(
        document,
        author="Ada Lindqvist",
        created=datetime(2025, 3, 4, 8, 30, tzinfo=UTC),
        keywords="rail; Europe, travel",
        title="stale title from the template",
    )
    document.add_paragraph("Slow Travel, Fast Decisions", style="Title")
    document.add_paragraph("What a week on regional trains taught me", style="Subtitle")
    intro = document.add_paragraph("Regional trains are ")
    intro.add_run("slow").bold = True
    intro.add_run(" on purpose, and that is ")
    intro.add_run("the point").italic = True
    intro.add_run(". ")
    both = intro.add_run("Really.")
    both.bold = True
    both.italic = True

    document.add_paragraph("Planning the Route", style="Heading 1")
    linked = document.add_paragraph("Timetables come from ")
    add_hyperlink(linked, "the operator's site", "https://example.org/timetables")
    linked.add_run(", not from aggregators.")
    bullets = add_list_numbering(document, ordered=False)
    packing = list_item(document, bullets, "")
    packing.add_run("Pack light:").bold = True
    packing.add_run(" one bag, no exceptions.")
    list_item(document, bullets, "A paperback", level=1)
    list_item(document, bullets, "A charger", level=1)
    list_item(document, bullets, "Book early")

    document.add_paragraph("On the Day", style="Heading 2")
    steps = add_list_numbering(document, ordered=True)
    list_item(document, steps, "Arrive twenty minutes early.")
    list_item(document, steps, "Find your coach.")
    list_item(document, steps, "Check the coach number on the door.", level=1)
    list_item(document, steps, "Sit down.")
    document.add_paragraph("That is the whole method.")

    promo = document.add_paragraph("If you enjoyed this, support my writing on ")
    add_hyperlink(promo, "Patreon", "https://www.patreon.com/adalindqvist")
    promo.add_run(".")
    return document


def make_untitled() -> docx.Document:
    """No Title style: the opening Heading 1 is the title; a quote and a code block."""
    document = docx.Document()
    set_core(document, author="Ada Lindqvist")
    document.core_properties.created = datetime(2024, 11, 30, 17, 5, tzinfo=UTC)
    code_style = document.styles.add_style("Code", WD_STYLE_TYPE.PARAGRAPH)
    code_style.font.name = "Courier New"
    document.add_paragraph("Notes from the Platform", style="Heading 1")
    document.add_paragraph("Every station has a sound.")
    document.add_paragraph("Mind the gap between the train and the platform.", style="Quote")
    document.add_paragraph("Section Two", style="Heading 1")
    document.add_paragraph("departures = board.fetch()", style="Code")
    document.add_paragraph("")
    document.add_paragraph("Empty paragraphs above are not blocks.")
    return document


def main() -> None:
    make_essay().save(HERE / "essay-styles.docx")
    make_untitled().save(HERE / "heading-as-title.docx")


if __name__ == "__main__":
    main()
