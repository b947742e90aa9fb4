"""The one reading of an HTTP error answer (`connectors/errors.py`): the standard ladder,
and platform quirks given as data taking precedence in their documented order."""

from __future__ import annotations

import json

from connectors.base import Connector
from connectors.errors import (
    HTTP_STATUS,
    AccountHeld,
    Answer,
    AuthExpired,
    ErrorQuirks,
    InDoubt,
    PublishError,
    RateLimited,
    Rejected,
    Rule,
    Transient,
    error_from,
)
from connectors.registry import REGISTRY, connector_class
from pipeline.errors import CrosspostError

PLAIN = ErrorQuirks(words=lambda answer: answer.fields().get("message", ""))


def answer(status: int, body: object = None, method: str = "POST", **headers: str) -> Answer:
    text = json.dumps(body) if body is not None else ""
    return Answer(status=status, headers=headers, text=text, method=method)


def test_one_root_for_every_error_crosspost_raises() -> None:
    assert issubclass(PublishError, CrosspostError)
    assert issubclass(RateLimited, Transient)


def test_the_standard_ladder() -> None:
    cases = {401: AuthExpired, 429: RateLimited, 408: Transient, 503: Transient, 400: Rejected}
    for status, kind in cases.items():
        error = error_from(answer(status, {"message": "said"}), PLAIN, "p (acct)")
        assert type(error) is kind, status
        assert error.status == status
        assert error.platform_message == "said"


def test_messages_come_from_the_templates_and_the_wait_from_the_header() -> None:
    limited = error_from(answer(429, **{"Retry-After": "12"}), PLAIN, "p (acct)")
    assert isinstance(limited, RateLimited)
    assert limited.retry_after == 12.0
    assert limited.message == "p (acct): rate limited"
    refused = error_from(answer(404), PLAIN, "p (acct)")
    assert refused.message == "p (acct): request refused (404)"
    blog = ErrorQuirks(words=lambda a: "", says=HTTP_STATUS)
    assert (
        error_from(answer(500), blog, "x: saving failed").message == "x: saving failed (HTTP 500)"
    )


def test_rules_come_first_and_need_every_criterion() -> None:
    quirks = ErrorQuirks(
        words=lambda a: "",
        codes=lambda a: (a.fields().get("code"),),
        rules=(
            Rule(AccountHeld, statuses=(402,), next_step="top up {name}"),
            Rule(Rejected, statuses=(401,), codes=("Suspended",), says="{what}: suspended"),
        ),
        auth_codes=("TokenDead",),
    )
    held = error_from(answer(402), quirks, "w", name="acct")
    assert isinstance(held, AccountHeld)
    assert held.next_step == "top up acct"
    suspended = error_from(answer(401, {"code": "Suspended"}), quirks, "w")
    assert type(suspended) is Rejected
    assert suspended.message == "w: suspended"
    assert type(error_from(answer(401, {"code": "Other"}), quirks, "w")) is AuthExpired
    assert type(error_from(answer(400, {"code": "TokenDead"}), quirks, "w")) is AuthExpired


def test_only_a_write_is_left_in_doubt() -> None:
    quirks = ErrorQuirks(words=lambda a: "", in_doubt=(504,))
    assert isinstance(error_from(answer(504, method="POST"), quirks, "w"), InDoubt)
    assert type(error_from(answer(504, method="GET"), quirks, "w")) is Transient


def test_refusals_give_their_own_next_step_after_the_ladder() -> None:
    quirks = ErrorQuirks(
        words=lambda a: "",
        refusals=(Rule(Rejected, statuses=(404, 503), next_step="publish it anew"),),
    )
    gone = error_from(answer(404), quirks, "w")
    assert isinstance(gone, Rejected)
    assert gone.next_step == "publish it anew"
    assert type(error_from(answer(503), quirks, "w")) is Transient  # the ladder came first


def test_secrets_are_cut_from_the_platforms_words() -> None:
    error = error_from(answer(400, {"message": "bad token tok123"}), PLAIN, "w", hide=("tok123",))
    assert error.platform_message == "bad token ***"
    assert "tok123" not in str(error)


def test_every_connector_that_speaks_http_describes_its_own_error_answers() -> None:
    local = {"static_site", "outbox"}
    for platform in set(REGISTRY) - local:
        assert connector_class(platform).errors is not Connector.errors, platform
