"""WordPress, through its REST API with an Application Password (core 5.6 and later).

Facts the code depends on (checked against a real WordPress 6.1 in the tests):
- Auth is HTTP Basic `user:application-password`; WordPress allows it only over HTTPS or
  on sites whose environment type is `local`.
- A post's tags and categories are term *ids*. The rendered draft carries their names
  (what a preview shows); they are resolved at publish time: look the slug up, else
  create the term, and on 400 `term_exists` reuse the `data.term_id` WordPress names.
- There is no idempotency key: the slug we choose is how a retry in doubt finds what an
  earlier attempt made (`GET /posts?slug=..&status=any&context=edit`).
- `status=future` with `date_gmt` schedules the post on the site itself.
- Errors are `{"code", "message", "data": {"status": N, ...}}`; validation is 400
  `rest_invalid_param` with `data.params` naming each bad field.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from connectors.base import Account, Connector, Dedupe, Draft, Kind, Post, Remote, RenderContext
from connectors.errors import (
    HTTP_STATUS,
    Answer,
    AuthExpired,
    ErrorQuirks,
    PublishError,
    Rejected,
    Rule,
)
from connectors.scheduling import as_utc, schedule_on_platform
from pipeline import fetch
from pipeline.document import Essay, slugify
from pipeline.render.html import render_html
from pipeline.render.parts import blocks_for

log = logging.getLogger(__name__)

API = "/wp-json/wp/v2"
IMAGE_MAX_BYTES = 10 * 1024 * 1024
IMAGE_SECONDS = 10.0
TAXONOMIES = ("tags", "categories")
NEW_PASSWORD = (
    "make a new Application Password (Users → Profile) and set it as "
    "targets.{name}.credentials.app_password, then `crosspost retry`"
)


class WordPress(Connector):
    platform: ClassVar[str] = "wordpress"
    kind: ClassVar[Kind] = Kind.BLOG
    dedupe: ClassVar[Dedupe] = Dedupe.LOOKUP
    can_edit: ClassVar[bool] = True
    errors = ErrorQuirks(
        words=lambda answer: _platform_words(answer.fields()) or f"HTTP {answer.status}",
        codes=lambda answer: (str(answer.fields().get("code") or ""),),
        says=HTTP_STATUS,
        rules=(
            Rule(
                AuthExpired,
                when=lambda answer: _forbidden_param(answer.fields()),
                next_step=NEW_PASSWORD,
            ),
            Rule(
                AuthExpired,
                statuses=(403,),
                next_step="give the WordPress user a role that may publish posts (Author or "
                "above), then `crosspost retry`",
            ),
        ),
        auth_step=NEW_PASSWORD,
        refusals=(
            Rule(
                Rejected,
                codes=("rest_post_invalid_id",),
                next_step="the post was deleted in WordPress: publish it again as new",
            ),
        ),
    )

    def __init__(self, account: Account, session: requests.Session | None = None) -> None:
        super().__init__(account, session)
        self._term_ids: dict[tuple[str, str], int] = {}
        self._media_ids: dict[str, int] = {}  # image URL -> attachment, so a retry reuses it

    # -- pure half ---------------------------------------------------------

    @classmethod
    def render(cls, essay: Essay, ctx: RenderContext) -> Draft:
        """The post as WordPress will store it, with term names where the API wants ids."""
        options = ctx.options
        slug = essay.effective_slug()
        body: dict[str, Any] = {
            "title": essay.title,
            "content": render_html(blocks_for(essay, "blog"), essay.footnotes),
            "excerpt": essay.subtitle or essay.lead(),
            "slug": slug,
            "status": "publish",
            "tags": list(dict.fromkeys(essay.tags)),
            "categories": _names(options.get("categories")),
        }
        if essay.publish_at is not None and schedule_on_platform(essay.publish_at, options):
            body["status"] = "future"
            body["date_gmt"] = wp_gmt(essay.publish_at)
        extras: dict[str, Any] = {}
        image = next((i for i in essay.images() if _is_web_url(i.src)), None)
        if image is not None and options.get("featured_image") is not False:
            extras["image_url"] = image.src
            extras["image_alt"] = image.alt
        return cls.draft(essay, ctx, request=body, slug=slug, extras=extras)

    # -- wire half ---------------------------------------------------------

    def create_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote:
        body = self._wire_body(post.request)
        media_id, skipped = self._featured_media(draft, None)
        if media_id is not None:
            body["featured_media"] = media_id
        answer = self._call("POST", "/posts", "publishing the post", json=body)
        return _remote(answer.json(), draft, media_id, skipped)

    def find_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote | None:
        """Our post, found by its slug among posts of any status (drafts and scheduled too)."""
        slug = post.request.get("slug") or draft.slug
        answer = self._call(
            "GET",
            "/posts",
            "looking the post up",
            params={"slug": slug, "status": "any", "context": "edit", "per_page": "10"},
        )
        for found in answer.json():
            if found.get("slug") == slug:
                return _remote(found, draft, found.get("featured_media") or None)
        return None

    def update(self, remote: Remote, draft: Draft) -> Remote:
        """Replace title, content, excerpt and terms in place; the slug (the URL) stays."""
        body = self._wire_body(draft.posts[0].request)
        body.pop("slug", None)
        media_id, skipped = self._featured_media(draft, remote)
        if media_id is not None:
            body["featured_media"] = media_id
        answer = self._call("POST", f"/posts/{_post_id(remote)}", "editing the post", json=body)
        return _remote(answer.json(), draft, media_id, skipped)

    def delete(self, remote: Remote) -> None:
        """Delete for good (`force=true`: no trash); a post already gone is fine."""
        self._call(
            "DELETE",
            f"/posts/{_post_id(remote)}",
            "deleting the post",
            params={"force": "true"},
            missing_ok=True,
        )

    def verify(self) -> str:
        """Who the Application Password belongs to: a wrong one fails here, not at publish."""
        me = self._call("GET", "/users/me", "checking the credentials", params={"context": "edit"})
        data = me.json()
        return str(data.get("name") or data.get("slug") or self._user())

    # -- terms ---------------------------------------------------------------

    def _wire_body(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The rendered body with term names replaced by ids; the draft stays as previewed.

        Tags are the essay's own, so an edit that drops one drops it on the site too.
        Categories are sent only when the target names some: an empty list would strip
        the ones the author chose in wp-admin (and leave a new post without "Uncategorized").
        """
        body = dict(request)
        for taxonomy in TAXONOMIES:
            names = body.pop(taxonomy, None) or []
            if names or taxonomy == "tags":
                body[taxonomy] = [self.term_id(taxonomy, name) for name in names]
        return body

    def term_id(self, taxonomy: str, name: str) -> int:
        """The id of the tag or category called `name`, creating it when the site lacks it.

        The slug lookup finds terms named the usual way; a term whose slug differs (renamed
        in wp-admin) is found by the create call itself, which answers `term_exists` with
        its id: one request instead of a search whose fuzzy matches would need filtering.
        """
        cached = self._term_ids.get((taxonomy, name.casefold()))
        if cached is not None:
            return cached
        doing = f"looking up the {_singular(taxonomy)} {name!r}"
        found = self._call("GET", f"/{taxonomy}", doing, params={"slug": slugify(name)}).json()
        # A term with our slug but another name ("C" for "C++") is not ours: creating ours
        # lets WordPress decide (a new slug, or `term_exists` for "open web" vs "Open Web").
        term = next((t for t in found if _same_name(t.get("name"), name)), None)
        term_id = int(term["id"]) if term is not None else self._create_term(taxonomy, name)
        self._term_ids[(taxonomy, name.casefold())] = term_id
        return term_id

    def _create_term(self, taxonomy: str, name: str) -> int:
        doing = f"creating the {_singular(taxonomy)} {name!r}"
        response = self._send("POST", f"/{taxonomy}", json={"name": name})
        if response.ok:
            return int(response.json()["id"])
        error = Answer.of(response).fields()
        existing = (error.get("data") or {}).get("term_id")
        if response.status_code == 400 and error.get("code") == "term_exists" and existing:
            return int(existing)
        raise self.error_from(response, self.failed(doing))

    # -- featured image --------------------------------------------------------

    def _featured_media(self, draft: Draft, remote: Remote | None) -> tuple[int | None, str | None]:
        """The attachment id of the essay's first image (uploading it when not yet there),
        or None and the reason it was skipped.

        A picture that cannot be fetched must not hold back the essay: the post goes out
        without a featured image, the reason is logged and kept on the `Remote`. Bad
        credentials still fail.
        """
        source = draft.extras.get("image_url")
        if not source:
            return None, None
        if remote is not None and remote.extra.get("image_url") == source:
            kept = remote.extra.get("featured_media")
            if kept:
                return int(kept), None
        if source in self._media_ids:
            return self._media_ids[source], None
        try:
            name, data, content_type = fetch_image(source)
        except ImageUnavailable as missing:
            log.warning("wordpress: publishing without a featured image: %s", missing)
            return None, str(missing)
        params = {"alt_text": draft.extras["image_alt"]} if draft.extras.get("image_alt") else {}
        try:
            answer = self._call(
                "POST",
                "/media",
                "uploading the featured image",
                data=data,
                params=params,
                headers={
                    "Content-Type": content_type,
                    "Content-Disposition": f'attachment; filename="{name}"',
                },
            )
            media_id = int(answer.json()["id"])
        except AuthExpired:
            raise
        except (PublishError, KeyError, TypeError, ValueError) as failed:
            log.warning("wordpress: publishing without a featured image: %s", failed)
            return None, str(failed)
        self._media_ids[source] = media_id
        return media_id, None

    # -- HTTP ----------------------------------------------------------------

    def _user(self) -> str:
        credentials = self.account.credentials
        if "user" in credentials:
            return self.account.secret("user")
        user = self.account.options.get("user")
        if not user:
            raise AuthExpired(
                f"wordpress: target {self.account.name!r} names no user",
                next_step=f"set targets.{self.account.name}.credentials.user (the login name)",
            )
        return str(user)

    def _send(self, method: str, path: str, **kw: Any) -> requests.Response:
        auth = (self._user(), self.account.secret("app_password"))
        return self.request(method, f"{self.base_url}{API}{path}", auth=auth, **kw)

    def _call(
        self, method: str, path: str, doing: str, *, missing_ok: bool = False, **kw: Any
    ) -> requests.Response:
        """One REST call; an error answer becomes the matching error of the family."""
        return self.checked(
            self._send(method, path, **kw), self.failed(doing), missing_ok=missing_ok
        )


