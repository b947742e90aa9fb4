"""HTML reader profiles: Google Docs exports and Substack pages/exports read as the author wrote.

Each sample is original prose in the real file's shape (checked against published exports):
Docs' generated `.cN{}` classes, sibling `lst-kix_*-N` lists, `google.com/url?q=` links,
`[a]` comments and `[1]` footnotes; Substack's `div.body.markup`, `<picture>` figures,
subscribe widgets, buttons, post cards, `footnote-anchor` notes, counters and comments.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from pipeline.document import (
    Block,
    Essay,
    Heading,
    Image,
    ListBlock,
    NoteRef,
    Paragraph,
    Quote,
    Run,
    Table,
    block_text,
    walk,
)
from pipeline.readers import read_file
from pipeline.readers.html import decode_html
from pipeline.readers.html_blocks import parse_html
from tests.golden_helpers import check_golden

GOLDEN = Path(__file__).parent / "golden"
GDOCS = sorted((GOLDEN / "gdocs").glob("*.html"))
SUBSTACK = sorted((GOLDEN / "substack").glob("*.html"))


@cache
def gdoc(name: str) -> Essay:
    return read_file(GOLDEN / "gdocs" / f"{name}.html")


@cache
def substack(name: str) -> Essay:
    return read_file(next((GOLDEN / "substack").glob(f"*{name}*.html")))


def all_text(essay: Essay) -> str:
    return "\n".join(block_text(b) for b in walk([*essay.blocks, *essay.promo]))


def runs(essay: Essay) -> list[Run]:
    found: list[Run] = []
    for block in walk(essay.blocks):
        if isinstance(block, Paragraph | Heading):
            found.extend(node for node in block.content if isinstance(node, Run))
    return found


def marked(essay: Essay, mark: str) -> list[str]:
    return [run.text for run in runs(essay) if mark in run.marks]


def links(essay: Essay) -> dict[str, str]:
    return {run.text: run.href for run in runs(essay) if run.href}


def normalised_html(folder: str, name: str) -> str:
    """The profile's output, before the converter: what the converter is handed."""
    from pipeline.readers import gdocs, substack_page

    path = next((GOLDEN / folder).glob(f"*{name}*.html"))
    soup = parse_html(decode_html(path, path.read_bytes()), path)
    profile = gdocs if folder == "gdocs" else substack_page
    assert profile.matches(soup)
    html = str(profile.normalise(soup, path).root)
    return re.sub(r"</?span[^>]*>", "", html)  # Docs' styled spans, marks already resolved


def test_there_are_at_least_three_samples_per_profile() -> None:
    assert len(GDOCS) >= 3 and len(SUBSTACK) >= 3


