"""Google Docs "File → Download → Web page" export → plain HTML for the generic converter.

(Docs' clipboard HTML, a document copied and saved as a page, is recognised too: its marks
are inline styles, read the same way, inside one wrapper that is not bold.)

The export styles everything with generated classes (`.c7{font-weight:700}`) in one
`<style>` block, so bold and italic are invisible to a converter that reads tags. It also
writes each list level as its own sibling list (`<ul class="lst-kix_x-1">` after
`<ul class="lst-kix_x-0">`), wraps every link as `https://www.google.com/url?q=REAL&sa=D…`,
keeps the Title and Subtitle paragraphs in the body, appends reviewers' comments and
footnotes after a rule, and leaves empty spacer paragraphs. Each of those is undone here.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag

from pipeline.readers.footnote_html import NoteSection, as_paragraph, label_of, note_ref
from pipeline.readers.page_profile import PageMeta, Profiled

_CLASS_RULE = re.compile(r"\.([\w-]+)\s*\{([^}]*)\}")
_LIST_CLASS = re.compile(r"^lst-kix_(?P<id>[\w]+)-(?P<level>\d+)$")
# Docs' clipboard HTML (copied from a document, saved as a page) wraps everything in one
# `<b style="font-weight:normal" id="docs-internal-guid-…">`: a wrapper, not bold.
_PASTED = "b[id^=docs-internal-guid]"
_COMMENT_ID = re.compile(r"^cmnt\d+$")
_MONOSPACE = re.compile(r"courier|consolas|mono|menlo|monaco", re.IGNORECASE)
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# (tag to wrap with, test on the declarations), outermost first
_MARKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("b", re.compile(r"font-weight:\s*(?:bold|[6-9]00)\b")),
    ("i", re.compile(r"font-style:\s*italic\b")),
    ("s", re.compile(r"text-decoration[\w-]*:[^;]*line-through")),
    ("sup", re.compile(r"vertical-align:\s*super\b")),
    ("sub", re.compile(r"vertical-align:\s*sub\b")),
)


def matches(soup: BeautifulSoup) -> bool:
    """A Google Docs export: `body.doc-content`, or generated `.cN{}` classes with lists,
    comments, footnotes or wrapped links only Docs writes."""
    if soup.select_one("body.doc-content") or soup.select_one(_PASTED):
        return True
    style = " ".join(tag.get_text() for tag in soup.find_all("style"))
    if not re.search(r"\.c\d+\s*\{", style):
        return False
    return bool(
        "lst-kix_" in style
        or soup.select_one("a[id^=cmnt_ref], a[id^=ftnt_ref], p.title, p.subtitle")
        or soup.select_one('a[href^="https://www.google.com/url?q="]')
    )


def normalise(soup: BeautifulSoup, path: Path) -> Profiled:
    """The export's body as plain HTML, with its Title and Subtitle as metadata."""
    marks = _class_marks(soup)
    body = soup.body or soup
    for wrapper in body.select(_PASTED):
        wrapper.unwrap()
    _drop_comments(body)
    notes = _collect_footnotes(soup, body)
    title = _take_paragraph(body, "p.title")
    subtitle = _take_paragraph(body, "p.subtitle")
    if not title:  # no Title paragraph: an opening Heading 1 is the title
        first = body.find(_HEADINGS)
        if isinstance(first, Tag) and first.name == "h1":
            title = _text(first)
            first.decompose()
    _resolve_marks(soup, body, marks)
    _plain_edge_spaces(body)
    _unwrap_links(body)
    _shift_headings(body)
    _drop_spacers(body)
    _rebuild_lists(body)
    notes.append_to(body)
    return Profiled(
        root=body,
        meta=PageMeta(title=title or _text(soup.title) or path.stem, subtitle=subtitle or None),
        source_format="google-docs",
    )


def _text(tag: Tag | None) -> str:
    return " ".join(tag.get_text(" ").split()) if tag is not None else ""