# ---------------------------------------------------------------- image download


class ImageUnavailable(Exception):
    """The essay's image could not be fetched; the post goes out without it."""


def fetch_image(source: str) -> tuple[str, bytes, str]:
    """Download an http(s) image: at most 10 MB, 10 s in all, a few redirects, no loops.

    Returns (file name, bytes, content type). The download never carries the site's
    credentials (`pipeline.fetch` uses a session of its own).
    """
    try:
        image = fetch.fetch_image(
            source,
            max_bytes=IMAGE_MAX_BYTES,
            timeout=(5.0, IMAGE_SECONDS),
            total_seconds=IMAGE_SECONDS,
        )
    except fetch.FetchError as exc:
        raise ImageUnavailable(str(exc)) from None
    return _file_name(source, image.content_type), image.content, image.content_type


def _file_name(source: str, content_type: str) -> str:
    """A safe ASCII file name for Content-Disposition.

    WordPress decides the file type from the name's extension, so it follows the type the
    image was served with, not whatever the URL ended in.
    """
    subtype = content_type.split("/")[-1].lower()
    extension = {"jpeg": "jpg", "svg+xml": "svg"}.get(subtype, re.sub(r"[^a-z0-9]", "", subtype))
    stem = urlsplit(source).path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-")[:80] or "image"
    return f"{stem}.{extension or 'img'}"


