"""Ghost, through its Admin API: a blog, or a patronage site when posts are for paying members.

Facts the code depends on (Ghost 6 Admin API, checked against a real Ghost 6.65):
- Auth is a 5-minute HS256 JWT signed with the hex-decoded secret of an Admin API key
  `id:secret` (header `kid` = id, `aud` = "/admin/"), sent as `Authorization: Ghost <jwt>`.
- `POST /posts/?source=html` converts our HTML to Ghost's own format; `?newsletter=<slug>`
  on a publish or schedule also emails it. Ghost has no idempotency key: the post's slug,
  which we choose, is how a retry in doubt finds what an earlier attempt made.
- An edit must carry the post's current `updated_at`, or Ghost answers 409
  UpdateCollisionError; tags are replaced, not merged.
- Errors are `{"errors": [{"message", "context", "type", "code"}]}`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import jwt

from connectors.base import Connector, Dedupe, Draft, Kind, Post, Remote, RenderContext
from connectors.errors import (
    HTTP_STATUS,
    Answer,
    AuthExpired,
    ErrorQuirks,
    PublishError,
    Rejected,
    Rule,
)
from connectors.scheduling import as_utc
from pipeline import fetch
from pipeline.document import Essay
from pipeline.render.html import render_html
from pipeline.render.parts import blocks_for

API = "/ghost/api/admin"
ACCEPT_VERSION = "v5.0"
EXCERPT_LIMIT = 300  # Ghost's custom_excerpt column, counted in JavaScript string units
PAID_VISIBILITIES = frozenset({"paid", "tiers"})
VISIBILITIES = frozenset({"public", "members"}) | PAID_VISIBILITIES
IMAGE_MAX_BYTES = 10 * 1024 * 1024
IMAGE_TIMEOUT = (5.0, 20.0)
TOKEN_SECONDS = 300


def admin_token(admin_key: str, now: float | None = None) -> str:
    """A short-lived Admin API JWT from an `id:secret` key (the secret is hex)."""
    key_id, _, secret = admin_key.strip().partition(":")
    try:
        signing_key = bytes.fromhex(secret)
    except ValueError:
        signing_key = b""
    if not key_id or not signing_key:
        raise AuthExpired(
            "ghost: the admin_key is not an Admin API key of the form id:secret",
            next_step="copy the Admin API key from Ghost → Settings → Integrations",
        )
    issued = int(now if now is not None else time.time())
    payload = {"iat": issued, "exp": issued + TOKEN_SECONDS, "aud": "/admin/"}
    return jwt.encode(payload, signing_key, algorithm="HS256", headers={"kid": key_id})


class _Collision(Rejected):
    """409 UpdateCollisionError: someone saved the post after we read its `updated_at`."""


class Ghost(Connector):
    platform: ClassVar[str] = "ghost"
    kind: ClassVar[Kind] = Kind.BLOG
    dedupe: ClassVar[Dedupe] = Dedupe.LOOKUP
    can_edit: ClassVar[bool] = True
    errors = ErrorQuirks(
        words=lambda answer: _platform_words(_first_error(answer)) or f"HTTP {answer.status}",
        codes=lambda answer: (_first_error(answer).get("type"), _first_error(answer).get("code")),
        says=HTTP_STATUS,
        rules=(Rule(_Collision, statuses=(409,), codes=("UpdateCollisionError",)),),
        auth=(401, 403),
        auth_codes=("INVALID_JWT", "UnauthorizedError"),
        auth_step="renew the Admin API key (Ghost → Settings → Integrations), then "
        "`crosspost retry`",
        in_doubt=(504,),  # a gateway gave up waiting; Ghost may still have saved the post
    )

    # -- pure half ---------------------------------------------------------

    @classmethod
    def kind_for(cls, options: Mapping[str, Any]) -> Kind:
        """Patronage when the account's posts are for paying members only, else a blog."""
        return Kind.PATRONAGE if _requested_visibility(options) in PAID_VISIBILITIES else cls.kind

    @classmethod
    def render(cls, essay: Essay, ctx: RenderContext) -> Draft:
        options = ctx.options
        kind = cls.kind_for(options)
        audience = "patronage" if kind is Kind.PATRONAGE else "blog"
        slug = essay.effective_slug()
        post: dict[str, Any] = {
            "title": essay.title,
            "html": render_html(blocks_for(essay, audience), essay.footnotes),
            "slug": slug,
        }
        excerpt = clip_excerpt(essay.subtitle or essay.lead())
        if excerpt:
            post["custom_excerpt"] = excerpt
        post["tags"] = list(dict.fromkeys(essay.tags))
        post["status"] = str(options.get("status") or "published")
        if essay.publish_at is not None and options.get("schedule_on_platform"):
            post["status"] = "scheduled"
            post["published_at"] = ghost_time(essay.publish_at)
        if essay.canonical_url:
            post["canonical_url"] = essay.canonical_url
        visibility = _visibility(options)
        post["visibility"] = visibility
        if visibility == "tiers":
            post["tiers"] = [{"id": str(tier)} for tier in _tier_ids(options)]
        extras: dict[str, Any] = {}
        if options.get("feature_image") is not False:
            source = next((i.src for i in essay.images() if _is_web_url(i.src)), None)
            if source:
                extras["feature_image_source"] = source
        if options.get("newsletter") and post["status"] in {"published", "scheduled"}:
            extras["newsletter"] = str(options["newsletter"])
            extras["email_segment"] = str(options.get("email_segment") or "all")
        return cls.draft(essay, ctx, request={"posts": [post]}, slug=slug, extras=extras)

    # -- wire half ---------------------------------------------------------

    def create_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote:
        body = _copy_body(post)
        source = draft.extras.get("feature_image_source")
        fields = body["posts"][0]
        if source and "feature_image" not in fields:
            image = self.upload_feature_image(source)
            if image:
                fields["feature_image"] = image
        params = {"source": "html"}
        if draft.extras.get("newsletter"):
            params["newsletter"] = draft.extras["newsletter"]
            params["email_segment"] = draft.extras.get("email_segment", "all")
        answer = self._call("POST", "/posts/", "publishing the post", params=params, json=body)
        remote = _remote(answer.json()["posts"][0])
        if source:
            remote.extra["feature_image_source"] = source
            remote.extra["feature_image"] = fields.get("feature_image")
        return remote

    def find_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote | None:
        """The post with our slug, if its title is ours: Ghost gave the slug to nobody else."""
        fields = post.request["posts"][0]
        found = self.read_by_slug(fields["slug"])
        if found is None or found.get("title") != fields.get("title"):
            return None
        return _remote(found)

    def read_by_slug(self, slug: str) -> dict[str, Any] | None:
        answer = self._call(
            "GET", f"/posts/slug/{quote(slug, safe='')}/", "looking the post up", missing_ok=True
        )
        return None if answer is None else answer.json()["posts"][0]

    def update(self, remote: Remote, draft: Draft) -> Remote:
        """Replace the post's content in place, keeping its slug (its URL) unchanged.

        Ghost refuses an edit that does not carry the post's current `updated_at`; someone
        may have edited it in Ghost's editor since, so read it first and retry once on 409.
        """
        fields = _copy_body(draft.posts[0])["posts"][0]
        fields.pop("slug", None)
        source = draft.extras.get("feature_image_source")
        if source and "feature_image" not in fields:
            if source == remote.extra.get("feature_image_source") and remote.extra.get(
                "feature_image"
            ):
                fields["feature_image"] = remote.extra["feature_image"]
            else:
                image = self.upload_feature_image(source)
                if image:
                    fields["feature_image"] = image
        for attempt in range(2):
            current = self._call("GET", f"/posts/{remote.id}/", "reading the post to edit")
            fields["updated_at"] = current.json()["posts"][0]["updated_at"]
            try:
                answer = self._call(
                    "PUT",
                    f"/posts/{remote.id}/",
                    "editing the post",
                    params={"source": "html"},
                    json={"posts": [fields]},
                )
            except _Collision as collision:
                if attempt == 0:
                    continue
                raise Rejected(
                    "ghost: the post changed in Ghost while we were editing it",
                    platform_message=collision.platform_message,
                    next_step="check the post in Ghost's editor, then `crosspost retry`",
                    status=409,
                ) from None
            updated = _remote(answer.json()["posts"][0])
            updated.extra.update({k: v for k, v in remote.extra.items() if k.startswith("feature")})
            if source:
                updated.extra["feature_image_source"] = source
                updated.extra["feature_image"] = fields.get("feature_image")
            return updated
        raise AssertionError("unreachable")  # pragma: no cover

    def delete(self, remote: Remote) -> None:
        self._call("DELETE", f"/posts/{remote.id}/", "deleting the post", missing_ok=True)

    def verify(self) -> str:
        """The site's title, read with our key so a wrong key fails here and not at publish."""
        self._call(
            "GET", "/posts/", "checking the Admin API key", params={"limit": "1", "fields": "id"}
        )
        site = self._call("GET", "/site/", "reading the site").json().get("site", {})
        return str(site.get("title") or site.get("url") or host_of_base(self.base_url))

    # -- feature image -------------------------------------------------------

    def upload_feature_image(self, source: str) -> str | None:
        """Copy the essay's first image into Ghost; None when it cannot be fetched.

        A missing picture must not hold back the essay, so any failure short of bad
        credentials leaves the post without a feature image.
        """
        fetched = fetch_image(source)
        if fetched is None:
            return None
        name, data, content_type = fetched
        try:
            answer = self._call(
                "POST",
                "/images/upload/",
                "uploading the feature image",
                files={"file": (name, data, content_type)},
                data={"purpose": "image"},
            )
            return answer.json()["images"][0]["url"]
        except AuthExpired:
            raise
        except (PublishError, KeyError, IndexError, ValueError):
            return None

    # -- HTTP ----------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        token = admin_token(self.account.secret("admin_key"))
        return {"Authorization": f"Ghost {token}", "Accept-Version": ACCEPT_VERSION}

    def _call(
        self, method: str, path: str, doing: str, *, missing_ok: bool = False, **kw: Any
    ) -> Any:
        """One Admin API call; an error answer becomes the matching error of the family."""
        response = self.request(
            method, f"{self.base_url}{API}{path}", headers=self._headers(), **kw
        )
        self.checked(response, self.failed(doing), missing_ok=missing_ok)
        return None if response.status_code == 404 else response


