"""Bluesky (AT Protocol): announcement or thread posts, each created under a key we choose.

Exactly-once: every post's record key (rkey) is a TID we generate before sending
(`new_key`, `post_key` = first key + i µs), so after a lost answer `find_post` asks the PDS
for that very record (`getRecord`) instead of guessing from text, and a create that collides
with an existing rkey resolves to the record already there, never to a second post.

`render` is pure, so three fields of each create body are placeholders filled at publish:
- `repo`: the handle/identifier from the options (or ""); replaced by the session's DID;
- `rkey`: ""; replaced by the post's key;
- `record.createdAt`: the `now` option or the essay's `publish_at`, else `PUBLISH_TIME`,
  replaced by the time of the create call.
At publish time we also add `record.reply` (thread root and parent from the chain) and the
link card's `thumb` (the essay's first image, downloaded and uploaded as a blob).

Facts (lexicons app.bsky.feed.post, app.bsky.embed.external, pds auth-verifier):
text ≤ 300 graphemes and ≤ 3000 UTF-8 bytes; facet offsets are UTF-8 byte ranges; a thumb
is ≤ 1,000,000 bytes `image/*`; errors are `{"error","message"}`; an expired access token
is 400 `ExpiredToken`; 429 `RateLimitExceeded` carries `Retry-After` / `RateLimit-Reset`.
"""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from connectors.base import Dedupe, Draft, Post, Remote, RenderContext
from connectors.errors import (
    Answer,
    AuthExpired,
    ErrorQuirks,
    PublishError,
    RateLimited,
    Rejected,
    Rule,
    Says,
    Transient,
    header_wait,
)
from connectors.social import SocialConnector, social_texts
from connectors.tid import is_tid, later_tid, new_tid
from pipeline import fetch
from pipeline.document import Essay
from pipeline.render.composer import shorten, teaser_of
from pipeline.render.facets import LINK, bluesky_facets, byte_range
from pipeline.render.lengths import graphemes

COLLECTION = "app.bsky.feed.post"
LINK_TEXT_GRAPHEMES = 27  # a link shows as "host/path…" this long at most, whatever the URL
PUBLISH_TIME = "<publish time>"  # render's createdAt when neither `now` nor publish_at is known
THUMB_MAX_BYTES = 1_000_000  # app.bsky.embed.external: thumb maxSize
THUMB_TIMEOUT = (5.0, 15.0)
TEASER_GRAPHEMES = 300  # a card shows ~2 lines; the lexicon sets no limit
AUTH_ERRORS = frozenset(
    {
        "AuthMissing",
        "AuthRequired",
        "AuthenticationRequired",
        "InvalidToken",
        "ExpiredToken",
        "AccountTakedown",
        "AccountDeactivated",
        "AuthFactorTokenRequired",
        "BadJwt",
    }
)
SESSION_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "BadJwt"})  # refresh, then retry


