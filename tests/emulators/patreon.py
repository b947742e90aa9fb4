"""patreon.com's web-app endpoints (UNOFFICIAL session mode), as far as a cross-poster uses them.

Facts enforced (from PostyBirb's Patreon integration and Patreon's API docs; [U] marks an
assumption of ours, kept strict so the connector cannot rely on leniency):
- Auth is the browser session: cookie `session_id`. `GET /membership` with a live session is
  an HTML page carrying `<meta name="csrf-token" content="...">`; without one it redirects
  (302) to `/login?ru=...`. Every `/api/*` call needs the cookie (else 401 JSON:API error
  [U shape]); every non-GET call also needs the token as `X-CSRF-Signature` (else 403 [U]).
- Create: `POST /api/posts?fields[post]=post_type,post_metadata&include=drop&json-api-version=1.0
  &json-api-use-default-includes=false` body `{"data":{"type":"post","attributes":
  {"post_type":"text_only"}}}` -> 201 `{"data":{"id","type":"post",...},"links":{"self":
  "<host>/api/posts/<id>"}}`: an empty draft.
- Publish: `PATCH /api/posts/<id>` JSON:API document: `data.attributes` title, content (HTML),
  teaser_text, post_type, scheduled_for, `tags: {publish: bool}`; `data.relationships`
  `access_rules` (ids of the campaign's rules) and `user_defined_tags` (ids
  `user_defined;<tag>`); `meta`, `included`. Publishing needs a title and an access rule [U].
  A future `scheduled_for` makes the post scheduled instead of live. Public URL
  `https://www.patreon.com/posts/<id>`.
- Campaign [U shape]: `GET /api/current_user?include=campaign` -> user with
  `relationships.campaign`; `GET /api/campaigns/<id>?include=access_rules.tier` -> `included`
  access-rule resources (`access_rule_type` public|patrons|tier, `amount_cents`, tier rules
  linked to a tier with a `title`).
- Listing [U shape]: `GET /api/posts?filter[campaign_id]=<id>` (required) newest first,
  `filter[is_draft]=true` for drafts (else published and scheduled), `page[count]` <= 100.
  `GET /api/posts/<id>`, `DELETE /api/posts/<id>` (204).
- Rate limit: 100 requests per minute per session; over it -> 429
  `{"errors":[{"code_name":"RequestThrottled","retry_after_seconds":N,"status":"429",...}]}`.
- Observed failure: 400 `POST_CONTENT_OUTDATED` (tests inject it).
"""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from typing import Any

from tests.emulators.base import Emulator, Request, Response, route

POST_TYPES = ("text_only", "image_file", "link", "video_embed", "audio_file", "poll")


def jsonapi_error(status: int, code_name: str, detail: str, **extra: Any) -> Response:
    error = {"code_name": code_name, "detail": detail, "status": str(status), "title": code_name}
    error.update(extra)
    return Response(status, {"errors": [error]}, content_type="application/vnd.api+json")


