"""Telegram: a bot posts the announcement (or the whole essay, or a thread) to a channel.

Why it looks like this:
- The bot token is part of every URL (`/bot<token>/<method>`), so no URL ever goes into an
  error: messages name the host only, and the underlying `requests` error (whose text holds
  the URL) is cut from the exception chain. The bot must be an admin of the channel
  (option `chat_id`, "@channel" or the numeric id).
- Modes (option `mode`): `announcement` (default: the composer's post, title in bold, with
  a large link preview of the announced URL), `full` (the essay itself in Telegram's HTML
  subset, split between blocks into messages of at most 4096 characters as Telegram counts
  them after entity parsing), `thread` (the composer's numbered thread, each post a reply to
  the one before through `reply_parameters`, filled in at publish).
- **Telegram cannot look a post up.** The Bot API has no method to read or search a
  channel's messages, and a bot gets no update for its own posts (`getUpdates` and webhooks
  skip them), so after a lost `sendMessage` answer nobody can tell whether the message went
  out. `find_post` therefore does not guess: by default it raises `NeedsPerson` asking the
  operator to look at the channel (at most once, never a silent duplicate). Option
  `if_unsure = "resend"` makes it answer "not found" instead, accepting a possible duplicate
  (at least once). Either way a lost answer cannot be made exactly-once on Telegram.
- Rate limits: a 429 carries `parameters.retry_after` (seconds): raised as `RateLimited`.
- `update` edits the first message in place (`editMessageText`); "message is not modified"
  counts as success. Bots may delete messages younger than 48 hours (`deleteMessage`).
"""

from __future__ import annotations

import html
import re
from typing import Any, ClassVar

from connectors.base import Dedupe, Draft, Post, Remote, RenderContext
from connectors.errors import (
    Answer,
    AuthExpired,
    ErrorQuirks,
    NeedsPerson,
    PublishError,
    Rejected,
    Rule,
    Transient,
    error_from,
)
from connectors.http import host_of
from connectors.social import SocialConnector, social_texts
from pipeline.document import Essay
from pipeline.render.lengths import count_telegram
from pipeline.render.parts import blocks_for
from pipeline.render.plain import PlainText
from pipeline.render.telegram import TelegramHtml, escape, escape_attribute

MAX_TEXT = 4096
_TAG = re.compile(r"<[^>]*>")


def visible_text(markup: str) -> str:
    """A message's text after Telegram's entity parsing: tags removed, entities decoded,
    surrounding whitespace trimmed (what the 1-4096 limit is checked against)."""
    return html.unescape(_TAG.sub("", markup)).strip()


def telegram_length(markup: str) -> int:
    return count_telegram(visible_text(markup))


class Telegram(SocialConnector):
    # Bot API FAQ: about one message a second to one chat, short bursts tolerated; (20, 60)
    # let twenty go in one second, which the chat's flood control answers with 429. A group
    # (not a channel) also allows only 20 a minute: give such a target `rate_limit = [1, 3]`.
    rate_limit = (3, 3.0)
    platform = "telegram"
    example_options: ClassVar[dict[str, Any]] = {"chat_id": "@yourchannel"}
    dedupe = Dedupe.NONE  # see the module docstring: the look-up cannot exist on Telegram
    can_edit = True
    default_base_url = "https://api.telegram.org"
    # a refusal's status is the `error_code` of the answer's body (see `_call`)
    errors = ErrorQuirks(
        words=lambda answer: _words(answer),
        wait=lambda answer: _retry_after(answer),
        auth=(),
        transient=(),
        rules=(
            Rule(
                AuthExpired,
                statuses=(401, 404),
                when=lambda answer: "chat" not in _words(answer).lower(),
                says="{what}: the bot token was refused",
            ),
        ),
        refusals=(
            Rule(
                Rejected,
                when=lambda answer: bool(_parameters(answer).get("migrate_to_chat_id")),
                says="{what}: the chat moved",
                next_step="set chat_id to {moved_to}",
            ),
            Rule(
                Rejected,
                statuses=(403,),
                says="{what}: the bot may not post there",
                next_step="add the bot to the channel as an admin allowed to post",
            ),
        ),
    )

    # -- pure half -------------------------------------------------------

    @classmethod
    def render(cls, essay: Essay, ctx: RenderContext) -> Draft:
        options = ctx.options
        chat_id = options.get("chat_id")
        if not chat_id:
            raise Rejected(
                f"telegram target {ctx.target!r} has no chat_id",
                next_step=f'set targets.{ctx.target}.options.chat_id = "@yourchannel"',
            )
        link = ctx.link or essay.canonical_url
        mode = options.get("mode", "announcement")
        rule = cls.length_rule(ctx)
        if mode == "full":
            texts = _full_messages(essay, link)
        else:
            texts = [
                _bold_title(t, essay.title) for t in social_texts("telegram", essay, ctx, rule)
            ]
        posts = []
        for index, text in enumerate(texts):
            body: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
            if index == 0 and link:
                body["link_preview_options"] = {
                    "is_disabled": False,
                    "url": link,
                    "prefer_large_media": True,
                }
            else:  # one preview of the same link is enough
                body["link_preview_options"] = {"is_disabled": True}
            posts.append(
                Post(request=body, text=text, length=telegram_length(text), limit=MAX_TEXT)
            )
        return cls.draft(essay, ctx, posts, extras={"replies": mode == "thread"})

    # -- wire half -----------------------------------------------------------

    def _call(self, method: str, body: dict[str, Any]) -> Any:
        url = f"{self.base_url}/bot{self.account.secret('bot_token')}/{method}"
        try:
            response = self.request("POST", url, json=body)
        except PublishError as exc:
            raise exc from None  # the cause's text holds the URL, and the URL the token
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code < 400 and isinstance(data, dict) and data.get("ok"):
            return data.get("result")
        fields = data if isinstance(data, dict) else {}
        answer = Answer(
            status=int(fields.get("error_code") or response.status_code),
            headers=response.headers,
            text=response.text,
        )
        moved_to = _parameters(answer).get("migrate_to_chat_id")
        what = f"{self.who} at {host_of(url)}"
        raise error_from(answer, self.errors, what, moved_to=moved_to)

    def create_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote:
        body = dict(post.request)
        if chain and draft.extras.get("replies"):
            body["reply_parameters"] = {"message_id": int(chain[-1].id)}
        return _remote(self._call("sendMessage", body))

    def find_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote | None:
        """Telegram offers no look-up: ask a person (default) or accept a possible duplicate."""
        if self.account.options.get("if_unsure") == "resend":
            return None
        chat = post.request.get("chat_id")
        first_line = visible_text(post.request.get("text", "")).split("\n", 1)[0][:80]
        raise NeedsPerson(
            f"telegram: cannot tell whether the message {first_line!r} reached {chat}: "
            "the Bot API cannot read a channel back",
            next_step=f"look at {chat}; if the message is there, mark the publication "
            "published with its link (`crosspost confirm ID URL`), otherwise "
            '`crosspost retry ID` (option if_unsure = "resend" retries blindly)',
        )

    def update(self, remote: Remote, draft: Draft) -> Remote:
        first = draft.posts[0].request
        body = {
            "chat_id": remote.extra.get("chat_id", first["chat_id"]),
            "message_id": int(remote.id),
            "text": first["text"],
            "parse_mode": "HTML",
        }
        if "link_preview_options" in first:
            body["link_preview_options"] = first["link_preview_options"]
        try:
            return _remote(self._call("editMessageText", body), fallback=remote)
        except Rejected as exc:
            if "message is not modified" in (exc.platform_message or ""):
                return remote
            raise

    def delete(self, remote: Remote) -> None:
        chat_id = remote.extra.get("chat_id", self.account.options.get("chat_id"))
        self._call("deleteMessage", {"chat_id": chat_id, "message_id": int(remote.id)})

    def verify(self) -> str:
        me = self._call("getMe", {})
        who = f"@{me.get('username')}"
        chat_id = self.account.options.get("chat_id")
        if chat_id:
            chat = self._call("getChat", {"chat_id": chat_id})
            where = f"@{chat['username']}" if chat.get("username") else str(chat.get("id"))
            who = f"{who} in {where}"
        return who


