"""Mastodon: an announcement (or the essay as a thread) posted as statuses.

Why it looks like this:
- Limits are the instance's own (`GET /api/v2/instance`: `max_characters`,
  `characters_reserved_per_url`), because many instances raise 500. `render` is pure, so the
  engine calls `fetch_limits()` first and passes the result in `ctx.limits`; without it we
  assume Mastodon's defaults (500, 23).
- Every create carries `Idempotency-Key`: Mastodon keeps it for one hour per account and
  answers a repeat with the status first created, so a blind retry within the hour is safe.
- `find_post` must be a pure look-up (a replay with the key would *create* the status if
  the first attempt never arrived), so it scans the account's 40 newest statuses for one in
  the same place of the thread (same `in_reply_to_id`) whose text matches, and confirms the
  exact source text through `GET /api/v1/statuses/:id/source`. A status that drifted out of
  the 40 newest is not found; the key still protects the retry that follows within the hour.
- Thread replies reply to the previous status (`in_reply_to_id`, filled at publish). Their
  visibility is option `reply_visibility`, by default the root's: a reader who can see the
  first post can read the rest. Set it to `unlisted` to keep replies off public timelines.
- An image is attached only with option `attach_image`: the essay's first image is fetched
  (http/https, size cap, timeout), uploaded to `/api/v2/media` with its alt text, and polled
  (bounded) while the instance answers 202/206 "still processing".
- `update` edits the first status in place (`PUT /api/v1/statuses/:id`); visibility cannot
  change on Mastodon and the rest of a thread is left as it is.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from connectors.base import Dedupe, Draft, Post, Remote, RenderContext
from connectors.errors import (
    Answer,
    ErrorQuirks,
    PublishError,
    Rejected,
    Says,
    Transient,
    header_wait,
)
from connectors.social import SocialConnector, social_texts
from pipeline import fetch
from pipeline.document import Essay
from pipeline.render.lengths import LengthRule, count_mastodon

DEFAULT_LIMITS: dict[str, int] = {"max_characters": 500, "characters_reserved_per_url": 23}
VISIBILITIES = ("public", "unlisted", "private", "direct")
IMAGE_MAX_BYTES = 8 * 1024 * 1024  # below every instance's default (16 MB) image limit
IMAGE_TIMEOUT = (5.0, 20.0)
SCAN_LIMIT = 40  # the most /api/v1/accounts/:id/statuses returns in one page

_LIMITS_CACHE: dict[str, dict[str, int]] = {}


class Mastodon(SocialConnector):
    rate_limit = (300, 300.0)  # 300 requests per 5 minutes per token (Rack::Attack)
    platform = "mastodon"
    dedupe = Dedupe.IDEMPOTENCY_KEY
    can_edit = True
    default_base_url = None  # every account names its instance

    errors = ErrorQuirks(
        words=lambda answer: _error_text(answer),
        wait=lambda answer: _reset_wait(answer),
        says=Says(auth="{what}: the access token was refused"),
        transient=(),
    )

    media_poll_interval: ClassVar[float] = 1.0
    media_poll_attempts: ClassVar[int] = 20

    # -- pure half -------------------------------------------------------

    @classmethod
    def length_rule(cls, ctx: RenderContext | None = None) -> LengthRule:
        limits = {**DEFAULT_LIMITS, **(dict(ctx.limits) if ctx else {})}
        url_length = int(limits["characters_reserved_per_url"])
        return LengthRule(
            int(limits["max_characters"]),
            lambda text: count_mastodon(text, url_length=url_length),
            "mastodon",
        )

    @classmethod
    def render(cls, essay: Essay, ctx: RenderContext) -> Draft:
        options = ctx.options
        visibility = _visibility(options.get("visibility", "public"), "visibility")
        reply_visibility = _visibility(
            options.get("reply_visibility", visibility), "reply_visibility"
        )
        spoiler = str(options.get("spoiler_text") or "")
        language = options.get("language") or essay.language
        base = cls.length_rule(ctx)
        # spoiler_text counts towards the limit (StatusLengthValidator joins both).
        spoiler_length = base.count(spoiler) if spoiler else 0
        rule = LengthRule(base.limit - spoiler_length, base.count, "mastodon")
        texts = social_texts("mastodon", essay, ctx, rule)
        posts = []
        for index, text in enumerate(texts):
            body: dict[str, Any] = {
                "status": text,
                "visibility": visibility if index == 0 else reply_visibility,
            }
            if language:
                body["language"] = language
            if spoiler:
                body["spoiler_text"] = spoiler
            length = rule.count(text) + spoiler_length
            posts.append(Post(request=body, text=text, length=length, limit=base.limit))
        extras: dict[str, Any] = {}
        images = essay.images()
        if options.get("attach_image") and images:
            extras["image"] = {"src": images[0].src, "alt": images[0].alt or images[0].caption}
        return cls.draft(essay, ctx, posts, extras=extras)

    # -- limits --------------------------------------------------------------

    def fetch_limits(self) -> dict[str, int]:
        """The instance's status limits, cached per instance; Mastodon's defaults on failure."""
        cached = _LIMITS_CACHE.get(self.base_url)
        if cached is not None:
            return dict(cached)
        limits = dict(DEFAULT_LIMITS)
        try:
            response = self.request("GET", "/api/v2/instance")
            statuses = response.json().get("configuration", {}).get("statuses", {})
            for key in limits:
                if isinstance(statuses.get(key), int) and statuses[key] > 0:
                    limits[key] = statuses[key]
        except (PublishError, ValueError, AttributeError):
            return limits  # unknown now; do not cache, try again next time
        if response.ok:
            _LIMITS_CACHE[self.base_url] = limits
        return dict(limits)

    # -- wire half -----------------------------------------------------------

    def _headers(self, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.account.secret('access_token')}"}
        if key:
            headers["Idempotency-Key"] = key
        return headers

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        key = kw.pop("key", None)
        response = self.request(method, path, headers=self._headers(key), **kw)
        self.checked(response, self.who)
        return response.json() if response.content else None

    def create_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote:
        body = dict(post.request)
        if chain:
            body["in_reply_to_id"] = chain[-1].id
        elif draft.extras.get("image"):
            body["media_ids"] = [self._upload_image(draft.extras["image"])]
        return _remote(self._call("POST", "/api/v1/statuses", json=body, key=key))

    def find_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote | None:
        me = self._call("GET", "/api/v1/accounts/verify_credentials")["id"]
        recent = self._call("GET", f"/api/v1/accounts/{me}/statuses", params={"limit": SCAN_LIMIT})
        reply_to = chain[-1].id if chain else None
        text = post.request.get("status", "")
        spoiler = post.request.get("spoiler_text", "")
        for status in recent or []:
            if status.get("in_reply_to_id") != reply_to or status.get("reblog"):
                continue
            if _loose(_content_text(status.get("content", ""))) != _loose(_as_displayed(text)):
                continue
            source = self._call("GET", f"/api/v1/statuses/{status['id']}/source")
            if source.get("text") == text and (source.get("spoiler_text") or "") == spoiler:
                return _remote(status)
        return None

    def update(self, remote: Remote, draft: Draft) -> Remote:
        body = {k: v for k, v in draft.posts[0].request.items() if k != "visibility"}
        return _remote(self._call("PUT", f"/api/v1/statuses/{remote.id}", json=body))

    def delete(self, remote: Remote) -> None:
        self._call("DELETE", f"/api/v1/statuses/{remote.id}")

    def verify(self) -> str:
        return "@" + self._call("GET", "/api/v1/accounts/verify_credentials")["acct"]

    # -- media ---------------------------------------------------------------

    def _upload_image(self, image: dict[str, str]) -> str:
        """Upload the image and wait (bounded) until Mastodon has processed it."""
        data, filename, content_type = self._download(image["src"])
        media = self._call(
            "POST",
            "/api/v2/media",
            files={"file": (filename, data, content_type)},
            data={"description": image.get("alt", "")[:1500]},
        )
        for _ in range(self.media_poll_attempts):
            if media.get("url"):
                return str(media["id"])
            time.sleep(self.media_poll_interval)
            media = self._call("GET", f"/api/v1/media/{media['id']}")
        if media.get("url"):
            return str(media["id"])
        raise Transient("mastodon: the image is still being processed; try again later")

    def _download(self, src: str) -> tuple[bytes, str, str]:
        if urlsplit(src).scheme not in {"http", "https"}:
            raise Rejected(
                f"mastodon: cannot attach image {src!r}: only http(s) images can be fetched",
                next_step="use an absolute http(s) image URL or set attach_image = false",
            )
        try:
            got = fetch.fetch(src, max_bytes=IMAGE_MAX_BYTES, timeout=IMAGE_TIMEOUT)
        except fetch.FetchError as exc:
            if "larger than" in str(exc):
                raise Rejected(
                    f"mastodon: the image {src!r} is larger than {IMAGE_MAX_BYTES} bytes",
                    next_step="use a smaller image or set attach_image = false",
                ) from None
            if exc.permanent:  # a 4xx, a redirect to file:// or in a loop: it will not change
                raise Rejected(
                    f"mastodon: the image {src!r}: {exc}",
                    next_step="fix the image URL or set attach_image = false",
                ) from None
            raise Transient(f"mastodon: could not fetch the image: {exc}") from None
        filename = urlsplit(src).path.rsplit("/", 1)[-1] or "image"
        return got.content, filename, got.content_type or "application/octet-stream"


# ---------------------------------------------------------------- helpers


def _visibility(value: Any, name: str) -> str:
    if value not in VISIBILITIES:
        raise Rejected(
            f"mastodon: option {name} must be one of {', '.join(VISIBILITIES)}, not {value!r}"
        )
    return str(value)


def _remote(status: dict[str, Any]) -> Remote:
    return Remote(id=str(status["id"]), url=status.get("url") or status.get("uri"))


def _error_text(answer: Answer) -> str:
    data = answer.json()
    if data is None:
        return answer.text[:200]
    if isinstance(data, dict):
        parts = [str(data[k]) for k in ("error", "error_description") if data.get(k)]
        return ": ".join(parts) or str(data)[:200]
    return str(data)[:200]


def _reset_wait(answer: Answer) -> float | None:
    """Seconds until `X-RateLimit-Reset` (an ISO 8601 time); Mastodon sends no Retry-After."""
    reset = answer.headers.get("X-RateLimit-Reset")
    if reset:
        try:
            moment = datetime.fromisoformat(reset.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return max(0.0, (moment - datetime.now(UTC)).total_seconds())
    return header_wait(answer)


def _content_text(content: str) -> str:
    """A status's HTML `content` back to text: paragraphs and `<br>` become newlines."""
    soup = BeautifulSoup(content, "html.parser")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    paragraphs = soup.find_all("p")
    if not paragraphs:
        return soup.get_text()
    return "\n\n".join(p.get_text() for p in paragraphs)


def _as_displayed(text: str) -> str:
    """Our text as Mastodon displays it: a remote mention shows its username only."""
    import re

    return re.sub(r"(?<![\w/])@([a-z0-9_]+)@[a-z0-9.\-]+[a-z0-9]", r"@\1", text, flags=re.I)


def _loose(text: str) -> str:
    return " ".join(text.split())