@pytest.mark.parametrize("path", [*GDOCS, *SUBSTACK], ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_profiled_html_matches_golden_essay(path: Path) -> None:
    check_golden(read_file(path).model_dump_json(indent=2), path.with_suffix(".essay.json"))


@pytest.mark.parametrize("path", GDOCS, ids=lambda p: p.stem)
def test_google_docs_exports_are_read_by_the_google_docs_profile(path: Path) -> None:
    assert read_file(path).source_format == "google-docs"


@pytest.mark.parametrize("path", SUBSTACK, ids=lambda p: p.stem)
def test_substack_files_are_read_by_the_substack_profile(path: Path) -> None:
    assert read_file(path).source_format == "substack"


# Google Docs


def test_docs_title_and_subtitle_paragraphs_become_metadata_not_body() -> None:
    essay = gdoc("allotment-ledger")
    assert essay.title == "The Allotment Ledger"
    assert essay.subtitle == "Three seasons of keeping accounts for a patch of clay"
    assert "Allotment Ledger" not in all_text(essay) and "patch of clay" not in all_text(essay)
    choir = gdoc("choir-budget")
    assert (choir.title, choir.subtitle) == (
        "What a Village Choir Costs",
        "An honest budget for forty voices and one piano",
    )


def test_docs_without_a_title_paragraph_take_the_opening_heading_1() -> None:
    essay = gdoc("night-ferry-timetable")
    assert essay.title == "Reading a Night Ferry Timetable" and essay.subtitle is None
    assert not any(block_text(b) == essay.title for b in essay.blocks)


def test_docs_heading_levels_stay_apart() -> None:
    levels = [
        (b.level, block_text(b)) for b in gdoc("allotment-ledger").blocks if isinstance(b, Heading)
    ]
    assert levels == [
        (2, "What the book recorded"),
        (3, "The price of a tomato"),
        (4, "A note on units"),
    ]
    choir = [b.level for b in gdoc("choir-budget").blocks if isinstance(b, Heading)]
    assert choir == [2, 3, 2]


def test_docs_class_styles_become_marks() -> None:
    ledger = gdoc("allotment-ledger")
    assert marked(ledger, "strong") == ["real", "Then"]
    assert marked(ledger, "em") == ["biro", "Then"]
    assert marked(gdoc("night-ferry-timetable"), "code") == ["T/HW+2"]
    assert marked(gdoc("choir-budget"), "em") == ["before"]


def test_docs_strike_sub_and_superscript_reach_the_converter_as_tags() -> None:
    html = normalised_html("gdocs", "choir-budget")
    assert "<s>£70</s>" in html
    assert "H<sub>2</sub>O" in html and "2<sup>nd</sup>" in html
    assert "<s>forty pence</s>" in normalised_html("gdocs", "allotment-ledger")


def test_docs_sibling_level_lists_are_nested_again() -> None:
    listing = next(b for b in gdoc("allotment-ledger").blocks if isinstance(b, ListBlock))
    assert [block_text(item.blocks[0]) for item in listing.items] == [
        "Roots",
        "Legumes",
        "Everything else",
    ]
    roots = listing.items[0].children[0]
    assert [block_text(item.blocks[0]) for item in roots.items] == [
        "Parsnips, sown late and thinly",
        "Beetroot",
    ]
    assert block_text(roots.items[1].children[0]) == "Chioggia, for the stripes"
    assert block_text(listing.items[1].children[0]) == "Broad beans in November"


def test_docs_numbering_interrupted_by_a_paragraph_keeps_its_start() -> None:
    ordered = [b for b in gdoc("allotment-ledger").blocks if isinstance(b, ListBlock) and b.ordered]
    assert [(b.start, len(b.items)) for b in ordered[:2]] == [(1, 2), (3, 1)]


def test_docs_list_split_by_a_deeper_level_continues_as_one_list() -> None:
    steps = next(b for b in gdoc("night-ferry-timetable").blocks if isinstance(b, ListBlock))
    assert steps.ordered and steps.start == 1 and len(steps.items) == 3
    assert block_text(steps.items[1].children[0]) == "Cabins sell out first on Fridays."


def test_docs_links_are_unwrapped_decoded_once_and_untracked() -> None:
    assert links(gdoc("allotment-ledger"))["published online"] == (
        "https://allotments.example.gov.uk/rents?year=2024"
    )
    ferry = links(gdoc("night-ferry-timetable"))
    assert ferry["tides for Oban"] == "https://tides.example.org/search?port=Oban&days=2"
    assert ferry["crossings.example.net"] == "https://crossings.example.net/islands"
    assert links(gdoc("choir-budget"))["worth a look"] == "https://arts.example.org/small%20grants"
    for name in ("allotment-ledger", "night-ferry-timetable", "choir-budget"):
        assert not any("google.com/url" in href for href in links(gdoc(name)).values())


@pytest.mark.parametrize("name", ["allotment-ledger", "night-ferry-timetable"])
def test_docs_reviewers_comments_are_gone(name: str) -> None:
    text = all_text(gdoc(name))
    assert "[a]" not in text and "[b]" not in text
    assert "previous tenant? He might" not in text and "Assigned to" not in text
    assert "winter timetable" not in text and "checked on the operator" not in text


def test_docs_spacer_paragraphs_are_dropped() -> None:
    for name in ("allotment-ledger", "night-ferry-timetable", "choir-budget"):
        paragraphs = [b for b in gdoc(name).blocks if isinstance(b, Paragraph)]
        assert all(block_text(p).strip() for p in paragraphs)


def test_docs_footnotes_are_handed_over_in_the_convention() -> None:
    html = normalised_html("gdocs", "choir-budget")
    assert '<sup class="footnote-ref" id="fnref-1"><a href="#fn-1">1</a></sup>' in html
    assert '<sup class="footnote-ref" id="fnref-2"><a href="#fn-2">2</a></sup>' in html
    assert '<section class="footnotes"><ol><li id="fn-1"><p>The treasurer' in html
    assert ">Some publishers hire out sets instead" in html.split('id="fn-2"')[1]
    assert "[1]" not in html and "ftnt" not in html and "<hr" not in html


def test_docs_images_keep_their_alt_text() -> None:
    image = next(b for b in gdoc("allotment-ledger").blocks if isinstance(b, Image))
    assert image.src == "images/image1.jpg" and image.alt.startswith("A school exercise book")


def test_docs_tables_keep_their_cells() -> None:
    text = all_text(gdoc("night-ferry-timetable"))
    assert "Mon–Thu" in text and "06:15" in text and "07:30" in text


# Substack


def test_substack_page_metadata() -> None:
    essay = substack("tide-mills")
    assert essay.title == "The Last Tide Mill on the Estuary"
    assert essay.subtitle == "How a mill that ran on the sea kept grinding until 1957"
    assert (essay.author, essay.published) == ("Elin Morgan", date(2025, 3, 3))
    assert essay.canonical_url == "https://estuarynotes.substack.com/p/the-last-tide-mill"
    keepers = substack("lighthouse-keepers")
    assert keepers.subtitle == "What the weather columns say that the keepers never wrote down"
    assert (keepers.author, keepers.published) == ("Rhys Penhallow", date(2024, 11, 18))
    assert keepers.language == "en-GB"


def test_substack_export_file_takes_title_and_slug_from_its_name() -> None:
    essay = substack("ferry-queues-and-patience")
    assert essay.title == "Ferry queues and patience"
    assert essay.slug == "ferry-queues-and-patience"


def test_substack_pictures_become_images_with_captions_and_logos_are_dropped() -> None:
    images = [b for b in walk(substack("tide-mills").blocks) if isinstance(b, Image)]
    assert len(images) == 1
    assert images[0].src.endswith("a1b2c3d4-mill.jpeg") and images[0].href is None
    assert images[0].alt == "A low stone mill with a rusted sluice gate at low tide"
    assert images[0].caption == "The mill at low water, March. The gate has not closed since 1957."
    export = [b for b in walk(substack("ferry-queues").blocks) if isinstance(b, Image)]
    assert [i.caption for i in export] == ["Saturday, 10:40. The 11:15 sailing is already full."]
    assert not [b for b in walk(substack("lighthouse-keepers").blocks) if isinstance(b, Image)]


@pytest.mark.parametrize("name", ["tide-mills", "lighthouse-keepers", "ferry-queues"])
def test_substack_widgets_buttons_counters_and_comments_are_dropped(name: str) -> None:
    text = all_text(substack(name))
    for chrome in (
        "Subscribe",
        "Share",
        "Thanks for reading",
        "Leave a comment",
        "Read more",
        "likes",
        "Likes",
        "Discussion about this post",
        "great-uncle",
        "grandfather",
        "Substack is the home",
        "Sign in",
        "reader-supported",
        "The Relief Boat",
    ):
        assert chrome not in text, chrome


@pytest.mark.parametrize("name", ["tide-mills", "lighthouse-keepers", "ferry-queues"])
def test_substack_links_carry_no_tracking_or_share_targets(name: str) -> None:
    for href in links(substack(name)).values():
        assert "utm_" not in href and "action=share" not in href


def test_substack_tracked_links_keep_their_other_parameters() -> None:
    assert links(substack("ferry-queues"))["route 7 timetable"] == (
        "https://ferries.example.com/timetable?route=7"
    )
    assert links(substack("tide-mills"))["survey of surviving tide mills"] == (
        "https://www.historicmills.example.org/tide-mills"
    )


def test_substack_prose_marks_lists_and_quotes_survive() -> None:
    mills = substack("tide-mills")
    assert marked(mills, "em") == ["when the moon said so"]
    assert marked(mills, "strong") == ["bought the building for one shilling"]
    steps = next(b for b in mills.blocks if isinstance(b, ListBlock))
    assert steps.ordered and len(steps.items) == 3
    assert any(isinstance(b, Quote) for b in mills.blocks)
    keepers = next(b for b in substack("lighthouse-keepers").blocks if isinstance(b, ListBlock))
    assert block_text(keepers.items[1].children[0]).startswith("Nobody wanted")


def test_substack_footnotes_are_handed_over_in_the_convention() -> None:
    html = normalised_html("substack", "lighthouse-keepers")
    assert 'heartbeat.<sup class="footnote-ref" id="fnref-1"><a href="#fn-1">1</a></sup>' in html
    assert (
        'heard about it<sup class="footnote-ref" id="fnref-2"><a href="#fn-2">2</a></sup>.' in html
    )
    notes = html.split('<section class="footnotes">')[1]
    assert notes.index('id="fn-1"') < notes.index('id="fn-2"')
    assert "<p>The note itself was about gulls.</p>" in notes
    assert "footnote-anchor" not in html and "footnote-number" not in html


def paragraphs(blocks: list[Block]) -> list[str]:
    return [block_text(b) for b in blocks if isinstance(b, Paragraph)]


def test_substack_body_ends_with_the_authors_last_paragraph() -> None:
    assert paragraphs(substack("tide-mills").blocks)[-1].startswith("If you know of another mill")


# what the converter makes of the handover


def notes_of(essay: Essay) -> list[tuple[str, list[str]]]:
    return [(note.label, [block_text(b) for b in note.blocks]) for note in essay.footnotes]


def references(essay: Essay) -> list[tuple[str, str]]:
    """(text just before the reference, label) for every note reference in the body."""
    found: list[tuple[str, str]] = []
    for block in walk(essay.blocks):
        if isinstance(block, Paragraph):
            for before, node in zip([None, *block.content], block.content, strict=False):
                if isinstance(node, NoteRef):
                    found.append((before.text[-12:] if isinstance(before, Run) else "", node.label))
    return found


def test_docs_footnotes_become_essay_footnotes_in_reference_order() -> None:
    essay = gdoc("choir-budget")
    assert notes_of(essay) == [
        ("1", ["The treasurer is also the second alto, which helps."]),
        (
            "2",
            [
                "The licence covers copies for rehearsal only; concert copies must be bought.",
                "Some publishers hire out sets instead, which is cheaper for a single performance.",
            ],
        ),
    ]
    assert references(essay) == [("yone avoids.", "1"), ("parate line.", "2")]


def test_docs_strike_sub_and_superscript_are_essay_marks() -> None:
    choir = gdoc("choir-budget")
    assert marked(choir, "sub") == ["2"] and marked(choir, "sup") == ["nd"]
    assert marked(choir, "strike") == ["£70"]
    assert marked(gdoc("allotment-ledger"), "strike") == ["forty pence"]


def test_docs_tables_become_tables() -> None:
    table = next(b for b in gdoc("night-ferry-timetable").blocks if isinstance(b, Table))
    cells = [[block_text(Paragraph(content=c.content)) for c in row] for row in table.rows]
    header = [block_text(Paragraph(content=c.content)) for c in table.header]
    assert [header, *cells] in (
        [
            [],
            ["Sailing", "Departs", "Arrives"],
            ["Mon–Thu", "22:40", "06:15"],
            ["Fri", "23:55", "07:30"],
        ],
        [
            ["Sailing", "Departs", "Arrives"],
            ["Mon–Thu", "22:40", "06:15"],
            ["Fri", "23:55", "07:30"],
        ],
    )


def test_substack_footnotes_become_essay_footnotes_not_glued_digits() -> None:
    essay = substack("lighthouse-keepers")
    assert [label for label, _ in notes_of(essay)] == ["1", "2"]
    assert notes_of(essay)[1][1] == [
        'One inspector\'s report calls a margin note "unnecessary and facetious".',
        "The note itself was about gulls.",
    ]
    assert references(essay) == [("a heartbeat.", "1"), ("ard about it", "2")]
    assert "it2" not in all_text(essay) and "heartbeat.1" not in all_text(essay)
    export = substack("ferry-queues")
    assert notes_of(export) == [
        ("1", ["Lorries board first regardless, by agreement with the hauliers."])
    ]


# hostile input through the profiles


def read_html(text: str, name: str = "page.html") -> Essay:
    from pipeline.readers import read_bytes

    return read_bytes(Path(name), text.encode("utf-8"))


def test_a_wrapped_docs_link_to_a_script_keeps_only_its_words() -> None:
    essay = read_html(
        '<html><body class="doc-content"><p class="title"><span>T</span></p><p><span>'
        '<a href="https://www.google.com/url?q=javascript:alert(1)&amp;sa=D">click</a>'
        "</span></p></body></html>"
    )
    assert [(r.text, r.href) for r in runs(essay)] == [("click", None)]


def test_docs_list_levels_that_jump_or_start_deep_still_read_every_item() -> None:
    essay = read_html(
        '<html><body class="doc-content"><p class="title"><span>T</span></p>'
        '<ul class="lst-kix_a-2 start"><li><span>deep first</span></li></ul>'
        '<ul class="lst-kix_a-0"><li><span>top</span></li></ul>'
        '<ul class="lst-kix_a-2"><li><span>jumped</span></li></ul></body></html>'
    )
    assert {"deep first", "top", "jumped"} <= set(all_text(essay).split("\n"))


def test_substack_footnote_with_markup_in_its_number_gets_a_safe_label() -> None:
    essay = read_html(
        '<html><body><div class="body markup"><p>Claim<a class="footnote-anchor" '
        'href="#footnote-1" id="footnote-anchor-1">"&gt;&lt;b&gt;1</a></p>'
        '<div class="footnote"><a id="footnote-1" class="footnote-number" '
        'href="#footnote-anchor-1">1</a><div class="footnote-content"><p>Note.</p></div>'
        "</div></div></body></html>",
        "post.html",
    )
    assert [note.label for note in essay.footnotes] == ["b-1"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", essay.footnotes[0].label)


def test_substack_picture_without_a_web_source_is_dropped() -> None:
    essay = read_html(
        '<html><body><div class="body markup"><p>Words.</p><div class="captioned-image-container">'
        '<figure><picture><source srcset="javascript:alert(1) 1x"><img alt="x"></picture>'
        "<figcaption>cap</figcaption></figure></div></div></body></html>"
    )
    assert not [b for b in walk(essay.blocks) if isinstance(b, Image)]


def test_a_substack_feed_entry_is_cleaned_like_the_post_page() -> None:
    from pipeline.readers.feed import read_feed

    entry = read_feed((GOLDEN / "feed" / "substack-feed.xml").read_bytes())[0].essay
    assert entry.subtitle == "What the weather columns say that the keepers never wrote down"
    text = all_text(entry)
    assert "Subscribe" not in text and "Share" not in text and "Thanks for reading" not in text
    assert notes_of(entry) == [("1", ["Held at the county record office."])]
    assert references(entry) == [(" every hour.", "1")]
    assert links(entry)["archive catalogue"] == "https://archives.example.org/trinity-house"
    images = [b for b in walk(entry.blocks) if isinstance(b, Image)]
    assert [i.caption for i in images] == ["Longships, winter 1931."]


# Google Docs' zipped download


def zipped(files: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_a_zipped_docs_download_carries_its_pictures_with_it() -> None:
    from pipeline.readers import read_bytes
    from tests.golden.docx.make_rich_fixtures import png

    picture = png(12, 8, (10, 120, 30))
    page = (GOLDEN / "gdocs" / "allotment-ledger.html").read_bytes()
    essay = read_bytes(
        Path("The Allotment Ledger.zip"),
        zipped({"TheAllotmentLedger.html": page, "images/image1.jpg": picture}),
    )
    assert essay.title == "The Allotment Ledger" and essay.source_format == "google-docs"
    images = [b for b in walk(essay.blocks) if isinstance(b, Image)]
    assert len(images) == 1 and images[0].alt.startswith("A school exercise book")
    import base64

    assert images[0].src.startswith("data:image/png;base64,")  # what the bytes are
    assert base64.b64decode(images[0].src.split(",", 1)[1]) == picture
    assert essay.footnotes and "forty pence" in all_text(essay)


def test_a_zipped_page_whose_picture_is_missing_or_not_a_picture_leaves_it_out() -> None:
    from pipeline.readers import read_bytes

    page = (GOLDEN / "gdocs" / "allotment-ledger.html").read_bytes()
    for files in ({"a.html": page}, {"a.html": page, "images/image1.jpg": b"<script>"}):
        essay = read_bytes(Path("a.zip"), zipped(files))
        assert not [b for b in walk(essay.blocks) if isinstance(b, Image)]
        assert "What the book recorded" in all_text(essay)


def test_a_zip_that_is_not_one_page_is_a_clear_read_error() -> None:
    from pipeline.errors import ReadError
    from pipeline.readers import read_bytes

    for files in ({"a.html": b"<p>a</p>", "b.html": b"<p>b</p>"}, {"notes.txt": b"hello"}):
        with pytest.raises(ReadError, match="neither a Word document nor a zipped web page"):
            read_bytes(Path("two.zip"), zipped(files))


def test_preview_says_when_pictures_only_work_beside_the_original_file(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    source = GOLDEN / "gdocs" / "allotment-ledger.html"
    command = [sys.executable, "-m", "pipeline.cli", "--home", str(tmp_path), "preview"]
    done = subprocess.run(
        [*command, str(source), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    notes = [n for t in json.loads(done.stdout)["targets"].values() for n in t.get("notes", [])]
    assert notes and all("relative address (images/image1.jpg)" in n for n in notes)


def test_docs_clipboard_html_is_not_all_bold_and_keeps_its_styled_marks() -> None:
    essay = read_html(
        '<html><body><meta charset="utf-8"><b style="font-weight:normal;" '
        'id="docs-internal-guid-5f1c2a7e-7fff-3b1d-9a61-0c2a5b8e4d10">'
        '<h1 dir="ltr"><span style="font-size:20pt;font-weight:400">Tide Tables</span></h1>'
        '<p dir="ltr"><span style="font-weight:400">Read them the </span>'
        '<span style="font-weight:700">night before</span><span style="font-weight:400">, '
        'not on the quay; the </span><span style="font-style:italic">harbour</span>'
        '<span style="font-weight:400"> office closes at six.</span></p></b></body></html>',
        "pasted.html",
    )
    assert essay.title == "Tide Tables" and essay.source_format == "google-docs"
    assert marked(essay, "strong") == ["night before"]
    assert marked(essay, "em") == ["harbour"]
