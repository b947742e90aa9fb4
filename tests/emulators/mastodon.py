"""A Mastodon instance's client API, as far as a cross-poster touches it.

Facts enforced (Mastodon 4.x; [U] marks an assumption kept strict):
- Auth: `Authorization: Bearer <token>`; missing or unknown token -> 401
  `{"error":"The access token is invalid"}`. `GET /api/v2/instance` needs no token.
- `POST /api/v1/statuses`, JSON or form (`media_ids[]`): `status` required unless media
  (422 `Validation failed: Text can't be blank`); `visibility` in public|unlisted|private|
  direct (422 [U text]); `language` kept only when it looks like an ISO 639 code (Mastodon
  drops unknown languages silently); `in_reply_to_id` must exist (404 "The post you are
  trying to reply to does not appear to exist."); at most 4 media, all processed (422
  "Cannot attach files that have not finished processing. Try again in a moment!").
- Length (`StatusLengthValidator`): grapheme clusters of `spoiler_text + text`, after every
  http(s) URL counts `characters_reserved_per_url` (23) and `@user@domain` counts `@user`;
  over `max_characters` (500) -> 422 `Validation failed: Text character limit of 500 exceeded`.
- `Idempotency-Key`: the same account and key within 1 hour return the status first created
  (200), never a second one (post_status_service.rb, `setex 3600`).
- Status JSON: `id` (string), `url` `https://<host>/@<user>/<id>`, `content` HTML (paragraphs,
  `<br />`, links with invisible/ellipsis spans, hashtag links), `in_reply_to_id`,
  `visibility`, `language`, `spoiler_text`, `edited_at`, `media_attachments`.
- `GET|PUT|DELETE /api/v1/statuses/:id` (404 `Record not found`; PUT/DELETE of another
  account's status -> 403 "This action is not allowed"; PUT cannot change visibility);
  `GET /api/v1/statuses/:id/source` -> `{id, text, spoiler_text}`; DELETE answers the status
  with its source `text`.
- `GET /api/v1/accounts/verify_credentials`; `GET /api/v1/accounts/:id/statuses` newest first,
  `limit` default 20, at most 40, `max_id` paging, `exclude_replies`.
- `GET /api/v2/instance`: `configuration.statuses.max_characters`,
  `characters_reserved_per_url`, `max_media_attachments`, `media_attachments.image_size_limit`.
- Media: `POST /api/v2/media` multipart `file` (+ `description`) -> 202 with `url: null`
  while processing (200 with `url` when processing is instant); `GET /api/v1/media/:id` ->
  206 until processed, then 200 with `url`.
- Rate limits (Rack::Attack): 300 requests per 5 minutes per token, a fixed window aligned
  to the period; every answer carries `X-RateLimit-Limit`, `X-RateLimit-Remaining`,
  `X-RateLimit-Reset` (ISO 8601); over it -> 429 `{"error":"Too many requests"}`, no
  `Retry-After`. Media uploads also 30 per 30 minutes.
"""

from __future__ import annotations

import html
import itertools
import re
import time
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from typing import Any

import regex
from twitter_text import extract_urls_with_indices

from tests.emulators.base import Emulator, Request, Response, route

VISIBILITIES = ("public", "unlisted", "private", "direct")
IDEMPOTENCY_TTL = 3600.0
_MENTION = re.compile(r"(?<![\w/])@([a-z0-9_]+)@[a-z0-9.\-]+[a-z0-9]", re.IGNORECASE)
_HASHTAG = re.compile(r"(?<![\w/#])#(\w+)")


def countable_length(text: str, spoiler: str = "", url_length: int = 23) -> int:
    """`StatusLengthValidator`: graphemes after URL -> placeholder and remote mention -> @user."""
    out: list[str] = []
    last = 0
    for entity in extract_urls_with_indices(text, extract_urls_without_protocol=False):
        start, end = entity["indices"]
        out.append(text[last:start] + "x" * url_length)
        last = end
    out.append(text[last:])
    countable = _MENTION.sub(lambda m: "@" + m.group(1), "".join(out))
    return len(regex.findall(r"\X", spoiler + countable))


def format_content(text: str, host: str) -> str:
    """Mastodon's plain-text formatter, enough of it: paragraphs, line breaks, links, tags."""
    urls = extract_urls_with_indices(text, extract_urls_without_protocol=False)
    pieces: list[str] = []
    last = 0
    for entity in urls:
        start, end = entity["indices"]
        pieces.append(_format_plain(text[last:start], host))
        pieces.append(_link(entity["url"]))
        last = end
    pieces.append(_format_plain(text[last:], host))
    body = "".join(pieces)
    paragraphs = [p.replace("\n", "<br />") for p in re.split(r"\n\n+", body.strip("\n"))]
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def _format_plain(text: str, host: str) -> str:
    escaped = html.escape(text, quote=False)
    return _HASHTAG.sub(
        lambda m: (
            f'<a href="https://{host}/tags/{m.group(1).lower()}" class="mention hashtag"'
            f' rel="tag">#<span>{m.group(1)}</span></a>'
        ),
        escaped,
    )


