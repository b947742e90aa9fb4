"""Rich Word documents: pictures keep their alt text, footnotes and endnotes stay notes.

The fixtures are built by `tests/golden/docx/make_rich_fixtures.py` (python-docx, with the
notes parts written as Word writes them) and committed.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile
from functools import cache
from pathlib import Path

import pytest

from pipeline.document import Essay, Image, Paragraph, Run, block_text, walk
from pipeline.readers import docx, read_bytes, read_file
from pipeline.readers.docx_media import MAX_IMAGE_BYTES
from pipeline.readers.html_blocks import parse_html
from tests.golden.docx.make_rich_fixtures import png

GOLDEN = Path(__file__).parent / "golden" / "docx"
RICH = ["orchard-pictures-footnotes", "river-endnotes-table", "letters-both-notes"]


@cache
def essay(name: str) -> Essay:
    return read_file(GOLDEN / f"{name}.docx")


def images(read: Essay) -> list[Image]:
    return [b for b in walk(read.blocks) if isinstance(b, Image)]


def runs(read: Essay) -> list[Run]:
    return [
        node
        for b in walk(read.blocks)
        if isinstance(b, Paragraph)
        for node in b.content
        if isinstance(node, Run)
    ]


def test_there_are_at_least_three_rich_documents() -> None:
    assert all((GOLDEN / f"{name}.docx").exists() for name in RICH)


def test_embedded_pictures_are_kept_in_order_with_their_alt_text() -> None:
    pictures = images(essay("orchard-pictures-footnotes"))
    assert [p.alt for p in pictures] == [
        "Five gnarled apple trees in long grass",
        "A whip-and-tongue graft bound in tape",
    ]
    assert [p.alt for p in images(essay("river-endnotes-table"))] == [
        "A chart of flow readings over twelve weeks"
    ]


def test_an_embedded_picture_is_the_same_image_as_a_data_uri() -> None:
    first = images(essay("orchard-pictures-footnotes"))[0]
    prefix = "data:image/png;base64,"
    assert first.src.startswith(prefix)
    assert base64.b64decode(first.src[len(prefix) :]) == png(48, 32, (96, 140, 60))


def test_pictures_over_the_size_limit_are_left_out_and_the_text_stays() -> None:
    source = (GOLDEN / "orchard-pictures-footnotes.docx").read_bytes()
    big = png(1, 1, (0, 0, 0)) + b"\0" * (MAX_IMAGE_BYTES + 10)  # trailing bytes: still a PNG
    archive = zipfile.ZipFile(io.BytesIO(source))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in archive.infolist():
            data = archive.read(info)
            if info.filename.startswith("word/media/") and info.filename.endswith(".png"):
                data = big
            copy.writestr(info, data)
    read = read_bytes(Path("big.docx"), out.getvalue())
    assert images(read) == []
    assert "Choosing scion wood" in "\n".join(block_text(b) for b in read.blocks)


def test_footnote_references_are_not_glued_to_words_as_text() -> None:
    text = "\n".join(block_text(b) for b in essay("orchard-pictures-footnotes").blocks)
    assert "[1]" not in text and "[2]" not in text and "↑" not in text


@pytest.mark.parametrize(
    ("name", "notes"),
    [
        (
            "orchard-pictures-footnotes",
            [
                "The chapel's records mention “twelve trees from Hereford” and no names.",
                "Store them wrapped in damp newspaper in the fridge until March.",
            ],
        ),
        (
            "river-endnotes-table",
            [
                "The budget was cut after the first meeting.",
                "A thermometer from the same kitchen drawer, checked in ice water.",
            ],
        ),
        (
            "letters-both-notes",
            [
                "The council kept every letter; the replies are another matter.",
                "The new one leaks on the right.",
            ],
        ),
    ],
)
def test_notes_are_handed_to_the_converter_in_the_convention(name: str, notes: list[str]) -> None:
    import mammoth

    from pipeline.readers.docx_media import rewrite_notes

    with open(GOLDEN / f"{name}.docx", "rb") as stream:
        html = mammoth.convert_to_html(stream).value
    soup = parse_html(html, name)
    rewrite_notes(soup, soup.body)
    out = str(soup.body)
    assert out.count('class="footnote-ref"') == len(notes)
    for number in range(1, len(notes) + 1):
        assert f'<sup class="footnote-ref" id="fnref-{number}"><a href="#fn-{number}">' in out
    section = soup.select_one("section.footnotes")
    assert section is not None and section is soup.body.contents[-1]
    found = [" ".join(li.get_text().split()) for li in section.select("ol > li")]
    assert found == notes
    assert "↑" not in out and not re.search(r'id="(?:foot|end)note-', out)


def test_strike_sub_and_superscript_reach_the_converter() -> None:
    import mammoth

    with open(GOLDEN / "river-endnotes-table.docx", "rb") as stream:
        html = mammoth.convert_to_html(stream).value
    assert "m<sup>3</sup>" in html and "<s>£200</s>" in html and "CO<sub>2</sub>" in html


def test_links_lose_tracking_parameters() -> None:
    hrefs = [
        r.href for r in runs(essay("orchard-pictures-footnotes")) if r.href and "orchard" in r.href
    ]
    assert hrefs == ["https://orchard.example.org/grafts"]


def test_table_cells_keep_their_text() -> None:
    text = "\n".join(block_text(b) for b in essay("river-endnotes-table").blocks)
    assert "Flow (m³/s)" in text and "Weir" in text and "0.6" in text


def test_the_word_reader_and_the_file_entry_point_give_the_same_blocks() -> None:
    # the golden comparison lives in test_reader_docx; hygiene must not reshape the essay
    for name in RICH:
        direct = docx.read(GOLDEN / f"{name}.docx", (GOLDEN / f"{name}.docx").read_bytes())
        assert [b.type for b in direct.blocks] == [b.type for b in essay(name).blocks]


def test_the_fuzz_judge_accepts_carried_pictures_and_still_flags_other_data_uris() -> None:
    from bench.fuzz_readers import unsafe_markup, unsafe_renditions

    for name in RICH:
        assert unsafe_renditions(essay(name)) == []
    assert unsafe_markup('<img src="data:image/png;base64,iVBORw0KGgo=">') == []
    assert unsafe_markup('<a href="data:image/png;base64,iVBORw0KGgo=">x</a>')
    assert unsafe_markup('<img src="data:image/svg+xml;base64,PHN2Zz4=">')


def test_preview_says_where_embedded_pictures_cannot_go(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    source = GOLDEN / "orchard-pictures-footnotes.docx"
    command = [sys.executable, "-m", "pipeline.cli", "--home", str(tmp_path), "preview"]
    done = subprocess.run(
        [*command, str(source), "--json"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    targets = json.loads(done.stdout)["targets"]
    noted = {name for name, target in targets.items() if target.get("notes")}
    assert noted == {"devto", "medium", "substack"}
    assert "2 picture(s)" in targets["medium"]["notes"][0]
    table = subprocess.run([*command, str(source)], capture_output=True, text=True, check=False)
    assert table.returncode == 0 and "note: 2 picture(s) embedded" in table.stdout


@pytest.mark.parametrize(
    ("name", "notes"),
    [
        ("orchard-pictures-footnotes", 2),
        ("river-endnotes-table", 2),
        ("letters-both-notes", 2),
    ],
)
def test_footnotes_and_endnotes_become_essay_footnotes_referenced_in_place(
    name: str, notes: int
) -> None:
    from pipeline.document import NoteRef

    read = essay(name)
    assert [n.label for n in read.footnotes] == [str(i) for i in range(1, notes + 1)]
    refs = [
        node.label
        for b in walk(read.blocks)
        if isinstance(b, Paragraph)
        for node in b.content
        if isinstance(node, NoteRef)
    ]
    assert refs == [n.label for n in read.footnotes]
    assert all(block_text(n.blocks[0]) for n in read.footnotes)


def test_the_footnote_reference_sits_between_the_words_it_follows() -> None:
    from pipeline.document import NoteRef

    letters = essay("letters-both-notes").blocks[0]
    assert isinstance(letters, Paragraph)
    kinds = [type(node).__name__ for node in letters.content]
    assert kinds == ["Run", "NoteRef", "Run"]
    assert letters.content[0].text.endswith("thirty years")
    assert isinstance(letters.content[1], NoteRef)
    assert letters.content[2].text.startswith(". The subject")


def test_strike_sub_and_superscript_and_the_table_are_in_the_essay() -> None:
    from pipeline.document import Table

    read = essay("river-endnotes-table")
    marks = {(r.text, r.marks) for r in runs(read) if r.marks}
    assert {("3", ("sup",)), ("£200", ("strike",)), ("2", ("sub",))} <= marks
    table = next(b for b in read.blocks if isinstance(b, Table))
    assert table.width() == 3 and len([table.header, *table.rows]) >= 3


def test_a_caption_style_paragraph_under_a_picture_is_its_caption() -> None:
    pictures = images(essay("orchard-pictures-footnotes"))
    assert [p.caption for p in pictures] == ["The orchard in February, before pruning.", ""]
    text = "\n".join(block_text(b) for b in essay("orchard-pictures-footnotes").blocks)
    assert text.count("The orchard in February") == 1
