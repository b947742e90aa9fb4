"""Substack, through the endpoints its own editor uses (UNOFFICIAL: there is no public API).

Why it looks like this:
- Auth is the author's browser session: credential `session_cookie`, the raw `Cookie`
  header (`substack.sid=...`; a bare value is taken as `substack.sid`). It may stop working
  whenever Substack changes its web app; a refused cookie is `AuthExpired`.
- Option `publication_url` (`https://<sub>.substack.com` or the custom domain) is the base:
  every call goes to `<publication_url>/api/v1`. `GET /user/profile/self` gives the user id
  that the byline needs [U: asked on the publication's host, not substack.com].
- The body is a ProseMirror document serialised to a JSON *string* in `draft_body`.
  Publishing is `POST /drafts` -> `GET /drafts/<id>/prepublish` -> `POST /drafts/<id>/publish`
  (`send`: option `send_email`, default false: a cross-post should not e-mail the list by
  surprise), or `POST /drafts/<id>/schedule {"post_date"}` for a future `publish_at` when
  option `schedule_on_platform` is set.
- Retry safety: there is no idempotency key. `find_post` looks for our title among the
  newest published and scheduled posts; failing that, a *draft* with our title is an
  orphan of an earlier attempt (created, never published), and `create_post` updates and
  publishes that draft instead of making a second one.
- `update` re-saves the draft of a published post and publishes it again without e-mail.
- Errors: 401/403 -> AuthExpired, 429 -> RateLimited (Retry-After when sent), 5xx ->
  Transient, other 4xx -> Rejected; the platform's words are the raw answer text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import requests

from connectors.base import Account, Connector, Dedupe, Draft, Kind, Post, Remote, RenderContext
from connectors.errors import HTTP_STATUS, AuthExpired, ErrorQuirks, Rejected
from connectors.scheduling import as_utc, schedule_on_platform
from pipeline.document import Essay
from pipeline.render.parts import blocks_for
from pipeline.render.prosemirror import render_prosemirror

AUDIENCES = ("everyone", "only_paid", "founding", "only_free")
COMMENTS = ("everyone", "only_paid", "none")
SCAN_LIMIT = 25
_COOKIE_STEP = (
    "sign in on substack.com in a browser, copy the substack.sid cookie into "
    "targets.{name}.credentials.session_cookie, then `crosspost retry`"
)


class Substack(Connector):
    platform: ClassVar[str] = "substack"
    kind: ClassVar[Kind] = Kind.PATRONAGE
    dedupe: ClassVar[Dedupe] = Dedupe.LOOKUP
    can_edit: ClassVar[bool] = True
    # Substack documents no limit; its web app's endpoints throttle (we assume ~60 calls a
    # minute), and one post takes up to five calls (find, draft, prepublish, publish, read)
    rate_limit = (12, 60.0)
    errors = ErrorQuirks(
        words=lambda answer: answer.text.strip()[:300] or f"HTTP {answer.status}",
        says=HTTP_STATUS,
        auth=(401, 403),
        auth_step=_COOKIE_STEP,
    )

    def __init__(self, account: Account, session: requests.Session | None = None) -> None:
        super().__init__(account, session)
        publication = account.base_url or account.options.get("publication_url") or ""
        self.base_url = str(publication).rstrip("/")
        self._user_id: int | None = None
        self._orphans: dict[str, int] = {}  # key -> draft of an earlier attempt

    # -- pure half -------------------------------------------------------

    @classmethod
    def render(cls, essay: Essay, ctx: RenderContext) -> Draft:
        """The `POST /drafts` body; the byline's user id is filled in at publish time."""
        options = ctx.options
        audience = _choice(options, "audience", AUDIENCES, "everyone")
        comments = _choice(options, "comments", COMMENTS, "everyone")
        doc = render_prosemirror(blocks_for(essay, "patronage"), essay.footnotes)
        body: dict[str, Any] = {
            "draft_title": essay.title,
            "draft_subtitle": essay.subtitle or "",
            "draft_body": json.dumps(doc, ensure_ascii=False),
            "draft_bylines": [{"id": None, "is_guest": False}],
            "audience": audience,
            "write_comment_permissions": comments,
            "section_chosen": False,
        }
        section = options.get("section_id")
        if section:
            body["draft_section_id"] = int(section)
            body["section_chosen"] = True
        extras: dict[str, Any] = {"send": bool(options.get("send_email", False))}
        if essay.publish_at is not None and schedule_on_platform(essay.publish_at, options):
            extras["post_date"] = _iso(essay.publish_at)
        return cls.draft(essay, ctx, request=body, extras=extras)

    # -- wire half ---------------------------------------------------------

    def create_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote:
        body = self._wire_body(post.request)
        orphan = self._orphans.pop(key, None)
        if orphan is not None:
            self._call("PUT", f"/drafts/{orphan}", "saving the draft", json=body)
            draft_id = orphan
        else:
            created = self._call("POST", "/drafts", "creating the draft", json=body).json()
            draft_id = int(created["id"])
        return self._go_live(draft_id, draft)

    def find_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote | None:
        title = post.request["draft_title"]
        for kind in ("published", "scheduled"):
            for found in self._listing(kind):
                if _title(found) == title:
                    return self._remote(found)
        for found in self._listing("drafts"):
            if _title(found) == title:
                self._orphans[key] = int(found["id"])
                return None
        return None

    def update(self, remote: Remote, draft: Draft) -> Remote:
        """Re-save the post's draft and publish it again, without e-mailing anyone."""
        draft_id = _draft_id(remote)
        body = self._wire_body(draft.posts[0].request)
        self._call("PUT", f"/drafts/{draft_id}", "saving the edited draft", json=body)
        self._call("GET", f"/drafts/{draft_id}/prepublish", "checking the edited draft")
        answer = self._call(
            "POST",
            f"/drafts/{draft_id}/publish",
            "publishing the edit",
            json={"send": False, "share_automatically": False},
        ).json()
        return self._remote(answer, fallback=remote)

    def delete(self, remote: Remote) -> None:
        self._call("DELETE", f"/drafts/{_draft_id(remote)}", "deleting the post", missing_ok=True)

    def verify(self) -> str:
        profile = self._profile()
        name = profile.get("name") or profile.get("handle") or f"user {profile.get('id')}"
        return f"{name} on {self.base_url} (unofficial session)"

    # -- steps ---------------------------------------------------------------

    def _wire_body(self, request: Mapping[str, Any]) -> dict[str, Any]:
        body = dict(request)
        body["draft_bylines"] = [{"id": self.user_id(), "is_guest": False}]
        return body

    def _go_live(self, draft_id: int, draft: Draft) -> Remote:
        check = self._call("GET", f"/drafts/{draft_id}/prepublish", "checking the draft").json()
        problems = check.get("errors") if isinstance(check, dict) else None
        if problems:
            raise Rejected(
                f"substack ({self.account.name}): Substack will not publish the draft",
                platform_message="; ".join(str(p) for p in problems)[:300],
            )
        post_date = draft.extras.get("post_date")
        if post_date:
            self._call(
                "POST",
                f"/drafts/{draft_id}/schedule",
                "scheduling the post",
                json={"post_date": post_date},
            )
            answer = self._call("GET", f"/drafts/{draft_id}", "reading the scheduled post").json()
        else:
            answer = self._call(
                "POST",
                f"/drafts/{draft_id}/publish",
                "publishing the post",
                json={"send": bool(draft.extras.get("send")), "share_automatically": False},
            ).json()
        return self._remote({"id": draft_id, **answer})

    def user_id(self) -> int:
        if self._user_id is None:
            profile = self._profile()
            if not isinstance(profile.get("id"), int):
                raise AuthExpired(
                    f"substack ({self.account.name}): the session has no user",
                    next_step=_COOKIE_STEP.format(name=self.account.name),
                )
            self._user_id = int(profile["id"])
        return self._user_id

    def _profile(self) -> dict[str, Any]:
        return self._call("GET", "/user/profile/self", "reading the signed-in user").json()

    def _listing(self, kind: str) -> list[dict[str, Any]]:
        order = "draft_updated_at" if kind == "drafts" else "post_date"
        answer = self._call(
            "GET",
            f"/post_management/{kind}",
            "looking the post up",
            params={
                "offset": "0",
                "limit": str(SCAN_LIMIT),
                "order_by": order,
                "order_direction": "desc",
            },
        ).json()
        posts = answer.get("posts") if isinstance(answer, dict) else answer
        return [p for p in posts or [] if isinstance(p, dict)]

    def _remote(self, post: Mapping[str, Any], fallback: Remote | None = None) -> Remote:
        url = post.get("canonical_url")
        if not url and post.get("slug"):
            url = f"{self.base_url}/p/{post['slug']}"
        extra = {k: post[k] for k in ("slug", "post_date", "audience") if post.get(k)}
        if fallback is not None:
            return Remote(
                id=fallback.id, url=url or fallback.url, extra={**fallback.extra, **extra}
            )
        return Remote(id=str(post["id"]), url=url, extra=extra)

    # -- HTTP ----------------------------------------------------------------

    def _cookie(self) -> str:
        value = self.account.secret("session_cookie").strip()
        return value if "=" in value else f"substack.sid={value}"

    def _call(
        self, method: str, path: str, doing: str, *, missing_ok: bool = False, **kw: Any
    ) -> requests.Response:
        if not self.base_url:
            raise Rejected(
                f"substack ({self.account.name}): option publication_url is not set",
                next_step=f"set targets.{self.account.name}.options.publication_url "
                "(https://<name>.substack.com)",
            )
        headers = {"Cookie": self._cookie(), "Accept": "application/json"}
        response = self.request(method, f"{self.base_url}/api/v1{path}", headers=headers, **kw)
        return self.checked(response, f"{self.who}: {doing} failed", missing_ok=missing_ok)


# ---------------------------------------------------------------- helpers


def _choice(options: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = str(options.get(name) or default)
    if value not in allowed:
        raise Rejected(
            f"substack: option {name} must be one of {', '.join(allowed)}, not {value!r}"
        )
    return value


def _iso(moment: datetime) -> str:
    return as_utc(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _title(post: Mapping[str, Any]) -> str:
    return str(post.get("title") or post.get("draft_title") or "")


def _draft_id(remote: Remote) -> int:
    if not remote.id.isdigit():
        raise Rejected(f"substack: {remote.id!r} is not a Substack post id")
    return int(remote.id)