# ---------------------------------------------------------------- helpers


def wp_gmt(moment: datetime) -> str:
    """WordPress's `date_gmt`: ISO 8601 in UTC without an offset; naive means UTC."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S")


def _names(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return list(dict.fromkeys(str(v).strip() for v in value if str(v).strip()))


def _same_name(stored: Any, name: str) -> bool:
    """WordPress stores `&` as `&amp;` in term names; compare as a reader sees them."""
    return html.unescape(str(stored or "")).strip().casefold() == name.strip().casefold()


def _singular(taxonomy: str) -> str:
    return {"tags": "tag", "categories": "category"}[taxonomy]


def _is_web_url(src: str) -> bool:
    return urlsplit(src).scheme in {"http", "https"}


def _post_id(remote: Remote) -> int:
    if not remote.id.isdigit():
        raise Rejected(f"wordpress: {remote.id!r} is not a WordPress post id")
    return int(remote.id)


def _forbidden_param(error: Mapping[str, Any]) -> bool:
    """A 400 whose real cause is missing rights: `status=any` asked without a valid login.

    WordPress 6.1 does not always report a wrong Application Password (it may treat the
    request as anonymous), and then a lookup fails on the `status` parameter instead.
    """
    data = error.get("data")
    details = data.get("details") if isinstance(data, dict) else None
    if not isinstance(details, dict):
        return False
    for detail in details.values():
        inner = detail.get("data") if isinstance(detail, dict) else None
        if isinstance(inner, dict) and inner.get("status") in (401, 403):
            return True
    return False


def _platform_words(error: Mapping[str, Any]) -> str:
    """WordPress's message, with each invalid field's reason for `rest_invalid_param`."""
    message = str(error.get("message") or error.get("error") or "").strip()
    data = error.get("data")
    params = data.get("params") if isinstance(data, dict) else None
    if isinstance(params, dict) and params:
        details = "; ".join(f"{field}: {reason}" for field, reason in params.items())
        message = f"{message} ({details})" if message else details
    code = str(error.get("code") or "")
    return f"{message} [{code}]" if code and message else message


def _remote(
    post: Mapping[str, Any], draft: Draft, media_id: int | None, skipped: str | None = None
) -> Remote:
    extra: dict[str, Any] = {
        key: post[key] for key in ("slug", "status", "date_gmt") if post.get(key)
    }
    source = draft.extras.get("image_url")
    if source and media_id:
        extra["image_url"] = source
        extra["featured_media"] = media_id
    if skipped:
        extra["featured_image_skipped"] = skipped
    return Remote(id=str(post["id"]), url=post.get("link"), extra=extra)
