"""Operator steps: retry, cancel, reschedule, confirm (resume lives with the holds).

Each step changes a publication only in a state it works on (`states.STEPS`), by the
store's compare-and-set, so a publisher's claim between a read and a write cannot slip
through. A refused step raises `IllegalTransition` naming the state as it is now; an
unknown id raises `PublicationNotFound`. Nothing changes when a step is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from connectors import connector_class
from connectors.base import Dedupe
from pipeline.errors import IllegalTransition, InvalidStep
from pipeline.publishing.release import Releaser
from pipeline.publishing.states import State, works_on
from pipeline.publishing.wiring import Wiring
from pipeline.store.lifecycle import Tx
from pipeline.store.models import PublicationRow
from pipeline.store.publications import Step

Edit = Callable[[Tx, PublicationRow], object]


class Operator:
    def __init__(self, wiring: Wiring, releaser: Releaser) -> None:
        self.wiring = wiring
        self.releaser = releaser

    def retry(self, pub_id: int) -> PublicationRow:
        """Due now again; a row still waiting for its dependency goes back to waiting."""
        values = {"state": State.SCHEDULED.value, "due_at": self.wiring.now(), "attempts": 0}
        try:
            return self._step(pub_id, "retry", values, self._forget_unanswered, True)
        except IllegalTransition:
            row = self.wiring.store.publication(pub_id)
            if row is None or row.depends_on is None or State(row.state) not in works_on("retry"):
                raise
        values = {"state": State.PLANNED.value, "due_at": None, "attempts": 0}
        note = f"waits for publication {row.depends_on} again"
        return self._step(pub_id, "retry", values, self._forget_unanswered, note=note)

    def cancel(self, pub_id: int) -> PublicationRow:
        stale: list[int] = []

        def edit(tx: Tx, row: PublicationRow) -> None:
            stale.extend(tx.mark_stale_pages(row.essay_id, self.wiring.now()))

        row = self._step(pub_id, "cancel", {"state": State.CANCELLED.value}, edit)
        self.wiring.arm(stale)
        return row

    def reschedule(self, pub_id: int, when: datetime) -> PublicationRow:
        values = {"state": State.SCHEDULED.value, "due_at": when.astimezone(UTC)}
        return self._step(pub_id, "reschedule", values, None, True, due=when)

    def confirm(self, pub_id: int, url: str) -> PublicationRow:
        """Record where a post a person published (hand-off) or found (after a lost answer on
        a platform that cannot be asked) went live; it then counts as published."""
        if not url.startswith(("http://", "https://")):
            raise InvalidStep(f"{url!r} is not an http(s) URL")
        stale: list[int] = []
        now = self.wiring.now()
        values = {
            "state": State.PUBLISHED.value,
            "remote_url": url,
            "remote_id": url,
            "published_at": now,
            "needs_update": 0,
        }

        def edit(tx: Tx, row: PublicationRow) -> None:
            stale.extend(tx.mark_stale_pages(row.essay_id, self.wiring.now()))

        def release(tx: Tx, _row: PublicationRow) -> None:
            self.releaser.release_dependents(tx, pub_id, self.wiring.now())

        row = self._step(pub_id, "confirm", values, edit, after=release, url=url)
        self.wiring.arm(stale)
        return row

    def _step(
        self,
        pub_id: int,
        step: str,
        values: Mapping[str, object],
        edit: Edit | None,
        needs_dependency: bool = False,
        after: Edit | None = None,
        **data: object,
    ) -> PublicationRow:
        """One compare-and-set of the store; `edit`, the step's event and `after` in the
        same transaction, one log line once committed. `needs_dependency`: the row must not
        wait for an unpublished dependency (a post that links the blog's URL goes after it)."""

        def edit_then_event(tx: Tx, row: PublicationRow) -> None:
            if edit is not None:
                edit(tx, row)
            tx.row_event(
                EVENTS[step],
                row,
                **data,
            )
            if after is not None:
                after(tx, row)

        done = self.wiring.store.change_state(
            pub_id,
            works_on(step),
            values,
            self.wiring.now(),
            needs_dependency=needs_dependency,
            edit=edit_then_event,
        )
        if not done.changed:
            raise IllegalTransition(refusal(done, works_on(step)))
        message = EVENTS[step].replace(".", " ")
        self.wiring.log.info(message, publication=pub_id, target=done.row.target, **data)
        return done.row

    def _forget_unanswered(self, tx: Tx, row: PublicationRow) -> None:
        """On a platform that cannot be asked, a retry means a person looked and found nothing.

        Without this, the post begun before a crash stays in doubt and the retry would only
        ask the person again. Platforms with a look-up keep the mark: asking them is free.
        """
        if not row.progress or connector_class(row.platform).dedupe is not Dedupe.NONE:
            return
        answered = row.progress.get("remotes", {})
        begun = [i for i in row.progress.get("begun", []) if str(i) in answered]
        tx.set_progress(row, {**row.progress, "begun": begun})


EVENTS = {
    "retry": "publication.retry-requested",
    "cancel": "publication.cancelled",
    "reschedule": "publication.rescheduled",
    "confirm": "publication.confirmed",
}


def refusal(step: Step, allowed: frozenset[State]) -> str:
    """Why an operator step changed nothing, naming the row's state as it is now."""
    row = step.row
    if State(row.state) in allowed and row.depends_on is not None:
        name = step.dependency.target if step.dependency else "?"
        return (
            f"publication {row.id} waits for publication {row.depends_on} ({name}) to be "
            f"published and links to it; nothing changed: it goes out after it. "
            f"Move publication {row.depends_on} instead"
        )
    names = ", ".join(sorted(s.value for s in allowed))
    busy = " (a publisher has it right now)" if row.state == State.PUBLISHING.value else ""
    return f"publication {row.id} is {row.state}; this works on: {names}; nothing changed{busy}"
