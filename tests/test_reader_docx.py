"""The DOCX reader: Word styles become essay structure; hostile archives are refused."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from pipeline.document import Code, Essay, Heading, ListBlock, Paragraph, Quote, block_text, plain
from pipeline.errors import ReadError
from pipeline.readers import docx, read_bytes
from tests.golden_helpers import check_golden

GOLDEN = Path(__file__).parent / "golden" / "docx"
INPUTS = sorted(GOLDEN.glob("*.docx"))


@cache  # parsed once per run; tests only read the essay
def read_fixture(name: str) -> Essay:
    path = GOLDEN / name
    return docx.read(path, path.read_bytes())


def zipped(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_fixtures_are_committed() -> None:
    assert {p.name for p in INPUTS} >= {"essay-styles.docx", "heading-as-title.docx"}


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.stem)
def test_docx_matches_golden_essay(path: Path) -> None:
    essay = docx.read(path, path.read_bytes())
    check_golden(essay.model_dump_json(indent=2), path.with_suffix(".essay.json"))


def test_title_and_subtitle_styles_are_metadata_not_body() -> None:
    essay = read_fixture("essay-styles.docx")
    assert essay.title == "Slow Travel, Fast Decisions"
    assert essay.subtitle == "What a week on regional trains taught me"
    body = "\n".join(block_text(b) for b in essay.blocks)
    assert essay.title not in body and essay.subtitle not in body


def test_word_heading_1_is_a_level_2_section() -> None:
    headings = [b for b in read_fixture("essay-styles.docx").blocks if isinstance(b, Heading)]
    assert [(h.level, plain(h.content)) for h in headings] == [
        (2, "Planning the Route"),
        (3, "On the Day"),
    ]


def test_core_properties_give_author_date_and_tags() -> None:
    essay = read_fixture("essay-styles.docx")
    assert essay.author == "Ada Lindqvist"
    assert essay.published == date(2025, 3, 4)
    assert essay.tags == ["rail", "Europe", "travel"]
    assert essay.source_format == "docx"


def test_bulleted_list_keeps_nested_level_and_bold_lead_in() -> None:
    lists = [b for b in read_fixture("essay-styles.docx").blocks if isinstance(b, ListBlock)]
    bullets = lists[0]
    assert not bullets.ordered
    assert [plain(i.content) for i in bullets.items] == [
        "Pack light: one bag, no exceptions.",
        "Book early",
    ]
    assert bullets.items[0].content[0].text == "Pack light:"
    assert bullets.items[0].content[0].marks == ("strong",)
    nested = bullets.items[0].children[0]
    assert [plain(i.content) for i in nested.items] == ["A paperback", "A charger"]


def test_numbered_list_keeps_nested_step() -> None:
    lists = [b for b in read_fixture("essay-styles.docx").blocks if isinstance(b, ListBlock)]
    steps = lists[1]
    assert steps.ordered
    assert [plain(i.content) for i in steps.items] == [
        "Arrive twenty minutes early.",
        "Find your coach.",
        "Sit down.",
    ]
    assert plain(steps.items[1].children[0].items[0].content) == (
        "Check the coach number on the door."
    )


def test_bold_italic_runs_and_hyperlink() -> None:
    blocks = read_fixture("essay-styles.docx").blocks
    intro = blocks[0]
    assert isinstance(intro, Paragraph)
    marked = [(r.text, r.marks) for r in intro.content if r.marks]
    assert marked == [("slow", ("strong",)), ("the point", ("em",)), ("Really.", ("strong", "em"))]
    links = [
        (r.text, r.href) for b in blocks if isinstance(b, Paragraph) for r in b.content if r.href
    ]
    assert links == [("the operator's site", "https://example.org/timetables")]


def test_patreon_call_to_action_is_promo() -> None:
    essay = read_fixture("essay-styles.docx")
    assert [block_text(b) for b in essay.promo] == [
        "If you enjoyed this, support my writing on Patreon."
    ]
    assert block_text(essay.blocks[-1]) == "That is the whole method."


def test_opening_heading_is_the_title_when_there_is_no_title_style() -> None:
    essay = read_fixture("heading-as-title.docx")
    assert essay.title == "Notes from the Platform"
    assert essay.published == date(2024, 11, 30)
    assert [b.type for b in essay.blocks] == ["paragraph", "quote", "heading", "code", "paragraph"]
    quote = essay.blocks[1]
    assert isinstance(quote, Quote)
    assert block_text(quote) == "Mind the gap between the train and the platform."
    code = essay.blocks[3]
    assert isinstance(code, Code) and code.text == "departures = board.fetch()"


def test_not_a_zip_is_not_a_word_document() -> None:
    with pytest.raises(ReadError, match="not a Word document"):
        docx.read(Path("essay.docx"), b"This is plain text pretending to be Word.")


def test_zip_without_document_part_is_not_a_word_document() -> None:
    data = zipped({"notes.txt": b"hello"})
    with pytest.raises(ReadError, match="not a Word document"):
        docx.read(Path("essay.docx"), data)


def test_archive_that_unpacks_too_large_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    path = GOLDEN / "essay-styles.docx"
    monkeypatch.setattr(docx, "MAX_UNCOMPRESSED_BYTES", 10_000)
    with pytest.raises(ReadError, match="the limit is 10000"):
        docx.read(path, path.read_bytes())


def test_zip_bomb_is_refused_before_parsing() -> None:
    data = zipped({"word/document.xml": b"<w:document>" + b" " * 20_000_000})
    assert len(data) < 100_000
    with pytest.raises(ReadError, match="zip bomb"):
        docx.read(Path("bomb.docx"), data)


def test_core_properties_with_a_dtd_are_refused() -> None:
    path = GOLDEN / "heading-as-title.docx"
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(path.read_bytes())) as source,
        zipfile.ZipFile(buffer, "w") as target,
    ):
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "docProps/core.xml":
                content = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
            target.writestr(info, content)
    with pytest.raises(ReadError, match="DTD"):
        docx.read(path, buffer.getvalue())


def test_dispatch_sends_docx_files_to_this_reader() -> None:
    path = GOLDEN / "essay-styles.docx"
    assert read_bytes(path, path.read_bytes()) == read_fixture(path.name)
