"""The connector contract: what every platform module provides, and what the engine may assume.

A connector owns one platform's payloads, HTTP calls, length rule and error mapping. It
knows nothing of scheduling or storage: the engine hands it a `Journal` to record each
post it makes, so a thread interrupted by a crash resumes where it stopped, and a post
whose fate is unknown is looked up (`find_post`) before anything is sent again.

This module holds the interface and its small value types. The error family lives in
`connectors/errors.py` (re-exported here for the code that imports it from the contract),
the timed HTTP call in `connectors/http.py`, the platform registry in
`connectors/registry.py`.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Protocol

import requests
from pydantic import BaseModel, SecretStr

from connectors.errors import (
    AccountHeld,
    Answer,
    AuthExpired,
    ErrorQuirks,
    HandedOff,
    InDoubt,
    NeedsPerson,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
    error_from,
    retry_after_seconds,
)
from connectors.http import DEFAULT_TIMEOUT, USER_AGENT, host_of, session_for, timed_request
from connectors.scheduling import as_utc, schedule_on_platform
from pipeline.document import Essay
from pipeline.render.lengths import LengthRule

# names other code imports from the contract module; they live in errors/http/scheduling
__all__ = [
    "DEFAULT_TIMEOUT",
    "USER_AGENT",
    "Account",
    "AccountHeld",
    "AuthExpired",
    "Connector",
    "Dedupe",
    "Draft",
    "HandedOff",
    "InDoubt",
    "Journal",
    "Kind",
    "MemoryJournal",
    "NeedsPerson",
    "Post",
    "PublishError",
    "RateLimited",
    "Refreshed",
    "Rejected",
    "Remote",
    "RenderContext",
    "TokenLife",
    "Transient",
    "as_utc",
    "credential_variable",
    "host_of",
    "retry_after_seconds",
    "schedule_on_platform",
]


class Kind(StrEnum):
    BLOG = "blog"
    PATRONAGE = "patronage"
    SOCIAL = "social"


class Dedupe(StrEnum):
    """How a connector avoids a second post when an earlier attempt's fate is unknown."""

    IDEMPOTENCY_KEY = "idempotency-key"  # the platform replays the first answer (Mastodon)
    RECORD_KEY = "record-key"  # we choose the record's key; look it up (Bluesky rkey)
    LOOKUP = "lookup"  # look the post up by slug, title or text (WordPress, Ghost, X, ...)
    NONE = "none"  # the platform offers no way to look a post up (Telegram, Medium): after a
    # lost answer a person decides; `find_post` raises `NeedsPerson` instead of guessing


# ---------------------------------------------------------------- payloads


class Post(BaseModel):
    """One create call: the exact JSON body and, for text posts, the counted length."""

    request: dict[str, Any]
    text: str | None = None
    length: int | None = None
    limit: int | None = None


class Draft(BaseModel):
    """Everything one publication sends: one post, or several for a thread."""

    platform: str
    target: str
    kind: Kind
    posts: list[Post]
    title: str = ""
    slug: str = ""
    # Data the connector needs at publish time but that is not part of a request body
    # (an image to upload, the essay's canonical URL): never secrets.
    extras: dict[str, Any] = {}


class Remote(BaseModel):
    """Where a post landed. `extra` keeps what an update needs (Bluesky cid, Ghost updated_at)."""

    id: str
    url: str | None = None
    extra: dict[str, Any] = {}


@dataclass
class RenderContext:
    """What rendering may depend on besides the essay: the target and its resolved inputs."""

    target: str
    options: Mapping[str, Any] = field(default_factory=dict)
    link: str | None = None  # the URL a social post announces (the blog post, once it exists)
    limits: Mapping[str, int] = field(default_factory=dict)  # overrides read from the platform
    # the placeholder the text was previewed with when the URL was known only after
    # publishing: texts are composed around it, then `link` takes its place (pipeline/links.py)
    link_slot: str | None = None


class Journal(Protocol):
    """Durable per-publication progress, written by the engine before and after each call.

    `begin(i)` is persisted *before* post i's request goes out; `done(i, remote)` after the
    platform answered. On restart a post that was begun but not done is in doubt.
    """

    def remote(self, index: int) -> Remote | None: ...

    def begun(self, index: int) -> bool: ...

    def begin(self, index: int) -> None: ...

    def done(self, index: int, remote: Remote) -> None: ...

    def undo(self, index: int) -> None:
        """Post i was refused outright (`Transient`): nothing exists that needs looking up."""
        ...


class MemoryJournal:
    """A journal kept in memory: for previews, tests and one-shot tools."""

    def __init__(self) -> None:
        self.started: set[int] = set()
        self.remotes: dict[int, Remote] = {}

    def remote(self, index: int) -> Remote | None:
        return self.remotes.get(index)

    def begun(self, index: int) -> bool:
        return index in self.started

    def begin(self, index: int) -> None:
        self.started.add(index)

    def done(self, index: int, remote: Remote) -> None:
        self.remotes[index] = remote

    def undo(self, index: int) -> None:
        self.started.discard(index)


