"""Manifest entries -> HTML pages, through the theme's Jinja2 templates.

Every page links its stylesheet and feeds; an essay page carries its metadata three ways
for three kinds of reader: OpenGraph and Twitter Card tags (link cards on Mastodon, X,
LinkedIn, Telegram, Threads), JSON-LD `Article` (search engines) and microformats2
`h-entry` (the IndieWeb: webmentions, readers). Pure functions of the entries and options.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from connectors.site.options import SiteOptions
from pipeline.document import slugify

ENV = Environment(
    loader=PackageLoader("connectors.site", "theme"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
STYLESHEET = "style.css"
WORDS_PER_MINUTE = 230
CJK_PER_MINUTE = 500
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[^\W\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
PLATFORM_NAMES = {
    "bluesky": "Bluesky",
    "devto": "DEV",
    "ghost": "Ghost",
    "linkedin": "LinkedIn",
    "mastodon": "Mastodon",
    "medium": "Medium",
    "patreon": "Patreon",
    "substack": "Substack",
    "telegram": "Telegram",
    "threads": "Threads",
    "wordpress": "WordPress",
    "x": "X",
}


@dataclass(frozen=True)
class Site:
    """Where the site lives and how it is addressed."""

    options: SiteOptions
    folder: Path

    @property
    def base(self) -> str:
        return self.options.base_url or self.folder.as_uri()

    def url(self, path: str) -> str:
        """The absolute URL of a file of the site (feeds and cards need absolute links)."""
        return f"{self.base}/{path}"


def essay_path(slug: str) -> str:
    return f"{slug}.html"


def tag_path(tag: str) -> str:
    return f"tags/{slugify(tag)}.html"


def index_path(number: int) -> str:
    return "index.html" if number == 1 else f"page/{number}.html"


def reading_minutes(body: str) -> int:
    """Minutes to read: words at 230 a minute, CJK characters at 500 (no spaces to count)."""
    text = html.unescape(_TAG.sub(" ", body))
    minutes = len(_WORD.findall(text)) / WORDS_PER_MINUTE + len(_CJK.findall(text)) / CJK_PER_MINUTE
    return max(1, math.ceil(minutes))


def minutes_of(entry: dict[str, Any]) -> int:
    """The entry's reading time: kept in it when written, so a listing never re-counts."""
    return entry.get("minutes") or reading_minutes(entry["html"])


def human_date(moment: str) -> str:
    when = datetime.fromisoformat(moment)
    return f"{when.day} {when:%B %Y}"


