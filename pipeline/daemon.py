"""The daemon: one APScheduler process firing due publications, plus inbox and feed polling.

The database is the truth and the scheduler is the timer. The scheduler holds one date job
(`pub-<id>`) per scheduled publication that falls due soon: within `HORIZON`, and at most
the `MAX_JOBS` soonest. A sync pass every `SYNC_SECONDS` reconciles those jobs with the rows
through the (state, due_at) index, so changes from another process (an operator's `retry`)
and rows coming into the horizon are picked up; changes made here (a publication's
dependents released, a retry time) arm their jobs at once through `Engine.on_scheduled`.
The jobs persist in the same database (APScheduler's `apscheduler_jobs` table) with an
explicit `misfire_grace_time` of a week, so work that fell due while the daemon was down
runs once on start; the start's sync re-arms from the rows as well, and the claim in the
engine makes any second firing a no-op. Keeping only the next jobs keeps start time and
memory flat as the store grows (100,000 pending publications start in the time of 500).

The inbox has its own thread: woken by file events when `watchdog` is installed (and
`inbox_watch` is on), else every `inbox_poll_seconds`, and in both cases exactly when the
soonest seen file has been still for `settle_seconds`, not at the next poll tick.
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

from pipeline.engine import Engine, Intake
from pipeline.feeds import FeedPoller
from pipeline.inbox import Inbox
from pipeline.logs import get_logger
from pipeline.settings import parse_duration
from pipeline.store import PublicationRow, State

MISFIRE_GRACE = int(timedelta(days=7).total_seconds())
HORIZON = timedelta(hours=1)  # jobs only for publications due within this ...
MAX_JOBS = 500  # ... and at most this many, the soonest first
SYNC_SECONDS = 2.0
ACCOUNT_WATCH_SECONDS = 3600  # credential refresh and expiry warnings
WATCHDOG_MOVE_DELAY = 0.55  # watchdog's inotify move-pairing delay (0.5 s), and a margin
BLIND_POLL = 0.05
_current: Daemon | None = None


def fire_publication(pub_id: int) -> None:
    """APScheduler's entry point for a publication's date job."""
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
        self.inbox_wake = threading.Event()
        self.inbox_thread: threading.Thread | None = None
        self.observer: Any = None
        self.sync_lock = threading.Lock()
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
        self.inbox.close()
        return {"files": taken, "published": published}

    # -- daemon ------------------------------------------------------------------

    def publish(self, pub_id: int) -> None:
        self.engine.publish(pub_id)

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
            self.sync,
            "interval",
            seconds=SYNC_SECONDS,
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
        scheduler.add_job(
            self.engine.watch_accounts,
            "interval",
            seconds=ACCOUNT_WATCH_SECONDS,
            id="accounts",
            jobstore="memory",
            next_run_time=datetime.now(UTC),
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
        self.engine.on_scheduled = self.arm
        scheduler.start()
        started = time.perf_counter()
        jobs = self.sync()
        sync_ms = round((time.perf_counter() - started) * 1000, 1)
        self.watch_inbox()
        self.inbox_thread = threading.Thread(target=self.inbox_loop, name="inbox", daemon=True)
        self.inbox_thread.start()
        self.log.info(
            "daemon started",
            home=str(self.home),
            targets=sorted(self.settings.enabled_targets()),
            jobs=jobs,
            sync_ms=sync_ms,
            inbox="watching" if self.observer else "polling",
        )

    # -- inbox ---------------------------------------------------------------------

    def watch_inbox(self) -> None:
        """Wake the inbox thread on file events, when watchdog is installed and wanted."""
        if not self.settings.inbox_watch:
            return
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer
        except ImportError:
            return
        wake = self.inbox_wake

        class Wake(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                wake.set()

        observer = Observer()
        try:
            observer.schedule(Wake(), str(self.inbox.folder), recursive=False)
            observer.start()
        except OSError as exc:  # e.g. out of inotify watches: polling still works
            self.log.warning("inbox watch unavailable; polling", error=str(exc))
            return
        self.observer = observer

    def inbox_loop(self) -> None:
        """Scan on every wake-up; sleep until the next poll or the next file settles.

        watchdog holds an unpaired move-out event (ours, to `processed/`) for half a
        second, and events behind it wait too: for that long after taking a file the
        folder is also polled every `BLIND_POLL` seconds.
        """
        blind_until = 0.0
        while not self.stop_event.is_set():
            self.inbox_wake.clear()
            try:
                if self.scan_inbox() and self.observer is not None:
                    blind_until = time.monotonic() + WATCHDOG_MOVE_DELAY
            except Exception:  # a bug in one scan must not end the inbox for good
                self.log.exception("inbox scan failed")
            wait = self.settings.inbox_poll_seconds
            settles = self.inbox.settles_at()
            if settles is not None:
                wait = min(wait, max(0.0, settles - time.monotonic()) + 0.002)
            if time.monotonic() < blind_until:
                wait = min(wait, BLIND_POLL)
            self.inbox_wake.wait(wait)

    def scan_inbox(self) -> int:
        """Take the settled files; returns how many left the inbox (read or rejected)."""
        results = self.inbox.scan()
        intakes = [r for r in results if isinstance(r, Intake)]
        if any(i.outcome == "updated" for i in intakes):
            self.sync()  # an edit puts published rows back to scheduled
        self.arm([pub_id for i in intakes for pub_id in i.publications])
        return len(results)

    # -- jobs ----------------------------------------------------------------------

    def _add(self, pub_id: int, due_at: datetime) -> None:
        assert self.scheduler is not None
        self.scheduler.add_job(
            "pipeline.daemon:fire_publication",  # textual: the job is stored in the database
            "date",
            run_date=due_at,
            args=[pub_id],
            id=f"pub-{pub_id}",
            replace_existing=True,
            jobstore="default",
            misfire_grace_time=MISFIRE_GRACE,
        )

    def arm(self, pub_ids: list[int]) -> None:
        """Jobs for these publications, if scheduled within the horizon (after a commit here)."""
        if self.scheduler is None or not pub_ids:
            return
        with self.sync_lock:  # never interleaved with a sync's read-then-reconcile
            horizon = self.engine.now() + HORIZON
            with self.engine.store.session() as session:
                rows = session.execute(
                    select(PublicationRow.id, PublicationRow.due_at).where(
                        PublicationRow.id.in_(pub_ids),
                        PublicationRow.state == State.SCHEDULED.value,
                        PublicationRow.due_at <= horizon,
                    )
                ).all()
            for pub_id, due_at in rows:
                self._add(pub_id, due_at)

    def sync(self, full: bool = False) -> int:
        """Make the jobs match the soonest scheduled rows; returns how many jobs there are.

        One indexed query of at most `MAX_JOBS` rows, whatever the size of the store.
        `full` is accepted for callers of the old API; every pass is a full reconcile.
        """
        if self.scheduler is None:
            return 0
        with self.sync_lock:
            horizon = self.engine.now() + HORIZON
            with self.engine.store.session() as session:
                rows = session.execute(
                    select(PublicationRow.id, PublicationRow.due_at)
                    .where(
                        PublicationRow.state == State.SCHEDULED.value,
                        PublicationRow.due_at <= horizon,
                    )
                    .order_by(PublicationRow.due_at, PublicationRow.id)
                    .limit(MAX_JOBS)
                ).all()
            wanted = dict(rows)
            armed = {
                job.args[0]: job.next_run_time
                for job in self.scheduler.get_jobs(jobstore="default")
                if job.id.startswith("pub-")
            }
            for pub_id, due_at in wanted.items():
                if armed.get(pub_id) != due_at:
                    self._add(pub_id, due_at)
            for pub_id in armed.keys() - wanted.keys():
                with contextlib.suppress(JobLookupError):
                    self.scheduler.remove_job(f"pub-{pub_id}", jobstore="default")
            return len(wanted)

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
        self.stop_event.set()
        self.inbox_wake.set()
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)
        if self.inbox_thread is not None:
            self.inbox_thread.join(timeout=30)
            if not self.inbox_thread.is_alive():
                self.inbox.close()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.engine.on_scheduled = None
        self.log.info("daemon stopped")
        _current = None
        time.sleep(0)
