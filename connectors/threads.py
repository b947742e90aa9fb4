"""Threads (Meta's Graph API at graph.threads.net): an announcement, or the essay as a thread.

Why it looks like this:
- The token (`access_token`) travels as a form or query parameter, as Threads expects, so it
  is in URLs of GET calls: messages name the host only, and a platform message that echoes
  the token has it blanked. The user id is option `user_id`, else `GET /me`.
- Publishing is two calls: a container (`POST /{user}/threads`, `media_type=TEXT`, `text`,
  `link_attachment` on the first post, `reply_to_id` for replies), then
  `POST /{user}/threads_publish?creation_id=…`. Which one is in doubt after a lost answer?
  A lost container answer leaves at most an unpublished container, which nobody sees and
  which expires in 24 h: nothing to find, so a new one is made. A lost publish answer may
  mean a live post: `find_post` looks for it by text among the user's posts (a root) or
  among the direct replies of the previous post (a reply). Either way one post results.
- The permalink is a third call (`GET /{media}?fields=permalink`); once the post is live a
  failure there must not look like a failed publish, so it leaves the URL unknown instead.
- Threads allows 250 posts and 1,000 replies per moving 24 hours. The quota is read first
  (`threads_publishing_limit`): when it is used up we raise RateLimited without creating a
  container. The window moves, and the API does not say when a slot frees, so we wait an
  hour and look again.
- Length: 500 characters, each emoji counted as its UTF-8 bytes (`count_threads`); at most
  5 links in one post (the rule's `max_links`: the composer moves further links on to the
  next post of a thread, or shortens an announcement), the link card counted among them.
- Long-lived tokens last 60 days and can be renewed while still valid
  (`GET /refresh_access_token?grant_type=th_refresh_token`, answered with `expires_in`):
  crosspost renews them when a quarter of the life is left (`pipeline/accounts.py`).
- Errors have the Graph shape; `code` decides: 190 (and other token codes) AuthExpired,
  4/17/32/613 RateLimited, 100 Rejected, 1/2 and 5xx Transient. Posts cannot be edited.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from connectors.base import (
    Dedupe,
    Draft,
    Post,
    Refreshed,
    Remote,
    RenderContext,
    TokenLife,
)
from connectors.errors import (
    Answer,
    ErrorQuirks,
    PublishError,
    RateLimited,
    Says,
    Transient,
    header_wait,
)
from connectors.social import SocialConnector, social_texts
from pipeline.document import Essay
from pipeline.render.lengths import LengthRule, find_urls

API = "/v1.0"
QUOTA_WAIT = 3600.0  # the 24 h window moves and its next free slot is not published
SCAN_LIMIT = 25
TOKEN_CODES = {190, 102, 463, 467, 10, 200}
RATE_CODES = {4, 17, 32, 613}
TRANSIENT_CODES = {1, 2}
TOKEN_LIFE = TokenLife(
    credential="access_token",
    lifetime=timedelta(days=60),
    source="Threads documents long-lived access tokens as valid for 60 days, renewable "
    "with refresh_access_token while still valid",
    refreshable=True,
)


class Threads(SocialConnector):
    rate_limit = (250, 86400.0)  # 250 API-published posts per 24 h per profile
    platform = "threads"
    dedupe = Dedupe.LOOKUP
    can_edit = False
    default_base_url = "https://graph.threads.net"
    errors = ErrorQuirks(
        words=lambda answer: str(_graph_error(answer).get("message") or answer.text[:200]),
        codes=lambda answer: (_graph_error(answer).get("code"),),
        wait=lambda answer: _quota_wait(answer),
        says=Says(auth="{what}: the access token was refused"),
        auth_codes=TOKEN_CODES,
        rate_codes=RATE_CODES,
        transient=(),
        transient_codes=TRANSIENT_CODES,
    )

    _me: dict[str, str] | None = None  # the account on the platform, asked once

    # -- pure half -------------------------------------------------------

    @classmethod
    def render(cls, essay: Essay, ctx: RenderContext) -> Draft:
        rule = cls.length_rule(ctx)
        link = ctx.link or essay.canonical_url
        texts = social_texts("threads", essay, ctx, rule)
        posts = []
        for index, text in enumerate(texts):
            body: dict[str, Any] = {"media_type": "TEXT", "text": text}
            if index == 0 and link and _room_for_card(text, link, rule):
                body["link_attachment"] = link
            posts.append(Post(request=body, text=text, length=rule.count(text), limit=rule.limit))
        return cls.draft(essay, ctx, posts)

    # -- HTTP and errors -------------------------------------------------------

    def _token(self) -> str:
        return self.account.secret("access_token")

    def _call(self, method: str, path: str, raw: bool = False, **kw: Any) -> dict[str, Any]:
        """One Graph call; `raw` for the few endpoints outside the versioned path."""
        if method == "GET" or method == "DELETE":
            kw["params"] = {**kw.get("params", {}), "access_token": self._token()}
        else:
            kw["data"] = {**kw.get("data", {}), "access_token": self._token()}
        response = self.request(method, path if raw else f"{API}{path}", **kw)
        token = self.account.credentials.get("access_token")
        hide = (token.get_secret_value(),) if token is not None else ()
        self.checked(response, self.who, hide=hide)
        return response.json() if response.content else {}

    # -- wire half -------------------------------------------------------

    def _profile(self) -> dict[str, str]:
        if self._me is None:
            self._me = self._call("GET", "/me", params={"fields": "id,username"})
        return self._me

    def _user_id(self) -> str:
        return str(self.account.options.get("user_id") or self._profile()["id"])

    def _check_quota(self, user_id: str, replying: bool) -> None:
        """Refuse before making a container when the 24-hour publishing quota is used up."""
        answer = self._call(
            "GET",
            f"/{user_id}/threads_publishing_limit",
            params={"fields": "quota_usage,config,reply_quota_usage,reply_config"},
        )
        row = (answer.get("data") or [{}])[0]
        usage_key, config_key = (
            ("reply_quota_usage", "reply_config") if replying else ("quota_usage", "config")
        )
        usage = row.get(usage_key)
        total = (row.get(config_key) or {}).get("quota_total")
        if isinstance(usage, int) and isinstance(total, int) and usage >= total:
            kind = "replies" if replying else "posts"
            raise RateLimited(
                f"threads ({self.account.name}): {usage} of {total} {kind} used in the last "
                "24 hours",
                retry_after=QUOTA_WAIT,
            )

    def create_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote:
        user_id = self._user_id()
        self._check_quota(user_id, replying=bool(chain))
        fields = {k: str(v) for k, v in post.request.items()}
        if chain:
            fields["reply_to_id"] = chain[-1].id
        container = str(self._call("POST", f"/{user_id}/threads", data=fields)["id"])
        media = str(
            self._call("POST", f"/{user_id}/threads_publish", params={"creation_id": container})[
                "id"
            ]
        )
        return Remote(id=media, url=self._permalink(media), extra={"container": container})

    def _permalink(self, media_id: str) -> str | None:
        """The post's URL; None when it cannot be read now (the post is live regardless)."""
        try:
            return self._call("GET", f"/{media_id}", params={"fields": "permalink"}).get(
                "permalink"
            )
        except PublishError:
            return None

    def find_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote | None:
        fields = "id,text,permalink,username"
        if chain:
            path, params = f"/{chain[-1].id}/replies", {"fields": fields}
        else:
            path, params = f"/{self._user_id()}/threads", {"fields": fields, "limit": SCAN_LIMIT}
        wanted = _loose(post.request.get("text", ""))
        me = (self._me or {}).get("username") if not self.account.options.get("user_id") else None
        for media in self._call("GET", path, params=params).get("data") or []:
            if me and media.get("username") and media["username"] != me:
                continue
            if _loose(media.get("text") or "") == wanted:
                return Remote(id=str(media["id"]), url=media.get("permalink"))
        return None

    def delete(self, remote: Remote) -> None:
        self._call("DELETE", f"/{remote.id}")

    def token_life(self) -> TokenLife:
        return TOKEN_LIFE

    def refresh_credentials(self) -> Refreshed:
        """A new long-lived token for the current one (which must still be valid)."""
        answer = self._call(
            "GET", "/refresh_access_token", params={"grant_type": "th_refresh_token"}, raw=True
        )
        token = answer.get("access_token")
        if not token:
            raise Transient(f"threads ({self.account.name}): the refresh named no token")
        expires = answer.get("expires_in")
        return Refreshed(
            values={"access_token": str(token)},
            expires_in=float(expires) if isinstance(expires, int | float) else None,
        )

    def verify(self) -> str:
        self._me = None
        return "@" + self._profile()["username"]


def _graph_error(answer: Answer) -> dict[str, Any]:
    error = answer.fields().get("error")
    return error if isinstance(error, dict) else {}


def _quota_wait(answer: Answer) -> float:
    """Retry-After when sent; else an hour, as the 24-hour window's next free slot is unknown."""
    wait = header_wait(answer)
    return QUOTA_WAIT if wait is None else wait


def _room_for_card(text: str, link: str, rule: LengthRule) -> bool:
    """The link card counts as a link: attach it only while the post stays within the cap."""
    if rule.max_links is None:
        return True
    links = {text[a:b] for a, b in find_urls(text)}
    return len(links | {link}) <= rule.max_links


def _loose(text: str) -> str:
    return " ".join(text.split())
