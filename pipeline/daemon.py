"""The daemon: one APScheduler process firing due publications, plus inbox and feed polling.

The database is the truth and the scheduler is the timer. Each scheduled publication has
one persisted date job (`pub-<id>`) in the same database; a sync pass keeps the jobs in line
with the rows (an operator's `retry` from another process, a retry time set by the
publisher). Work that fell due while the daemon was down runs once on start: the jobs'
`misfire_grace_time` is explicit (one week) and the claim in the engine makes any second
firing a no-op.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from pipeline.engine import Engine
from pipeline.feeds import FeedPoller
from pipeline.inbox import Inbox
from pipeline.logs import get_logger
from pipeline.settings import parse_duration
from pipeline.store import PublicationRow, State

MISFIRE_GRACE = int(timedelta(days=7).total_seconds())
_current: Daemon | None = None


def fire_publication(pub_id: int) -> None:
    """APScheduler's entry point, referenced by its textual path so jobs survive restarts."""
    if _current is not None:
        _current.publish(pub_id)


class Daemon:
    def __init__(self, home: Path, engine: Engine) -> None:
        self.home = home
        self.engine = engine
        self.settings = engine.settings
        self.inbox = Inbox(engine, home, settle_seconds=self.settings.settle_seconds)
        self.feeds = FeedPoller(engine)
        self.log = get_logger(component="daemon")
        self.stop_event = threading.Event()
        self.sync_lock = threading.Lock()
        self.last_sync: datetime | None = None
        self.scheduler: BackgroundScheduler | None = None

    # -- one-shot ----------------------------------------------------------------

    def run_once(self, max_rounds: int = 1000) -> dict[str, int]:
        """Process the inbox and the feeds, then publish everything due, then return."""
        self.engine.recover(all_leases=True)
        self.inbox.settle_seconds = 0
        taken = len(self.inbox.scan())
        self.feeds.poll_all()
        published = 0
        for _ in range(max_rounds):
            due = self.engine.due()
            if not due:
                break
            for pub_id in due:
                if self.engine.publish(pub_id) is State.PUBLISHED:
                    published += 1
        return {"files": taken, "published": published}

    # -- daemon ------------------------------------------------------------------

    def publish(self, pub_id: int) -> None:
        try:
            self.engine.publish(pub_id)
        finally:
            self.sync()

    def start(self) -> None:
        global _current
        _current = self
        self.engine.recover(all_leases=True)
        scheduler = BackgroundScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(
                    engine=self.engine.store.engine, tablename="apscheduler_jobs"
                ),
                "memory": MemoryJobStore(),
            },
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={
                "misfire_grace_time": MISFIRE_GRACE,
                "coalesce": True,
                "max_instances": 1,
            },
            timezone=UTC,
        )
        self.scheduler = scheduler
        scheduler.add_job(
            self.scan_inbox,
            "interval",
            seconds=self.settings.inbox_poll_seconds,
            id="inbox",
            jobstore="memory",
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            self.sync,
            "interval",
            seconds=5,
            id="sync",
            jobstore="memory",
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            self.engine.recover,
            "interval",
            seconds=60,
            id="recover",
            jobstore="memory",
            max_instances=1,
            coalesce=True,
        )
        for index, feed in enumerate(self.settings.feeds):
            scheduler.add_job(
                self.feeds.poll,
                "interval",
                seconds=parse_duration(feed.every).total_seconds(),
                args=[feed.url],
                id=f"feed-{index}",
                jobstore="memory",
                next_run_time=datetime.now(UTC),
                max_instances=1,
                coalesce=True,
            )
        self.sync(full=True)
        scheduler.start()
        self.log.info(
            "daemon started", home=str(self.home), targets=sorted(self.settings.enabled_targets())
        )

    def scan_inbox(self) -> None:
        if self.inbox.scan():
            self.sync()

    def sync(self, full: bool = False) -> None:
        """Make the scheduler's jobs match the scheduled rows changed since the last pass."""
        if self.scheduler is None:
            return
        with self.sync_lock:
            started = self.engine.now()
            with self.engine.store.session() as session:
                query = select(PublicationRow.id, PublicationRow.state, PublicationRow.due_at)
                if not full and self.last_sync is not None:
                    query = query.where(
                        PublicationRow.updated_at >= self.last_sync - timedelta(seconds=2)
                    )
                rows = session.execute(query).all()
            for pub_id, state, due_at in rows:
                job_id = f"pub-{pub_id}"
                if state == State.SCHEDULED.value and due_at is not None:
                    self.scheduler.add_job(
                        "pipeline.daemon:fire_publication",
                        "date",
                        run_date=due_at,
                        args=[pub_id],
                        id=job_id,
                        replace_existing=True,
                        jobstore="default",
                        misfire_grace_time=MISFIRE_GRACE,
                    )
                else:
                    with contextlib.suppress(JobLookupError):
                        self.scheduler.remove_job(job_id, jobstore="default")
            self.last_sync = started

    def serve_forever(self) -> None:
        """Run until SIGTERM or SIGINT, then stop cleanly (jobs in flight finish)."""

        def stop(signum: int, frame: Any) -> None:
            self.stop_event.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.start()
        try:
            while not self.stop_event.wait(0.5):
                pass
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        global _current
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.log.info("daemon stopped")
        _current = None
        time.sleep(0)
