"""The connector contract: what every platform module provides, and what the engine may assume.

A connector owns one platform's payloads, HTTP calls, length rule and error mapping. It
knows nothing of scheduling or storage: the engine hands it a `Journal` to record each
post it makes, so a thread interrupted by a crash resumes where it stopped, and a post
whose fate is unknown is looked up (`find_post`) before anything is sent again.

Errors form one small family, so the engine decides retry, wait or give up from the type:
- `Transient`, `RateLimited(retry_after)`: try again later, nothing was created.
- `InDoubt`: the request may have reached the platform; look it up before any retry.
- `AuthExpired`, `Rejected(reason)`: a person must act; retrying will not help.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any, ClassVar, Protocol

import requests
from pydantic import BaseModel, SecretStr

from pipeline.document import Essay
from pipeline.render.lengths import LengthRule
from pipeline.timezones import author_time

# (connect, read) seconds: a dead host fails fast, a slow one gets time
DEFAULT_TIMEOUT = (5.0, 30.0)
USER_AGENT = "crosspost/0.1 (+https://example.invalid/crosspost)"


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


# ---------------------------------------------------------------- errors


class PublishError(Exception):
    """A platform call failed. `platform_message` is the platform's own words, for the operator."""

    def __init__(
        self, message: str, platform_message: str | None = None, status: int | None = None
    ) -> None:
        self.message = message
        self.platform_message = platform_message
        self.status = status
        text = message if not platform_message else f"{message}: {platform_message}"
        super().__init__(text)


class Transient(PublishError):
    """Nothing was created; the same request may succeed later (5xx, connection refused)."""


class RateLimited(Transient):
    """The platform asked us to wait; `retry_after` is in seconds when the platform said so."""

    def __init__(self, message: str, retry_after: float | None = None, **kw: Any):
        self.retry_after = retry_after
        super().__init__(message, **kw)


class InDoubt(PublishError):
    """The request may have been processed (timeout, reset after sending): look before retrying.

    `settle` is how long the platform may still be working on it: a request that timed out
    can land later, so the look-up waits at least that long, or it would miss a late post
    and send it a second time.
    """

    def __init__(self, message: str, settle: float = 0.0, **kw: Any) -> None:
        self.settle = settle
        super().__init__(message, **kw)


class NeedsPerson(PublishError):
    """Retrying will not help: an operator must act. `next_step` says what to do."""

    next_step: str = "check the account settings"

    def __init__(self, message: str, *, next_step: str | None = None, **kw: Any):
        if next_step:
            self.next_step = next_step
        super().__init__(message, **kw)


class AuthExpired(NeedsPerson):
    next_step = "renew the account's credentials, then `crosspost retry`"


class Rejected(NeedsPerson):
    next_step = "fix the essay or the target's options, then `crosspost retry`"


class AccountHeld(NeedsPerson):
    """The account cannot post at all until a person acts (API credits used up, a token that
    expired and cannot be refreshed). The engine holds every publication of the target,
    unsent and not failed, instead of failing them one by one; `crosspost resume TARGET`
    (or, for a token, a renewed credential) lets them go."""

    next_step = "fix the account, then `crosspost resume TARGET`"

    def __init__(self, message: str, *, expired_credential: bool = False, **kw: Any) -> None:
        # a hold for an expired credential lifts by itself once the credential is replaced
        self.expired_credential = expired_credential
        super().__init__(message, **kw)


