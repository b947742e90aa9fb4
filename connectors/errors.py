"""The error family every connector raises, and the one reading of an HTTP error answer.

The engine decides retry, wait or give up from the type alone:
- `Transient`, `RateLimited(retry_after)`: try again later, nothing was created.
- `InDoubt`: the request may have reached the platform; look it up before any retry.
- `NeedsPerson` (`AuthExpired`, `Rejected`, `AccountHeld`): a person must act.
- `HandedOff`: prepared for a person to publish by hand.

`PublishError` shares its root with the pipeline's own errors (`CrosspostError`), so one
`except` can catch anything crosspost raises on purpose.

An error answer becomes one of these in one place, `error_from`: each platform describes
what its answers mean as data (`ErrorQuirks`: which statuses and error codes mean refused
credentials, a rate limit and how long to wait, a server hiccup, a refusal with its own next
step) instead of writing its own ladder of `if status == ...`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pipeline.errors import CrosspostError

# ---------------------------------------------------------------- the family


class PublishError(CrosspostError):
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


# ---------------------------------------------------------------- an error answer


class _Response(Protocol):
    """The part of a `requests.Response` the mapper reads (kept structural: no import)."""

    status_code: int
    headers: Mapping[str, str]
    text: str
    reason: str | None


@dataclass(frozen=True)
class Answer:
    """An HTTP error answer as the mapper reads it: status, headers, body, and whether the
    request was a write (only a write can be in doubt)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    text: str = ""
    method: str = "GET"
    reason: str = ""

    @classmethod
    def of(cls, response: _Response, method: str | None = None) -> Answer:
        sent = getattr(response, "request", None)
        return cls(
            status=response.status_code,
            headers=response.headers,
            text=response.text,
            method=(method or getattr(sent, "method", None) or "GET").upper(),
            reason=response.reason or "",
        )

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def fields(self) -> dict[str, Any]:
        """The body as a JSON object, or empty: where most platforms put their error."""
        data = self.json()
        return data if isinstance(data, dict) else {}

    @property
    def write(self) -> bool:
        return self.method not in {"GET", "HEAD"}


# ---------------------------------------------------------------- what a platform's answers mean


@dataclass(frozen=True)
class Says:
    """The operator's message for each outcome: templates filled with `{what}` (who and what
    was being done, from the connector), `{status}` and any field the connector passes."""

    auth: str = "{what}: the credentials were refused"
    rate: str = "{what}: rate limited"
    transient: str = "{what}: server error {status}"
    rejected: str = "{what}: request refused ({status})"

    @classmethod
    def always(cls, template: str) -> Says:
        """One message whatever the outcome (the type already tells them apart)."""
        return cls(template, template, template, template)

    def of(self, error: type[PublishError]) -> str:
        if issubclass(error, RateLimited):
            return self.rate
        if issubclass(error, Transient | InDoubt):
            return self.transient
        if issubclass(error, AuthExpired):
            return self.auth
        return self.rejected


# "{what} (HTTP 404)": the style of the blog connectors, whose `what` says what was being done
HTTP_STATUS = Says.always("{what} (HTTP {status})")


@dataclass(frozen=True)
class Rule:
    """Answers that mean `error`: every criterion given must hold (statuses, platform codes,
    `when`); a rule without statuses or codes matches on `when` alone."""

    error: type[PublishError]
    statuses: Collection[int] = ()
    codes: Collection[object] = ()
    when: Callable[[Answer], bool] | None = None
    says: str | None = None  # the message template; the outcome's own by default
    next_step: str | None = None  # a template like `says`; the error type's own by default

    def matches(self, answer: Answer, codes: Collection[object]) -> bool:
        if self.statuses and answer.status not in self.statuses:
            return False
        if self.codes and not any(code in self.codes for code in codes):
            return False
        return self.when is None or self.when(answer)


def no_codes(answer: Answer) -> Collection[object]:
    return ()


def header_wait(answer: Answer) -> float | None:
    """The `Retry-After` header, the wait most platforms state."""
    return retry_after_seconds(answer.headers.get("Retry-After"))


@dataclass(frozen=True)
class ErrorQuirks:
    """What one platform's error answers mean. The mapper reads, in order: `rules` (answers
    that mean something other than their status says), refused credentials (`auth`,
    `auth_codes`), a rate limit (429, `rate_codes`), a write left in doubt (`in_doubt`),
    a passing failure (5xx, `transient`, `transient_codes`), `refusals` (a refusal with
    its own next step), and last a plain refusal."""

    words: Callable[[Answer], str]  # the platform's own message, for the operator
    codes: Callable[[Answer], Collection[object]] = no_codes  # its error codes or names
    wait: Callable[[Answer], float | None] = header_wait  # seconds a rate limit asks for
    says: Says = Says()
    rules: tuple[Rule, ...] = ()
    auth: Collection[int] = (401,)
    auth_codes: Collection[object] = ()
    auth_step: str | None = None
    rate_codes: Collection[object] = ()
    in_doubt: Collection[int] = ()  # statuses that leave a write in doubt (a gateway timeout)
    transient: Collection[int] = (408,)  # besides every 5xx
    transient_codes: Collection[object] = ()
    refusals: tuple[Rule, ...] = ()


def error_from(
    answer: Answer, quirks: ErrorQuirks, what: str, *, hide: Iterable[str] = (), **fields: Any
) -> PublishError:
    """The family member for an error answer. `what` names the account and what was being
    done; `hide` lists secrets to cut from the platform's words; `fields` fill the quirks'
    message and next-step templates."""
    said = quirks.words(answer)
    for secret in hide:
        if secret:
            said = said.replace(secret, "***")
    codes = quirks.codes(answer)
    rule = _rule_for(answer, quirks, codes)
    values = {"what": what, "status": answer.status, **fields}
    message = (rule.says or quirks.says.of(rule.error)).format_map(values)
    kw: dict[str, Any] = {"platform_message": said, "status": answer.status}
    if issubclass(rule.error, NeedsPerson) and rule.next_step:
        kw["next_step"] = rule.next_step.format_map(values)
    if issubclass(rule.error, RateLimited):
        kw["retry_after"] = quirks.wait(answer)
    return rule.error(message, **kw)


def _rule_for(answer: Answer, quirks: ErrorQuirks, codes: Collection[object]) -> Rule:
    """The first rule that matches: the platform's quirks, then the standard ladder."""
    ladder = [*quirks.rules]
    if quirks.auth:
        ladder.append(Rule(AuthExpired, statuses=quirks.auth, next_step=quirks.auth_step))
    if quirks.auth_codes:
        ladder.append(Rule(AuthExpired, codes=quirks.auth_codes, next_step=quirks.auth_step))
    ladder.append(Rule(RateLimited, statuses=(429,)))
    if quirks.rate_codes:
        ladder.append(Rule(RateLimited, codes=quirks.rate_codes))
    if quirks.in_doubt:
        ladder.append(Rule(InDoubt, statuses=quirks.in_doubt, when=lambda a: a.write))
    ladder.append(Rule(Transient, when=lambda a: a.status >= 500 or a.status in quirks.transient))
    if quirks.transient_codes:
        ladder.append(Rule(Transient, codes=quirks.transient_codes))
    ladder.extend(quirks.refusals)
    return next((rule for rule in ladder if rule.matches(answer, codes)), Rule(Rejected))


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