@dataclass
class Account:
    """A configured target as a connector sees it: options plus credentials (secret)."""

    name: str
    platform: str
    options: Mapping[str, Any] = field(default_factory=dict)
    credentials: Mapping[str, SecretStr] = field(default_factory=dict)
    base_url: str | None = None
    home: str | None = None  # the instance's home folder, for local connectors
    timeout: float | None = None  # seconds to wait for an answer (target `timeout_seconds`)
    # the settings' own credentials when `credentials` has refreshed values laid over them
    configured: Mapping[str, SecretStr] = field(default_factory=dict)

    def secret(self, key: str) -> str:
        value = self.credentials.get(key)
        if value is None:
            raise AuthExpired(
                f"account {self.name!r} has no credential {key!r}",
                next_step=f"set {credential_variable(self.name, key)}=... in the home's .env "
                f"(or the environment), or targets.{self.name}.credentials.{key} in "
                "crosspost.toml",
            )
        return value.get_secret_value()


# ---------------------------------------------------------------- credential lifetimes


@dataclass(frozen=True)
class TokenLife:
    """How long a platform's credential lives: a fact of the connector, never the secret.

    `credential` names the expiring credential; `lifetime` is the documented life from issue
    or refresh (used when the platform's own answer does not say); `source` cites it;
    `refreshable` says whether the connector can renew it without a person.
    """

    credential: str
    lifetime: timedelta
    source: str
    refreshable: bool = False


@dataclass(frozen=True)
class Refreshed:
    """New credential values from a refresh, and how long the platform says they last."""

    values: dict[str, str]
    expires_in: float | None = None


def credential_variable(target: str, key: str) -> str:
    """The `.env` / environment name of a credential: what the settings loader reads."""
    return f"CROSSPOST_TARGETS__{target.upper()}__CREDENTIALS__{key.upper()}"


# ---------------------------------------------------------------- the contract


