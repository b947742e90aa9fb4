"""LinkedIn little text: every reserved character escaped, so nothing is cut or read as markup."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.document import Essay, Footnote, NoteRef, Paragraph, Run, Table, TableCell
from pipeline.render.linkedin_text import (
    RESERVED,
    escape_little,
    little_hashtag,
    render_little,
    unescape_little,
)
from pipeline.render.plain import render_plain
from tests.essay_strategies import nested_essays

RESERVED_TEXT = "| { } @ [ ] ( ) < > # \\ * _ ~"


def unescaped_reserved(text: str) -> list[int]:
    """Positions of reserved characters not preceded by an escaping backslash."""
    positions, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] in RESERVED:
            positions.append(i)
        i += 1
    return positions


def test_every_reserved_character_is_escaped() -> None:
    assert set(RESERVED_TEXT.replace(" ", "")) == RESERVED
    escaped = escape_little(RESERVED_TEXT)
    assert escaped == r"\| \{ \} \@ \[ \] \( \) \< \> \# \\ \* \_ \~"
    assert unescaped_reserved(escaped) == []


@given(st.text())
def test_unescaping_gives_back_the_original(text: str) -> None:
    escaped = escape_little(text)
    assert unescape_little(escaped) == text
    assert unescaped_reserved(escaped) == []


def test_hashtag_uses_the_template_form() -> None:
    assert little_hashtag("NightTrains") == r"{hashtag|\#|NightTrains}"
    assert little_hashtag("#night trains!") == r"{hashtag|\#|NightTrains}"
    assert little_hashtag("snake_case") == r"{hashtag|\#|SnakeCase}"
    assert little_hashtag("हिन्दी") == r"{hashtag|\#|हिन्दी}"  # vowel signs (marks) kept
    assert little_hashtag("!!") == ""


def test_links_show_the_url_in_escaped_parentheses() -> None:
    text = render_little(
        [Paragraph(content=[Run(text="See "), Run(text="this (draft)", href="https://e.x/a_(b)")])]
    )
    assert text == r"See this \(draft\) \(https://e.x/a\_\(b\)\)"
    assert unescape_little(text) == "See this (draft) (https://e.x/a_(b))"
    assert unescaped_reserved(text) == []


def test_note_markers_and_table_rows_are_escaped_text_never_markup() -> None:
    text = render_little(
        [
            Paragraph(content=[Run(text="A year"), NoteRef(label="n"), Run(text=" later.")]),
            Table(
                header=[TableCell(content=[Run(text="Year")])],
                rows=[[TableCell(content=[Run(text="2019")])]],
            ),
        ],
        [Footnote(label="n", blocks=[Paragraph(content=[Run(text="Roughly.")])])],
    )
    assert text == "A year\\[1\\] later.\n\n• Year: 2019\n\n\\[1\\] Roughly."
    assert unescaped_reserved(text) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nested_essays)
def test_any_nested_essay_is_the_plain_text_with_every_reserved_character_escaped(
    essay: Essay,
) -> None:
    text = render_little(essay.blocks, essay.footnotes)
    assert unescaped_reserved(text) == []
    assert unescape_little(text) == render_plain(essay.blocks, essay.footnotes)
