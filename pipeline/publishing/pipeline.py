"""The composition root: one `Pipeline` wires the store, clock, connectors, limits and
notifier into the lifecycle's parts, and is what the daemon, worker and CLI hold.

| part        | module        | job                                                         |
|-------------|---------------|-------------------------------------------------------------|
| `Intaker`   | intake.py     | an essay in: deduplicated, planned, rows written            |
| `Publisher` | publisher.py  | one claimed publication out, ending in an `Outcome`         |
| `Settler`   | settle.py     | the single place an `Outcome` is applied                    |
| `Releaser`  | release.py    | dependents scheduled once a URL exists; removed targets     |
| `Operator`  | operator.py   | retry, cancel, reschedule, confirm                          |
| `Holds`     | holds.py      | account gate before a send, resume, credential watch        |
| `Drafting`  | drafting.py   | connectors at hand, a publication rendered into its draft   |
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from connectors.base import Connector, Draft
from pipeline.accounts import AccountBook
from pipeline.document import Essay
from pipeline.logs import get_logger
from pipeline.notify import Notifier
from pipeline.publishing.drafting import Drafting
from pipeline.publishing.holds import Holds
from pipeline.publishing.intake import Handed, Intake, Intaker
from pipeline.publishing.operator import Operator
from pipeline.publishing.publisher import Publisher
from pipeline.publishing.release import Releaser
from pipeline.publishing.seams import Clock, Log
from pipeline.publishing.settle import Settler
from pipeline.publishing.states import State
from pipeline.publishing.wiring import LEASE, WORKER_ID, Wiring
from pipeline.ratelimit import RateLimits
from pipeline.settings import Settings
from pipeline.store.models import PublicationRow, utcnow
from pipeline.store.publications import PublicationStore

__all__ = ["LEASE", "Intake", "Pipeline"]


class Pipeline(Wiring):
    """Owns the store, the clock and every side effect of planning and publishing."""

    def __init__(self, home: Path, settings: Settings, clock: Clock = utcnow) -> None:
        self.home = home
        self.settings = settings
        self.now = clock
        self.store = PublicationStore(
            settings.db_url(home),
            secrets=settings.secret_values() + AccountBook(home).secret_values(),
        )
        self.notifier = Notifier(settings.notify)
        logger: Log = get_logger()
        self.log = logger
        self.on_scheduled = None
        self.rate_limits = RateLimits(settings, self.now, history=self._sent_recently)
        self.accounts = AccountBook(home, self.now)
        self.drafting = Drafting(self)
        self.holds = Holds(self, self.drafting)
        self.releaser = Releaser(self)
        self.intaker = Intaker(self)
        self.operator = Operator(self, self.releaser)
        self.publisher = Publisher(self, self.drafting, self.holds, Settler(self, self.releaser))

    def close(self) -> None:
        self.store.close()

    def use_settings(self, settings: Settings) -> None:
        """Edited settings, already validated: new essays are planned with them."""
        self.settings = settings
        self.drafting.connectors.clear()
        self.notifier = Notifier(settings.notify)
        self.rate_limits = RateLimits(settings, self.now, history=self._sent_recently)
        self.store.secrets = [
            s for s in settings.secret_values() + self.accounts.secret_values() if s
        ]

    def _sent_recently(self, target: str, seconds: float) -> list[float]:
        """The rate limiter's history: sends of `target` in the last `seconds`, any process."""
        return self.store.sent_recently(target, self.now() - timedelta(seconds=seconds))

    # -- intake ------------------------------------------------------------------

    def add_essay(
        self,
        essay: Essay,
        source_name: str,
        data: bytes,
        source: str = "inbox",
        feed_entry: tuple[str, str] | None = None,
    ) -> Intake:
        return self.intaker.add_essay(Handed.of(essay, source_name, data, source), feed_entry)

    # -- publishing --------------------------------------------------------------

    def due(self, limit: int = 100) -> list[int]:
        """Publications due now, oldest first."""
        return self.store.due(self.now(), limit)

    def next_due_at(self) -> datetime | None:
        return self.store.next_due()

    def claim(self, pub_id: int) -> bool:
        return self.publisher.claim(pub_id)

    def claim_batch(self, limit: int) -> list[int]:
        """Claim up to `limit` due publications at once, for a worker process."""
        return self.store.acquire(limit, WORKER_ID, self.now(), LEASE)

    def publish(self, pub_id: int) -> State:
        return self.publisher.publish(pub_id)

    def publish_claimed(self, pub_id: int) -> State:
        return self.publisher.publish_claimed(pub_id)

    def recover(self, all_leases: bool = False) -> list[int]:
        """Publications left `publishing` by a dead process go back to due (in doubt)."""
        rows = self.store.reap(self.now(), every_lease=all_leases)
        for row in rows:
            self.log.warning(
                "publication recovered", publication=row.id, target=row.target, essay=row.essay_id
            )
        return [row.id for row in rows]

    def release(self, pub_id: int, reason: str) -> bool:
        """Give back a claim this process holds: scheduled again now, journal kept (the next
        attempt looks a begun post up before sending). False when it holds no such claim."""
        released = self.store.give_back(pub_id, WORKER_ID, self.now(), reason)
        if released:
            self.log.warning("publication released", publication=pub_id, why=reason)
        return released

    def cancel_removed_targets(self) -> list[int]:
        return self.releaser.cancel_removed_targets()

    def connector(self, target: str) -> Connector:
        return self.drafting.connector(target)

    def essay_of(self, row: PublicationRow) -> Essay:
        return self.drafting.essay_of(row)

    def render(self, row: PublicationRow, essay: Essay) -> Draft:
        return self.drafting.render(row, essay)

    def backoff(self, attempts: int) -> float:
        return self.publisher.backoff(attempts)

    # -- accounts and operator steps ---------------------------------------------

    def watch_accounts(self) -> None:
        self.holds.watch()

    def resume(self, target: str) -> int:
        return self.holds.resume(target)

    def retry(self, pub_id: int) -> PublicationRow:
        return self.operator.retry(pub_id)

    def cancel(self, pub_id: int) -> PublicationRow:
        return self.operator.cancel(pub_id)

    def reschedule(self, pub_id: int, when: datetime) -> PublicationRow:
        return self.operator.reschedule(pub_id, when)

    def confirm(self, pub_id: int, url: str) -> PublicationRow:
        return self.operator.confirm(pub_id, url)
