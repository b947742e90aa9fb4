"""The connector contract, proved once per platform against its emulator or real server."""

from __future__ import annotations

import uuid

import pytest

from connectors.base import (
    AuthExpired,
    Dedupe,
    InDoubt,
    MemoryJournal,
    NeedsPerson,
    RateLimited,
    Transient,
)
from tests.contract.harness import Harness, sample_essay


def unique() -> str:
    return uuid.uuid4().hex[:8]


def matching(harness: Harness, marker: str) -> list[dict]:
    return [p for p in harness.posts() if marker in str(p.get("text", ""))]


def cannot_look_up(harness: Harness) -> bool:
    """Platforms with no read API (Telegram, Medium) must say so instead of guessing."""
    return type(harness.connector()).dedupe is Dedupe.NONE


def test_publish_then_find_returns_the_same_post(harness: Harness) -> None:
    marker = unique()
    connector = harness.connector()
    draft = harness.draft(sample_essay(marker=marker))
    key = type(connector).new_key()
    remote = connector.publish(draft, key)
    assert len(matching(harness, marker)) == 1
    if cannot_look_up(harness):
        with pytest.raises(NeedsPerson):
            connector.find(key, draft)
        return
    found = connector.find(key, draft)
    assert found is not None and found.id == remote.id


def test_find_before_any_publish_finds_nothing(harness: Harness) -> None:
    connector = harness.connector()
    draft = harness.draft(sample_essay(marker=unique()))
    if cannot_look_up(harness):
        with pytest.raises(NeedsPerson):
            connector.find(type(connector).new_key(), draft)
        return
    assert connector.find(type(connector).new_key(), draft) is None


def test_lost_response_then_retry_leaves_exactly_one_post(harness: Harness) -> None:
    marker = unique()
    connector = harness.connector()
    draft = harness.draft(sample_essay(marker=marker))
    key = type(connector).new_key()
    journal = MemoryJournal()
    harness.server.inject("drop", method="POST", path=harness.create_path)
    with pytest.raises(InDoubt):
        connector.publish(draft, key, journal)
    if cannot_look_up(harness):
        # no way to know: a person decides, and nothing is sent a second time
        with pytest.raises(NeedsPerson):
            connector.publish(draft, key, journal)
        assert len(matching(harness, marker)) == 1
        return
    remote = connector.publish(draft, key, journal)
    assert remote.id
    assert len(matching(harness, marker)) == 1


def test_rate_limit_answer_raises_rate_limited_with_the_wait(harness: Harness) -> None:
    connector = harness.connector()
    draft = harness.draft(sample_essay(marker=unique()))
    harness.server.inject(
        "status", method="POST", path=harness.create_path, **harness.rate_limit_fault(7)
    )
    with pytest.raises(RateLimited) as caught:
        connector.publish(draft, type(connector).new_key())
    assert caught.value.retry_after is not None
    assert 1 <= caught.value.retry_after <= 8


def test_server_error_is_transient_and_creates_nothing(harness: Harness) -> None:
    marker = unique()
    connector = harness.connector()
    draft = harness.draft(sample_essay(marker=marker))
    harness.server.inject(
        "status",
        method="POST",
        path=harness.create_path,
        status=503,
        body={"error": "Service Unavailable"},
    )
    with pytest.raises(Transient):
        connector.publish(draft, type(connector).new_key())
    assert matching(harness, marker) == []


def test_wrong_credentials_fail_clearly_and_leak_nothing(harness: Harness) -> None:
    connector = harness.connector(valid_credentials=False)
    draft = harness.draft(sample_essay(marker=unique()))
    with pytest.raises(AuthExpired) as caught:
        connector.publish(draft, type(connector).new_key())
    text = str(caught.value)
    assert harness.platform.lower() in text.lower() or connector.account.name in text
    for secret in connector.account.credentials.values():
        value = secret.get_secret_value()
        if len(value) >= 6:
            assert value not in text


def test_verify_names_the_account(harness: Harness) -> None:
    assert harness.connector().verify()
    with pytest.raises(AuthExpired):
        harness.connector(valid_credentials=False).verify()


def test_update_changes_the_post_in_place(harness: Harness) -> None:
    connector = harness.connector()
    if not type(connector).can_edit:
        # Platforms without an edit API must say so instead of pretending.
        draft = harness.draft(sample_essay(marker=unique()))
        remote = connector.publish(draft, type(connector).new_key())
        with pytest.raises(Exception, match="cannot be edited"):
            connector.update(remote, draft)
        return
    marker, edited = unique(), unique()
    draft = harness.draft(sample_essay(marker=marker))
    remote = connector.publish(draft, type(connector).new_key())
    new_draft = harness.draft(sample_essay(title="Contract Essay Edited", marker=edited))
    updated = connector.update(remote, new_draft)
    assert updated.id == remote.id
    assert matching(harness, marker) == []
    assert len(matching(harness, edited)) == 1
