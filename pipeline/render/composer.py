"""Social posts from an essay: one announcement, or the essay as a numbered thread.

Both always fit the platform's `LengthRule` as the platform counts, because a post rejected
for length means a publication that failed after the blog post went out. Words, URLs and
hashtags are never cut in half; only the teaser and, as a last resort, the title shrink.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable

import regex

from pipeline.document import (
    Block,
    Essay,
    Heading,
    Inline,
    InlineImage,
    ListBlock,
    Paragraph,
    Quote,
    Table,
    block_text,
)
from pipeline.render.hashtags import Style, hashtags
from pipeline.render.lengths import LengthRule, counting_by_line, find_urls
from pipeline.render.parts import table_rows
from pipeline.render.plain import CELL_SEPARATOR

DEFAULT_TEMPLATE = "{title}\n\n{teaser}\n\n{url}\n\n{hashtags}"
ELLIPSIS = "…"

_SPACE = re.compile(r"\s+")


def _one_line(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _largest_fitting(count: int, fits: Callable[[int], bool]) -> int | None:
    """The largest i in [0, count) with fits(i), assuming fits is mostly monotone.

    Binary search, then a downward walk for the rare case a count is not monotone (a URL
    that only becomes a URL once its end is there): the answer always truly fits.
    """
    lo, hi = 0, count - 1
    best: int | None = None
    while lo <= hi:
        mid = (lo + hi) // 2
        if fits(mid):
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    start = count - 1 if best is None else best
    for i in range(start, -1, -1):
        if fits(i):
            return i
    return None


def _cut_points(text: str) -> list[int]:
    """Offsets where `text` may be cut at a word: before whitespace (URLs hold none)."""
    return [m.start() for m in _SPACE.finditer(text) if m.start() > 0]


_SCHEME_URL = regex.compile(r"https?://[\x21-\x7E]+", regex.IGNORECASE)


def _grapheme_cuts(text: str) -> list[int]:
    """Offsets between grapheme clusters that are not inside a URL: neither inside the URL
    twitter-text sees nor inside the run of ASCII after "https://". A cut URL is a dead link;
    a URL glued to following CJK text may be cut where the ASCII ends."""
    urls = find_urls(text) + [m.span() for m in _SCHEME_URL.finditer(text)]
    ends = itertools.accumulate(len(c) for c in regex.findall(r"\X", text))
    return [end for end in ends if not any(s < end < e for s, e in urls)]


def shorten(text: str, fits: Callable[[str], bool]) -> str:
    """The longest `prefix…` of `text`, cut at a word boundary, that fits; "" if none does.

    A text with no usable word boundary (one long word, unspaced CJK) is cut between
    grapheme clusters instead, never inside a URL.
    """
    if fits(text):
        return text
    cuts = _cut_points(text)

    def candidate(i: int) -> str:
        prefix = text[: cuts[i]].rstrip(" ,;:-–—")
        # Cut after a full sentence: it reads as finished, so no ellipsis.
        return (
            prefix if prefix.endswith((".", "!", "?", "…", "。", "！", "？")) else prefix + ELLIPSIS
        )

    best = _largest_fitting(len(cuts), lambda i: fits(candidate(i)))
    if best is not None:
        return candidate(best)
    first_word = text[: cuts[0]] if cuts else text
    ends = [end for end in _grapheme_cuts(first_word) if end < len(first_word)]
    best = _largest_fitting(len(ends), lambda i: fits(text[: ends[i]] + ELLIPSIS))
    return "" if best is None else text[: ends[best]] + ELLIPSIS


# ---------------------------------------------------------------- announcement


def _fill(template: str, title: str, teaser: str, url: str, tags: list[str]) -> str:
    """The template filled in, with lines left empty by empty placeholders collapsed."""
    text = template.format(title=title, teaser=teaser, url=url, hashtags=" ".join(tags))
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def teaser_of(essay: Essay) -> str:
    """The subtitle when the author wrote one (it is written to tease), else the lead: the
    first top-level paragraph with words."""
    if essay.subtitle:
        return _one_line(essay.subtitle)
    for block in essay.blocks:
        if isinstance(block, Paragraph) and (lead := _one_line(social_inline(block.content))):
            return lead
    return ""


# ---------------------------------------------------------------- text of the body


def social_inline(content: Inline) -> str:
    """Inline content as a social post carries it: the words, no marks, no note markers
    (the notes themselves stay on the blog), an inline image as its alt text, never glued
    to the words around it."""
    parts: list[str] = []
    space_next = False
    for node in content:
        text = node.text
        if not text:
            continue
        if isinstance(node, InlineImage):
            text = " ".join(text.split())
            if not text:
                continue
            if parts and not parts[-1][-1:].isspace():
                parts.append(" ")
            space_next = True
        elif space_next and not text[:1].isspace():
            parts.append(" ")
            space_next = False
        else:
            space_next = False
        parts.append(text)
    return "".join(parts)


def social_text(block: Block) -> str:
    """A block's text for a thread: one line per paragraph, list item, code line or table
    row, nested blocks in reading order; a table row names its columns, never pipes."""
    if isinstance(block, Paragraph | Heading):
        return social_inline(block.content)
    if isinstance(block, Quote):
        return "\n".join(t for b in block.blocks if (t := social_text(b)))
    if isinstance(block, ListBlock):
        return "\n".join(t for item in block.items for b in item.blocks if (t := social_text(b)))
    if isinstance(block, Table):
        rows = (
            CELL_SEPARATOR.join(
                f"{_one_line(social_inline(head))}: {_one_line(social_inline(cell))}"
                if head is not None
                else _one_line(social_inline(cell))
                for head, cell in row
            )
            for row in table_rows(block)
        )
        return "\n".join(row for row in rows if row)
    return block_text(block)  # code, image, rule: no inline content of their own


def announcement(
    essay: Essay,
    link: str | None,
    rule: LengthRule,
    template: str = DEFAULT_TEMPLATE,
    hashtag_style: Style = "camel",
) -> str:
    """A post announcing the essay, filled from `template`, that always fits `rule`.

    What gives way, in order: the teaser (shortened at a word, with "…"), the hashtags (the
    last one first), then the title. `link` falls back to the essay's canonical URL.
    Raises ValueError only if the bare URL alone does not fit.
    """
    url = link or essay.canonical_url or ""
    title = _one_line(essay.title)
    teaser = teaser_of(essay)
    tags = hashtags(essay.tags, hashtag_style)
    # Counting is the cost here (URLs found, graphemes split): a text shortening has
    # already counted (its best candidate) is not counted again, and of a new candidate only
    # the line that changed is counted (`counting_by_line`).
    fits = functools.lru_cache(maxsize=None)(rule.fits)
    with counting_by_line():
        return _announce(template, title, teaser, url, tags, fits, rule)


def _announce(
    template: str,
    title: str,
    teaser: str,
    url: str,
    tags: list[str],
    fits: Callable[[str], bool],
    rule: LengthRule,
) -> str:
    """`announcement`'s search: the teaser shortened with all tags, then fewer, then the title."""
    for kept in range(len(tags), -1, -1):
        chosen = tags[:kept]
        short = shorten(teaser, lambda t, c=chosen: fits(_fill(template, title, t, url, c)))
        text = _fill(template, title, short, url, chosen)
        if fits(text):
            return text
    short_title = shorten(title, lambda t: fits(_fill(template, t, "", url, [])))
    text = _fill(template, short_title, "", url, [])
    if text and fits(text):
        return text
    raise ValueError(
        f"{rule.name or 'this platform'}: not even the link fits in {rule.limit} characters"
    )


