"""A Substack publication's editor endpoints (UNOFFICIAL), as python-substack drives them.

Facts enforced (python-substack `substack/api.py`, `substack/post.py`; [U] marks an
assumption of ours, kept strict):
- Auth is the session cookie `substack.sid`; without a known one every call is 401 (raw
  text body [U words]). Non-2xx answers are raw text or small JSON, never a fixed shape.
- Everything lives under `<publication>/api/v1`: `GET /user/profile/self` -> `{id, name,
  handle, publicationUsers[].publication}`.
- `POST /drafts` (and `PUT /drafts/<id>`) body: `draft_title`, `draft_subtitle`,
  `draft_body` (a JSON *string* holding a ProseMirror `doc`), `draft_bylines`
  (`[{id: <user id>, is_guest: false}]`), `audience` in everyone|only_paid|founding|
  only_free, `write_comment_permissions`, `draft_section_id`, `section_chosen`.
  The document is checked [U]: known node and mark types only, no empty text node, headings
  level 1-6, links with an href. A bad body -> 400 express-validator style errors [U].
- `GET /drafts/<id>/prepublish` -> `{errors: [...]}` (a missing title is an error [U]);
  `POST /drafts/<id>/publish {"send", "share_automatically"}` -> the post (`id`, `slug`,
  `title`, `canonical_url`, `post_date`, `audience`); publishing an already published
  post's draft again updates it. `POST /drafts/<id>/schedule {"post_date": ISO|null}`.
  `DELETE /drafts/<id>`.
- Listings `GET /post_management/{published|scheduled|drafts}?offset&limit&order_by&
  order_direction` -> `{posts, offset, limit, total}`, newest first.
- No documented rate limit; we answer 429 with `Retry-After` over 60 calls a minute [U].
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from typing import Any

from tests.emulators.base import Emulator, Request, Response, route

AUDIENCES = ("everyone", "only_paid", "founding", "only_free")
COMMENTS = ("everyone", "only_paid", "none")
BLOCK_NODES = {
    "paragraph",
    "heading",
    "blockquote",
    "horizontal_rule",
    "codeBlock",
    "captionedImage",
    "image2",
    "caption",
    "bullet_list",
    "ordered_list",
    "list_item",
    "youtube2",
    "subscribeWidget",
    "footnote",  # a note at the end of the post, attrs {"number": n}
}
INLINE_NODES = {"text", "hard_break", "footnoteAnchor"}  # the anchor: attrs {"number": n}
MARKS = {"strong", "em", "code", "link", "strikethrough"}
LISTS = ("published", "scheduled", "drafts")


def check_doc(node: Any, path: str = "doc") -> str | None:
    """Why a ProseMirror document is not one Substack accepts, or None."""
    if not isinstance(node, dict) or node.get("type") != "doc":
        return "draft_body must be a ProseMirror doc"
    return _check_children(node, path)


def _check_children(node: dict[str, Any], path: str) -> str | None:
    content = node.get("content", [])
    if not isinstance(content, list):
        return f"{path}.content must be a list"
    for index, child in enumerate(content):
        where = f"{path}.content[{index}]"
        if not isinstance(child, dict):
            return f"{where} is not a node"
        kind = child.get("type")
        if kind == "text":
            text = child.get("text")
            if not isinstance(text, str) or text == "":
                return f"{where}: empty text nodes are not allowed"
            for mark in child.get("marks", []):
                if mark.get("type") not in MARKS:
                    return f"{where}: unknown mark {mark.get('type')!r}"
                if mark["type"] == "link" and not (mark.get("attrs") or {}).get("href"):
                    return f"{where}: a link mark needs an href"
            continue
        if kind not in BLOCK_NODES and kind not in INLINE_NODES:
            return f"{where}: unknown node type {kind!r}"
        if kind == "heading" and (child.get("attrs") or {}).get("level") not in range(1, 7):
            return f"{where}: heading level must be 1-6"
        problem = _check_children(child, where)
        if problem:
            return problem
    return None


def doc_text(doc: dict[str, Any]) -> str:
    """Every text node's text, joined: what a reader of the post sees, roughly."""
    parts: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("type") == "text":
            parts.append(node["text"])
        for child in node.get("content", []) or []:
            walk(child)
        if node.get("type") in BLOCK_NODES:
            parts.append("\n")

    walk(doc)
    return "".join(parts)


def _invalid(param: str, message: str) -> Response:
    return Response(400, {"errors": [{"location": "body", "param": param, "msg": message}]})