class Bluesky(SocialConnector):
    rate_limit = (1666, 3600.0)  # 5,000 points per hour per DID, a create costs 3
    platform: ClassVar[str] = "bluesky"
    dedupe: ClassVar[Dedupe] = Dedupe.RECORD_KEY
    can_edit: ClassVar[bool] = True
    default_base_url: ClassVar[str | None] = "https://bsky.social"
    # `{"error","message"}`: a rate limit first, whatever else the answer says
    errors = ErrorQuirks(
        words=lambda answer: str(
            answer.fields().get("message") or _xrpc_name(answer) or answer.reason or ""
        ),
        codes=lambda answer: (_xrpc_name(answer),),
        wait=lambda answer: _wait(answer),
        says=Says.always("{what}"),
        rules=(
            Rule(RateLimited, statuses=(429,)),
            Rule(RateLimited, codes=("RateLimitExceeded",)),
        ),
        auth=(401, 403),
        auth_codes=AUTH_ERRORS,
        auth_step="check targets.{name} identifier and app password "
        "(Bluesky Settings → App passwords), then `crosspost retry`",
        transient=(),
    )

    session: dict[str, Any] | None = None

    # ---------------------------------------------------------------- pure half

    @classmethod
    def new_key(cls) -> str:
        return new_tid()

    @classmethod
    def post_key(cls, key: str, index: int) -> str:
        """Post i's rkey: a valid TID i µs after the publication's key, so keys sort in order."""
        return later_tid(key, index)

    @classmethod
    def render(cls, essay: Essay, ctx: RenderContext) -> Draft:
        rule = cls.length_rule(ctx)
        link = ctx.link or essay.canonical_url
        options = ctx.options
        texts = social_texts("bluesky", essay, ctx, rule, link_text=link_text)
        created_at = _created_at(options.get("now"), essay.publish_at)
        langs = _langs(options.get("langs"), essay.language)
        repo = str(options.get("handle") or options.get("identifier") or "")
        posts: list[Post] = []
        for index, text in enumerate(texts):
            record: dict[str, Any] = {"$type": COLLECTION, "text": text, "createdAt": created_at}
            if langs:
                record["langs"] = langs
            facets = bluesky_facets(text)
            if link:
                facets = with_link_facet(text, facets, link_text(link), link)
            if facets:
                record["facets"] = facets
            if index == 0 and link:
                record["embed"] = {
                    "$type": "app.bsky.embed.external",
                    "external": {"uri": link, "title": essay.title, "description": teaser(essay)},
                }
            body = {"repo": repo, "collection": COLLECTION, "rkey": "", "record": record}
            posts.append(Post(request=body, text=text, length=rule.count(text), limit=rule.limit))
        extras: dict[str, Any] = {}
        images = [i for i in essay.images() if urlsplit(i.src).scheme in {"http", "https"}]
        if link and images:
            extras["thumb_url"] = images[0].src
        return cls.draft(essay, ctx, posts, extras=extras)

    # ---------------------------------------------------------------- wire half

    def create_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote:
        session = self._session()
        body = self._body(post, key, chain, draft, session)
        try:
            answer = self._call("POST", "com.atproto.repo.createRecord", json=body)
        except (Transient, Rejected) as exc:
            # A second create with an rkey already taken fails (the repo's tree refuses a
            # duplicate key): the first attempt landed, so it is the answer, not an error.
            if not _may_be_duplicate(exc):
                raise
            found = self.find_post(post, key, chain, draft)
            if found is None:
                raise
            return found
        return self._remote(key, answer["uri"], answer["cid"], session)

    def find_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote | None:
        session = self._session()
        record = self._get_record(session["did"], key)
        if record is None:
            return None
        return self._remote(key, record["uri"], record["cid"], session)

    def update(self, remote: Remote, draft: Draft) -> Remote:
        """Rewrite each post of the thread in place (`putRecord`), keeping its createdAt."""
        session = self._session()
        key = remote.id
        extra_key = self.post_key(key, len(draft.posts))
        if self._get_record(session["did"], extra_key) is not None:
            raise Rejected(
                "bluesky: the edited essay makes a shorter thread than the one published",
                next_step="delete the published thread, then publish the essay again",
            )
        chain: list[Remote] = []
        for index, post in enumerate(draft.posts):
            post_key = self.post_key(key, index)
            current = self._get_record(session["did"], post_key)
            if current is None:
                raise Rejected(
                    f"bluesky: post {index + 1} of the published thread is missing, or the "
                    "edited essay makes a longer thread",
                    next_step="delete the published thread, then publish the essay again",
                )
            body = self._body(post, post_key, chain, draft, session)
            body["record"]["createdAt"] = current["value"].get(
                "createdAt", body["record"]["createdAt"]
            )
            body["swapRecord"] = current["cid"]
            answer = self._call("POST", "com.atproto.repo.putRecord", json=body)
            chain.append(self._remote(post_key, answer["uri"], answer["cid"], session))
        return chain[0]

    def delete(self, remote: Remote) -> None:
        """Delete the post and, for a thread, every reply made under the derived keys."""
        session = self._session()
        index = 0
        while True:
            post_key = self.post_key(remote.id, index)
            if index > 0 and self._get_record(session["did"], post_key) is None:
                return
            self._call(
                "POST",
                "com.atproto.repo.deleteRecord",
                json={"repo": session["did"], "collection": COLLECTION, "rkey": post_key},
            )
            index += 1

    def verify(self) -> str:
        self.session = None
        return str(self._session()["handle"])

    # ---------------------------------------------------------------- helpers

    def _body(
        self, post: Post, key: str, chain: list[Remote], draft: Draft, session: dict[str, Any]
    ) -> dict[str, Any]:
        """The rendered body with the publish-time fields filled in (see the module doc)."""
        if not is_tid(key):
            raise Rejected(f"bluesky: record key {key!r} is not a TID")
        body = copy.deepcopy(post.request)
        body["repo"] = session["did"]
        body["rkey"] = key
        record = body["record"]
        if record.get("createdAt") in (None, "", PUBLISH_TIME):
            record["createdAt"] = iso_z(datetime.now(UTC))
        if chain:
            record["reply"] = {"root": strong_ref(chain[0]), "parent": strong_ref(chain[-1])}
        external = (record.get("embed") or {}).get("external")
        thumb_url = draft.extras.get("thumb_url")
        if not chain and external is not None and thumb_url and "thumb" not in external:
            blob = self._thumb(str(thumb_url))
            if blob is not None:
                external["thumb"] = blob
        return body

    def _thumb(self, url: str) -> dict[str, Any] | None:
        """The image as an uploaded blob, or None when it cannot be a thumb (a card without
        a picture beats no post): not http(s), unreachable, not an image, or too large."""
        try:
            image = fetch.fetch_image(
                url, max_bytes=THUMB_MAX_BYTES, timeout=THUMB_TIMEOUT, guess_type=True
            )
        except fetch.FetchError:
            return None
        mime, data = image.content_type, image.content
        try:
            uploaded = self._call(
                "POST",
                "com.atproto.repo.uploadBlob",
                data=bytes(data),
                headers={"Content-Type": mime},
            )
        except (Transient, Rejected) as exc:
            if isinstance(exc, RateLimited):
                raise
            return None
        return uploaded.get("blob")

    def _get_record(self, did: str, rkey: str) -> dict[str, Any] | None:
        try:
            return self._call(
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": did, "collection": COLLECTION, "rkey": rkey},
            )
        except Rejected as exc:
            if exc.status == 404 or "RecordNotFound" in str(exc.message):
                return None
            raise

    def _remote(self, rkey: str, uri: str, cid: str, session: dict[str, Any]) -> Remote:
        handle = session.get("handle") or session["did"]
        return Remote(
            id=rkey,
            url=f"https://bsky.app/profile/{handle}/post/{rkey}",
            extra={"uri": uri, "cid": cid},
        )

    def _identifier(self) -> str:
        for name in ("identifier", "handle"):
            if name in self.account.credentials:
                return self.account.secret(name)
        return self.account.secret("identifier")  # raises AuthExpired naming what to set

    def _session(self) -> dict[str, Any]:
        """The cached session, or a new one from identifier + app password."""
        if self.session is None:
            self.session = self._xrpc(
                "POST",
                "com.atproto.server.createSession",
                json={
                    "identifier": self._identifier(),
                    "password": self.account.secret("app_password"),
                },
            )
        return self.session

    def _refresh(self) -> None:
        """New tokens from the refresh token; a fresh login when that one is dead too."""
        refresh_jwt = (self.session or {}).get("refreshJwt")
        self.session = None
        if refresh_jwt:
            try:
                self.session = self._xrpc(
                    "POST", "com.atproto.server.refreshSession", token=refresh_jwt
                )
            except AuthExpired:
                self.session = None
        self._session()

    def _call(self, method: str, nsid: str, **kw: Any) -> dict[str, Any]:
        """An authenticated XRPC call; on an expired/invalid access token, refresh once and
        retry once (the refused call created nothing, so the retry cannot double-post)."""
        session = self._session()
        try:
            return self._xrpc(method, nsid, token=session["accessJwt"], **kw)
        except AuthExpired as exc:
            if exc.status not in (400, 401) or _error_name(exc) not in SESSION_ERRORS:
                raise
        self._refresh()
        assert self.session is not None
        return self._xrpc(method, nsid, token=self.session["accessJwt"], **kw)

    def _xrpc(
        self,
        method: str,
        nsid: str,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        answer = self.request(method, f"/xrpc/{nsid}", headers=all_headers, **kw)
        if answer.status_code >= 400:
            raise self._error(answer, nsid)
        if not answer.content:
            return {}
        try:
            return dict(answer.json())
        except ValueError as exc:
            raise Transient(
                f"bluesky: {nsid} answered with something other than JSON",
                status=answer.status_code,
            ) from exc

    def _error(self, response: requests.Response, nsid: str) -> PublishError:
        """Map an XRPC error answer to the error family, keeping its name on `xrpc_error`."""
        name = _xrpc_name(Answer.of(response))
        what = f"bluesky: {nsid} failed ({response.status_code}{' ' + name if name else ''})"
        exc = self.error_from(response, what)
        exc.xrpc_error = name  # type: ignore[attr-defined]
        return exc


# ---------------------------------------------------------------- small helpers


def teaser(essay: Essay) -> str:
    """The link card's description: the composer's teaser, cut at a word to a card's size."""
    return shorten(teaser_of(essay), lambda t: graphemes(t) <= TEASER_GRAPHEMES)


def strong_ref(remote: Remote) -> dict[str, str]:
    return {"uri": str(remote.extra["uri"]), "cid": str(remote.extra["cid"])}


def iso_z(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and `Z`, the form Bluesky's own clients write."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _created_at(now: Any, publish_at: datetime | None) -> str:
    if isinstance(now, datetime):
        return iso_z(now)
    if isinstance(now, str) and now:
        return iso_z(datetime.fromisoformat(now.replace("Z", "+00:00")))
    if publish_at is not None:
        return iso_z(publish_at)
    return PUBLISH_TIME


def _langs(option: Any, language: str | None) -> list[str]:
    if isinstance(option, str):
        return [option]
    if isinstance(option, list | tuple):
        return [str(x) for x in option][:3]  # the lexicon allows at most 3
    return [language] if language else []


def _error_name(exc: PublishError) -> str:
    """The XRPC error name (`ExpiredToken`, ...) that `_error` kept on the exception."""
    return str(getattr(exc, "xrpc_error", ""))


def _may_be_duplicate(exc: PublishError) -> bool:
    """Could this create error mean "that rkey is already taken"? Then look it up first."""
    if isinstance(exc, RateLimited):
        return False
    text = f"{exc.message} {exc.platform_message or ''}".lower()
    return exc.status == 500 or exc.status == 409 or "already" in text or "exists" in text


def _xrpc_name(answer: Answer) -> str:
    return str(answer.fields().get("error") or "")


def _wait(answer: Answer) -> float | None:
    """Seconds to wait: `Retry-After`, else `RateLimit-Reset` (a Unix time in seconds)."""
    wait = header_wait(answer)
    if wait is not None:
        return wait
    reset = answer.headers.get("RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - time.time())
        except ValueError:
            return None
    return None


def link_text(url: str) -> str:
    """How a link shows in a post: without its scheme, cut to a fixed length with "…".

    Bluesky counts the visible text, not the URL behind a link facet, so a fixed-length
    text keeps the teaser the same whatever the real URL turns out to be.
    """
    shown = url.split("://", 1)[-1].rstrip("/")
    if graphemes(shown) <= LINK_TEXT_GRAPHEMES:
        return shown
    return shown[: LINK_TEXT_GRAPHEMES - 1] + "…"


def with_link_facet(text: str, facets: list[dict], shown: str, url: str) -> list[dict]:
    """`facets` plus a link facet over the link's visible text, pointing at the whole URL."""
    start = text.find(shown)
    if start < 0:
        return facets
    index = byte_range(text, start, start + len(shown))
    kept = [
        f
        for f in facets
        if f["index"]["byteEnd"] <= index["byteStart"]
        or f["index"]["byteStart"] >= index["byteEnd"]
    ]
    kept.append({"index": index, "features": [{"$type": LINK, "uri": url}]})
    return sorted(kept, key=lambda f: f["index"]["byteStart"])