# ---------------------------------------------------------------- thread

# A sentence ends at . ! ? … (closing quotes and brackets stay with it) before whitespace,
# or right after a CJK full stop, which is not followed by a space.
_SENTENCE_END = regex.compile(r"(?<=[.!?…][)\]\"'’”»]*)\s+(?=\S)|(?<=[。！？])(?=\S)")

Unit = tuple[str, str]  # (separator before it, text)


def _sentences(text: str, first_sep: str) -> list[Unit]:
    """A block's text as sentences; lines stay lines (list items, verse, code).

    Sentences keep the separator they had: a space in most scripts, nothing after "。".
    """
    units: list[Unit] = []
    for line in text.split("\n"):
        line = line.strip()
        sep = "\n" if units else first_sep
        start = 0
        for match in _SENTENCE_END.finditer(line):
            units.append((sep, line[start : match.start()]))
            sep = " " if match.group() else ""
            start = match.end()
        if line[start:]:
            units.append((sep, line[start:]))
    return units


def _thread_units(essay: Essay, url: str) -> list[Unit]:
    units: list[Unit] = [("", _one_line(essay.title))] if essay.title.strip() else []
    if url:
        units.append(("\n", url))
    for block in essay.blocks:
        text = social_text(block).strip()
        if text:
            units.extend(_sentences(text, "\n\n"))
    return units


