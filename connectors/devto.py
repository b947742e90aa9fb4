"""dev.to (and any Forem community) through the Forem API v1.

Facts the code depends on (forem/forem: `app/controllers/concerns/api/articles_controller.rb`,
`app/models/article.rb`, `config/initializers/rack_attack.rb`):
- Auth is the `api-key` header (dev.to/settings/extensions) plus
  `Accept: application/vnd.forem.api-v1+json` (without it Forem serves the old v0 API).
  Requests without a User-Agent are reportedly refused ("Forbidden Bots").
- `POST /api/articles {"article": {...}}` answers 201 with the article (`id`, `url`);
  `PUT /api/articles/{id}` edits it. There is no delete endpoint.
- At most 4 tags, each alphanumeric (no spaces or hyphens), at most 30 characters; the
  title at most 128 characters; `canonical_url` is unique across the whole site.
- **No idempotency key.** What stands in for one: the same author may not reuse a title
  within five minutes ("Title has already been used in the last five minutes"), and never
  with the same body ("Body markdown has already been taken"). A retry in doubt looks the
  article up among the author's own (`GET /api/articles/me/all`, drafts included) by title
  and canonical URL; a create refused as a duplicate is resolved the same way, never
  reported as a failure when the article is in fact there.
- Rate limits (Rack::Attack, fixed one-second windows): 1 POST/PUT/DELETE per second per
  key, 3 GETs per second per IP; over them -> 429 with `Retry-After`. The app itself caps
  new published articles (9 per 30 s on dev.to) with a JSON 429 and `Retry-After: 30`.
  The engine never sleeps, so this connector spaces its own calls (`write_interval`,
  `read_interval`), measured from the end of the previous answer: the server then never
  sees two writes from this process in one window. Other processes using the same key
  are not covered; their collisions surface as `RateLimited` with the server's wait.
- Body text goes through Forem's Liquid pass: `{% ... %}` in an essay is read as a tag.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any, ClassVar

import requests

from connectors.base import Connector, Dedupe, Draft, Kind, Post, Remote, RenderContext
from connectors.errors import HTTP_STATUS, Answer, ErrorQuirks, Rejected, Rule
from pipeline.document import Essay
from pipeline.render.composer import shorten, teaser_of
from pipeline.render.markdown import render_markdown
from pipeline.render.parts import blocks_for

ACCEPT = "application/vnd.forem.api-v1+json"
MAX_TAGS = 4
MAX_TAG_LENGTH = 30
MAX_TITLE = 128
# Forem sets no limit on `description`; dev.to shows it as the card text and the meta
# description, which search engines cut near 150 characters.
DESCRIPTION_LENGTH = 150
DUPLICATE_SIGNS = (
    "title has already been used",
    "body markdown has already been taken",
    "canonical url has already been taken",
)

_pace_lock = threading.Lock()
_last_call: dict[str, float] = {}


class DevTo(Connector):
    rate_limit = (9, 30.0)  # published articles: 9 per 30 s (RateLimitChecker)
    platform: ClassVar[str] = "devto"
    kind: ClassVar[Kind] = Kind.BLOG
    dedupe: ClassVar[Dedupe] = Dedupe.LOOKUP
    can_edit: ClassVar[bool] = True
    default_base_url: ClassVar[str | None] = "https://dev.to"
    errors = ErrorQuirks(
        words=lambda answer: _platform_words(answer),
        says=HTTP_STATUS,
        auth_step="make a new API key at https://dev.to/settings/extensions and set "
        "targets.{name}.credentials.api_key, then `crosspost retry`",
        refusals=(
            Rule(
                Rejected,
                statuses=(404,),
                next_step="the article is gone from dev.to (or belongs to another account); "
                "publish it anew",
            ),
        ),
    )

    write_interval: ClassVar[float] = 1.0  # api_write_throttle: 1 write per second per key
    read_interval: ClassVar[float] = 0.34  # api_throttle: 3 GETs per second per IP
    lookup_page_size: ClassVar[int] = 100
    lookup_pages: ClassVar[int] = 3  # the author's 300 newest articles, drafts first

    # -- pure half ---------------------------------------------------------

    @classmethod
    def render(cls, essay: Essay, ctx: RenderContext) -> Draft:
        options = ctx.options
        title = essay.title.strip()
        if len(title) > MAX_TITLE:
            raise Rejected(
                f"devto: the title has {len(title)} characters; dev.to allows {MAX_TITLE}",
                next_step="shorten the title, then `crosspost retry`",
            )
        article: dict[str, Any] = {
            "title": title,
            "body_markdown": render_markdown(blocks_for(essay, "blog"), essay.footnotes),
            "published": not bool(options.get("draft")),
            "tags": devto_tags(essay.tags),
        }
        canonical = ctx.link or essay.canonical_url
        if canonical:
            article["canonical_url"] = canonical
        teaser = teaser_of(essay)
        if teaser:
            article["description"] = shorten(teaser, lambda t: len(t) <= DESCRIPTION_LENGTH)
        image = next((i.src for i in essay.images() if _is_web_url(i.src)), None)
        if image and options.get("main_image", True) is not False:
            article["main_image"] = image
        if options.get("series"):
            article["series"] = str(options["series"])
        if options.get("organization_id"):
            article["organization_id"] = int(options["organization_id"])
        return cls.draft(essay, ctx, request={"article": article}, title=title)

    # -- wire half ---------------------------------------------------------

    def create_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote:
        """Create the article; a refusal as a duplicate of our own article returns that one."""
        response = self._send("POST", "/api/articles", json=post.request)
        if response.ok:
            return _remote(response.json())
        error = self.error_from(response, self.failed("publishing the article"))
        said = (error.platform_message or "").lower()
        if response.status_code == 422 and any(sign in said for sign in DUPLICATE_SIGNS):
            found = self.find_post(post, key, chain, draft)
            if found is not None:
                return found
        raise error

    def find_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote | None:
        """Our article among the author's newest (drafts too), by title and canonical URL."""
        article = post.request["article"]
        title = _loose(article.get("title", ""))
        canonical = _url_key(article.get("canonical_url"))
        body = _loose(article.get("body_markdown", ""))
        for page in range(1, self.lookup_pages + 1):
            found = self._call(
                "GET",
                "/api/articles/me/all",
                "looking the article up",
                params={"per_page": str(self.lookup_page_size), "page": str(page)},
            ).json()
            for candidate in found:
                if _loose(candidate.get("title", "")) != title:
                    continue
                if canonical:
                    if _url_key(candidate.get("canonical_url")) == canonical:
                        return _remote(candidate)
                elif _loose(candidate.get("body_markdown") or "") == body:
                    return _remote(candidate)
            if len(found) < self.lookup_page_size:
                break
        return None

    def update(self, remote: Remote, draft: Draft) -> Remote:
        """Replace the article in place (PUT); its URL stays."""
        answer = self._call(
            "PUT",
            f"/api/articles/{int(remote.id)}",
            "editing the article",
            json=draft.posts[0].request,
        )
        return _remote(answer.json())

    def delete(self, remote: Remote) -> None:
        raise Rejected(
            "devto articles cannot be deleted through the Forem API",
            next_step="unpublish or delete the article on dev.to by hand",
        )

    def verify(self) -> str:
        me = self._call("GET", "/api/users/me", "checking the API key").json()
        return "@" + str(me.get("username") or me.get("id"))

    # -- HTTP ----------------------------------------------------------------

    def _send(self, method: str, path: str, **kw: Any) -> requests.Response:
        """One call, spaced from the previous one to stay inside Rack::Attack's windows."""
        api_key = self.account.secret("api_key")
        headers = {"api-key": api_key, "Accept": ACCEPT}
        if method.upper() == "GET":
            bucket, interval = f"{self.base_url}|read", self.read_interval
        else:
            digest = hashlib.sha256(api_key.encode()).hexdigest()[:16]
            bucket, interval = f"{self.base_url}|write|{digest}", self.write_interval
        with _pace_lock:
            wait = _last_call.get(bucket, float("-inf")) + interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                return self.request(method, path, headers=headers, **kw)
            finally:
                _last_call[bucket] = time.monotonic()

    def _call(self, method: str, path: str, doing: str, **kw: Any) -> requests.Response:
        return self.checked(self._send(method, path, **kw), self.failed(doing))


# ---------------------------------------------------------------- helpers


def devto_tags(tags: list[str]) -> list[str]:
    """Tags as Forem accepts them: lowercase letters and digits only, unique, the first 4.

    "Open Web" becomes "openweb", "node.js" "nodejs"; a tag left empty, or longer than
    Forem's 30 characters, is dropped rather than letting it refuse the whole article.
    """
    chosen: list[str] = []
    for tag in tags:
        name = "".join(ch for ch in tag.casefold() if ch.isalnum())
        if name and len(name) <= MAX_TAG_LENGTH and name not in chosen:
            chosen.append(name)
    return chosen[:MAX_TAGS]


def _remote(article: dict[str, Any]) -> Remote:
    extra = {k: article[k] for k in ("path", "published") if k in article}
    return Remote(id=str(article["id"]), url=article.get("url"), extra=extra)


def _platform_words(answer: Answer) -> str:
    data = answer.json()
    if data is None:
        return answer.text.strip()[:200] or f"HTTP {answer.status}"
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return str(data)[:200]


def _is_web_url(src: str) -> bool:
    return src.startswith(("http://", "https://"))


def _loose(text: str) -> str:
    return " ".join(text.split())


def _url_key(url: str | None) -> str:
    return (url or "").strip().rstrip("/")