def _link(url: str) -> str:
    prefix, _, rest = url.partition("://")
    display, hidden = rest[:30], rest[30:]
    cls = "ellipsis" if hidden else ""
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{prefix}://</span><span class="{cls}">{html.escape(display)}'
        f'</span><span class="invisible">{html.escape(hidden)}</span></a>'
    )


class MastodonEmulator(Emulator):
    name = "mastodon"

    def __init__(
        self,
        *,
        host: str = "mastodon.example",
        max_characters: int = 500,
        characters_reserved_per_url: int = 23,
        rate_limit: int = 300,
        rate_window: float = 300.0,
        media_limit: int = 30,
        media_window: float = 1800.0,
        media_processing_polls: int = 1,
    ) -> None:
        super().__init__()
        self.host = host
        self.max_characters = max_characters
        self.characters_reserved_per_url = characters_reserved_per_url
        self.rate_limit, self.rate_window = rate_limit, rate_window
        self.media_limit, self.media_window = media_limit, media_window
        self.media_processing_polls = media_processing_polls
        self.clock = time.time  # tests may shift it to expire idempotency keys
        self.accounts: dict[str, dict[str, Any]] = {}  # token -> account
        self.statuses: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[tuple[str, str], tuple[str, float]] = {}
        self.handled: dict[tuple[str, int], int] = {}  # (token, window) -> requests answered
        self._windows_fixed: dict[tuple[str, str, int], int] = {}
        self._ids = itertools.count(110_000_000_000_000_001)

    # -- test helpers ------------------------------------------------------

    def add_account(self, token: str, username: str = "writer") -> dict[str, Any]:
        account = {
            "id": str(next(self._ids)),
            "username": username,
            "acct": username,
            "display_name": username.title(),
            "url": f"https://{self.host}/@{username}",
            "note": "",
        }
        self.accounts[token] = account
        return account

    def published(self, username: str | None = None) -> list[dict[str, Any]]:
        """Every live status in creation order, with its source `text`."""
        with self.lock:
            return [
                dict(s)
                for s in self.statuses.values()
                if username is None or s["account"]["username"] == username
            ]

    # -- plumbing ------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        if req.path == "/api/v2/instance":
            return super().handle(req)
        token = _bearer(req)
        if token is None or token not in self.accounts:
            return Response(401, {"error": "The access token is invalid"})
        now = self.clock()
        headers, over = self._throttle("api", token, self.rate_limit, self.rate_window, now)
        if over:
            return Response(429, {"error": "Too many requests"}, headers)
        if req.method == "POST" and re.fullmatch(r"/api/v[12]/media", req.path):
            media_headers, media_over = self._throttle(
                "media", token, self.media_limit, self.media_window, now
            )
            if media_over:
                return Response(429, {"error": "Too many requests"}, media_headers)
        req.headers["X-Emulator-Token"] = token
        response = super().handle(req)
        response.headers.update(headers)
        return response

    def _throttle(
        self, bucket: str, token: str, limit: int, period: float, now: float
    ) -> tuple[dict[str, str], bool]:
        """Rack::Attack's fixed window: count in the current period, reset at its end."""
        window = int(now // period)
        key = (bucket, token, window)
        with self.lock:
            count = self._windows_fixed.get(key, 0) + 1
            self._windows_fixed[key] = count
            if count <= limit and bucket == "api":
                self.handled[(token, window)] = self.handled.get((token, window), 0) + 1
        reset = datetime.fromtimestamp((window + 1) * period, UTC)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - count)),
            "X-RateLimit-Reset": reset.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        }
        return headers, count > limit

    def _account(self, req: Request) -> dict[str, Any]:
        return self.accounts[req.headers["X-Emulator-Token"]]

    def _status_json(self, status: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in status.items() if k not in {"text", "idempotency_key"}}

    # -- instance ------------------------------------------------------------

    @route("GET", r"/api/v2/instance")
    def instance(self, req: Request) -> Response:
        return Response(
            200,
            {
                "domain": self.host,
                "title": "Emulated Mastodon",
                "version": "4.3.0",
                "configuration": {
                    "statuses": {
                        "max_characters": self.max_characters,
                        "max_media_attachments": 4,
                        "characters_reserved_per_url": self.characters_reserved_per_url,
                    },
                    "media_attachments": {"image_size_limit": 16 * 1024 * 1024},
                },
            },
        )

    @route("GET", r"/api/v1/accounts/verify_credentials")
    def verify_credentials(self, req: Request) -> Response:
        account = self._account(req)
        return Response(200, {**account, "source": {"privacy": "public", "note": ""}})

    @route("GET", r"/api/v1/accounts/(?P<account_id>\d+)/statuses")
    def account_statuses(self, req: Request, account_id: str) -> Response:
        limit = min(40, int(req.arg("limit") or 20))
        max_id = req.arg("max_id")
        exclude_replies = (req.arg("exclude_replies") or "").lower() in {"1", "true"}
        with self.lock:
            found = [
                s
                for s in reversed(list(self.statuses.values()))
                if s["account"]["id"] == account_id
                and (max_id is None or int(s["id"]) < int(max_id))
                and not (exclude_replies and s["in_reply_to_id"])
            ]
        return Response(200, [self._status_json(s) for s in found[:limit]])

    # -- statuses ------------------------------------------------------------

    @route("POST", r"/api/v1/statuses")
    def create_status(self, req: Request) -> Response:
        account = self._account(req)
        params = _params(req)
        key = req.header("Idempotency-Key")
        now = self.clock()
        with self.lock:
            if key:
                known = self.idempotency.get((account["id"], key))
                if known and now - known[1] < IDEMPOTENCY_TTL and known[0] in self.statuses:
                    return Response(200, self._status_json(self.statuses[known[0]]))
            error = self._validate(params, creating=True)
            if error:
                return error
            status_id = str(next(self._ids))
            status = self._build(status_id, account, params, now)
            self.statuses[status_id] = status
            for media_id in params.get("media_ids") or []:
                self.media[media_id]["attached"] = status_id
            if key:
                self.idempotency[(account["id"], key)] = (status_id, now)
        return Response(200, self._status_json(status))

    def _validate(self, params: dict[str, Any], *, creating: bool) -> Response | None:
        text = params.get("status") or ""
        spoiler = params.get("spoiler_text") or ""
        media_ids = params.get("media_ids") or []
        if not text.strip() and not media_ids:
            return Response(422, {"error": "Validation failed: Text can't be blank"})
        visibility = params.get("visibility")
        if creating and visibility is not None and visibility not in VISIBILITIES:
            return Response(
                422, {"error": "Validation failed: Visibility is not included in the list"}
            )
        length = countable_length(text, spoiler, self.characters_reserved_per_url)
        if length > self.max_characters:
            return Response(
                422,
                {
                    "error": "Validation failed: Text character limit of "
                    f"{self.max_characters} exceeded"
                },
            )
        reply_to = params.get("in_reply_to_id")
        if creating and reply_to and str(reply_to) not in self.statuses:
            return Response(
                404, {"error": "The post you are trying to reply to does not appear to exist."}
            )
        if len(media_ids) > 4:
            return Response(422, {"error": "Cannot attach more than 4 files"})
        for media_id in media_ids:
            media = self.media.get(str(media_id))
            if media is None:
                return Response(404, {"error": "Record not found"})
            if media["url"] is None:
                return Response(
                    422,
                    {
                        "error": "Cannot attach files that have not finished processing. "
                        "Try again in a moment!"
                    },
                )
        return None

    def _build(
        self, status_id: str, account: dict[str, Any], params: dict[str, Any], now: float
    ) -> dict[str, Any]:
        text = params.get("status") or ""
        language = params.get("language")
        reply_to = params.get("in_reply_to_id")
        return {
            "id": status_id,
            "created_at": _iso(now),
            "in_reply_to_id": str(reply_to) if reply_to else None,
            "in_reply_to_account_id": (
                self.statuses[str(reply_to)]["account"]["id"] if reply_to else None
            ),
            "sensitive": bool(params.get("sensitive")) or bool(params.get("spoiler_text")),
            "spoiler_text": params.get("spoiler_text") or "",
            "visibility": params.get("visibility") or "public",
            "language": language if _looks_like_language(language) else None,
            "uri": f"https://{self.host}/users/{account['username']}/statuses/{status_id}",
            "url": f"https://{self.host}/@{account['username']}/{status_id}",
            "content": format_content(text, self.host),
            "text": text,
            "edited_at": None,
            "account": account,
            "media_attachments": [
                self._media_json(self.media[str(m)]) for m in params.get("media_ids") or []
            ],
            "mentions": [],
            "tags": [],
        }

    def _own_status(self, req: Request, status_id: str) -> tuple[dict[str, Any] | None, Response]:
        status = self.statuses.get(status_id)
        if status is None:
            return None, Response(404, {"error": "Record not found"})
        if status["account"]["id"] != self._account(req)["id"]:
            return None, Response(403, {"error": "This action is not allowed"})
        return status, Response(200)

    @route("GET", r"/api/v1/statuses/(?P<status_id>\d+)")
    def get_status(self, req: Request, status_id: str) -> Response:
        status = self.statuses.get(status_id)
        if status is None:
            return Response(404, {"error": "Record not found"})
        return Response(200, self._status_json(status))

    @route("GET", r"/api/v1/statuses/(?P<status_id>\d+)/source")
    def status_source(self, req: Request, status_id: str) -> Response:
        status, error = self._own_status(req, status_id)
        if status is None:
            return error
        return Response(
            200, {"id": status_id, "text": status["text"], "spoiler_text": status["spoiler_text"]}
        )

    @route("PUT", r"/api/v1/statuses/(?P<status_id>\d+)")
    def edit_status(self, req: Request, status_id: str) -> Response:
        params = _params(req)
        with self.lock:
            status, error = self._own_status(req, status_id)
            if status is None:
                return error
            error = self._validate(params, creating=False)
            if error:
                return error
            text = params.get("status") or ""
            status["text"] = text
            status["content"] = format_content(text, self.host)
            if "spoiler_text" in params:
                status["spoiler_text"] = params.get("spoiler_text") or ""
            if params.get("language") and _looks_like_language(params["language"]):
                status["language"] = params["language"]
            if "media_ids" in params:
                status["media_attachments"] = [
                    self._media_json(self.media[str(m)]) for m in params["media_ids"] or []
                ]
            status["edited_at"] = _iso(self.clock())
        return Response(200, self._status_json(status))

    @route("DELETE", r"/api/v1/statuses/(?P<status_id>\d+)")
    def delete_status(self, req: Request, status_id: str) -> Response:
        with self.lock:
            status, error = self._own_status(req, status_id)
            if status is None:
                return error
            del self.statuses[status_id]
        return Response(200, {**self._status_json(status), "text": status["text"]})

    # -- media ---------------------------------------------------------------

    @route("POST", r"/api/v2/media")
    def upload_media(self, req: Request) -> Response:
        fields, files = _multipart(req)
        data = files.get("file")
        if not data:
            return Response(422, {"error": "Validation failed: File can't be blank"})
        if len(data[1]) > 16 * 1024 * 1024:
            return Response(
                422, {"error": "Validation failed: File file size must be less than 16 MB"}
            )
        media_id = str(next(self._ids))
        media = {
            "id": media_id,
            "type": "image",
            "url": None,
            "preview_url": None,
            "description": fields.get("description"),
            "polls_left": self.media_processing_polls,
            "size": len(data[1]),
            "attached": None,
        }
        with self.lock:
            self.media[media_id] = media
            if media["polls_left"] <= 0:
                self._finish(media)
                return Response(200, self._media_json(media))
        return Response(202, self._media_json(media))

    @route("GET", r"/api/v1/media/(?P<media_id>\d+)")
    def get_media(self, req: Request, media_id: str) -> Response:
        with self.lock:
            media = self.media.get(media_id)
            if media is None:
                return Response(404, {"error": "Record not found"})
            if media["url"] is None:
                media["polls_left"] -= 1
                if media["polls_left"] < 0:
                    self._finish(media)
                else:
                    return Response(206, self._media_json(media))
        return Response(200, self._media_json(media))

    def _finish(self, media: dict[str, Any]) -> None:
        media["url"] = f"https://{self.host}/system/media/{media['id']}.png"
        media["preview_url"] = f"https://{self.host}/system/media/small/{media['id']}.png"

    @staticmethod
    def _media_json(media: dict[str, Any]) -> dict[str, Any]:
        keys = ("id", "type", "url", "preview_url", "description")
        return {k: media[k] for k in keys}


def _bearer(req: Request) -> str | None:
    value = req.header("Authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _params(req: Request) -> dict[str, Any]:
    """Rails params from JSON or a form (`media_ids[]` -> list)."""
    content_type = (req.header("Content-Type") or "").lower()
    if "application/json" in content_type:
        data = req.json() or {}
        if "media_ids" in data:
            data["media_ids"] = [str(m) for m in data["media_ids"] or []]
        return data
    params: dict[str, Any] = {}
    for key, values in req.form().items():
        if key.endswith("[]"):
            params[key[:-2]] = list(values)
        else:
            params[key] = values[-1]
    return params


def _multipart(req: Request) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    content_type = req.header("Content-Type") or ""
    if "multipart/form-data" not in content_type:
        return {}, {}
    message = BytesParser(policy=policy.default).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + req.body
    )
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[str(name)] = (filename, payload)
        else:
            fields[str(name)] = payload.decode("utf-8")
    return fields, files


def _looks_like_language(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[a-z]{2,3}", value) is not None


def _iso(moment: float) -> str:
    return (
        datetime.fromtimestamp(moment, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
