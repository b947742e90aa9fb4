"""Each format is rendered once per essay and shared, and sharing never serves a stale render.

Renders are remembered by the identity of the blocks they come from (pipeline/render/memo.py),
which is right only because blocks are never changed once built: these tests hold both ends,
the sharing and the ways an essay does change (a copy with other blocks, re-levelled headings).
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from pydantic import ValidationError

from connectors import connector_class
from connectors.base import RenderContext
from pipeline.document import Essay, Heading, Paragraph, RelatedLink, Run
from pipeline.readers import read_bytes
from pipeline.render.html import render_html
from pipeline.render.markdown import render_markdown
from pipeline.render.outline import nested_headings
from pipeline.render.parts import blocks_for, related_blocks

ROOT = Path(__file__).resolve().parent.parent
ESSAY = ROOT / "examples" / "home-base.md"


def essay() -> Essay:
    return read_bytes(ESSAY, ESSAY.read_bytes())


def html_for(platform: str, read: Essay) -> str:
    cls = connector_class(platform)
    ctx = RenderContext(target=platform, options=cls.example_options, link="https://b.example/e")
    return cls.render(read, ctx).model_dump_json()


def test_the_blog_destinations_share_one_html_render() -> None:
    read = essay()
    first = render_html(blocks_for(read, "blog"), read.footnotes)
    again = render_html(blocks_for(read, "blog"), read.footnotes)
    assert again is first  # the same string: rendered once, not twice
    assert render_html.__wrapped__(blocks_for(read, "blog"), read.footnotes) == first
    body = nested_headings(blocks_for(read, "blog"), top=2)
    assert render_html(body, read.footnotes) == first


def test_related_posts_are_the_same_blocks_each_time() -> None:
    related = [RelatedLink(title="Older", url="https://b.example/older"), RelatedLink(title="Lost")]
    first, again = related_blocks(related), related_blocks(related)
    assert len(first) == 2 and [id(b) for b in again] == [id(b) for b in first]
    assert again is not first  # a list of its own: a caller extending it changes no other
    other = related_blocks([RelatedLink(title="Older", url="https://b.example/older")])
    assert other[1] is not first[1]


def test_blocks_cannot_be_changed_in_place() -> None:
    heading = Heading(level=2, content=[Run(text="Title")])
    with pytest.raises(ValidationError):
        heading.level = 3  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Paragraph().content = []  # type: ignore[misc]


def test_a_changed_copy_of_an_essay_renders_its_own_blocks() -> None:
    read = essay()
    before = {p: html_for(p, read) for p in ("wordpress", "devto", "medium", "static_site")}
    added = Paragraph(content=[Run(text="A postscript, added after the first render.")])
    edited = read.model_copy(update={"blocks": [*read.blocks, added]})
    for platform, shown in before.items():
        after = html_for(platform, edited)
        assert "A postscript, added after the first render." in after, platform
        assert after != shown
        assert html_for(platform, read) == shown  # the original still renders as it did
    assert render_markdown(blocks_for(edited, "blog")) == render_markdown.__wrapped__(
        blocks_for(edited, "blog")
    )


def test_relevelled_headings_render_at_their_new_level() -> None:
    blocks = [Heading(level=4, content=[Run(text="Deep")]), Paragraph(content=[Run(text="x")])]
    assert render_html(blocks) == "<h4>Deep</h4>\n<p>x</p>"
    assert render_html(nested_headings(blocks, top=2)) == "<h2>Deep</h2>\n<p>x</p>"
    assert render_html(blocks) == "<h4>Deep</h4>\n<p>x</p>"


def test_new_blocks_never_get_an_old_render_even_when_memory_is_reused() -> None:
    for number in range(300):  # objects freed and made again: ids come back, renders must not
        blocks = [Paragraph(content=[Run(text=f"paragraph {number}")])]
        assert render_html(blocks) == f"<p>paragraph {number}</p>"
        assert render_markdown(blocks) == f"paragraph {number}\n"
        del blocks
        gc.collect()
