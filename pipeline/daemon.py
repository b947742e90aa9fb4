"""The daemon: one APScheduler process firing due publications, plus inbox and feed polling.

The database is the truth and the scheduler is only the timer. The scheduler holds one date
job (`pub-<id>`) per scheduled publication that falls due soon: within `HORIZON`, and at
most the `MAX_JOBS` soonest, in memory (APScheduler's `MemoryJobStore`): the rows already
say everything a persisted job would, and every start re-arms from them, so work that fell
due while the daemon was down runs once on start. The claim in the engine makes any second
firing a no-op. Jobs an older version persisted in `apscheduler_jobs` are never loaded.

A supervisor thread (not an APScheduler job) ticks every `SYNC_SECONDS`: it reconciles the
jobs with the rows, recovers expired leases, checkpoints SQLite's WAL, notices edited
settings and writes the heartbeat `crosspost status` reads (pipeline/health.py). No
exception ends it: a database or disk error is logged with its reason, the daemon notes
itself unhealthy and tries again with backoff; the next good tick makes it healthy again.
Changes made here (a dependency released, a retry time) arm their jobs at once through
`Pipeline.on_scheduled`.

SIGTERM ends the daemon within `STOP_GRACE` + a little: new firings stop, publications in
flight get `STOP_GRACE` seconds to finish, and any still running are released (back to
scheduled, their journal kept, so the next start looks the post up before sending).

The inbox has its own thread: woken by file events when `watchdog` is installed (and
`inbox_watch` is on), else every `inbox_poll_seconds`, and in both cases exactly when the
soonest seen file has been still for `settle_seconds`, not at the next poll tick.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from pipeline.feeds import FeedPoller
from pipeline.health import Heartbeat
from pipeline.inbox import Inbox
from pipeline.logs import get_logger
from pipeline.publishing.intake import Intake
from pipeline.publishing.pipeline import Pipeline
from pipeline.settings import parse_duration
from pipeline.settings_watch import SettingsWatch
from pipeline.store import State
from pipeline.trouble import storage_trouble

MISFIRE_GRACE = int(timedelta(days=7).total_seconds())
HORIZON = timedelta(hours=1)  # jobs only for publications due within this ...
MAX_JOBS = 500  # ... and at most this many, the soonest first
SYNC_SECONDS = 2.0
RECOVER_SECONDS = 60.0
CHECKPOINT_SECONDS = 30.0  # SQLite's WAL truncated this often, so it cannot grow unbounded
BACKOFF_MAX = 15.0  # seconds between tries while the database or disk is in trouble
STOP_GRACE = 6.0  # seconds publications in flight get to finish after SIGTERM
ACCOUNT_WATCH_SECONDS = 3600  # credential refresh and expiry warnings
WATCHDOG_MOVE_DELAY = 0.55  # watchdog's inotify move-pairing delay (0.5 s), and a margin
BLIND_POLL = 0.05
_current: Daemon | None = None


def fire_publication(pub_id: int) -> None:
    """APScheduler's entry point for a publication's date job (also the textual path
    `pipeline.daemon:fire_publication` that jobs persisted by older versions name)."""
    if _current is not None:
        _current.publish(pub_id)


class Daemon:
    def __init__(self, home: Path, engine: Pipeline) -> None:
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
        self.heartbeat = Heartbeat(engine.store, home, engine.now)
        self.settings_watch = SettingsWatch(home)
        self.supervisor: threading.Thread | None = None
        self.inflight: set[int] = set()
        self.inflight_lock = threading.Lock()
        self.trouble: str | None = None  # why the last tick failed, until one succeeds
        self.settings_note: str | None = None  # why edited settings were not applied

    # -- one-shot ----------------------------------------------------------------

    def run_once(self, max_rounds: int = 1000) -> dict[str, int]:
        """Process the inbox and the feeds, then publish everything due, then return."""
        self.engine.recover(all_leases=True)
        self.engine.cancel_removed_targets()
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
        """One firing: publish unless stopping; storage trouble releases the claim for later."""
        if self.stop_event.is_set():
            return
        with self.inflight_lock:
            if pub_id in self.inflight:
                return
            self.inflight.add(pub_id)
        try:
            self.engine.publish(pub_id)
        except Exception as exc:  # a firing must never take the daemon with it
            reason = storage_trouble(exc)
            if reason is None:
                self.log.exception("publication firing failed", publication=pub_id)
                reason = "unexpected error while publishing"
            else:
                self.log.warning("publication waits", publication=pub_id, reason=reason)
            self.release_until_done(pub_id, reason)
        finally:
            with self.inflight_lock:
                self.inflight.discard(pub_id)

    def release_until_done(self, pub_id: int, reason: str) -> None:
        """Give a claim back (if this process holds it), retrying while storage is in trouble."""
        delay = 1.0
        while True:
            try:
                self.engine.release(pub_id, reason)
                return
            except Exception as exc:
                self.log.error(
                    "cannot release publication yet",
                    publication=pub_id,
                    reason=storage_trouble(exc) or "unexpected error",
                )
            if self.stop_event.wait(delay):
                return  # the lease stays; the next start recovers it
            delay = min(delay * 2, BACKOFF_MAX)

    def start(self) -> None:
        global _current
        _current = self
        self.settings_watch.remember()
        try:
            self.engine.recover(all_leases=True)
            self.engine.cancel_removed_targets()
        except Exception as exc:  # e.g. a full disk at start: the supervisor retries
            self.note_trouble(exc)
        scheduler = self.new_scheduler()
        self.scheduler = scheduler
        self.engine.on_scheduled = self.arm
        scheduler.start()
        started = time.perf_counter()
        jobs = self.tick_safely()
        sync_ms = round((time.perf_counter() - started) * 1000, 1)
        self.supervisor = threading.Thread(target=self.supervise, name="supervisor", daemon=True)
        self.supervisor.start()
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

    # -- supervision ----------------------------------------------------------------

    def supervise(self) -> None:
        """Tick until stopped; a failed tick is retried with backoff, never fatal."""
        delay = SYNC_SECONDS
        last_recover = last_checkpoint = time.monotonic()
        while not self.stop_event.wait(delay):
            now = time.monotonic()
            recover = now - last_recover >= RECOVER_SECONDS
            checkpoint = now - last_checkpoint >= CHECKPOINT_SECONDS
            if self.tick_safely(recover=recover, checkpoint=checkpoint) is None:
                delay = min(max(delay, 1.0) * 2, BACKOFF_MAX)
                continue
            delay = SYNC_SECONDS
            last_recover = now if recover else last_recover
            last_checkpoint = now if checkpoint else last_checkpoint

    def tick_safely(self, recover: bool = False, checkpoint: bool = False) -> int | None:
        """One tick; the number of armed jobs, or None when it failed (logged, noted)."""
        try:
            self.check_settings()
            self.revive_scheduler()
            if recover:
                self.engine.recover()
            jobs = self.sync()
            if checkpoint:
                self.engine.store.checkpoint()
            self.heartbeat.beat("running", self.settings_note)
        except Exception as exc:
            self.note_trouble(exc)
            return None
        if self.trouble is not None:
            self.log.info("daemon healthy again", after=self.trouble)
            self.trouble = None
        return jobs

    def revive_scheduler(self) -> None:
        """APScheduler's own thread ends on an exception in its bookkeeping; then no job
        would fire again. Start a new scheduler (the next sync re-arms it from the rows)."""
        scheduler = self.scheduler
        thread = getattr(scheduler, "_thread", None)
        if scheduler is None or thread is None or thread.is_alive() or self.stop_event.is_set():
            return
        self.log.error("scheduler thread ended; starting a new one", jobs=len(scheduler.get_jobs()))
        with contextlib.suppress(Exception):
            scheduler.shutdown(wait=False)
        self.scheduler = self.new_scheduler()
        self.scheduler.start()

    def new_scheduler(self) -> BackgroundScheduler:
        """In-memory jobs only: publication timers (re-armed from the rows) and feed polls."""
        scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={
                "misfire_grace_time": MISFIRE_GRACE,
                "coalesce": True,
                "max_instances": 1,
            },
            timezone=UTC,
        )
        scheduler.add_job(
            self.engine.watch_accounts,
            "interval",
            seconds=ACCOUNT_WATCH_SECONDS,
            id="accounts",
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
                next_run_time=datetime.now(UTC),
                max_instances=1,
                coalesce=True,
            )
        return scheduler

    def note_trouble(self, exc: BaseException) -> None:
        reason = storage_trouble(exc)
        if reason is None:
            self.log.exception("daemon tick failed")
            reason = "unexpected error in the scheduler's tick (see the log)"
        else:
            self.log.error("daemon cannot work", reason=reason, retry="with backoff")
        self.trouble = reason
        self.heartbeat.note("unhealthy", reason)
        with contextlib.suppress(Exception):
            self.heartbeat.beat("unhealthy", reason)

    def check_settings(self) -> None:
        """Apply edited settings if they are valid; else keep the old and say why."""
        change = self.settings_watch.check()
        if change is None:
            return
        settings, problem = change
        if settings is None:
            self.settings_note = f"settings changed but were not applied: {problem}"
            self.log.error("settings not applied", reason=problem, kept="the previous settings")
            return
        if settings.db_url(self.home) != self.settings.db_url(self.home):
            self.settings_note = "settings changed the database; restart the daemon to use it"
            self.log.error("settings not applied", reason=self.settings_note)
            return
        added = sorted(set(settings.targets) - set(self.settings.targets))
        removed = sorted(set(self.settings.targets) - set(settings.targets))
        self.engine.use_settings(settings)
        self.settings = settings
        self.settings_note = None
        cancelled = self.engine.cancel_removed_targets()
        self.log.info("settings applied", added=added, removed=removed, cancelled=len(cancelled))

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
            fire_publication,
            "date",
            run_date=due_at,
            args=[pub_id],
            id=f"pub-{pub_id}",
            replace_existing=True,
            misfire_grace_time=MISFIRE_GRACE,
        )

    def arm(self, pub_ids: list[int]) -> None:
        """Jobs for these publications, if scheduled within the horizon (after a commit here)."""
        if self.scheduler is None or not pub_ids or self.stop_event.is_set():
            return
        with self.sync_lock:  # never interleaved with a sync's read-then-reconcile
            horizon = self.engine.now() + HORIZON
            for pub_id, due_at in self.engine.store.scheduled_among(pub_ids, horizon):
                self._add(pub_id, due_at)

    def sync(self, full: bool = False) -> int:
        """Make the jobs match the soonest scheduled rows; returns how many jobs there are.

        One indexed query of at most `MAX_JOBS` rows, whatever the size of the store.
        `full` is accepted for callers of the old API; every pass is a full reconcile.
        """
        if self.scheduler is None or self.stop_event.is_set():
            return 0
        with self.sync_lock:
            horizon = self.engine.now() + HORIZON
            wanted = dict(self.engine.store.scheduled_by(horizon, MAX_JOBS))
            armed = {
                job.args[0]: job.next_run_time
                for job in self.scheduler.get_jobs()
                if job.id.startswith("pub-")
            }
            for pub_id, due_at in wanted.items():
                if armed.get(pub_id) != due_at:
                    self._add(pub_id, due_at)
            soon = datetime.now(UTC) + timedelta(seconds=SYNC_SECONDS)
            for pub_id in armed.keys() - wanted.keys():
                if armed[pub_id] is not None and armed[pub_id] <= soon:
                    continue  # about to fire (harmless: the claim refuses it); removing it
                    # now races APScheduler's own removal, which ends its thread
                with contextlib.suppress(JobLookupError):
                    self.scheduler.remove_job(f"pub-{pub_id}")
            return len(wanted)

    def serve_forever(self) -> None:
        """Run until SIGTERM or SIGINT, then stop within `STOP_GRACE` and a little."""

        def stop(signum: int, frame: Any) -> None:
            self.stop_event.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.start()
        try:
            while not self.stop_event.wait(0.5):
                pass
        finally:
            stuck = self.shutdown()
        if stuck:  # threads still inside a request: their rows are released; do not wait
            logging.shutdown()
            os._exit(0)

    def shutdown(self) -> list[int]:
        """Stop firing, let publications in flight finish for `STOP_GRACE`, release the rest.

        Returns the publications still running when it gave up waiting (released)."""
        global _current
        self.stop_event.set()
        self.inbox_wake.set()
        self.engine.on_scheduled = None
        if self.scheduler is not None and self.scheduler.running:
            # never wait=True: it holds the job store's lock while jobs run, and a running
            # job arming its dependents waits for that lock (the old SIGTERM hang)
            self.scheduler.shutdown(wait=False)
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=2)
        deadline = time.monotonic() + STOP_GRACE
        for thread in (self.inbox_thread, self.supervisor):
            if thread is not None:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
        while self.inflight and time.monotonic() < deadline:
            time.sleep(0.05)
        with self.inflight_lock:
            stuck = sorted(self.inflight)
        for pub_id in stuck:
            with contextlib.suppress(Exception):
                self.engine.release(pub_id, "the daemon stopped while publishing")
        if self.inbox_thread is not None and not self.inbox_thread.is_alive():
            self.inbox.close()  # our claim folder (files being read) is given up
        with contextlib.suppress(Exception):
            self.heartbeat.beat("stopped")
        self.log.info("daemon stopped", released=stuck)
        _current = None
        return stuck
