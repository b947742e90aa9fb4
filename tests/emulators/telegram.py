"""The Telegram Bot API for a bot that posts to channels.

Facts enforced ([U] marks an assumption kept strict):
- Token in the path: `POST /bot<token>/<method>` (JSON or form). Unknown token -> 401
  `{"ok":false,"error_code":401,"description":"Unauthorized"}`; unknown method -> 404
  `Not Found`. Every error: `{"ok":false,"error_code":N,"description":"..."}` with HTTP N.
- `sendMessage`: `chat_id` ("@channel" or the numeric id; unknown -> 400 `Bad Request: chat
  not found`; bot not an admin -> 403 [U text]), `text` 1-4096 characters *after entity
  parsing* (counted in UTF-16 units [U]; leading/trailing whitespace trimmed), `parse_mode`
  "HTML" with only the allowed tags: b strong i em u ins s strike del span.tg-spoiler
  tg-spoiler a[href] tg-emoji code pre blockquote; any other tag -> 400 `Bad Request: can't
  parse entities: Unsupported start tag "p" at byte offset N` (UTF-8 offset of `<`);
  named entities only lt gt amp quot (numeric ones too). `link_preview_options` object,
  `reply_parameters.message_id` must exist in the chat (400 `Bad Request: message to be
  replied not found`). Answer: `{"ok":true,"result":{message_id,date,chat:{id,title,
  username,type:"channel"},text,entities?,reply_to_message?}}`; ids count up per chat.
- `editMessageText` (400 `message to edit not found`; the same content -> 400 `message is not
  modified: ...`), `deleteMessage` (-> `result: true`), `getMe`, `getChat`.
- Rate limits (FAQ): about one message per second per chat with short bursts tolerated,
  ~30 messages per second overall -> 429 `{"ok":false,"error_code":429,"description":"Too
  Many Requests: retry after N","parameters":{"retry_after":N}}`.
- There is no method to read a channel's messages or to search them, and a bot receives no
  update for its own posts: so this emulator offers none either (tests list `messages()`).
"""

from __future__ import annotations

import html
import itertools
import math
import re
import time
from typing import Any

