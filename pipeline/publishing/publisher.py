"""One claimed publication out: render, rate limit, send, and say what came of it.

Exactly once rests on three rules:
1. a publication is *claimed* by one atomic UPDATE (scheduled -> publishing, the store's
   `claim`/`acquire`), so two firings, two workers or a restart cannot both send it;
2. the idempotency key is written at planning time, before any request, and every post of
   a publication is journaled (`begin` before the request, `done` after the answer);
3. a post that was begun but never done (crash, timeout, reset) is looked up with the
   connector's `find_post` before anything is sent again (inside `Connector.publish`).

The publisher decides; it writes nothing itself: each attempt ends in an `Outcome`, which
`Settler.apply` records.
"""

from __future__ import annotations

import random
from datetime import timedelta

from connectors.base import (
    AccountHeld,
    HandedOff,
    InDoubt,
    NeedsPerson,
    PublishError,
    RateLimited,
    Remote,
    Transient,
)
from pipeline.publishing.drafting import Drafting
from pipeline.publishing.holds import Holds
from pipeline.publishing.journal import StoreJournal
from pipeline.publishing.outcomes import (
    AwaitingManual,
    Deferred,
    Failed,
    Held,
    Outcome,
    Published,
    RetryLater,
    TargetRemoved,
    WaitingForStorage,
)
from pipeline.publishing.release import removed_reason
from pipeline.publishing.settle import Settler
from pipeline.publishing.states import State
from pipeline.publishing.wiring import LEASE, WORKER_ID, Wiring
from pipeline.store.models import PublicationRow
from pipeline.trouble import storage_trouble

HOLD_RECHECK = timedelta(minutes=10)  # a held publication looks again (no request is sent)
STORAGE_RETRY = timedelta(seconds=5)  # a locked database or full disk is tried again after


class Publisher:
    def __init__(self, wiring: Wiring, drafting: Drafting, holds: Holds, settler: Settler) -> None:
        self.wiring = wiring
        self.drafting = drafting
        self.holds = holds
        self.settler = settler

    def claim(self, pub_id: int) -> bool:
        """Atomically take a due publication; False if someone else has it or it is not due."""
        return self.wiring.store.claim(pub_id, WORKER_ID, self.wiring.now(), LEASE)

    def publish(self, pub_id: int) -> State:
        """Claim and publish one publication; returns its new state."""
        if not self.claim(pub_id):
            row = self.wiring.store.publication(pub_id)
            return State(row.state) if row else State.CANCELLED
        return self.publish_claimed(pub_id)

    def publish_claimed(self, pub_id: int) -> State:
        """Publish a publication this process has already claimed."""
        row = self.wiring.store.publication(pub_id)
        assert row is not None
        log = self.wiring.log.bind(
            publication=pub_id, essay=row.essay_id, target=row.target, attempt=row.attempts
        )
        if row.target not in self.wiring.settings.targets and not row.progress:
            return self.settler.apply(row, TargetRemoved(removed_reason(row.target)), log)
        try:
            outcome = self._send(row)
        except PublishError as exc:
            outcome = self._refused(row, exc)
        except Exception as exc:  # a bug must fail one publication, never the daemon
            trouble = storage_trouble(exc)
            if trouble is not None:  # a full disk or a locked database passes: try later
                outcome = WaitingForStorage(self.wiring.now() + STORAGE_RETRY, trouble)
            else:
                log.exception("publication crashed")
                outcome = self._failed(
                    f"internal error: {exc or 'no detail'} (the log has the details)",
                    "report this; then `crosspost retry`",
                )
        return self.settler.apply(row, outcome, log)

    def _send(self, row: PublicationRow) -> Outcome:
        """Render, pass the account gate and the rate limit, then send (or update)."""
        journal = StoreJournal(self.wiring, row.id, row.progress)
        draft = self.drafting.render(row, self.drafting.essay_of(row))
        connector = self.drafting.connector(row.target)
        updating = bool(row.needs_update and row.remote_id)
        unsent = sum(journal.remote(i) is None for i in range(len(draft.posts)))
        cost = 1 if updating else unsent
        self.holds.gate(row.target, connector)
        wait = self.wiring.rate_limits.admit(row.target, max(1, cost), key=row.id)
        if wait > 0:
            return Deferred(self.wiring.now() + timedelta(seconds=wait))
        if updating:
            assert row.remote_id is not None
            old = Remote(id=row.remote_id, url=row.remote_url, extra=row.remote_extra or {})
            remote = connector.update(old, draft)
        else:
            remote = connector.publish(draft, row.idempotency_key, journal)
        return Published(remote, row.published_at or self.wiring.now(), updating)

    def _refused(self, row: PublicationRow, exc: PublishError) -> Outcome:
        """What a connector's error means for this publication (connectors/base.py)."""
        if isinstance(exc, RateLimited):
            if exc.retry_after is not None:
                self.wiring.rate_limits.block(row.target, exc.retry_after)
            return self._retry_later(row, exc, exc.retry_after)
        if isinstance(exc, Transient):
            return self._retry_later(row, exc, None)
        if isinstance(exc, InDoubt):
            return self._retry_later(row, exc, None, at_least=exc.settle)
        if isinstance(exc, HandedOff):
            return AwaitingManual(exc.location, exc.message)
        if isinstance(exc, AccountHeld):
            return self._held(row, exc)
        if isinstance(exc, NeedsPerson):
            return self._failed(str(exc), exc.next_step)
        return self._failed(str(exc), "check the target, then `crosspost retry`")

    def _retry_later(
        self, row: PublicationRow, exc: PublishError, wait: float | None, at_least: float = 0.0
    ) -> Outcome:
        """Backoff (or the platform's own wait); past `max_attempts`, failed."""
        if row.attempts >= self.wiring.settings.max_attempts and not isinstance(exc, RateLimited):
            return self._failed(
                f"gave up after {row.attempts} attempts: {exc}",
                "check that the platform is up, then `crosspost retry`",
            )
        delay = max(wait if wait is not None else self.backoff(row.attempts), at_least)
        due = self.wiring.now() + timedelta(seconds=max(delay, 0.0))
        return RetryLater(due, str(exc), type(exc).__name__)

    def _held(self, row: PublicationRow, exc: AccountHeld) -> Outcome:
        """Hold the account (a person is told when the hold begins); this one waits."""
        kind = "expired" if exc.expired_credential else "manual"
        began = self.wiring.accounts.hold(row.target, exc.message, exc.next_step, kind=kind)
        text = self.wiring.store.redact(f"held: {exc.message} -- next step: {exc.next_step}")
        due = self.wiring.now() + HOLD_RECHECK
        return Held(due, text or "", exc.message, exc.next_step, began)

    def _failed(self, message: str, next_step: str) -> Outcome:
        return Failed(self.wiring.store.redact(f"{message} -- next step: {next_step}") or "")

    def backoff(self, attempts: int) -> float:
        """Exponential backoff with full jitter in [base/2, cap]."""
        settings = self.wiring.settings
        cap = min(
            settings.retry_max_seconds, settings.retry_base_seconds * (2 ** max(0, attempts - 1))
        )
        return random.uniform(cap / 2, cap)