def _class_marks(soup: BeautifulSoup) -> dict[str, list[str]]:
    """Class name → the mark tags its declarations stand for (`c7` → ["b", "i"])."""
    marks: dict[str, list[str]] = {}
    for style in soup.find_all("style"):
        for name, declarations in _CLASS_RULE.findall(style.get_text()):
            found = _marks_of(declarations)
            if found:
                marks.setdefault(name, []).extend(m for m in found if m not in marks.get(name, []))
    return marks


def _marks_of(declarations: str) -> list[str]:
    lowered = declarations.lower()
    found = [tag for tag, test in _MARKS if test.search(lowered)]
    family = re.search(r"font-family:([^;]*)", lowered)
    if family and _MONOSPACE.search(family.group(1)):
        found.append("code")
    return found


def _resolve_marks(soup: BeautifulSoup, body: Tag, marks: dict[str, list[str]]) -> None:
    """Each styled span's content wrapped in `<b>`, `<i>`, … (headings are bold already)."""
    for span in body.find_all("span"):
        names = span.get("class") or []
        wanted: list[str] = []
        for name in names:
            wanted.extend(m for m in marks.get(name, []) if m not in wanted)
        wanted.extend(m for m in _marks_of(str(span.get("style") or "")) if m not in wanted)
        if span.find_parent([*_HEADINGS, "pre"]) is not None:
            wanted = [m for m in wanted if m not in {"b", "code"}]
        if not wanted or not span.get_text():
            continue
        inner: Tag = span
        for mark in wanted:
            wrapper = soup.new_tag(mark)
            for child in list(inner.children):
                wrapper.append(child.extract())
            inner.append(wrapper)
            inner = wrapper


def _plain_edge_spaces(body: Tag) -> None:
    """Docs writes a space at the edge of a styled span as `&nbsp;` so it survives; it is an
    ordinary space between words, not a non-breaking one."""
    for text in body.find_all(string=True):
        if text.startswith("\u00a0") or text.endswith("\u00a0"):
            value = str(text)
            if value.startswith("\u00a0"):
                value = " " + value[1:]
            if value.endswith("\u00a0"):
                value = value[:-1] + " "
            text.replace_with(value)


def _drop_comments(body: Tag) -> None:
    """Reviewers' comments: the `[a]` markers in the text and the threads at the end."""
    threads = [a for a in body.select("a[id^=cmnt]") if _COMMENT_ID.match(str(a["id"]))]
    for anchor in threads:
        if anchor.parent is not None:  # two threads can share a block
            _top_level(anchor, body).decompose()
    for anchor in body.select("a[id^=cmnt_ref]"):
        holder = anchor.parent if anchor.parent and anchor.parent.name == "sup" else anchor
        holder.decompose()
    _drop_trailing_rules(body)


def _top_level(tag: Tag, body: Tag) -> Tag:
    """The ancestor of `tag` that is a direct child of `body`."""
    while tag.parent is not None and tag.parent is not body:
        tag = tag.parent
    return tag


def _drop_trailing_rules(body: Tag) -> None:
    """The rule Docs draws above comments and footnotes separates nothing once they go."""
    for child in reversed(list(body.children)):
        if isinstance(child, NavigableString) and not child.strip():
            continue
        if isinstance(child, Tag) and child.name == "hr":
            child.decompose()
            continue
        if (
            isinstance(child, Tag)
            and child.name in {"div", "p"}
            and not _text(child)
            and child.find("img") is None
        ):
            child.decompose()
            continue
        break