class SubstackEmulator(Emulator):
    name = "substack"

    def __init__(
        self, *, subdomain: str = "example", rate_limit: int = 60, rate_window: float = 60.0
    ) -> None:
        super().__init__()
        self.subdomain = subdomain
        self.rate_limit, self.rate_window = rate_limit, rate_window
        self.sessions: dict[str, dict[str, Any]] = {}  # substack.sid -> user
        self.drafts: dict[int, dict[str, Any]] = {}
        self.emails: list[int] = []  # draft ids whose publish e-mailed subscribers
        self._ids = itertools.count(140_000_001)

    def add_user(self, sid: str, name: str) -> int:
        user_id = next(self._ids)
        self.sessions[sid] = {
            "id": user_id,
            "name": name,
            "handle": name.lower().replace(" ", ""),
            "publicationUsers": [
                {
                    "role": "admin",
                    "publication": {
                        "id": 9001,
                        "subdomain": self.subdomain,
                        "name": f"{name}'s newsletter",
                        "custom_domain": None,
                    },
                }
            ],
        }
        return user_id

    def published(self) -> list[dict[str, Any]]:
        """Posts readers can see or will see (published or scheduled)."""
        return [d for d in self.drafts.values() if d["is_published"] or d["scheduled_for"]]

    # -- auth ----------------------------------------------------------------

    def _sid(self, req: Request) -> str | None:
        cookie = SimpleCookie()
        try:
            cookie.load(req.header("Cookie") or "")
        except Exception:  # a malformed header is simply no session
            return None
        morsel = cookie.get("substack.sid")
        return morsel.value if morsel is not None and morsel.value in self.sessions else None

    def handle(self, req: Request) -> Response:
        sid = self._sid(req)
        if sid is None:
            return Response(401, "Not authorized", content_type="text/plain; charset=utf-8")
        wait = self.over_limit(sid, self.rate_limit, self.rate_window)
        if wait is not None:
            return Response(
                429,
                "Too Many Requests",
                {"Retry-After": str(max(1, round(wait)))},
                content_type="text/plain; charset=utf-8",
            )
        req.headers["X-Emulator-Sid"] = sid
        return super().handle(req)

    def _user(self, req: Request) -> dict[str, Any]:
        return self.sessions[req.headers["X-Emulator-Sid"]]

    # -- routes --------------------------------------------------------------

    @route("GET", r"/api/v1/user/profile/self")
    def profile(self, req: Request) -> Response:
        return Response(200, self._user(req))

    def _validate(self, req: Request, body: Any) -> Response | None:
        if not isinstance(body, dict):
            return _invalid("body", "Invalid value")
        raw = body.get("draft_body")
        if raw is not None:
            if not isinstance(raw, str):
                return _invalid("draft_body", "draft_body must be a JSON string")
            try:
                doc = json.loads(raw)
            except ValueError:
                return _invalid("draft_body", "draft_body is not valid JSON")
            problem = check_doc(doc)
            if problem:
                return _invalid("draft_body", problem)
        for name in ("draft_title", "draft_subtitle"):
            if name in body and not isinstance(body[name], str | None):
                return _invalid(name, "Invalid value")
        if "audience" in body and body["audience"] not in AUDIENCES:
            return _invalid("audience", "Invalid value")
        comments = body.get("write_comment_permissions")
        if comments is not None and comments not in COMMENTS:
            return _invalid("write_comment_permissions", "Invalid value")
        if "draft_bylines" in body:
            bylines = body["draft_bylines"]
            me = self._user(req)["id"]
            if not isinstance(bylines, list) or not bylines:
                return _invalid("draft_bylines", "At least one byline is required")
            for byline in bylines:
                if not isinstance(byline, dict) or byline.get("id") != me:
                    return _invalid("draft_bylines", "Unknown byline user")
        return None

    def _draft_json(self, draft: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in draft.items() if not k.startswith("_")}

    @route("POST", r"/api/v1/drafts")
    def create_draft(self, req: Request) -> Response:
        body = req.json()
        error = self._validate(req, body)
        if error:
            return error
        now = _now()
        with self.lock:
            draft_id = next(self._ids)
            draft = {
                "id": draft_id,
                "draft_title": body.get("draft_title") or "",
                "draft_subtitle": body.get("draft_subtitle") or "",
                "draft_body": body.get("draft_body"),
                "draft_bylines": body.get("draft_bylines") or [],
                "audience": body.get("audience") or "everyone",
                "write_comment_permissions": body.get("write_comment_permissions") or "everyone",
                "section_chosen": bool(body.get("section_chosen")),
                "draft_section_id": body.get("draft_section_id"),
                "draft_created_at": now,
                "draft_updated_at": now,
                "is_published": False,
                "title": None,
                "subtitle": None,
                "body": None,
                "slug": None,
                "canonical_url": None,
                "post_date": None,
                "scheduled_for": None,
            }
            self.drafts[draft_id] = draft
        return Response(200, self._draft_json(draft))

    def _find(self, draft_id: str) -> dict[str, Any] | None:
        return self.drafts.get(int(draft_id))

    @route("GET", r"/api/v1/drafts/(?P<draft_id>\d+)")
    def get_draft(self, req: Request, draft_id: str) -> Response:
        draft = self._find(draft_id)
        if draft is None:
            return Response(404, {"error": "Post not found"})
        return Response(200, self._draft_json(draft))

    @route("PUT", r"/api/v1/drafts/(?P<draft_id>\d+)")
    def put_draft(self, req: Request, draft_id: str) -> Response:
        body = req.json()
        error = self._validate(req, body)
        if error:
            return error
        with self.lock:
            draft = self._find(draft_id)
            if draft is None:
                return Response(404, {"error": "Post not found"})
            for key in (
                "draft_title",
                "draft_subtitle",
                "draft_body",
                "draft_bylines",
                "audience",
                "write_comment_permissions",
                "section_chosen",
                "draft_section_id",
            ):
                if key in body:
                    draft[key] = body[key]
            draft["draft_updated_at"] = _now()
        return Response(200, self._draft_json(draft))

    @route("DELETE", r"/api/v1/drafts/(?P<draft_id>\d+)")
    def delete_draft(self, req: Request, draft_id: str) -> Response:
        with self.lock:
            if self.drafts.pop(int(draft_id), None) is None:
                return Response(404, {"error": "Post not found"})
        return Response(200, {})

    def _problems(self, draft: dict[str, Any]) -> list[str]:
        problems = []
        if not (draft["draft_title"] or "").strip():
            problems.append("Your post needs a title")
        if not draft["draft_body"]:
            problems.append("Your post is empty")
        return problems

    @route("GET", r"/api/v1/drafts/(?P<draft_id>\d+)/prepublish")
    def prepublish(self, req: Request, draft_id: str) -> Response:
        draft = self._find(draft_id)
        if draft is None:
            return Response(404, {"error": "Post not found"})
        return Response(200, {"errors": self._problems(draft), "warnings": []})

    @route("POST", r"/api/v1/drafts/(?P<draft_id>\d+)/publish")
    def publish(self, req: Request, draft_id: str) -> Response:
        options = req.json() or {}
        with self.lock:
            draft = self._find(draft_id)
            if draft is None:
                return Response(404, {"error": "Post not found"})
            problems = self._problems(draft)
            if problems:
                return Response(400, {"error": problems[0]})
            self._go_live(draft)
            if options.get("send"):
                self.emails.append(draft["id"])
        return Response(200, self._draft_json(draft))

    def _go_live(self, draft: dict[str, Any]) -> None:
        draft["title"] = draft["draft_title"]
        draft["subtitle"] = draft["draft_subtitle"]
        draft["body"] = draft["draft_body"]
        if not draft["slug"]:
            draft["slug"] = self._unique_slug(draft["draft_title"])
            draft["canonical_url"] = f"https://{self.subdomain}.substack.com/p/{draft['slug']}"
        draft["is_published"] = True
        draft["scheduled_for"] = None
        draft["post_date"] = draft["post_date"] or _now()

    def _unique_slug(self, title: str) -> str:
        base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "post"
        taken = {d["slug"] for d in self.drafts.values()}
        slug, number = base, 1
        while slug in taken:
            number += 1
            slug = f"{base}-{number}"
        return slug

    @route("POST", r"/api/v1/drafts/(?P<draft_id>\d+)/schedule")
    def schedule(self, req: Request, draft_id: str) -> Response:
        body = req.json() or {}
        with self.lock:
            draft = self._find(draft_id)
            if draft is None:
                return Response(404, {"error": "Post not found"})
            when = body.get("post_date")
            if when is None:
                draft["scheduled_for"] = None
                return Response(200, self._draft_json(draft))
            try:
                moment = datetime.fromisoformat(str(when).replace("Z", "+00:00"))
            except ValueError:
                return _invalid("post_date", "Invalid value")
            if moment.tzinfo is None or moment <= datetime.now(UTC):
                return _invalid("post_date", "post_date must be in the future")
            problems = self._problems(draft)
            if problems:
                return Response(400, {"error": problems[0]})
            draft["scheduled_for"] = when
            draft["post_date"] = when
            if not draft["slug"]:
                draft["slug"] = self._unique_slug(draft["draft_title"])
                draft["canonical_url"] = f"https://{self.subdomain}.substack.com/p/{draft['slug']}"
            draft["title"] = draft["draft_title"]
        return Response(200, self._draft_json(draft))

    @route("GET", r"/api/v1/post_management/(?P<which>[a-z]+)")
    def listing(self, req: Request, which: str) -> Response:
        if which not in LISTS:
            return Response(404, "Not Found", content_type="text/plain")
        offset = int(req.arg("offset") or 0)
        limit = min(50, int(req.arg("limit") or 25))
        with self.lock:
            if which == "published":
                found = [d for d in self.drafts.values() if d["is_published"]]
            elif which == "scheduled":
                found = [
                    d for d in self.drafts.values() if d["scheduled_for"] and not d["is_published"]
                ]
            else:
                found = [
                    d
                    for d in self.drafts.values()
                    if not d["is_published"] and not d["scheduled_for"]
                ]
        key = "draft_updated_at" if which == "drafts" else "post_date"
        found.sort(
            key=lambda d: (d[key] or "", d["id"]), reverse=(req.arg("order_direction") != "asc")
        )
        page = found[offset : offset + limit]
        return Response(
            200,
            {
                "posts": [self._draft_json(d) for d in page],
                "offset": offset,
                "limit": limit,
                "total": len(found),
            },
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