class PatreonEmulator(Emulator):
    name = "patreon"

    def __init__(self, *, rate_limit: int = 100, rate_window: float = 60.0) -> None:
        super().__init__()
        self.rate_limit, self.rate_window = rate_limit, rate_window
        self.sessions: dict[str, dict[str, Any]] = {}  # session_id -> user
        self.csrf: dict[str, str] = {}  # session_id -> token
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(98_000_001)
        self._rule_ids = itertools.count(5001)

    # -- setup -------------------------------------------------------------

    def add_creator(self, session_id: str, name: str, tiers: dict[str, int] | None = None) -> str:
        """A creator with a campaign (public + patrons rules, one rule per tier); its id."""
        campaign_id = str(next(self._ids))
        rules = [
            {"id": str(next(self._rule_ids)), "access_rule_type": "public", "amount_cents": None},
            {"id": str(next(self._rule_ids)), "access_rule_type": "patrons", "amount_cents": None},
        ]
        tier_list = []
        for title, cents in (tiers or {}).items():
            tier_id = str(next(self._ids))
            tier_list.append({"id": tier_id, "title": title, "amount_cents": cents})
            rules.append(
                {
                    "id": str(next(self._rule_ids)),
                    "access_rule_type": "tier",
                    "amount_cents": cents,
                    "tier_id": tier_id,
                }
            )
        self.campaigns[campaign_id] = {
            "id": campaign_id,
            "name": f"{name}'s campaign",
            "rules": rules,
            "tiers": tier_list,
        }
        self.sessions[session_id] = {
            "id": str(next(self._ids)),
            "full_name": name,
            "vanity": name.lower().replace(" ", ""),
            "campaign_id": campaign_id,
        }
        self.csrf[session_id] = secrets.token_urlsafe(16)
        return campaign_id

    def rotate_csrf(self, session_id: str) -> None:
        self.csrf[session_id] = secrets.token_urlsafe(16)

    def rule_id(self, campaign_id: str, access: str, tier: str | None = None) -> str:
        campaign = self.campaigns[campaign_id]
        for rule in campaign["rules"]:
            if rule["access_rule_type"] != access:
                continue
            if access != "tier":
                return rule["id"]
            titles = {t["id"]: t["title"] for t in campaign["tiers"]}
            if titles.get(rule["tier_id"]) == tier:
                return rule["id"]
        raise KeyError(access)

    def published(self) -> list[dict[str, Any]]:
        """Posts a patron could see (live or scheduled), oldest first."""
        return [p for p in self.posts.values() if not p["is_draft"]]

    def drafts(self) -> list[dict[str, Any]]:
        return [p for p in self.posts.values() if p["is_draft"]]

    # -- auth, CSRF, throttling ----------------------------------------------------

    def _session(self, req: Request) -> str | None:
        cookie = SimpleCookie()
        try:
            cookie.load(req.header("Cookie") or "")
        except Exception:  # a malformed cookie header is simply not a session
            return None
        morsel = cookie.get("session_id")
        return morsel.value if morsel is not None and morsel.value in self.sessions else None

    def handle(self, req: Request) -> Response:
        if req.path == "/login":
            return super().handle(req)
        session_id = self._session(req)
        if req.path == "/membership":
            if session_id is None:
                return Response(302, b"", {"Location": "/login?ru=%2Fmembership"})
            return super().handle(req)
        if session_id is None:
            return jsonapi_error(401, "Unauthorized", "You must be logged in to do that.")
        wait = self.over_limit(session_id, self.rate_limit, self.rate_window)
        if wait is not None:
            return jsonapi_error(
                429,
                "RequestThrottled",
                "You have made too many attempts. Please try again later.",
                retry_after_seconds=max(1, round(wait)),
            )
        if req.method != "GET" and req.header("X-CSRF-Signature") != self.csrf[session_id]:
            return jsonapi_error(403, "CSRFFailed", "CSRF signature is missing or invalid.")
        req.headers["X-Emulator-Session"] = session_id
        return super().handle(req)

    def _user(self, req: Request) -> dict[str, Any]:
        return self.sessions[req.headers["X-Emulator-Session"]]

    # -- pages -------------------------------------------------------------

    @route("GET", r"/membership")
    def membership(self, req: Request) -> Response:
        token = self.csrf[req.headers.get("X-Emulator-Session") or self._session(req) or ""]
        page = (
            '<!doctype html><html><head><meta charset="utf-8">'
            f'<meta name="csrf-token" content="{token}"><title>Membership</title></head>'
            "<body>Your memberships</body></html>"
        )
        return Response(200, page, content_type="text/html; charset=utf-8")

    @route("GET", r"/login")
    def login(self, req: Request) -> Response:
        page = "<!doctype html><html><head><title>Log in</title></head><body>Log in</body></html>"
        return Response(200, page, content_type="text/html; charset=utf-8")

    # -- user and campaign ---------------------------------------------------

    @route("GET", r"/api/current_user")
    def current_user(self, req: Request) -> Response:
        user = self._user(req)
        data = {
            "id": user["id"],
            "type": "user",
            "attributes": {"full_name": user["full_name"], "vanity": user["vanity"]},
            "relationships": {
                "campaign": {"data": {"id": user["campaign_id"], "type": "campaign"}}
            },
        }
        return Response(200, {"data": data}, content_type="application/vnd.api+json")

    @route("GET", r"/api/campaigns/(?P<campaign_id>\d+)")
    def campaign(self, req: Request, campaign_id: str) -> Response:
        campaign = self.campaigns.get(campaign_id)
        if campaign is None:
            return jsonapi_error(404, "ResourceMissing", "That campaign does not exist.")
        included: list[dict[str, Any]] = []
        if "access_rules" in (req.arg("include") or ""):
            for rule in campaign["rules"]:
                item: dict[str, Any] = {
                    "id": rule["id"],
                    "type": "access-rule",
                    "attributes": {
                        "access_rule_type": rule["access_rule_type"],
                        "amount_cents": rule["amount_cents"],
                    },
                }
                if rule.get("tier_id"):
                    item["relationships"] = {
                        "tier": {"data": {"id": rule["tier_id"], "type": "tier"}}
                    }
                included.append(item)
            for tier in campaign["tiers"]:
                included.append(
                    {
                        "id": tier["id"],
                        "type": "tier",
                        "attributes": {
                            "title": tier["title"],
                            "amount_cents": tier["amount_cents"],
                        },
                    }
                )
        data = {"id": campaign_id, "type": "campaign", "attributes": {"name": campaign["name"]}}
        return Response(200, {"data": data, "included": included})

    # -- posts ---------------------------------------------------------------

    def _post_json(self, post: dict[str, Any]) -> dict[str, Any]:
        keys = (
            "title",
            "content",
            "teaser_text",
            "post_type",
            "is_draft",
            "published_at",
            "scheduled_for",
            "edited_at",
            "created_at",
        )
        attributes = {k: post[k] for k in keys}
        attributes["url"] = f"https://www.patreon.com/posts/{post['id']}"
        return {
            "id": post["id"],
            "type": "post",
            "attributes": attributes,
            "relationships": {
                "access_rules": {
                    "data": [{"id": r, "type": "access-rule"} for r in post["access_rules"]]
                },
                "user_defined_tags": {
                    "data": [{"id": f"user_defined;{t}", "type": "post_tag"} for t in post["tags"]]
                },
                "campaign": {"data": {"id": post["campaign_id"], "type": "campaign"}},
            },
        }

    def _own(self, req: Request, post_id: str) -> tuple[dict[str, Any] | None, Response]:
        post = self.posts.get(post_id)
        if post is None:
            return None, jsonapi_error(404, "ResourceMissing", "That post does not exist.")
        if post["campaign_id"] != self._user(req)["campaign_id"]:
            return None, jsonapi_error(403, "Forbidden", "You may not change this post.")
        return post, Response(200)

    @route("POST", r"/api/posts")
    def create_post(self, req: Request) -> Response:
        if req.arg("json-api-version") != "1.0":
            return jsonapi_error(400, "ParameterInvalid", "json-api-version must be 1.0")
        try:
            data = (req.json() or {}).get("data") or {}
        except ValueError:
            return jsonapi_error(400, "ParameterInvalid", "The body is not JSON.")
        attributes = data.get("attributes") or {}
        if data.get("type") != "post" or attributes.get("post_type") not in POST_TYPES:
            return jsonapi_error(400, "ParameterInvalid", "data.attributes.post_type is invalid")
        now = _now()
        with self.lock:
            post_id = str(next(self._ids))
            post = {
                "id": post_id,
                "campaign_id": self._user(req)["campaign_id"],
                "title": None,
                "content": None,
                "teaser_text": None,
                "post_type": attributes["post_type"],
                "is_draft": True,
                "published_at": None,
                "scheduled_for": None,
                "edited_at": now,
                "created_at": now,
                "access_rules": [],
                "tags": [],
            }
            self.posts[post_id] = post
        return Response(
            201,
            {
                "data": self._post_json(post),
                "links": {"self": f"{self.base_url}/api/posts/{post_id}"},
            },
            content_type="application/vnd.api+json",
        )

    @route("PATCH", r"/api/posts/(?P<post_id>\d+)")
    def patch_post(self, req: Request, post_id: str) -> Response:
        try:
            document = req.json() or {}
        except ValueError:
            return jsonapi_error(400, "ParameterInvalid", "The body is not JSON.")
        data = document.get("data") or {}
        if data.get("type") != "post" or str(data.get("id")) != post_id:
            return jsonapi_error(400, "ParameterInvalid", "data.type/data.id do not match the URL")
        attributes = data.get("attributes") or {}
        relationships = data.get("relationships") or {}
        with self.lock:
            post, error = self._own(req, post_id)
            if post is None:
                return error
            campaign = self.campaigns[post["campaign_id"]]
            valid_rules = {r["id"] for r in campaign["rules"]}
            rules = post["access_rules"]
            if "access_rules" in relationships:
                rules = [str(r.get("id")) for r in relationships["access_rules"].get("data") or []]
                unknown = [r for r in rules if r not in valid_rules]
                if unknown:
                    return jsonapi_error(
                        400, "ParameterInvalid", f"Unknown access rule {unknown[0]}"
                    )
            tags = post["tags"]
            if "user_defined_tags" in relationships:
                tags = []
                for tag in relationships["user_defined_tags"].get("data") or []:
                    kind, _, value = str(tag.get("id") or "").partition(";")
                    if tag.get("type") != "post_tag" or kind != "user_defined" or not value:
                        return jsonapi_error(400, "ParameterInvalid", "Invalid post tag")
                    tags.append(value)
            title = attributes.get("title", post["title"])
            publish = bool((attributes.get("tags") or {}).get("publish"))
            scheduled = attributes.get("scheduled_for", post["scheduled_for"])
            if scheduled:
                try:
                    when = datetime.fromisoformat(str(scheduled).replace("Z", "+00:00"))
                except ValueError:
                    return jsonapi_error(400, "ParameterInvalid", "scheduled_for is not a date")
                if when.tzinfo is None:
                    return jsonapi_error(400, "ParameterInvalid", "scheduled_for needs a zone")
            if publish and not (title or "").strip():
                return jsonapi_error(400, "ValidationError", "A post needs a title to publish.")
            if publish and not rules:
                return jsonapi_error(400, "ValidationError", "Choose who can see this post.")
            post.update(
                title=title,
                content=attributes.get("content", post["content"]),
                teaser_text=attributes.get("teaser_text", post["teaser_text"]),
                access_rules=rules,
                tags=tags,
                edited_at=_now(),
            )
            if publish:
                post["is_draft"] = False
                future = scheduled and datetime.fromisoformat(
                    str(scheduled).replace("Z", "+00:00")
                ) > datetime.now(UTC)
                post["scheduled_for"] = scheduled if future else None
                if not future and not post["published_at"]:
                    post["published_at"] = _now()
        return Response(
            200, {"data": self._post_json(post)}, content_type="application/vnd.api+json"
        )

    @route("GET", r"/api/posts/(?P<post_id>\d+)")
    def get_post(self, req: Request, post_id: str) -> Response:
        post, error = self._own(req, post_id)
        if post is None:
            return error
        return Response(200, {"data": self._post_json(post)})

    @route("DELETE", r"/api/posts/(?P<post_id>\d+)")
    def delete_post(self, req: Request, post_id: str) -> Response:
        with self.lock:
            post, error = self._own(req, post_id)
            if post is None:
                return error
            del self.posts[post_id]
        return Response(204)

    @route("GET", r"/api/posts")
    def list_posts(self, req: Request) -> Response:
        campaign_id = req.arg("filter[campaign_id]")
        if not campaign_id:
            return jsonapi_error(400, "ParameterMissing", "filter[campaign_id] is required")
        if campaign_id != self._user(req)["campaign_id"]:
            return jsonapi_error(403, "Forbidden", "Not your campaign.")
        drafts = (req.arg("filter[is_draft]") or "").lower() == "true"
        count = min(100, int(req.arg("page[count]") or 20))
        with self.lock:
            found = [
                p
                for p in self.posts.values()
                if p["campaign_id"] == campaign_id and p["is_draft"] == drafts
            ]
        order = "edited_at" if drafts else "published_at"
        found.sort(key=lambda p: (p[order] or p["scheduled_for"] or "", int(p["id"])), reverse=True)
        return Response(
            200,
            {"data": [self._post_json(p) for p in found[:count]], "meta": {"count": len(found)}},
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
