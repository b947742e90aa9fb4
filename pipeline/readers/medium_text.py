"""Plain text → `Essay`, recovering a Medium page the author copied from the browser.

A Medium copy is recognised by its byline ("6 min readJan 31, 2025": read time and date
glued together by the copy). In that mode everything Medium adds around the essay (read
time, clap and response counts, `--` clap bars, Listen/Share, "Top highlight", the footer
from the repeated author name onwards) is dropped, and the formatting the copy flattened is
recovered: numbered section lines become headings, `•` lines lists, and a short `Label:`
lead-in becomes bold again. Text without a byline is read as a plain note: first line
title, blank-line-separated paragraphs, lists and Markdown links, nothing dropped.

Trailing "<title> | Patreon" lines are Patreon post cards whose links the copy lost; they
become `related` links without a URL. "Christian Baghai | Patreon" is the author's own
Patreon page card rather than a post, but it is kept the same way (title "Christian
Baghai"): it is still a link the author placed under the essay, and a renderer that wants
to treat the profile differently can compare the title with `essay.author`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from pipeline.document import (
    Block,
    Essay,
    Heading,
    Inline,
    ListBlock,
    ListItem,
    Paragraph,
    RelatedLink,
    Rule,
    Run,
    lines_to_breaks,
)
from pipeline.errors import ReadError
from pipeline.readers import decode_text
from pipeline.readers.inline_markdown import parse_inline
from pipeline.readers.promo import split_promo

_BYLINE = re.compile(r"^\d+\s*min\s+read\s*[·•]?\s*(?P<rest>.*)$", re.IGNORECASE)
_DATE_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y")
_COUNT = re.compile(r"^\d+(?:[.,]\d+)?[KkMm]?$")  # claps and response counts: "12", "1.2K"
_FOLLOWERS = re.compile(r"^[\d.,]+[KkMm]?\s+(?:followers|following)$", re.IGNORECASE)
_FOOTER_START = re.compile(
    r"^(?:--|No responses yet|Responses\s*\(\d+\)|Recommended from Medium"
    r"|See more recommendations|Help\s+Status\s+About\b.*)$"
)
# Footer lines that name someone: only a footer when the rest is a name, so a sentence such
# as "Written by hand, the letters…" stays in the essay.
_FOOTER_NAMED = re.compile(r"^(?:Written by|More from|See all from) (?P<name>.+)$")
_CHROME_WORDS = {
    "listen",
    "share",
    "follow",
    "·",
    "--",
    "more",
    "member-only story",
    "top highlight",
}
_EVERYWHERE = {"top highlight", "member-only story"}
_RELATED = re.compile(r"^(?P<title>\S.*?)\s+\|\s+Patreon$")
_ITEM = re.compile(
    r"^(?P<indent>[ \t]*)(?P<marker>[•◦▪‣*-]|(?P<number>\d{1,3})[.)])\s+(?P<text>\S.*)$"
)
_HEADING = re.compile(r"^\d{1,2}[.)]\s+\S.{0,98}$")
_LABEL = re.compile(r"^(?P<label>[^:\n]{1,80}:)(?P<rest>\s+\S.*)$", re.S)
# A section break typed or pasted as a line of its own: "* * *", "***", ". . .", "• • •".
_RULE = re.compile(r"^\s*(?:[*•·∙.]\s*){3,}$")
# An image credit whose picture the copy lost: "Photo by Jane Doe on Unsplash".
_CREDIT = re.compile(
    r"^(?:Photo|Image|Illustration|Picture|Cover image|Header image)"
    r"(?:\s+\w+){0,2}\s+(?:by|from|via|courtesy of|credit:?)\s+\S.{0,118}$",
    re.IGNORECASE,
)
_SMALL_WORDS = {
    "a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to",
    "vs", "with",
}  # fmt: skip


def _is_chrome(line: str) -> bool:
    text = line.strip()
    return (
        text.lower() in _CHROME_WORDS
        or bool(_COUNT.match(text))
        or bool(_FOLLOWERS.match(text))
        or text.startswith("Published in ")
    )


def _is_name(text: str) -> bool:
    """Capitalised words ("Ana Ribeiro and Slow Travel Weekly"), not a sentence."""
    words = text.split()
    return (
        0 < len(words) <= 10
        and not text.endswith((".", "!", "?", ",", ";", ":"))
        and all(not w[:1].islower() or w in _SMALL_WORDS for w in words)
    )


def _is_footer_start(line: str) -> bool:
    named = _FOOTER_NAMED.match(line)
    return bool(_FOOTER_START.match(line) or (named and _is_name(named["name"])))


def _parse_date(text: str) -> date | None:
    """A Medium date; "Jan 31" without a year is ambiguous and gives None."""
    text = text.strip(" ·")
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _looks_like_name(text: str) -> bool:
    return 0 < len(text.split()) <= 6 and len(text) <= 60 and not text.endswith((".", "!", "?"))


@dataclass
class _Header:
    title: str
    subtitle: str | None = None
    author: str | None = None
    published: date | None = None
    body_start: int = 1
    medium: bool = False


def _header(lines: list[str]) -> _Header:
    """Title, and for a Medium copy the subtitle, author and date around the byline."""
    start = 0  # "Member-only story" can sit above a Medium title
    while start < len(lines) and (
        not lines[start].strip() or lines[start].strip().lower() in _EVERYWHERE
    ):
        start += 1
    header = _Header(title=lines[start].strip() if start < len(lines) else "")
    header.body_start = start + 1
    window = [n for n in range(start + 1, len(lines)) if lines[n].strip()][:10]
    matches = ((n, _BYLINE.match(lines[n].strip())) for n in window)
    byline, found = next(((n, m) for n, m in matches if m), (None, None))
    if byline is None or found is None:
        return header
    header.medium = True
    between = [
        re.sub(r"\s*·?\s*Follow$", "", lines[n].strip())
        for n in range(start + 1, byline)
        if lines[n].strip() and not _is_chrome(lines[n])
    ]
    if between and _looks_like_name(between[-1]):
        header.author = between.pop()
    if between and len(between[0]) <= 250:
        header.subtitle = between[0]
    after = byline + 1
    rest = found["rest"]
    if not rest.strip(" ·"):  # the date on a line of its own, maybe after a lone "·"
        for n in range(after, min(after + 4, len(lines))):
            if lines[n].strip() and lines[n].strip() != "·":
                if _parse_date(lines[n]) or re.match(
                    r"^[A-Z][a-z]{2,8} \d{1,2}$", lines[n].strip()
                ):
                    rest, after = lines[n], n + 1
                break
    header.published = _parse_date(rest)
    while after < len(lines) and (not lines[after].strip() or _is_chrome(lines[after])):
        after += 1
    header.body_start = after
    return header


def _medium_body(lines: list[str], header: _Header) -> list[str]:
    """The essay's lines without Medium's footer (clap bar, author card, responses, …)."""
    body = lines[header.body_start :]
    end = next((n for n, line in enumerate(body) if _is_footer_start(line.strip())), len(body))
    if header.author is None:
        written = (re.match(r"^Written by (.+)$", line.strip()) for line in body[end:])
        header.author = next((w.group(1).strip() for w in written if w), None)
    body = body[:end]
    while body and (
        not body[-1].strip() or _is_chrome(body[-1]) or body[-1].strip() == header.author
    ):
        body.pop()
    return [
        line
        for line in body
        if line.strip().lower() not in _EVERYWHERE and not _is_credit(line.strip())
    ]


_STOCK_SITES = re.compile(
    r"\b(?:on|via|from) (?:Unsplash|Pexels|Pixabay|Getty Images|Shutterstock)$"
)


def _is_credit(line: str) -> bool:
    """An image credit the copy left without its image ("Photo by Jane Doe on Unsplash")."""
    if not _CREDIT.match(line):
        return False
    return bool(_STOCK_SITES.search(line)) or (
        len(line.split()) <= 12 and not line.endswith((".", "!", "?", ":"))
    )


def _related(lines: list[str]) -> tuple[list[str], list[RelatedLink]]:
    """Trailing "<title> | Patreon" cards → related links (the copy lost their URLs)."""
    related: list[RelatedLink] = []
    end = len(lines)
    while end > 0:
        text = lines[end - 1].strip()
        match = _RELATED.match(text)
        if text and not match:
            break
        if match:
            related.insert(0, RelatedLink(title=match["title"]))
        end -= 1
    return lines[:end], related


def _lead_in(text: str, title_case: bool) -> re.Match[str] | None:
    """A short `Label:` opening the text, like "Scrambling for Warm Bodies:".

    With `title_case`, every word but small ones must start with a capital, so a sentence
    such as "The outcome: predictable." is not mistaken for a label; without it only the
    first word must (for lists whose items all open with a label, "Rolling stock: …").
    A sentence-case label ("Ship-to-shore cranes (STS):") still counts when it is short
    and a whole sentence or more follows it: that is how a bolded lead-in reads.
    """
    match = _LABEL.match(text)
    if match is None:
        return None
    label = match["label"].removesuffix(":")
    words = label.split()
    if not 1 <= len(words) <= 8 or re.search(r"[.!?]\s|https?|[\[\]]", label):
        return None
    if label.count("(") != label.count(")"):
        return None
    if not (_initial(words[0]).isupper() or _initial(words[0]).isdigit()):
        return None
    outside_parentheses = re.sub(r"\([^()]*\)", "", label).split()
    title_cased = all(
        not _initial(word).islower() or word.lower() in _SMALL_WORDS for word in outside_parentheses
    )
    if title_case and not title_cased and not _sentence_case_label(words, match["rest"]):
        return None
    return match


def _initial(word: str) -> str:
    return word.lstrip("“”\"'‘’«(")[:1]


def _sentence_case_label(words: list[str], rest: str) -> bool:
    """A sentence-case lead-in: at most five words, then at least six words of sentence."""
    return len(words) <= 5 and len(rest.split()) >= 6 and rest.rstrip().endswith((".", "!", "?"))


def _content(text: str, medium: bool, title_case: bool = True) -> Inline:
    """Inline runs; in a Medium copy a `Label:` lead-in becomes bold again (the copy lost it)."""
    match = _lead_in(text, title_case) if medium else None
    if match:
        return [Run(text=match["label"], marks=("strong",)), *parse_inline(match["rest"])]
    return parse_inline(text)


@dataclass
class _Entry:
    indent: int
    number: int | None
    text: str


def _lists(entries: list[_Entry], medium: bool) -> list[ListBlock]:
    """List items → lists, nesting by indentation; a change of bullet/number starts a new list."""
    roots: list[ListBlock] = []
    stack: list[tuple[int, ListBlock]] = []
    # Items that all open with a label form a definition-style list: sentence case is fine.
    all_labelled = len(entries) > 1 and all(_lead_in(e.text, False) for e in entries)
    for entry in entries:
        ordered = entry.number is not None
        item = ListItem(content=_content(entry.text, medium, title_case=not all_labelled))
        while len(stack) > 1 and entry.indent < stack[-1][0]:
            stack.pop()
        if stack and entry.indent > stack[-1][0] and stack[-1][1].items:
            child = ListBlock(ordered=ordered, start=entry.number or 1)
            stack[-1][1].items[-1].blocks.append(child)
            stack.append((entry.indent, child))
        elif not stack or (len(stack) == 1 and stack[0][1].ordered != ordered):
            roots.append(ListBlock(ordered=ordered, start=entry.number or 1))
            stack = [(entry.indent, roots[-1])]
        stack[-1][1].items.append(item)
    return roots


def _group_blocks(group: list[str], medium: bool) -> list[Block]:
    """One blank-line-separated group of lines → paragraphs, lists, or a section heading."""
    if len(group) == 1 and _RULE.match(group[0]):
        return [Rule()]
    if medium and len(group) == 1 and group[0] == group[0].lstrip():
        text = group[0].strip()
        if _HEADING.match(text) and not text.endswith((".", "!", ":", ";", ",")):
            return [Heading(level=2, content=parse_inline(text))]
    blocks: list[Block] = []
    lines: list[str] = []
    entries: list[_Entry] = []

    def flush() -> None:
        if lines:
            joiner = "\n" if medium else " "
            content = lines_to_breaks(_content(joiner.join(lines), medium))
            blocks.append(Paragraph(content=content))
            lines.clear()
        if entries:
            blocks.extend(_lists(entries, medium))
            entries.clear()

    for raw in group:
        line = raw.expandtabs(4)
        match = _ITEM.match(line)
        if match:
            if lines:
                flush()
            number = match["number"]
            entries.append(
                _Entry(len(match["indent"]), int(number) if number else None, match["text"])
            )
        elif entries and len(line) - len(line.lstrip()) > entries[-1].indent:
            entries[-1].text += " " + line.strip()  # an item's wrapped continuation
        else:
            if entries:
                flush()
            lines.append(line.strip())
    flush()
    return blocks


def _merge_lists(blocks: list[Block]) -> list[Block]:
    """Join lists split by blank lines: bullets after bullets, numbers that continue."""
    merged: list[Block] = []
    for block in blocks:
        previous = merged[-1] if merged else None
        if (
            isinstance(block, ListBlock)
            and isinstance(previous, ListBlock)
            and previous.ordered == block.ordered
            and (not block.ordered or block.start == previous.start + len(previous.items))
        ):
            previous.items.extend(block.items)
        else:
            merged.append(block)
    return merged


def parse_blocks(lines: list[str], medium: bool) -> list[Block]:
    blocks: list[Block] = []
    group: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            group.append(line.rstrip())
        elif group:
            blocks.extend(_group_blocks(group, medium))
            group = []
    return _merge_lists(blocks)


def read(path: Path, data: bytes) -> Essay:
    """Read a Medium copy or a plain-text note."""
    # U+FFFC is what macOS pastes where an image was: the line it sat on is empty
    lines = decode_text(path, data).replace("\ufffc", "").split("\n")
    header = _header(lines)
    body = _medium_body(lines, header) if header.medium else lines[header.body_start :]
    body, related = _related(body)
    blocks = parse_blocks(body, header.medium)
    if not blocks:
        raise ReadError(path, "the essay has no body: nothing follows the title")
    blocks, promo = split_promo(blocks)
    return Essay(
        title=header.title,
        subtitle=header.subtitle,
        author=header.author,
        published=header.published,
        blocks=blocks,
        promo=promo,
        related=related,
        source_format="medium-copy" if header.medium else "text",
    )