class Connector(ABC):
    """One platform. Subclasses set the class facts and implement the per-post calls.

    Thread orchestration, journaling and the look-before-retry rule live here, once.
    """

    platform: ClassVar[str]
    kind: ClassVar[Kind]
    dedupe: ClassVar[Dedupe] = Dedupe.LOOKUP
    can_edit: ClassVar[bool] = False
    default_base_url: ClassVar[str | None] = None
    # the platform's documented write limit per account, (requests, seconds): the engine's
    # limiter keeps a target under it (a target's `rate_limit` setting overrides it)
    rate_limit: ClassVar[tuple[int, float] | None] = None
    # the platform charges per post (pay-per-use): `cost_estimate` says how much
    charges_per_post: ClassVar[bool] = False
    # options that make an unconfigured account renderable, for `crosspost preview`
    example_options: ClassVar[dict[str, Any]] = {}
    # what the platform's error answers mean, read by the one mapper (`connectors/errors.py`)
    errors: ClassVar[ErrorQuirks] = ErrorQuirks(words=lambda answer: answer.text[:200])

    def __init__(self, account: Account, session: requests.Session | None = None) -> None:
        self.account = account
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.base_url = (account.base_url or self.default_base_url or "").rstrip("/")
        self.http = session_for(session)

    # -- pure half -------------------------------------------------------

    @classmethod
    @abstractmethod
    def render(cls, essay: Essay, ctx: RenderContext) -> Draft:
        """The exact request bodies for this essay. Pure: no I/O, same input, same output."""

    @classmethod
    def draft(
        cls,
        essay: Essay,
        ctx: RenderContext,
        posts: list[Post] | None = None,
        *,
        request: dict[str, Any] | None = None,
        title: str | None = None,
        slug: str | None = None,
        extras: dict[str, Any] | None = None,
    ) -> Draft:
        """The draft `render` returns: `posts`, or one post of `request`, for this target;
        the essay's title and slug unless the platform changed them."""
        return Draft(
            platform=cls.platform,
            target=ctx.target,
            kind=cls.kind_for(ctx.options),
            posts=posts if posts is not None else [Post(request=request or {})],
            title=essay.title if title is None else title,
            slug=essay.effective_slug() if slug is None else slug,
            extras=extras or {},
        )

    @classmethod
    def kind_for(cls, options: Mapping[str, Any]) -> Kind:
        """The kind of one account: most platforms have one, Ghost `visibility: paid` differs."""
        return cls.kind

    @classmethod
    def length_rule(cls, ctx: RenderContext | None = None) -> LengthRule | None:
        """The text limit posts must fit, or None where the platform has none that matters."""
        return None

    @classmethod
    def new_key(cls) -> str:
        """An idempotency key for a new publication; stored before the first request."""
        return uuid.uuid4().hex

    @classmethod
    def post_key(cls, key: str, index: int) -> str:
        """The key of post `index` of a publication (threads have several posts)."""
        return key if index == 0 else f"{key}-{index}"

    # -- wire half -------------------------------------------------------

    @abstractmethod
    def create_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote:
        """Send one create call. `chain` holds the posts already made for this draft
        (a reply goes under `chain[-1]`, its thread root is `chain[0]`)."""

    @abstractmethod
    def find_post(self, post: Post, key: str, chain: list[Remote], draft: Draft) -> Remote | None:
        """Did an earlier attempt already create this post? Asked before any retry in doubt."""

    def update(self, remote: Remote, draft: Draft) -> Remote:
        """Change a published post in place (edited essay). Only where `can_edit`."""
        raise Rejected(f"{self.platform} posts cannot be edited through its API")

    def delete(self, remote: Remote) -> None:
        raise Rejected(f"{self.platform} posts cannot be deleted through its API")

    @abstractmethod
    def verify(self) -> str:
        """Check the credentials; return who we are on the platform (handle, site name)."""

    def fetch_limits(self) -> dict[str, int]:
        """Limits read from the platform itself (an instance's own text length), handed to
        the pure `render` in `RenderContext.limits`. Most platforms have none to read."""
        return {}

    # -- credentials and costs ---------------------------------------------

    def token_life(self) -> TokenLife | None:
        """The expiring credential this account uses, or None when nothing expires by date
        (app passwords, bot tokens, API keys)."""
        return None

    def refresh_credentials(self) -> Refreshed:
        """Renew the expiring credential; only called where `token_life().refreshable`."""
        raise Rejected(f"{self.platform} credentials cannot be refreshed through its API")

    @classmethod
    def cost_estimate(cls, draft: Draft, options: Mapping[str, Any]) -> float | None:
        """What publishing `draft` costs in US dollars, where the platform charges per call."""
        return None

    # -- shared orchestration -------------------------------------------

    def publish(self, draft: Draft, key: str, journal: Journal | None = None) -> Remote:
        """Create every post of the draft, each at most once; return the first (the thread root).

        Safe to call again after a crash or an `InDoubt` error with the same journal: posts
        already done are skipped, and a post begun but not done is looked up first.
        """
        journal = journal or MemoryJournal()
        chain: list[Remote] = []
        for index, post in enumerate(draft.posts):
            post_key = self.post_key(key, index)
            remote = journal.remote(index)
            if remote is None and journal.begun(index):
                remote = self.find_post(post, post_key, chain, draft)
                if remote is not None:
                    journal.done(index, remote)
            if remote is None:
                journal.begin(index)
                try:
                    remote = self.create_post(post, post_key, chain, draft)
                except Transient:
                    # refused outright (5xx, 429, never sent): nothing was created. Where no
                    # look-up exists the mark would turn every 503 into a person's check;
                    # elsewhere it stays, as a create of several calls may leave a draft.
                    if self.dedupe is Dedupe.NONE:
                        journal.undo(index)
                    raise
                journal.done(index, remote)
            chain.append(remote)
        return chain[0]

    def find(self, key: str, draft: Draft) -> Remote | None:
        """Did an earlier attempt already publish this draft's first post?"""
        return self.find_post(draft.posts[0], self.post_key(key, 0), [], draft)

    # -- HTTP -----------------------------------------------------------------

    def request(self, method: str, url: str, **kw: Any) -> requests.Response:
        """One HTTP call below `base_url` with the target's timeouts; a network failure is
        `Transient` when nothing was sent, `InDoubt` when a write may have arrived."""
        return timed_request(
            self.http,
            method,
            url,
            platform=self.platform,
            target=self.account.name,
            base_url=self.base_url,
            read_timeout=self.account.timeout,
            **kw,
        )

    @property
    def who(self) -> str:
        """How messages name this account: `mastodon (home)`."""
        return f"{self.platform} ({self.account.name})"

    def failed(self, doing: str) -> str:
        """How the blog connectors name a failed call: `ghost: reading the post failed for
        target 'blog'`."""
        return f"{self.platform}: {doing} failed for target {self.account.name!r}"

    def checked(
        self, response: requests.Response, what: str, *, missing_ok: bool = False, **fields: Any
    ) -> requests.Response:
        """The answer when it succeeded (or is a 404 the caller can take), else its error."""
        if response.ok or (missing_ok and response.status_code == 404):
            return response
        raise self.error_from(response, what, **fields)

    def error_from(
        self,
        response: requests.Response,
        what: str,
        *,
        hide: tuple[str, ...] = (),
        quirks: ErrorQuirks | None = None,
        **fields: Any,
    ) -> PublishError:
        """The family member for an error answer, read through the platform's `errors`
        (or `quirks`, for a call whose answers mean something else, a token exchange)."""
        answer = Answer.of(response)
        fields.setdefault("name", self.account.name)
        return error_from(answer, quirks or self.errors, what, hide=hide, **fields)
