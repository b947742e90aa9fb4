"""A real static blog in `site/`: one page per essay, an index and an Atom feed.

Any web server can serve the folder. Pages and the manifest are written atomically, so a
crash never leaves a half page; a page carries its publication key, so a retry finds it.
Option `base_url` (e.g. https://blog.example.org) makes the URLs public; without it they
are file:// URLs.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from connectors.base import Connector, Dedupe, Draft, Kind, Post, Remote, RenderContext
from connectors.local_files import home_folder, locked, write_atomic
from pipeline.document import Essay
from pipeline.render.html import render_html
from pipeline.render.parts import blocks_for

MANIFEST = "posts.json"
PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="crosspost-key" content="{key}">
<title>{title}</title>
{canonical}<link rel="alternate" type="application/atom+xml" href="feed.atom">
<style>body{{max-width:42rem;margin:2rem auto;padding:0 1rem;font:1.1rem/1.6 Georgia,serif}}</style>
</head>
<body>
<article>
<header><h1>{title}</h1>{subtitle}{byline}</header>
{body}
</article>
<footer><a href="index.html">All essays</a></footer>
</body>
</html>
"""


class StaticSite(Connector):
    platform: ClassVar[str] = "static_site"
    kind: ClassVar[Kind] = Kind.BLOG
    dedupe: ClassVar[Dedupe] = Dedupe.RECORD_KEY
    can_edit: ClassVar[bool] = True

    @classmethod
    def render(cls, essay: Essay, ctx: RenderContext) -> Draft:
        request = {
            "slug": essay.effective_slug(),
            "title": essay.title,
            "subtitle": essay.subtitle,
            "author": essay.author,
            "published": essay.published.isoformat() if essay.published else None,
            "tags": essay.tags,
            "canonical_url": essay.canonical_url,
            "language": essay.language or "en",
            "html": render_html(blocks_for(essay, "blog"), essay.footnotes),
        }
        return Draft(
            platform=cls.platform,
            target=ctx.target,
            kind=cls.kind,
            posts=[Post(request=request)],
            title=essay.title,
            slug=request["slug"],
        )

    # -- files --------------------------------------------------------------

    def folder(self) -> Path:
        return home_folder(self.account.home, "site")

    def url_for(self, slug: str) -> str:
        base = str(self.account.options.get("base_url") or "").rstrip("/")
        page = self.folder() / f"{slug}.html"
        return f"{base}/{slug}.html" if base else page.as_uri()

    def manifest(self) -> dict[str, Any]:
        path = self.folder() / MANIFEST
        if not path.exists():
            return {}
        return json.loads(path.read_text(encoding="utf-8"))

    def write_page(self, request: dict[str, Any], key: str) -> Remote:
        slug = request["slug"]
        page = PAGE.format(
            lang=html.escape(request.get("language") or "en"),
            key=html.escape(key),
            title=html.escape(request["title"]),
            canonical=(
                f'<link rel="canonical" href="{html.escape(request["canonical_url"])}">\n'
                if request.get("canonical_url")
                else ""
            ),
            subtitle=(
                f"<p><em>{html.escape(request['subtitle'])}</em></p>"
                if request.get("subtitle")
                else ""
            ),
            byline=self._byline(request),
            body=request["html"],
        )
        write_atomic(self.folder() / f"{slug}.html", page)
        with locked(self.folder()):  # read-modify-write: another publisher may be at it too
            manifest = self.manifest()
            entry = manifest.get(slug, {})
            manifest[slug] = {
                "key": key,
                "title": request["title"],
                "summary": request.get("subtitle") or "",
                "published": entry.get("published") or datetime.now(UTC).isoformat(),
                "updated": datetime.now(UTC).isoformat(),
                "html": request["html"],
            }
            self._save(manifest)
        return Remote(id=slug, url=self.url_for(slug), extra={"key": key})

    @staticmethod
    def _byline(request: dict[str, Any]) -> str:
        parts = [html.escape(p) for p in (request.get("author"), request.get("published")) if p]
        return f"<p>{' · '.join(parts)}</p>" if parts else ""

    def _write_index(self, manifest: dict[str, Any]) -> None:
        ordered = sorted(manifest.items(), key=lambda item: item[1]["published"], reverse=True)
        items = "\n".join(
            f'<li><a href="{html.escape(slug)}.html">{html.escape(e["title"])}</a></li>'
            for slug, e in ordered
        )
        title = html.escape(str(self.account.options.get("title") or "Essays"))
        write_atomic(
            self.folder() / "index.html",
            (
                f'<!doctype html>\n<html><head><meta charset="utf-8"><title>{title}</title>'
                f'<link rel="alternate" type="application/atom+xml" href="feed.atom"></head>\n'
                f"<body><h1>{title}</h1>\n<ul>\n{items}\n</ul></body></html>\n"
            ),
        )
        base = str(self.account.options.get("base_url") or self.folder().as_uri()).rstrip("/")
        updated = ordered[0][1]["updated"] if ordered else datetime.now(UTC).isoformat()
        entries = "\n".join(
            f"<entry><title>{html.escape(e['title'])}</title>"
            f'<link href="{html.escape(base)}/{html.escape(slug)}.html"/>'
            f"<id>{html.escape(base)}/{html.escape(slug)}.html</id>"
            f"<published>{e['published']}</published><updated>{e['updated']}</updated>"
            f'<content type="html">{html.escape(e["html"])}</content></entry>'
            for slug, e in ordered
        )
        write_atomic(
            self.folder() / "feed.atom",
            (
                '<?xml version="1.0" encoding="utf-8"?>\n'
                f'<feed xmlns="http://www.w3.org/2005/Atom"><title>{title}</title>'
                f"<id>{html.escape(base)}/</id><updated>{updated}</updated>"
                f'<link href="{html.escape(base)}/feed.atom" rel="self"/>\n{entries}\n</feed>\n'
            ),
        )

    # -- contract -----------------------------------------------------------

    def create_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote:
        return self.write_page(post.request, key)

    def find_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote | None:
        slug = post.request["slug"]
        entry = self.manifest().get(slug)
        page = self.folder() / f"{slug}.html"
        if entry and entry.get("key") == key and page.exists():
            return Remote(id=slug, url=self.url_for(slug), extra={"key": key})
        return None

    def update(self, remote: Remote, draft: Draft) -> Remote:
        return self.write_page(draft.posts[0].request, str(remote.extra.get("key", remote.id)))

    def delete(self, remote: Remote) -> None:
        with locked(self.folder()):
            manifest = self.manifest()
            manifest.pop(remote.id, None)
            self._save(manifest)
        (self.folder() / f"{remote.id}.html").unlink(missing_ok=True)

    def _save(self, manifest: dict[str, Any]) -> None:
        write_atomic(self.folder() / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))
        self._write_index(manifest)

    def verify(self) -> str:
        self.folder().mkdir(parents=True, exist_ok=True)
        return f"writes to {self.folder()}"
