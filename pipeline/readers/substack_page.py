"""Substack post pages and export files → plain HTML for the generic converter.

A saved post page wraps the essay (`div.body.markup`) in the publication's chrome: a
header with the logo, the byline and date, like/comment/share counters, a footer and the
comments. Inside the body Substack puts its own widgets: subscribe forms ("Thanks for
reading … Subscribe for free"), "Subscribe now" and "Share" buttons, cards for other
posts, and photos in `<picture>` with a `<figcaption>`. The export (Settings → Export)
holds the same body markup without a page around it, named `<id>.<slug>.html`.

Only the body is kept, its widgets dropped, its pictures reduced to one `<img>` and its
footnotes (`a.footnote-anchor` and `div.footnote`) rewritten in the convention of
`footnote_html`. Tracking parameters and share links go in `hygiene`, for every source.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from bs4 import BeautifulSoup, Tag

from pipeline.readers.footnote_html import NoteSection, label_of, note_ref
from pipeline.readers.page_profile import PageMeta, Profiled

_MARKERS = (
    "div.body.markup, .available-content, .captioned-image-container, "
    ".subscription-widget-wrap, .subscription-widget-wrap-editor, a.footnote-anchor, "
    "p.button-wrapper, .embedded-post-wrap, [data-component-name]"
)
# Substack's widgets inside the body: none is the author's prose.
_WIDGETS = (
    ".subscription-widget-wrap, .subscription-widget-wrap-editor, .subscription-widget, "
    ".button-wrapper, .embedded-post-wrap, .embedded-publication-wrap, .digest-post-embed, "
    ".install-substack-app-embed, .community-chat, .poll-embed, .image-link-expand, "
    ".post-ufi, .like-button-container, .share-dialog, .comments-section, .post-footer, "
    ".footer, .subscribe-footer, .paywall, .paywall-jump, form"
)
_CHROME_LINES = re.compile(
    r"^(?:share|subscribe|subscribe now|leave a comment|share this post|give a gift subscription"
    r"|thanks for reading\b.*\bsubscribe\b.*|upgrade to paid|read more|\d+\s+(?:likes?|comments?"
    r"|restacks?))$",
    re.IGNORECASE,
)
_EXPORT_NAME = re.compile(r"^\d+\.(?P<slug>[\w-]+)$")
_LOGO = re.compile(r"logo|avatar|profile|pub-image|icon", re.IGNORECASE)
_SMALL_IMAGE = 64  # px: a publication logo or an avatar, never a photo of the essay


def matches(soup: BeautifulSoup) -> bool:
    """A Substack page or export: its body and widget classes, or its CDN in the head."""
    if soup.select_one(_MARKERS):
        return True
    head = soup.head
    return bool(head and "substackcdn.com" in str(head) and soup.select_one("h3.subtitle"))


def normalise(soup: BeautifulSoup, path: Path) -> Profiled:
    """The post's body, widgets dropped and footnotes rewritten, with its metadata."""
    meta = _meta(soup, path)
    body = soup.select_one("div.body.markup") or soup.select_one(".available-content")
    if body is None:  # an export file, or a page saved without the usual wrappers
        body = soup.find("article") or soup.body or soup
        for chrome in body.select("h1.post-title, h3.subtitle, .post-header, .post-meta"):
            chrome.decompose()
    clean_body(soup, body)
    return Profiled(root=body, meta=meta, source_format="substack")


def clean_body(soup: BeautifulSoup, body: Tag) -> None:
    """A post body as Substack writes it (page, export or feed) made plain, in place."""
    for widget in body.select(_WIDGETS):
        widget.decompose()
    _drop_chrome_paragraphs(body)
    _simplify_images(soup, body)
    _rewrite_footnotes(soup, body).append_to(body)


def _text(tag: Tag | None) -> str:
    return " ".join(tag.get_text(" ").split()) if tag is not None else ""


def _meta_content(soup: BeautifulSoup, *keys: str) -> str | None:
    for key in keys:
        for attr in ("property", "name"):
            tag = soup.find("meta", attrs={attr: key})
            if isinstance(tag, Tag) and str(tag.get("content") or "").strip():
                return " ".join(str(tag["content"]).split())
    return None


def _linked_data(soup: BeautifulSoup) -> dict:
    """The page's schema.org article (`NewsArticle`), when it has one."""
    for script in soup.find_all("script", type="application/ld+json"):
        try:
            data = json.loads(script.get_text())
        except ValueError:
            continue
        if isinstance(data, dict) and "Article" in str(data.get("@type", "")):
            return data
    return {}