# ---------------------------------------------------------------- helpers


def _requested_visibility(options: Mapping[str, Any]) -> str:
    """Who may read the posts: `public` unless the account says otherwise.

    Listing `tiers` without a visibility means those tiers only.
    """
    return str(options.get("visibility") or ("tiers" if options.get("tiers") else "public"))


def _visibility(options: Mapping[str, Any]) -> str:
    value = _requested_visibility(options)
    if value not in VISIBILITIES:
        raise Rejected(
            f"ghost: visibility {value!r} is not one of {', '.join(sorted(VISIBILITIES))}",
            next_step="set the target's `visibility` option to public, members, paid or tiers",
        )
    return value


def _tier_ids(options: Mapping[str, Any]) -> list[str]:
    tiers = options.get("tiers") or []
    if isinstance(tiers, str):
        tiers = [tiers]
    if not tiers:
        raise Rejected(
            "ghost: visibility 'tiers' needs the `tiers` option (the ids of the tiers)",
            next_step="list the tier ids in the target's `tiers` option",
        )
    return [str(t) for t in tiers]


def clip_excerpt(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """Fit Ghost's excerpt limit, cutting at a word and marking the cut with an ellipsis.

    Ghost counts in UTF-16 units (JavaScript string length), so an emoji counts twice.
    """
    text = " ".join(text.split())
    if _js_len(text) <= limit:
        return text
    cut = ""
    for word in text.split(" "):
        candidate = f"{cut} {word}" if cut else word
        if _js_len(candidate) + 1 > limit:
            break
        cut = candidate
    if not cut:  # one enormous word: cut inside it
        cut = text
        while _js_len(cut) + 1 > limit:
            cut = cut[:-1]
    return cut.rstrip(" ,;:.") + "…"


def _js_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def ghost_time(moment: datetime) -> str:
    """Ghost's timestamp format, in UTC; a naive time is taken to be UTC already."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _is_web_url(src: str) -> bool:
    return urlsplit(src).scheme in {"http", "https"}


def fetch_image(source: str) -> tuple[str, bytes, str] | None:
    """Download an http(s) image, at most `IMAGE_MAX_BYTES`; None on any failure."""
    try:
        image = fetch.fetch_image(source, max_bytes=IMAGE_MAX_BYTES, timeout=IMAGE_TIMEOUT)
    except fetch.FetchError:
        return None
    name = urlsplit(source).path.rsplit("/", 1)[-1] or "image"
    if "." not in name:
        name = f"{name}.{image.content_type.split('/')[-1].split('+')[0]}"
    return name, image.content, image.content_type


def _copy_body(post: Post) -> dict[str, Any]:
    """A copy to add publish-time fields to: the rendered draft stays as previewed."""
    return {"posts": [dict(post.request["posts"][0])]}


def _remote(post: Mapping[str, Any]) -> Remote:
    extra = {key: post[key] for key in ("updated_at", "slug", "status") if post.get(key)}
    return Remote(id=str(post["id"]), url=post.get("url"), extra=extra)


def _first_error(answer: Answer) -> dict[str, Any]:
    errors = answer.fields().get("errors") or []
    return errors[0] if errors and isinstance(errors[0], dict) else {}


def _platform_words(error: Mapping[str, Any]) -> str:
    parts = [str(error[key]) for key in ("message", "context") if error.get(key)]
    return " ".join(parts)


def host_of_base(base_url: str) -> str:
    return urlsplit(base_url).netloc or base_url