def newest_first(manifest: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return sorted(manifest.items(), key=lambda item: (item[1]["published"], item[0]), reverse=True)


def _common(site: Site, root: str) -> dict[str, Any]:
    return {
        "site": site.options,
        "lang": site.options.language,
        "root": root,
        "description": site.options.description or site.options.title,
        "feeds": {"atom": site.url("feed.atom"), "json": site.url("feed.json")},
    }


def _list_item(slug: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "path": essay_path(slug),
        "title": entry["title"],
        "summary": entry.get("subtitle") or entry.get("summary") or "",
        "published": entry["published"],
        "date": human_date(entry["published"]),
        "minutes": minutes_of(entry),
    }


def essay_page(site: Site, slug: str, entry: dict[str, Any]) -> str:
    url = site.url(essay_path(slug))
    canonical = entry.get("canonical_url") or url
    author = entry.get("author") or site.options.author
    description = entry.get("subtitle") or entry.get("summary") or site.options.description
    image = entry.get("image")
    image_card = None
    if image:
        src = image["src"]
        absolute = src if re.match(r"https?://|file:", src) else site.url(src)
        image_card = {**image, "url": absolute}
    tags = [{"name": t, "path": tag_path(t)} for t in entry.get("tags", [])]
    updated_date = (
        human_date(entry["updated"])
        if entry["updated"][:10] != entry.get("created", entry["published"])[:10]
        else None
    )
    context = {
        **_common(site, ""),
        "lang": entry.get("language") or site.options.language,
        "description": description or entry["title"],
        "essay": entry,
        "url": url,
        "canonical": canonical,
        "author": author,
        "author_url": site.options.author_url or site.url("index.html"),
        "image": image_card,
        "tags": tags,
        "date": human_date(entry["published"]),
        "updated_date": updated_date,
        "minutes": minutes_of(entry),
        "body": entry["html"],
        "syndication": entry.get("syndication", []),
        "json_ld": json_ld(site, entry, url, canonical, author, image_card),
    }
    return ENV.get_template("essay.html").render(context)


def json_ld(
    site: Site,
    entry: dict[str, Any],
    url: str,
    canonical: str,
    author: str | None,
    image: dict[str, Any] | None,
) -> str:
    """schema.org `Article`, safe inside a `<script>` element (no `<` left in it)."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": entry["title"],
        "url": url,
        "mainEntityOfPage": canonical,
        "datePublished": entry["published"],
        "dateModified": entry["updated"],
        "inLanguage": entry.get("language") or site.options.language,
        "author": {"@type": "Person", "name": author or site.options.title},
        "publisher": {"@type": "Organization", "name": site.options.title, "url": site.base + "/"},
    }
    if site.options.author_url:
        data["author"]["url"] = site.options.author_url
    if entry.get("subtitle") or entry.get("summary"):
        data["description"] = entry.get("subtitle") or entry.get("summary")
    if image:
        data["image"] = image["url"]
    if entry.get("tags"):
        data["keywords"] = entry["tags"]
    if entry.get("syndication"):
        data["sameAs"] = [copy["url"] for copy in entry["syndication"]]
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def index_pages(site: Site, manifest: dict[str, Any]) -> dict[str, str]:
    """The front page and its older pages: path -> HTML, newest essays first."""
    ordered = newest_first(manifest)
    size = site.options.per_page
    count = max(1, math.ceil(len(ordered) / size))
    pages: dict[str, str] = {}
    for number in range(1, count + 1):
        root = "" if number == 1 else "../"
        chunk = ordered[(number - 1) * size : number * size]
        context = {
            **_common(site, root),
            "items": [_list_item(slug, e) for slug, e in chunk],
            "number": number,
            "pages": count,
            "canonical": site.url(index_path(number)),
            "newer": index_path(number - 1) if number > 1 else None,
            "older": index_path(number + 1) if number < count else None,
        }
        pages[index_path(number)] = ENV.get_template("index.html").render(context)
    return pages


def tag_pages(site: Site, manifest: dict[str, Any]) -> dict[str, str]:
    """One page per tag: path -> HTML. Tags that slug alike share a page (the first name)."""
    by_path: dict[str, tuple[str, list[tuple[str, dict[str, Any]]]]] = {}
    for slug, entry in newest_first(manifest):
        for tag in entry.get("tags", []):
            name, items = by_path.setdefault(tag_path(tag), (tag, []))
            items.append((slug, entry))
    pages: dict[str, str] = {}
    for path, (name, items) in by_path.items():
        context = {
            **_common(site, "../"),
            "tag": name,
            "items": [_list_item(slug, e) for slug, e in items],
            "canonical": site.url(path),
        }
        pages[path] = ENV.get_template("tag.html").render(context)
    return pages


def not_found_page(site: Site) -> str:
    """Served for any missing address, so its links are absolute where a base URL is set."""
    root = f"{site.options.base_url}/" if site.options.base_url else ""
    return ENV.get_template("404.html").render(_common(site, root))


THEME_FILES = (STYLESHEET, "favicon.svg")  # copied into the site as they are


def theme_fingerprint(options: SiteOptions) -> str:
    """Changes when the options or any theme file does: the pages are then out of date."""
    digest = hashlib.sha256(options.model_dump_json().encode())
    for path in sorted((Path(__file__).parent / "theme").iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def theme_file(name: str) -> str:
    return (Path(__file__).parent / "theme" / name).read_text(encoding="utf-8")


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform.replace("_", " ").title())