def _collect_footnotes(soup: BeautifulSoup, body: Tag) -> NoteSection:
    """`[1]` references (`ftnt_ref`) rewritten, the notes at the end gathered in order."""
    section = NoteSection(soup)
    bodies: dict[str, Tag] = {}
    for anchor in body.select("a[id^=ftnt]"):
        anchor_id = str(anchor.get("id"))
        if not anchor_id.startswith("ftnt_ref"):
            bodies[anchor_id] = anchor
    for anchor in body.select("a[id^=ftnt_ref]"):
        target = str(anchor.get("href") or "").lstrip("#")
        note_anchor = bodies.get(target)
        number = _text(anchor).strip("[]")
        label = label_of(number)
        holder = anchor.parent if anchor.parent and anchor.parent.name == "sup" else anchor
        holder.replace_with(note_ref(soup, label, number))
        if note_anchor is None:
            continue
        block = _top_level(note_anchor, body)
        paragraph = note_anchor.find_parent("p") or block
        note_anchor.decompose()
        first_text = paragraph.find(string=True)
        if first_text is not None:  # the space Docs puts after the note's number
            first_text.replace_with(first_text.lstrip(" \u00a0"))
        content = [child.extract() for child in list(paragraph.children)]
        blocks = [as_paragraph(soup, content)]
        # further paragraphs of the same note follow in the same block
        blocks.extend(p.extract() for p in block.find_all("p") if p is not paragraph)
        section.add(label, blocks)
        block.decompose()
    _drop_trailing_rules(body)
    return section


def _take_paragraph(body: Tag, selector: str) -> str:
    tag = body.select_one(selector)
    if tag is None:
        return ""
    text = _text(tag)
    tag.decompose()
    return text


def _unwrap_links(body: Tag) -> None:
    """`https://www.google.com/url?q=REAL&sa=D…` → REAL, percent-decoded once."""
    for anchor in body.find_all("a", href=True):
        href = str(anchor["href"])
        parts = urlsplit(href)
        if parts.netloc.endswith("google.com") and parts.path == "/url":
            real = parse_qs(parts.query).get("q")
            if real:
                anchor["href"] = real[0]
        if not str(anchor.get("href") or "").strip() and not anchor.get("id"):
            anchor.unwrap()


def _shift_headings(body: Tag) -> None:
    """The document's top heading level becomes level 2 (under the title), the others
    keep their distance from it, so Heading 1 and Heading 2 stay apart."""
    headings = body.find_all(_HEADINGS)
    if not headings:
        return
    shift = 2 - min(int(heading.name[1]) for heading in headings)
    for heading in headings:
        heading.name = f"h{min(int(heading.name[1]) + shift, 6)}"


def _list_key(tag: Tag) -> tuple[str, int] | None:
    for name in tag.get("class") or []:
        match = _LIST_CLASS.match(name)
        if match:
            return match["id"], int(match["level"])
    return None


def _rebuild_lists(body: Tag) -> None:
    """Sibling lists, one per level, nested back into the item before them.

    A list of the same id and level right after a deeper one continues it (Docs splits a
    list each time a level changes); after anything else it is a new list that keeps its
    `start=`, so numbering interrupted by a paragraph goes on where it stopped.
    """
    parents = {id(tag.parent): tag.parent for tag in body.find_all(["ul", "ol"]) if tag.parent}
    for parent in parents.values():
        stack: list[tuple[tuple[str, int], Tag]] = []
        for child in list(parent.children):
            if isinstance(child, NavigableString):
                if child.strip():
                    stack = []
                continue
            if not isinstance(child, Tag):
                continue
            key = _list_key(child) if child.name in ("ul", "ol") else None
            if key is None:
                stack = []
                continue
            while stack and stack[-1][0][1] > key[1]:
                stack.pop()
            if stack and stack[-1][0][1] == key[1]:
                if stack[-1][0] == key and stack[-1][1].name == child.name:
                    for item in child.find_all("li", recursive=False):
                        stack[-1][1].append(item.extract())
                    child.decompose()
                    continue
                stack.pop()
            items = stack[-1][1].find_all("li", recursive=False) if stack else []
            if items:
                items[-1].append(child.extract())
                stack.append((key, child))
                continue
            stack = [(key, child)]


def _drop_spacers(body: Tag) -> None:
    """Empty paragraphs Docs keeps for vertical space."""
    for paragraph in body.find_all("p"):
        if not paragraph.get_text().strip("\u00a0 \n\t") and paragraph.find("img") is None:
            paragraph.decompose()
