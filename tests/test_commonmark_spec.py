"""Every CommonMark spec example, read as an essay and published: nothing a writer wrote is lost.

Each example (from the `commonmark-spec` npm package, see `spec_suite`) is read by the
Markdown reader and rendered as the WordPress connector sends it, then compared with the
spec's expected HTML the way the spec's own harness compares. An example either passes, or
differs in one of the ways listed in `DELIBERATE` (each checked by undoing exactly that
difference, never waved through), or it is lost. Lost must be zero.

The same examples go Markdown -> essay -> Markdown (dev.to, Medium import, the static site)
-> essay, and must give the same tree.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pyromark
import pytest

from connectors import connector_class
from connectors.base import RenderContext
from pipeline.document import Essay
from pipeline.errors import ReadError
from pipeline.readers.markdown import read
from pipeline.readers.raw_html import DROPPED
from pipeline.readers.urls import safe_href
from pipeline.render.markdown import render_markdown
from tests.spec_suite import Example, examples, normalise

FRONT_MATTER = "---\ntitle: Spec example\n---\n"

# What differs on purpose, and how each difference is undone to prove nothing else differs.
DELIBERATE: dict[str, str] = {
    "raw-html": "raw HTML is never published: its markup goes, the words inside it stay "
    "(the content of script, style, textarea and the like goes too)",
    "link-title": "a link's title (a tooltip) is not part of the essay",
    "refused-link": "a link to anything but http(s), mailto or a plain relative path, or to "
    "an empty target, keeps its words without the link",
    "figure": "an image on a line of its own is a figure; its title is shown as the caption",
    "empty": "an empty heading, quote or paragraph shows nothing and is not kept",
    "gfm-autolink": "bare URLs, www. addresses and e-mail addresses are links (GFM)",
}

# Example number -> the deliberate differences it shows (as classified by this file; the
# test fails if an example moves between classes, so this list stays true).
# fmt: off
EXPECTED: dict[int, tuple[str, ...]] = {
    **dict.fromkeys([
        79, 218, 239, 240, 484, 487, 616, 642, 643
    ], ('empty',)),
    **dict.fromkeys([
        517, 520, 531, 572, 573, 574, 575, 576, 577, 578, 580, 581, 582, 583, 584, 585, 586,
        588, 589, 591
    ], ('figure',)),
    **dict.fromkeys([
        608, 611, 612
    ], ('gfm-autolink',)),
    **dict.fromkeys([
        22, 23, 32, 33, 192, 193, 194, 195, 196, 202, 217, 482, 505, 506, 509, 510, 527,
        539, 542, 543, 553, 554, 555, 556, 557, 558, 559, 561, 593
    ], ('link-title',)),
    **dict.fromkeys([
        167
    ], ('link-title', 'raw-html')),
    **dict.fromkeys([
        21, 31, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162,
        163, 164, 165, 166, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 180, 184, 185,
        186, 187, 188, 189, 190, 191, 201, 344, 475, 491, 524, 536, 613, 614, 615, 617, 623
    ], ('raw-html',)),
    **dict.fromkeys([
        200, 485, 486, 500, 567, 596, 598, 599, 600, 601
    ], ('refused-link',)),
}
# fmt: on


@cache
def spec() -> list[Example]:
    return examples()


def publish(example: Example) -> str:
    """The example's HTML as the WordPress connector would post it ('' when nothing is left)."""
    try:
        essay = read(Path("spec.md"), (FRONT_MATTER + example.markdown).encode())
    except ReadError as error:
        if "no body" in str(error):
            return ""
        raise
    cls = connector_class("wordpress")
    draft = cls.render(essay, RenderContext(target="wordpress", options={}, link="https://x"))
    return draft.posts[0].request["content"]


# --- undoing each deliberate difference --------------------------------------------------


def has_raw_html(markdown: str) -> bool:
    return any(
        isinstance(e, dict) and next(iter(e)) in ("Html", "InlineHtml")
        for e in pyromark.events(markdown)
    )


_TAG = re.compile(r"<[^>]*>")