class HandedOff(PublishError):
    """The post was prepared for a person to publish by hand (no API can create it).

    The engine parks the publication in `awaiting-manual` until `crosspost confirm ID URL`.
    `location` says where the prepared post is (a file in the outbox).
    """

    def __init__(self, message: str, location: str | None = None):
        self.location = location
        super().__init__(message)


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

    def __init__(self, account: Account, session: requests.Session | None = None) -> None:
        self.account = account
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.base_url = (account.base_url or self.default_base_url or "").rstrip("/")
        self.http = session or requests.Session()
        self.http.headers.setdefault("User-Agent", USER_AGENT)

    # -- pure half -------------------------------------------------------

    @classmethod
    @abstractmethod
    def render(cls, essay: Essay, ctx: RenderContext) -> Draft:
        """The exact request bodies for this essay. Pure: no I/O, same input, same output."""

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

    # -- HTTP helper -------------------------------------------------------

    def request(self, method: str, url: str, **kw: Any) -> requests.Response:
        """One HTTP call with our timeouts; network failures mapped to the error family.

        A failure before the request was sent is `Transient`; once it may have been
        received (read timeout, reset mid-answer) it is `InDoubt` for non-GET calls.
        The `requests` exception is dropped from the chain: its text holds the full URL,
        and some platforms (Telegram) put the token in the path.
        """
        if self.account.timeout is not None:
            kw.setdefault("timeout", (DEFAULT_TIMEOUT[0], self.account.timeout))
        kw.setdefault("timeout", DEFAULT_TIMEOUT)
        if not url.startswith(("http://", "https://")):
            url = f"{self.base_url}{url}"
        if not url.startswith(("http://", "https://")):
            raise Rejected(
                f"target {self.account.name!r} has no usable base_url ({url!r})",
                next_step=f"set targets.{self.account.name}.base_url to the platform's http(s) URL",
            )
        safe = method.upper() in {"GET", "HEAD"}
        try:
            response = self.http.request(method, url, **kw)
        except requests.exceptions.ConnectTimeout:
            raise Transient(
                f"{self.platform}: could not connect in time to {host_of(url)}"
            ) from None
        except requests.exceptions.ConnectionError as exc:
            if _never_sent(exc) or safe:
                raise Transient(f"{self.platform}: cannot reach {host_of(url)}") from None
            raise InDoubt(
                f"{self.platform}: connection lost after sending to {host_of(url)}"
            ) from None
        except requests.exceptions.Timeout:
            if safe:
                raise Transient(f"{self.platform}: {host_of(url)} did not answer in time") from None
            raise InDoubt(
                f"{self.platform}: no answer in time from {host_of(url)}",
                settle=_read_seconds(kw["timeout"]),
            ) from None
        except requests.exceptions.InvalidURL:
            raise Rejected(f"target {self.account.name!r} has an invalid URL") from None
        if _web_page(response, kw.get("headers")):
            raise Rejected(
                f"{self.platform} ({self.account.name}): {host_of(url)} answered with a web page "
                f"(HTTP {response.status_code}), not the {self.platform} API",
                status=response.status_code,
                next_step=f"check targets.{self.account.name}.base_url: it must point at the "
                f"{self.platform} server itself, not at a web site",
            )
        return response


def host_of(url: str) -> str:
    """The host part of a URL: error messages name where, never the path (tokens live there)
    nor a `user:password@` written into the URL."""
    from urllib.parse import urlsplit

    return (urlsplit(url).netloc or url.split("/")[0]).rpartition("@")[2]


def _web_page(response: requests.Response, headers: Mapping[str, str] | None) -> bool:
    """An HTML page where an API answer was due: base_url names a website (its front page or
    its 404 page), not the platform's API. Nothing was created, and retrying cannot help.

    Server errors stay the connector's to map (a proxy's 502 page is passing), as do refused
    credentials and rate limits; a caller that asked for HTML (Patreon's web app) gets it.
    """
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if kind not in {"text/html", "application/xhtml+xml"}:
        return False
    if response.status_code >= 500 or response.status_code in {401, 403, 407, 408, 429}:
        return False
    accept = next((v for k, v in (headers or {}).items() if k.lower() == "accept"), "")
    return "html" not in accept.lower()


def _read_seconds(timeout: Any) -> float:
    """The read part of a `requests` timeout: a number, or (connect, read)."""
    read = timeout[1] if isinstance(timeout, tuple) else timeout
    return float(read or 0.0)


def _never_sent(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection failed before any byte of the request could be sent."""
    text = repr(exc).lower()
    markers = (
        "connection refused",
        "name or service not known",
        "newconnectionerror",
        "failed to resolve",
        "no route to host",
    )
    return any(marker in text for marker in markers)


def error_for(
    what: str, status: int, message: str | None, retry_after: float | None = None
) -> PublishError:
    """The family member for an HTTP error answer that the platform gives no special meaning:
    401 refused credentials, 429 wait, 5xx try later, anything else refused as sent."""
    if status == 401:
        return AuthExpired(
            f"{what}: the credentials were refused", platform_message=message, status=status
        )
    if status == 429:
        return RateLimited(
            f"{what}: rate limited",
            retry_after=retry_after,
            platform_message=message,
            status=status,
        )
    if status >= 500:
        return Transient(f"{what}: server error {status}", platform_message=message, status=status)
    return Rejected(f"{what}: request refused ({status})", platform_message=message, status=status)


def as_utc(moment: datetime, zone: tzinfo = UTC) -> datetime:
    """An aware UTC time. The engine hands connectors essays whose `publish_at` is already
    aware (read in the author's zone by `author_time`); a naive one here is read in `zone`."""
    return author_time(moment, zone).astimezone(UTC)


def schedule_on_platform(publish_at: datetime, options: Mapping[str, Any]) -> bool:
    """Let the platform hold the post until `publish_at`? Only when the account asks
    (`schedule_on_platform`) and, when the engine passed `now`, only for a time still ahead."""
    if not options.get("schedule_on_platform"):
        return False
    now = options.get("now")
    if now is None:
        return True
    if isinstance(now, str):
        now = datetime.fromisoformat(now)
    return as_utc(publish_at) > as_utc(now)


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a `Retry-After` header: seconds, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None