# ---------------------------------------------------------------- rendering helpers


def _bold_title(plain: str, title: str) -> str:
    """Composer text escaped for Telegram HTML, its leading title (if any) in bold."""
    title = " ".join(title.split())
    if title and plain.startswith(title):
        return f"<b>{escape(title)}</b>{escape(plain[len(title) :])}"
    return escape(plain)


def _full_messages(essay: Essay, link: str | None) -> list[str]:
    """The essay in Telegram HTML, packed block by block into messages that fit; footnotes
    ("[1]" in the text) follow the last block."""
    chunks = [f"<b>{escape(' '.join(essay.title.split()))}</b>"] if essay.title.strip() else []
    markup = TelegramHtml(essay.footnotes)
    text = PlainText(essay.footnotes)
    pieces = [(markup.block(b), text.block(b)) for b in blocks_for(essay, "social")]
    pieces.append((markup.notes(), text.notes()))
    for rendered, as_text in pieces:
        if not rendered:
            continue
        if telegram_length(rendered) <= MAX_TEXT:
            chunks.append(rendered)
        else:  # longer than a message: its plain text, cut between words
            chunks.extend(escape(piece) for piece in _split_plain(as_text))
    if link:
        chunks.append(f'<a href="{escape_attribute(link)}">{escape(link)}</a>')
    messages: list[str] = []
    for chunk in chunks:
        joined = f"{messages[-1]}\n\n{chunk}" if messages else chunk
        if messages and telegram_length(joined) <= MAX_TEXT:
            messages[-1] = joined
        else:
            messages.append(chunk)
    if not messages:
        raise ValueError("the essay has no text to post")
    return messages


def _split_plain(text: str) -> list[str]:
    """Text cut at whitespace into pieces Telegram accepts (a word longer than a message is
    cut hard)."""
    pieces: list[str] = []
    current = ""
    for word in re.split(r"(?<=\s)(?=\S)", text):
        while count_telegram((current + word).strip()) > MAX_TEXT:
            if current.strip():
                pieces.append(current.strip())
                current = ""
                continue
            cut = MAX_TEXT // 2  # a UTF-16 surrogate pair counts 2: stay safely under
            pieces.append(word[:cut])
            word = word[cut:]
        current += word
    if current.strip():
        pieces.append(current.strip())
    return pieces


def _remote(message: dict[str, Any], fallback: Remote | None = None) -> Remote:
    if not isinstance(message, dict):
        if fallback is None:
            raise Transient("telegram: the answer held no message")
        return fallback
    chat = message.get("chat") or {}
    username = chat.get("username")
    message_id = message["message_id"]
    return Remote(
        id=str(message_id),
        url=f"https://t.me/{username}/{message_id}" if username else None,
        extra={"chat_id": chat.get("id")},
    )


def _words(answer: Answer) -> str:
    return str(answer.fields().get("description") or f"HTTP {answer.status}")


def _parameters(answer: Answer) -> dict[str, Any]:
    """`parameters` of an error: `retry_after` (seconds), `migrate_to_chat_id`."""
    parameters = answer.fields().get("parameters")
    return parameters if isinstance(parameters, dict) else {}


def _retry_after(answer: Answer) -> float | None:
    wait = _parameters(answer).get("retry_after")
    return float(wait) if wait is not None else None
