"""The single release point: where an `Outcome` becomes a state, an event, a log line, a
notification and a re-armed timer. Nothing else in the program settles an attempt.
"""

from __future__ import annotations

from pipeline.crashpoints import crashpoint
from pipeline.publishing.outcomes import LogLine, Outcome
from pipeline.publishing.release import Releaser
from pipeline.publishing.seams import Log
from pipeline.publishing.states import State
from pipeline.publishing.wiring import Wiring
from pipeline.store.lifecycle import Tx
from pipeline.store.models import PublicationRow


class Settler:
    """Applies outcomes of claimed publications: `apply` is the whole of it."""

    def __init__(self, wiring: Wiring, releaser: Releaser) -> None:
        self.wiring = wiring
        self.releaser = releaser

    def apply(self, row: PublicationRow, outcome: Outcome, log: Log) -> State:
        """Release the claim with the outcome's change (one commit, with the dependents it
        frees and the site pages that must list a new copy), then log, notify and re-arm.
        Returns the publication's new state."""
        change = outcome.change(row)
        line = outcome.line(row)
        if outcome.logs_first:
            say(log, line)
        now = self.wiring.now()

        def then(tx: Tx) -> list[int]:
            if not outcome.frees_dependents:
                return []
            freed = self.releaser.release_dependents(tx, row.id, now)
            return freed + tx.mark_stale_pages(row.essay_id, now)

        released = self.wiring.store.release(row.id, change, now, then)
        if outcome.crashpoint:
            crashpoint(outcome.crashpoint)
        if not outcome.logs_first:
            say(log, line)
        for dependent in released:
            log.info("dependent released", dependent=dependent)
        notice = outcome.notice(row)
        if notice is not None:
            self.wiring.notifier.notify(notice.subject, notice.body, **notice.fields)
        self.wiring.arm([row.id, *released] if outcome.rearm else released)
        return change.state


def say(log: Log, line: LogLine) -> None:
    """Write one structured log line at its level."""
    write = {"info": log.info, "warning": log.warning, "error": log.error}[line.level]
    write(line.message, **line.fields)