def visible_text(markup: str) -> str:
    """The characters a reader sees, in order (elements never shown and spacing left out)."""
    text = re.sub(rf"<({'|'.join(DROPPED)})\b[^>]*>.*?(</\1\s*>|$)", "", markup, flags=re.S | re.I)
    return re.sub(r"\s+", "", _TAG.sub("", text))


def without_link_titles(markup: str) -> str:
    return re.sub(r'(<a [^>]*?) title="[^"]*"', r"\1", markup)


def without_refused_links(markup: str) -> str:
    def unwrap(match: re.Match[str]) -> str:
        href = match.group(1)
        return match.group(2) if not href or safe_href(href) is None else match.group(0)

    return re.sub(r'<a href="([^"]*)">(.*?)</a>', unwrap, markup)


def figures_as_paragraphs(markup: str) -> str:
    def paragraph(match: re.Match[str]) -> str:
        inner, caption = match.group(1), match.group(3)
        if caption:
            inner = re.sub(r"<img ", f'<img title="{caption}" ', inner, count=1)
        return f"<p>{inner}</p>"

    return re.sub(r"<figure>(.*?)(<figcaption>(.*?)</figcaption>)?</figure>", paragraph, markup)


def without_empty_blocks(markup: str) -> str:
    return re.sub(r"<(h[1-6]|blockquote|p)></\1>", "", markup)


def without_autolinks(markup: str) -> str:
    return re.sub(r'<a href="(?:http://|mailto:)?([^"]*)">\1</a>', r"\1", markup)


def classify(example: Example) -> tuple[str, ...]:
    """() when the example passes, else the deliberate differences that explain it, or
    ("lost",) when they do not."""
    expected, ours = normalise(example.html), normalise(publish(example))
    if expected == ours:
        return ()
    reasons: list[str] = []
    steps = [
        ("link-title", without_link_titles, None),
        ("refused-link", without_refused_links, None),
        ("figure", None, figures_as_paragraphs),
        ("empty", without_empty_blocks, None),
        ("gfm-autolink", None, without_autolinks),
    ]
    for reason, on_expected, on_ours in steps:
        new_expected = normalise(on_expected(expected)) if on_expected else expected
        new_ours = normalise(on_ours(ours)) if on_ours else ours
        if (new_expected, new_ours) != (expected, ours):
            expected, ours = new_expected, new_ours
            reasons.append(reason)
            if expected == ours:
                return tuple(sorted(reasons))
    if has_raw_html(example.markdown) and visible_text(expected) == visible_text(ours):
        return tuple(sorted([*reasons, "raw-html"]))
    return ("lost",)


def test_no_commonmark_example_loses_what_the_writer_wrote() -> None:
    classes = {example.number: classify(example) for example in spec()}
    lost = sorted(n for n, reasons in classes.items() if reasons == ("lost",))
    assert lost == [], f"examples that lose structure or words: {lost}"
    differing = {n: reasons for n, reasons in classes.items() if reasons}
    assert differing == EXPECTED, "an example moved between pass and a deliberate difference"
    assert len(spec()) == 652


def test_every_deliberate_difference_is_documented() -> None:
    used = {reason for reasons in EXPECTED.values() for reason in reasons}
    assert used <= set(DELIBERATE)


def _same_tree(a: Essay, b: Essay) -> bool:
    return [*a.blocks, *a.promo] == [*b.blocks, *b.promo] and a.footnotes == b.footnotes


@pytest.mark.parametrize("chunk", range(4))
def test_markdown_written_for_devto_reads_back_as_the_same_tree(chunk: int) -> None:
    changed = []
    for example in spec()[chunk::4]:
        try:
            essay = read(Path("spec.md"), (FRONT_MATTER + example.markdown).encode())
        except ReadError:
            continue  # nothing to publish
        written = render_markdown([*essay.blocks, *essay.promo], essay.footnotes)
        again = read(Path("spec.md"), (FRONT_MATTER + written).encode())
        if not _same_tree(essay, again):
            changed.append(example.number)
    assert changed == []