def _ld_author(data: dict) -> str | None:
    authors = data.get("author")
    first = authors[0] if isinstance(authors, list) and authors else authors
    name = first.get("name") if isinstance(first, dict) else first
    if not isinstance(name, str) or not name.strip():
        return None
    return " ".join(name.split())


def _meta(soup: BeautifulSoup, path: Path) -> PageMeta:
    from pipeline.readers.html import parse_date  # html imports this module

    data = _linked_data(soup)
    title = _text(soup.select_one("h1.post-title")) or str(data.get("headline") or "").strip()
    title = title or _meta_content(soup, "og:title") or ""
    export = _EXPORT_NAME.match(path.stem)
    slug = export["slug"] if export else None
    if not title and slug:  # an export file has no title of its own: its name carries it
        title = slug.replace("-", " ").capitalize()
    subtitle = _text(soup.select_one("h3.subtitle")) or _meta_content(soup, "og:description")
    byline = soup.select_one(".post-header .byline-wrapper a[href*='substack.com/@']")
    author = _ld_author(data) or _meta_content(soup, "author") or _text(byline) or None
    published = parse_date(
        str(data.get("datePublished") or "")
        or _meta_content(soup, "article:published_time")
        or _time(soup)
    )
    canonical = soup.find("link", rel="canonical", href=True)
    canonical_url = str(canonical["href"]) if isinstance(canonical, Tag) else None
    canonical_url = canonical_url or _meta_content(soup, "og:url")
    html = soup.find("html")
    language = str(html.get("lang") or "").strip() if isinstance(html, Tag) else ""
    return PageMeta(
        title=title or path.stem,
        subtitle=subtitle or None,
        author=author,
        published=published,
        canonical_url=canonical_url
        if canonical_url and canonical_url.startswith("https://")
        else None,
        language=language or None,
        slug=slug,
    )


def _time(soup: BeautifulSoup) -> str | None:
    tag = soup.select_one(".post-header time[datetime], .post-meta time[datetime]")
    return str(tag["datetime"]) if isinstance(tag, Tag) else None


def _drop_chrome_paragraphs(body: Tag) -> None:
    """Buttons and calls to subscribe that survived as plain paragraphs."""
    for paragraph in body.find_all(["p", "div"]):
        if paragraph.find(["p", "div", "img"]) is not None:
            continue
        text = _text(paragraph)
        if text and _CHROME_LINES.match(text.rstrip("!.")):
            paragraph.decompose()


def _simplify_images(soup: BeautifulSoup, body: Tag) -> None:
    """One `<img>` per picture, no link to the full-size copy, no logos or avatars."""
    for picture in body.find_all("picture"):
        img = picture.find("img")
        if not isinstance(img, Tag):
            picture.decompose()
            continue
        if not img.get("src"):
            source = picture.find("source", srcset=True)
            if isinstance(source, Tag):
                img["src"] = str(source["srcset"]).split(",")[0].split()[0]
        picture.replace_with(img.extract())
    for link in body.select("a.image-link"):
        link.unwrap()
    for img in body.find_all("img"):
        if _is_logo(img):
            img.decompose()
        else:
            for attr in ("srcset", "sizes", "style", "loading", "class", "data-attrs"):
                del img[attr]


def _is_logo(img: Tag) -> bool:
    names = " ".join(img.get("class") or []) + " " + str(img.get("alt") or "")
    sizes = [str(img.get(attr) or "") for attr in ("width", "height")]
    small = any(size.isdigit() and int(size) <= _SMALL_IMAGE for size in sizes)
    return small or bool(_LOGO.search(" ".join(img.get("class") or []))) or "logo" in names.lower()


def _rewrite_footnotes(soup: BeautifulSoup, body: Tag) -> NoteSection:
    """`a.footnote-anchor` → the convention's reference; `div.footnote` → its notes."""
    section = NoteSection(soup)
    notes: dict[str, Tag] = {}
    for note in body.select("div.footnote"):
        number = note.select_one("a.footnote-number")
        if number is not None:
            notes[str(number.get("id") or "")] = note
    for anchor in body.select("a.footnote-anchor"):
        number = _text(anchor)
        label = label_of(number)
        target = str(anchor.get("href") or "").lstrip("#")
        anchor.replace_with(note_ref(soup, label, number))
        note = notes.pop(target, None)
        if note is None:
            continue
        content = note.select_one(".footnote-content") or note
        section.add(label, [child.extract() for child in list(content.children)])
        note.decompose()
    for orphan in notes.values():  # a note nothing refers to is kept out of the body
        orphan.decompose()
    return section