def _longest_prefix(word: str, fits: Callable[[str], bool]) -> str:
    """The longest run of whole grapheme clusters from the start of `word` that fits.

    Only for a word longer than a post (unspaced CJK, a pasted hash); URLs are never cut.
    """
    ends = _grapheme_cuts(word)
    best = _largest_fitting(len(ends), lambda i: fits(word[: ends[i]]))
    if best is None:
        raise ValueError(f"a post cannot hold even the start of: {word[:80]}")
    return word[: ends[best]]


def _join(units: list[Unit]) -> str:
    """Units as text; the first one's separator is dropped (it starts a post)."""
    return units[0][1] + "".join(sep + text for sep, text in units[1:]) if units else ""


def _most_that_fit(first: int, total: int, fits: Callable[[int], bool]) -> int | None:
    """The largest j in [first, total) with fits(j), by galloping then bisecting."""
    if not fits(first):
        return None
    good, step = first, 1
    bad = first + 1
    while bad < total and fits(bad):
        good, step = bad, step * 2
        bad = good + step
    bad = min(bad, total)
    while bad - good > 1:
        mid = (good + bad) // 2
        if fits(mid):
            good = mid
        else:
            bad = mid
    return good


def _pack(units: list[Unit], fits: Callable[[str, int], bool]) -> list[str]:
    """Each post takes as many whole sentences as fit; a sentence longer than a post is
    broken into words, and a word longer than a post between grapheme clusters."""
    pending = list(units)
    posts: list[str] = []
    first = 0
    while first < len(pending):
        index = len(posts) + 1

        def fits_through(j: int, first: int = first, index: int = index) -> bool:
            return fits(_join(pending[first : j + 1]), index)

        last = _most_that_fit(first, len(pending), fits_through)
        if last is not None:
            posts.append(_join(pending[first : last + 1]))
            first = last + 1
            continue
        sep, text = pending[first]
        words = text.split()
        if len(words) > 1:
            pending[first : first + 1] = [(sep, words[0])] + [(" ", w) for w in words[1:]]
            continue
        head = _longest_prefix(text, lambda t, index=index: fits(t, index))
        posts.append(head)
        pending[first] = ("", text[len(head) :])
    return posts


def numbering(index: int, total: int) -> str:
    """The suffix of post `index` (1-based) of `total`: " (2/7)"; none for a single post."""
    return f" ({index}/{total})" if total > 1 else ""


def thread(essay: Essay, link: str | None, rule: LengthRule, numbered: bool = True) -> list[str]:
    """The essay as a thread: title and link open the first post (so the link is what a
    reader who sees only the first post gets), then every block's text in order, split at
    sentences, then words. Each post fits `rule` including its " (k/n)" suffix.

    Promo and related posts are left out: they belong to the blog, not to a thread.
    """
    url = link or essay.canonical_url or ""
    units = _thread_units(essay, url)
    if not units:
        raise ValueError("the essay has no text to post")
    with counting_by_line():  # a post grows a sentence at a time: earlier lines counted once
        return _thread_posts(units, rule, numbered)


def _thread_posts(units: list[Unit], rule: LengthRule, numbered: bool) -> list[str]:
    """`thread`'s packing, repeated until the numbering it assumed holds."""
    assumed = 1
    while True:
        total = assumed

        def fits(text: str, index: int, total: int = total) -> bool:
            return rule.fits(text + (numbering(index, total) if numbered else ""))

        posts = _pack(units, fits)
        if not numbered or len(posts) <= assumed:
            break
        assumed = len(posts)
    if not numbered:
        return posts
    # Packed assuming `assumed` >= len(posts) posts: the real suffixes are no wider.
    return [post + numbering(i, len(posts)) for i, post in enumerate(posts, 1)]
