"""Patreon: a hand-off by default, or (opt-in, UNOFFICIAL) the web app's own endpoints.

Why it looks like this:
- Patreon's official API v2 cannot create posts (read-only `campaigns.posts` scope). So the
  default mode `handoff` prepares the post in `<home>/outbox/<target>/<key>/` (`post.json`,
  `post.html` ready to paste, `README.txt` with the steps) and raises `HandedOff`: the
  publication waits in `awaiting-manual` until the operator runs `crosspost confirm ID URL`.
  Nothing is ever reported as published by this connector in hand-off mode; writing the
  same key again rewrites the same folder (atomic writes), never a second copy.
- Mode `session` is UNOFFICIAL: it drives the endpoints patreon.com's own editor uses, with
  the author's browser session cookie (credential `session_cookie`, the raw `Cookie` header)
  and the CSRF token from `<meta name="csrf-token">` on `/membership`, sent as
  `X-CSRF-Signature`. It may break whenever Patreon changes its web app, and automating
  the web app may go against Patreon's terms. Steps: `POST /api/posts` makes an empty
  text draft, then `PATCH` its `links.self` with title, HTML content, teaser, access rules,
  tags and `tags.publish = true`. The public URL is `https://www.patreon.com/posts/<id>`.
- Assumptions of session mode (not in any public document; the emulator matches them):
  the campaign comes from `GET /api/current_user?include=campaign` (or option
  `campaign_id`); its access rules from `GET /api/campaigns/<id>?include=access_rules.tier`
  (`access_rule_type` public|patrons|tier, a tier rule linked to a tier with a `title`);
  recent posts from `GET /api/posts?filter[campaign_id]=<id>&sort=-published_at` and drafts
  with `filter[is_draft]=true`.
- Retry safety in session mode: publishing is two calls, so a crash can leave an empty
  draft. `find_post` (asked before any retry) looks for a published or scheduled post with
  our title first; failing that, it adopts a draft with our title, or the newest *empty,
  untitled* draft (what a lost create leaves), and `create_post` patches that one instead of
  making another. An orphan draft is never visible to patrons, so the worst case is an
  empty draft left in the author's list, never a second visible post.
- Errors: 401/403 (expired cookie, bad CSRF) -> AuthExpired; 429 `RequestThrottled` with
  `retry_after_seconds` -> RateLimited; 400 `POST_CONTENT_OUTDATED` -> Transient (the next
  attempt re-reads the post first); 5xx -> Transient; other 4xx -> Rejected.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import requests

from connectors.base import Account, Connector, Dedupe, Draft, Kind, Post, Remote, RenderContext
from connectors.errors import (
    Answer,
    AuthExpired,
    ErrorQuirks,
    HandedOff,
    Rejected,
    Rule,
    Says,
    header_wait,
)
from connectors.http import host_of
from connectors.local_files import home_folder, write_atomic
from connectors.scheduling import as_utc, schedule_on_platform
from pipeline.document import Essay
from pipeline.render.html import render_html
from pipeline.render.parts import blocks_for

MODES = ("handoff", "session")
ACCESS = ("public", "patrons", "tier")
TEASER_LIMIT = 140  # our choice: the short preview non-patrons see under a locked post
PUBLIC_POSTS = "https://www.patreon.com/posts/"
NEW_POST_URL = "https://www.patreon.com/posts/new"
JSON_API = {"json-api-version": "1.0", "json-api-use-default-includes": "false"}
CREATE_QUERY = {
    "fields[post]": "post_type,post_metadata",
    "include": "drop",
    **JSON_API,
}
SCAN_COUNT = 25
_COOKIE_STEP = (
    "sign in on patreon.com in a browser, copy the Cookie header of a request to "
    "www.patreon.com into targets.{name}.credentials.session_cookie, then `crosspost retry`"
)
_CSRF = re.compile(
    r"""<meta\s+[^>]*name=["']csrf-token["'][^>]*content=["']([^"']+)["']"""
    r"""|<meta\s+[^>]*content=["']([^"']+)["'][^>]*name=["']csrf-token["']""",
    re.IGNORECASE,
)


class Patreon(Connector):
    platform: ClassVar[str] = "patreon"
    kind: ClassVar[Kind] = Kind.PATRONAGE
    dedupe: ClassVar[Dedupe] = Dedupe.LOOKUP
    # Session mode edits in place; hand-off mode prepares the edit for a person.
    can_edit: ClassVar[bool] = True
    # Session mode: Patreon's web endpoints throttle at ~100 requests a minute per session
    # (RequestThrottled); one post takes up to five (find, draft, patch, publish, read)
    rate_limit = (20, 60.0)
    default_base_url: ClassVar[str | None] = "https://www.patreon.com"
    errors = ErrorQuirks(
        words=lambda answer: _error_words(answer),
        codes=lambda answer: (_error_code(answer),),
        wait=lambda answer: _throttle_wait(answer),
        says=replace(
            Says.always("{what} failed (HTTP {status})"), auth="{what} was refused (HTTP {status})"
        ),
        auth=(401, 403),
        auth_step=_COOKIE_STEP,
        rate_codes=("RequestThrottled",),
        # a post changed since we read it: read it again and patch once more
        transient_codes=("POST_CONTENT_OUTDATED",),
    )

    def __init__(self, account: Account, session: requests.Session | None = None) -> None:
        super().__init__(account, session)
        self._csrf: str | None = None
        self._campaign: str | None = None
        self._rules: dict[str, str] | None = None  # "public"/"patrons"/"tier:<title>" -> rule id
        self._drafts: dict[str, str] = {}  # key -> draft id made by this process
        self._orphans: dict[str, str] = {}  # key -> draft found by find_post, to patch
        self._links: dict[str, str] = {}  # draft id -> its `links.self`
        self._tier_titles: list[str] = []

    # -- pure half -------------------------------------------------------

    @classmethod
    def render(cls, essay: Essay, ctx: RenderContext) -> Draft:
        """The post as both modes use it: written to `post.json`, or patched in session mode."""
        options = ctx.options
        _mode(options)
        access, tier = _access(options)
        body: dict[str, Any] = {
            "title": essay.title,
            "content": render_html(blocks_for(essay, "patronage"), essay.footnotes),
            "teaser": teaser(essay.subtitle or essay.lead()),
            "access": access,
            "tier": tier,
            "tags": list(dict.fromkeys(t.strip() for t in essay.tags if t.strip())),
            "scheduled_for": None,
        }
        if essay.publish_at is not None and schedule_on_platform(essay.publish_at, options):
            body["scheduled_for"] = _iso(essay.publish_at)
        return cls.draft(essay, ctx, request=body)

    # -- mode ---------------------------------------------------------------

    @property
    def mode(self) -> str:
        return _mode(self.account.options)

    def create_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote:
        if self.mode == "handoff":
            folder = self.outbox() / _safe_name(key)
            self._write_handoff(folder, post.request, draft, edit_of=None)
            raise HandedOff(
                f"patreon ({self.account.name}): Patreon's API cannot create posts; "
                "the post is prepared for you to publish by hand",
                location=str(folder),
            )
        self._rule_id(post.request)  # an unknown tier fails before any draft exists
        post_id = self._orphans.pop(key, None) or self._new_draft()
        self._drafts[key] = post_id
        return self._patch(post_id, post.request, publish=True)

    def find_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote | None:
        """Hand-off: nothing is on Patreon until a person confirms. Session: see the docstring."""
        if self.mode == "handoff":
            return None
        title = post.request["title"]
        known = self._drafts.get(key)
        if known is not None:
            found = self._get_post(known)
            if found is not None and _is_live(found):
                return _remote(found)
            if found is not None:
                self._orphans[key] = known
                return None
        for found in self._list_posts(drafts=False):
            if _attr(found, "title") == title:
                return _remote(found)
        for found in self._list_posts(drafts=True):
            if _attr(found, "title") == title or _is_empty(found):
                self._orphans[key] = str(found["id"])
                return None
        return None

    def update(self, remote: Remote, draft: Draft) -> Remote:
        request = draft.posts[0].request
        if self.mode == "handoff":
            folder = self.outbox() / f"edit-{_safe_name(_post_id_of(remote))}"
            self._write_handoff(folder, request, draft, edit_of=remote.url or remote.id)
            raise HandedOff(
                f"patreon ({self.account.name}): the edited essay is prepared for you to "
                "paste into the existing post",
                location=str(folder),
            )
        return self._patch(_post_id_of(remote), {**request, "scheduled_for": None}, publish=True)

    def delete(self, remote: Remote) -> None:
        if self.mode == "handoff":
            raise Rejected(
                "patreon posts cannot be deleted through its API",
                next_step=f"delete it by hand on patreon.com ({remote.url or remote.id})",
            )
        self._call(
            "DELETE", f"/api/posts/{_post_id_of(remote)}", "deleting the post", missing_ok=True
        )

    def verify(self) -> str:
        if self.mode == "handoff":
            return f"hand-off: prepares posts in {self.outbox()} for a person to publish"
        user = self._current_user()
        name = _attr(user.get("data", {}), "full_name") or _attr(user.get("data", {}), "vanity")
        return f"{name or 'patreon user'} (campaign {self.campaign_id()}, unofficial session)"

    # -- hand-off --------------------------------------------------------------

    def outbox(self) -> Path:
        return home_folder(self.account.home, "outbox") / self.account.name

    def _write_handoff(
        self, folder: Path, request: Mapping[str, Any], draft: Draft, edit_of: str | None
    ) -> None:
        """post.json (the rendered request as is), post.html, README.txt: same key, same files."""
        write_atomic(folder / "post.json", json.dumps(request, indent=2, ensure_ascii=False) + "\n")
        write_atomic(folder / "post.html", _paste_page(request))
        write_atomic(folder / "README.txt", _readme(request, self.account.name, folder, edit_of))

    # -- session: the web app's endpoints (UNOFFICIAL) ---------------------------

    def campaign_id(self) -> str:
        if self._campaign is None:
            configured = self.account.options.get("campaign_id")
            if configured:
                self._campaign = str(configured)
            else:
                data = self._current_user().get("data") or {}
                related = ((data.get("relationships") or {}).get("campaign") or {}).get("data")
                if not related or not related.get("id"):
                    raise Rejected(
                        f"patreon ({self.account.name}): this account has no creator campaign",
                        next_step="sign in as the creator, or set options.campaign_id",
                    )
                self._campaign = str(related["id"])
        return self._campaign

    def _current_user(self) -> dict[str, Any]:
        return self._call(
            "GET",
            "/api/current_user",
            "reading the signed-in user",
            params={"include": "campaign", "fields[user]": "full_name,vanity", **JSON_API},
        ).json()

    def _access_rules(self) -> dict[str, str]:
        if self._rules is None:
            answer = self._call(
                "GET",
                f"/api/campaigns/{self.campaign_id()}",
                "reading the access rules",
                params={
                    "include": "access_rules.tier",
                    "fields[access_rule]": "access_rule_type,amount_cents",
                    "fields[tier]": "title",
                    **JSON_API,
                },
            ).json()
            included = answer.get("included") or []
            tiers = {str(i["id"]): _attr(i, "title") for i in included if i.get("type") == "tier"}
            rules: dict[str, str] = {}
            for item in included:
                if item.get("type") != "access-rule":
                    continue
                kind = _attr(item, "access_rule_type")
                if kind == "tier":
                    tier = ((item.get("relationships") or {}).get("tier") or {}).get("data") or {}
                    title = tiers.get(str(tier.get("id")), "")
                    rules.setdefault(f"tier:{title.casefold()}", str(item["id"]))
                    self._tier_titles.append(title)
                elif kind:
                    rules.setdefault(str(kind), str(item["id"]))
            self._rules = rules
        return self._rules

    def _rule_id(self, request: Mapping[str, Any]) -> str:
        access = request.get("access", "patrons")
        wanted = f"tier:{str(request.get('tier') or '').casefold()}" if access == "tier" else access
        rules = self._access_rules()
        if wanted not in rules:
            known = sorted(self._tier_titles) or ["(the campaign has no tiers)"]
            raise Rejected(
                f"patreon ({self.account.name}): the campaign has no access rule for "
                f"{request.get('tier') if access == 'tier' else access!r}",
                next_step=f"set options.tier to one of the campaign's tiers: {', '.join(known)}",
            )
        return rules[wanted]

    def _new_draft(self) -> str:
        body = {"data": {"type": "post", "attributes": {"post_type": "text_only"}}}
        answer = self._call(
            "POST", "/api/posts", "creating the draft", params=CREATE_QUERY, json=body
        ).json()
        post_id = str(answer["data"]["id"])
        self_link = str((answer.get("links") or {}).get("self") or "")
        # The cookie goes only to Patreon's own host, whatever the answer says.
        if self_link and host_of(self_link) == host_of(self.base_url):
            self._links[post_id] = self_link
        return post_id

    def _patch(self, post_id: str, request: Mapping[str, Any], *, publish: bool) -> Remote:
        rule = self._rule_id(request)
        names = request.get("tags") or []
        tags = [{"type": "post_tag", "id": f"user_defined;{name}"} for name in names]
        attributes: dict[str, Any] = {
            "title": request["title"],
            "content": request["content"],
            "teaser_text": request.get("teaser") or "",
            "post_type": "text_only",
            "is_paid": False,
            "is_monetized": False,
            "scheduled_for": request.get("scheduled_for"),
            "tags": {"publish": publish},
        }
        document = {
            "data": {
                "type": "post",
                "id": post_id,
                "attributes": attributes,
                "relationships": {
                    "access_rules": {"data": [{"type": "access-rule", "id": rule}]},
                    "user_defined_tags": {"data": tags},
                },
            },
            "meta": {"auto_save": False, "send_notifications": True},
            "included": [
                *(
                    {
                        "type": "post_tag",
                        "id": t["id"],
                        "attributes": {"value": t["id"].split(";", 1)[1], "cardinality": 1},
                    }
                    for t in tags
                ),
                {"type": "access-rule", "id": rule, "attributes": {}},
            ],
        }
        url = self._links.get(post_id) or f"/api/posts/{post_id}"
        answer = self._call(
            "PATCH", url, "publishing the post", params={**JSON_API, "include": "[]"}, json=document
        ).json()
        return _remote(answer.get("data") or {"id": post_id})

    def _get_post(self, post_id: str) -> dict[str, Any] | None:
        response = self._call(
            "GET", f"/api/posts/{post_id}", "looking the post up", params=JSON_API, missing_ok=True
        )
        if response.status_code == 404:
            return None
        return response.json().get("data")

    def _list_posts(self, *, drafts: bool) -> list[dict[str, Any]]:
        params = {
            "filter[campaign_id]": self.campaign_id(),
            "filter[is_by_creator]": "true",
            "sort": "-edited_at" if drafts else "-published_at",
            "page[count]": str(SCAN_COUNT),
            **JSON_API,
        }
        if drafts:
            params["filter[is_draft]"] = "true"
        answer = self._call("GET", "/api/posts", "looking the post up", params=params).json()
        return list(answer.get("data") or [])

    # -- HTTP ----------------------------------------------------------------

    def _fetch_csrf(self) -> str:
        """The CSRF token the web app embeds in its pages; a login page means the cookie died."""
        response = self._send("GET", "/membership", csrf=False, headers={"Accept": "text/html"})
        if response.status_code in (401, 403) or "/login" in response.url:
            # a redirect to the sign-in page is a refusal too, whatever its status
            raise self.error_from(response, f"{self.who}: the session cookie", quirks=SIGNED_OUT)
        self.checked(response, f"{self.who}: reading the CSRF token")
        match = _CSRF.search(response.text)
        if match is None:
            raise AuthExpired(
                f"patreon ({self.account.name}): no CSRF token on /membership; "
                "the session cookie is not signed in",
                next_step=_COOKIE_STEP.format(name=self.account.name),
            )
        return html.unescape(match.group(1) or match.group(2))

    def _send(self, method: str, url: str, *, csrf: bool = True, **kw: Any) -> requests.Response:
        headers = {
            "Cookie": self.account.secret("session_cookie"),
            "Accept": "application/vnd.api+json, application/json",
            **kw.pop("headers", {}),
        }
        if csrf:
            if self._csrf is None:
                self._csrf = self._fetch_csrf()
            headers["X-CSRF-Signature"] = self._csrf
        if "json" in kw:
            headers["Content-Type"] = "application/vnd.api+json"
            kw["data"] = json.dumps(kw.pop("json"), ensure_ascii=False).encode("utf-8")
        return self.request(method, url, headers=headers, **kw)

    def _call(
        self, method: str, url: str, doing: str, *, missing_ok: bool = False, **kw: Any
    ) -> requests.Response:
        """One web-app call. A 401/403 with a token from an earlier call fetches a new token
        once (Patreon rotates it); nothing was done by a refused call, so re-sending is safe."""
        had_token = self._csrf is not None
        response = self._send(method, url, **kw)
        if response.status_code in (401, 403) and had_token:
            self._csrf = None
            response = self._send(method, url, **kw)
        if response.status_code in (401, 403):
            self._csrf = None  # refused twice: the next call fetches a new one
        return self.checked(response, f"{self.who}: {doing}", missing_ok=missing_ok)


# ---------------------------------------------------------------- render helpers


def _mode(options: Mapping[str, Any]) -> str:
    mode = str(options.get("mode") or "handoff")
    if mode not in MODES:
        raise Rejected(f"patreon: option mode must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def _access(options: Mapping[str, Any]) -> tuple[str, str | None]:
    """(access, tier name): who may read the post. Default: patrons only."""
    access = str(options.get("access") or "patrons")
    tier = options.get("tier")
    if access not in ACCESS:
        raise Rejected(
            f"patreon: option access must be one of {', '.join(ACCESS)}, not {access!r}",
            next_step='for one tier, set access = "tier" and tier = "<tier name>"',
        )
    if access == "tier":
        if not tier or not str(tier).strip():
            raise Rejected('patreon: access = "tier" needs option tier (the tier\'s name)')
        return access, str(tier).strip()
    return access, None


def teaser(text: str, limit: int = TEASER_LIMIT) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def _iso(moment: datetime) -> str:
    return as_utc(moment).isoformat(timespec="seconds")


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip(".-") or "post"


def _access_words(request: Mapping[str, Any]) -> str:
    access = request.get("access")
    if access == "public":
        return "Public (everyone)"
    if access == "tier":
        return f'Only the tier "{request.get("tier")}" (and tiers above it, if you wish)'
    return "Patrons only (all paid members)"


def _paste_page(request: Mapping[str, Any]) -> str:
    """A page to open in a browser and copy from: rich text pastes with its formatting."""
    title = html.escape(str(request.get("title", "")))
    return (
        '<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n</head>\n<body>\n{request.get('content', '')}\n</body>\n</html>\n"
    )


def _readme(request: Mapping[str, Any], target: str, folder: Path, edit_of: str | None) -> str:
    tags = ", ".join(request.get("tags") or []) or "(none)"
    when = request.get("scheduled_for")
    timing = f"Schedule it for {when} (UTC)." if when else "Publish it now."
    if edit_of:
        opening = [
            f"The essay behind the Patreon post {edit_of} was edited.",
            "Patreon's API cannot change posts, so the new version is prepared here.",
            "",
            f"1. Open {edit_of} (signed in as the creator) and choose Edit.",
            "2. Replace the title with the one below.",
        ]
        closing = [
            "7. Save. The publication stays recorded with the same URL; to mark it done run:",
            "     crosspost confirm <ID> <URL of the post>",
        ]
    else:
        opening = [
            "Patreon's API cannot create posts, so crosspost prepared this one for you.",
            "It is NOT on Patreon yet: nothing is published until you do the steps below.",
            "",
            f"1. Open {NEW_POST_URL} (signed in as the creator) and choose a text post.",
            "2. Title: copy it from below.",
        ]
        closing = [
            "7. Publish. Copy the new post's address (https://www.patreon.com/posts/...) and run:",
            "     crosspost confirm <ID> <URL of the post>",
        ]
    steps = [
        f'Patreon hand-off for target "{target}"',
        f"Folder: {folder}",
        "",
        *opening,
        "3. Body: open post.html in a browser, select all, copy, and paste into the editor",
        "   (pasting the rendered page keeps headings, bold, links and lists).",
        "4. Teaser (what non-patrons see): copy it from below.",
        f"5. Access: {_access_words(request)}.",
        f"6. Tags: {tags}. {timing}",
        *closing,
        "   <ID> is this publication's number: `crosspost status` shows the ID",
        f'   (target "{target}", state awaiting-manual).',
        "",
        "Title:",
        f"  {request.get('title', '')}",
        "",
        "Teaser:",
        f"  {request.get('teaser', '')}",
        "",
        "post.json holds the same post as data (title, content HTML, teaser, access, tags).",
    ]
    return "\n".join(steps) + "\n"


# ---------------------------------------------------------------- wire helpers


def _attr(resource: Mapping[str, Any], name: str) -> Any:
    return (resource.get("attributes") or {}).get(name)


def _is_live(resource: Mapping[str, Any]) -> bool:
    return bool(_attr(resource, "published_at") or _attr(resource, "scheduled_for")) and not bool(
        _attr(resource, "is_draft")
    )


def _is_empty(resource: Mapping[str, Any]) -> bool:
    """What a create whose PATCH never arrived leaves: a text draft with nothing in it."""
    return (
        not (_attr(resource, "title") or "").strip()
        and not (_attr(resource, "content") or "").strip()
    )


def _remote(resource: Mapping[str, Any]) -> Remote:
    post_id = str(resource["id"])
    extra = {k: _attr(resource, k) for k in ("published_at", "scheduled_for") if _attr(resource, k)}
    return Remote(id=post_id, url=f"{PUBLIC_POSTS}{post_id}", extra=extra)


def _post_id_of(remote: Remote) -> str:
    """A post id from a Remote: ours carry it; a confirmed hand-off carries the URL."""
    if remote.id.isdigit():
        return remote.id
    match = re.search(r"/posts/(?:[^/?#]*-)?(\d+)(?:[/?#]|$)", remote.url or remote.id)
    if match is None:
        raise Rejected(
            f"patreon: cannot tell the post id from {remote.url or remote.id!r}",
            next_step="confirm with the post's https://www.patreon.com/posts/... URL",
        )
    return match.group(1)


def _errors(answer: Answer) -> list[dict[str, Any]]:
    errors = answer.fields().get("errors")
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _error_code(answer: Answer) -> str:
    for error in _errors(answer):
        if error.get("code_name"):
            return str(error["code_name"])
    return ""


def _error_words(answer: Answer) -> str:
    parts = []
    for error in _errors(answer):
        words = error.get("detail") or error.get("title") or ""
        code = error.get("code_name") or ""
        parts.append(f"{words} [{code}]" if words and code else str(words or code))
    if parts:
        return "; ".join(p for p in parts if p)
    return answer.text[:200].strip() or f"HTTP {answer.status}"


def _throttle_wait(answer: Answer) -> float | None:
    """`retry_after_seconds` from the JSON:API error, else a Retry-After header."""
    for error in _errors(answer):
        value = error.get("retry_after_seconds")
        if isinstance(value, int | float) and value >= 0:
            return float(value)
    return header_wait(answer)


# reading the CSRF token: any answer that is not the signed-in page means the cookie died
SIGNED_OUT = replace(
    Patreon.errors, rules=(Rule(AuthExpired, when=lambda answer: True, next_step=_COOKIE_STEP),)
)