from tests.emulators.base import Emulator, Request, Response

ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
}
MAX_TEXT = 4096
_TAG = re.compile(r"<(/?)([^\s>/]*)([^>]*)>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


class EntityError(ValueError):
    """The text is not valid Telegram HTML; the message is the platform's description tail."""


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: the visible text and its entities, or EntityError."""
    out: list[str] = []
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, int, dict[str, str]]] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "&":
            match = _ENTITY.match(text, pos)
            if match:
                out.append(html.unescape(match.group(0)))
                pos = match.end()
                continue
            out.append(char)
            pos += 1
            continue
        if char != "<":
            out.append(char)
            pos += 1
            continue
        offset = len(text[:pos].encode("utf-8"))
        match = _TAG.match(text, pos)
        if match is None:
            raise EntityError(f"Unclosed start tag at byte offset {offset}")
        closing, name, attrs = match.group(1), match.group(2).lower(), match.group(3)
        visible = "".join(out)
        if closing:
            if not stack:
                raise EntityError(f"Unexpected end tag at byte offset {offset}")
            open_name, start, open_attrs = stack.pop()
            if name != open_name:
                raise EntityError(
                    f'Unmatched end tag at byte offset {offset}, expected "</{open_name}>", '
                    f'found "</{name}>"'
                )
            entity = {
                "type": open_name,
                "offset": _utf16(visible[:start]),
                "length": _utf16(visible[start:]),
            }
            entity.update(open_attrs)
            entities.append(entity)
        else:
            if name not in ALLOWED_TAGS:
                raise EntityError(f'Unsupported start tag "{name}" at byte offset {offset}')
            parsed = dict(re.findall(r'([\w-]+)\s*=\s*"([^"]*)"', attrs))
            if name == "span" and parsed.get("class") != "tg-spoiler":
                raise EntityError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {offset}'
                )
            if name == "a" and "href" not in parsed:
                parsed["href"] = ""
            stack.append((name, len(visible), {k: html.unescape(v) for k, v in parsed.items()}))
        pos = match.end()
    if stack:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), entities


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class TelegramEmulator(Emulator):
    name = "telegram"

    def __init__(
        self,
        token: str = "123456:TEST-token-abcdefghijklmnop",
        *,
        bot_username: str = "crosspost_bot",
        chat_limit: int = 3,
        chat_window: float = 3.0,
        global_limit: int = 30,
        global_window: float = 1.0,
    ) -> None:
        super().__init__()
        self.token = token
        self.bot_username = bot_username
        self.chat_limit, self.chat_window = chat_limit, chat_window
        self.global_limit, self.global_window = global_limit, global_window
        self.chats: dict[int, dict[str, Any]] = {}
        self.admin_of: set[int] = set()
        self.messages_by_chat: dict[int, dict[int, dict[str, Any]]] = {}
        self._next_id: dict[int, itertools.count[int]] = {}
        self.sends_at: list[tuple[int, float]] = []  # (chat id, time) of every accepted send

    # -- test helpers ------------------------------------------------------

    def add_channel(self, username: str, chat_id: int = -1001234567890, admin: bool = True) -> int:
        self.chats[chat_id] = {
            "id": chat_id,
            "title": username.title(),
            "username": username,
            "type": "channel",
        }
        if admin:
            self.admin_of.add(chat_id)
        self.messages_by_chat[chat_id] = {}
        self._next_id[chat_id] = itertools.count(1)
        return chat_id

    def messages(self, chat: str | int | None = None) -> list[dict[str, Any]]:
        """Live messages (all chats, or one), oldest first; `source` is the text as sent."""
        with self.lock:
            chats = self.chats if chat is None else [self._resolve(chat)]
            return [
                dict(m) for c in chats if c is not None for m in self.messages_by_chat[c].values()
            ]

    # -- plumbing ------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", req.path)
        if match is None:
            return _error(404, "Not Found")
        if match.group(1) != self.token:
            return _error(401, "Unauthorized")
        method = getattr(self, f"m_{match.group(2)}", None)
        if method is None:
            return _error(404, "Not Found")
        try:
            return method(_params(req))
        except Exception as exc:  # an emulator bug must show as a 500, not a hang
            return _error(500, f"emulator error: {type(exc).__name__}: {exc}")

    def _resolve(self, chat_id: Any) -> int | None:
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for cid, chat in self.chats.items():
                if chat["username"].lower() == chat_id[1:].lower():
                    return cid
            return None
        try:
            cid = int(chat_id)
        except (TypeError, ValueError):
            return None
        return cid if cid in self.chats else None

    def _chat(self, params: dict[str, Any]) -> tuple[int | None, Response | None]:
        if params.get("chat_id") in (None, ""):
            return None, _error(400, "Bad Request: chat_id is empty")
        cid = self._resolve(params["chat_id"])
        if cid is None:
            return None, _error(400, "Bad Request: chat not found")
        if cid not in self.admin_of:
            return None, _error(403, "Forbidden: bot is not a member of the channel chat")
        return cid, None

    def _text(self, params: dict[str, Any]) -> tuple[str, list[dict[str, Any]], Response | None]:
        raw = params.get("text")
        if not isinstance(raw, str):
            return "", [], _error(400, "Bad Request: message text is empty")
        if (params.get("parse_mode") or "").upper() == "HTML":
            try:
                visible, entities = parse_html(raw)
            except EntityError as exc:
                return "", [], _error(400, f"Bad Request: can't parse entities: {exc}")
        elif params.get("parse_mode"):
            return "", [], _error(400, "Bad Request: unsupported parse_mode")
        else:
            visible, entities = raw, []
        stripped = visible.strip()
        if not stripped:
            return "", [], _error(400, "Bad Request: message text is empty")
        if _utf16(stripped) > MAX_TEXT:
            return "", [], _error(400, "Bad Request: message is too long")
        return stripped, entities, None

    def _throttle(self, cid: int) -> Response | None:
        waits = [
            self.over_limit(f"chat:{cid}", self.chat_limit, self.chat_window),
            self.over_limit("global", self.global_limit, self.global_window),
        ]
        wait = max((w for w in waits if w is not None), default=None)
        if wait is None:
            return None
        seconds = max(1, math.ceil(wait))
        return Response(
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {seconds}",
                "parameters": {"retry_after": seconds},
            },
        )

    # -- methods ---------------------------------------------------------------

    def m_getMe(self, params: dict[str, Any]) -> Response:
        return _ok(
            {
                "id": 123456,
                "is_bot": True,
                "first_name": "Crosspost",
                "username": self.bot_username,
                "can_join_groups": True,
            }
        )

    def m_getChat(self, params: dict[str, Any]) -> Response:
        cid, error = self._chat(params)
        if error:
            return error
        return _ok(dict(self.chats[cid]))

    def m_sendMessage(self, params: dict[str, Any]) -> Response:
        cid, error = self._chat(params)
        if error:
            return error
        text, entities, error = self._text(params)
        if error:
            return error
        options = params.get("link_preview_options")
        if options is not None and not isinstance(options, dict):
            return _error(400, "Bad Request: can't parse link preview options JSON object")
        with self.lock:
            reply = params.get("reply_parameters") or {}
            replied = None
            if reply:
                replied = self.messages_by_chat[cid].get(int(reply.get("message_id") or 0))
                if replied is None:
                    return _error(400, "Bad Request: message to be replied not found")
            limited = self._throttle(cid)
            if limited:
                return limited
            message_id = next(self._next_id[cid])
            message: dict[str, Any] = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": dict(self.chats[cid]),
                "text": text,
            }
            if entities:
                message["entities"] = entities
            if replied:
                message["reply_to_message"] = {k: replied[k] for k in ("message_id", "text")}
            self.messages_by_chat[cid][message_id] = {
                **message,
                "source": params["text"],
                "parse_mode": params.get("parse_mode"),
                "link_preview_options": options,
            }
            self.sends_at.append((cid, time.monotonic()))
        return _ok(message)

    def m_editMessageText(self, params: dict[str, Any]) -> Response:
        cid, error = self._chat(params)
        if error:
            return error
        text, entities, error = self._text(params)
        if error:
            return error
        with self.lock:
            stored = self.messages_by_chat[cid].get(int(params.get("message_id") or 0))
            if stored is None:
                return _error(400, "Bad Request: message to edit not found")
            if stored["source"] == params["text"] and stored.get("entities", []) == entities:
                return _error(
                    400,
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup "
                    "of the message",
                )
            stored.update(
                text=text,
                source=params["text"],
                edit_date=int(time.time()),
                link_preview_options=params.get("link_preview_options"),
            )
            stored.pop("entities", None)
            if entities:
                stored["entities"] = entities
            result = {
                k: v
                for k, v in stored.items()
                if k not in {"source", "parse_mode", "link_preview_options"}
            }
        return _ok(result)

    def m_deleteMessage(self, params: dict[str, Any]) -> Response:
        cid, error = self._chat(params)
        if error:
            return error
        with self.lock:
            if self.messages_by_chat[cid].pop(int(params.get("message_id") or 0), None) is None:
                return _error(400, "Bad Request: message to delete not found")
        return _ok(True)


def _params(req: Request) -> dict[str, Any]:
    import json

    content_type = (req.header("Content-Type") or "").lower()
    if "application/json" in content_type:
        return req.json() or {}
    params = {k: v[-1] for k, v in {**req.query, **req.form()}.items()}
    for key in ("link_preview_options", "reply_parameters"):  # form fields carry JSON
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


def _ok(result: Any) -> Response:
    return Response(200, {"ok": True, "result": result})


def _error(code: int, description: str) -> Response:
    return Response(code, {"ok": False, "error_code": code, "description": description})
