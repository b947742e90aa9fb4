"""The engine: intake (essay -> planned publications) and the publisher state machine.

Exactly once rests on three rules, each enforced here and nowhere else:
1. a publication is *claimed* by one atomic UPDATE (state scheduled -> publishing), so two
   firings, two workers or a restart cannot both send it;
2. the idempotency key is written at planning time, before any request, and every post of a
   publication is journaled (`begin` before the request, `done` after the answer);
3. a post that was begun but never done (crash, timeout, reset) is looked up with the
   connector's `find_post` before anything is sent again (inside `Connector.publish`).
"""

from __future__ import annotations

import hashlib
import os
import random
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session

from connectors import connector_class
from connectors.base import (
    Account,
    AccountHeld,
    Connector,
    Dedupe,
    Draft,
    HandedOff,
    InDoubt,
    NeedsPerson,
    PublishError,
    RateLimited,
    Remote,
    RenderContext,
    Transient,
)
from pipeline.accounts import AccountBook, renew_step
from pipeline.crashpoints import crashpoint
from pipeline.document import Essay
from pipeline.links import announced_link
from pipeline.logs import get_logger, redact_also
from pipeline.notify import Notifier
from pipeline.planner import plan, release_after, target_options
from pipeline.ratelimit import RateLimits
from pipeline.settings import Settings
from pipeline.store import (
    EssayRow,
    FeedEntryRow,
    PublicationRow,
    State,
    Store,
    utcnow,
)
from pipeline.syndication import copies_for_render, mark_stale_pages, shows_syndication
from pipeline.timezones import author_time, with_author_times
from pipeline.trouble import storage_trouble

LEASE = timedelta(minutes=10)
HOLD_RECHECK = timedelta(minutes=10)  # a held publication looks again (no request is sent)
INTAKE_TRIES = 4  # a racing intake loses at most once per key (hash, slug, canonical URL)
STORAGE_RETRY = timedelta(seconds=5)  # a locked database or full disk is tried again after
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

Clock = Callable[[], datetime]


class _LostRace(Exception):
    """Another intake changed the essay between this one's look and its write."""


@dataclass
class Intake:
    """What happened to one essay handed to the engine."""

    essay_id: int | None
    outcome: str  # new | duplicate | updated
    publications: list[int]
    message: str


class StoreJournal:
    """The connector journal, persisted in the publication row after every step."""

    def __init__(self, engine: Engine, pub_id: int, progress: dict | None) -> None:
        self.engine = engine
        self.pub_id = pub_id
        self.data = {"begun": [], "remotes": {}, **(progress or {})}

    def remote(self, index: int) -> Remote | None:
        raw = self.data["remotes"].get(str(index))
        return Remote(**raw) if raw else None

    def begun(self, index: int) -> bool:
        return index in self.data["begun"]

    def begin(self, index: int) -> None:
        if index not in self.data["begun"]:
            self.data["begun"] = [*self.data["begun"], index]
        self._save()
        crashpoint("before-request")

    def done(self, index: int, remote: Remote) -> None:
        crashpoint("after-response")
        self.data["remotes"] = {**self.data["remotes"], str(index): remote.model_dump()}
        self._save()

    def undo(self, index: int) -> None:
        self.data["begun"] = [i for i in self.data["begun"] if i != index]
        self._save()

    def _save(self) -> None:
        with self.engine.store.session() as session, session.begin():
            session.execute(
                update(PublicationRow)
                .where(PublicationRow.id == self.pub_id)
                .values(
                    progress=dict(self.data),
                    lease_until=self.engine.now() + LEASE,
                    updated_at=self.engine.now(),
                )
            )


class Engine:
    """Owns the store, the clock and every side effect of planning and publishing."""

    def __init__(self, home: Path, settings: Settings, clock: Clock = utcnow) -> None:
        self.home = home
        self.settings = settings
        self.now = clock
        self.store = Store(
            settings.db_url(home),
            secrets=settings.secret_values() + AccountBook(home).secret_values(),
        )
        self.notifier = Notifier(settings.notify)
        self.log = get_logger()
        self._connectors: dict[str, Connector] = {}
        # told (after commit) which publications got a new due time, so a timer can arm them
        self.on_scheduled: Callable[[list[int]], None] | None = None
        self.rate_limits = RateLimits(settings, self.now, history=self._sent_recently)
        self.accounts = AccountBook(home, self.now)

    def close(self) -> None:
        self.store.close()

    # ------------------------------------------------------------------ intake

    def add_essay(
        self,
        essay: Essay,
        source_name: str,
        data: bytes,
        source: str = "inbox",
        feed_entry: tuple[str, str] | None = None,
    ) -> Intake:
        """Record an essay and plan its publications; an edited essay updates in place.

        Exactly once is the store's to enforce: content hash, slug and canonical URL are
        unique, so a second intake racing this one fails its insert (or finds its edit
        already applied) and is run again, when it finds the essay and plans nothing.
        `feed_entry` (feed URL, guid) is recorded in the same transaction.
        """
        digest = hashlib.sha256(data).hexdigest()
        slug = essay.effective_slug()
        essay = essay.model_copy(update={"slug": slug})
        for attempt in range(INTAKE_TRIES):
            try:
                with self.store.session() as session, session.begin():
                    if feed_entry is not None:
                        known = session.scalars(
                            select(FeedEntryRow).where(
                                FeedEntryRow.feed_url == feed_entry[0],
                                FeedEntryRow.guid == feed_entry[1],
                            )
                        ).first()
                        if known is not None:
                            return Intake(
                                known.essay_id,
                                "duplicate",
                                [],
                                f"feed entry taken before (essay {known.essay_id})",
                            )
                    intake = self._intake(session, essay, slug, digest, source_name, source)
                    if feed_entry is not None:
                        session.add(
                            FeedEntryRow(
                                feed_url=feed_entry[0],
                                guid=feed_entry[1],
                                essay_id=intake.essay_id,
                                seen_at=self.now(),
                            )
                        )
                break
            except (IntegrityError, _LostRace):
                if attempt == INTAKE_TRIES - 1:
                    raise
                self.log.info("intake raced another; looking again", source=source_name)
        if intake.outcome == "new":
            crashpoint("planned")
            self.log.info(
                "essay added",
                essay=intake.essay_id,
                title=essay.title,
                source=source_name,
                publications=len(intake.publications),
            )
        return intake

    def _intake(
        self, session: Any, essay: Essay, slug: str, digest: str, source_name: str, source: str
    ) -> Intake:
        """One attempt at an intake, inside the caller's transaction."""
        conditions = [EssayRow.content_hash == digest, EssayRow.slug == slug]
        if essay.canonical_url:
            conditions.append(EssayRow.canonical_url == essay.canonical_url)
        # one look at every key: an intake committing between two looks cannot be half-seen
        found = list(session.scalars(select(EssayRow).where(or_(*conditions))))
        same = next((row for row in found if row.content_hash == digest), None)
        if same is not None:
            return Intake(
                same.id,
                "duplicate",
                [],
                f"same content as essay {same.id} ({same.title!r}): nothing new to publish",
            )
        if found:
            earlier = max(found, key=lambda row: row.id)
            return self._update_essay(session, earlier, essay, source_name, digest)
        row = EssayRow(
            slug=slug,
            title=essay.title,
            canonical_url=essay.canonical_url,
            content_hash=digest,
            source_name=source_name,
            source=source,
            essay_json=essay.model_dump_json(),
            created_at=self.now(),
            updated_at=self.now(),
        )
        session.add(row)
        session.flush()  # a racing intake's row makes this raise IntegrityError
        pub_ids = self._plan_publications(session, row.id, essay)
        self.store.add_event(
            session,
            "essay.added",
            essay_id=row.id,
            title=essay.title,
            source=source_name,
            publications=len(pub_ids),
        )
        return Intake(row.id, "new", pub_ids, f"planned {len(pub_ids)} publications")

    def _booked(self, session: Any) -> dict[str, list[datetime]]:
        """Due times taken per target, for slot planning: only targets with slots need them."""
        slotted = [name for name, t in self.settings.targets.items() if t.slots]
        if not slotted:
            return {}  # without slots nothing reads them; at 100k rows the scan costs ~0.1 s
        rows = session.execute(
            select(PublicationRow.target, PublicationRow.due_at).where(
                PublicationRow.target.in_(slotted),
                PublicationRow.due_at.is_not(None),
                PublicationRow.state.not_in([State.CANCELLED.value, State.FAILED.value]),
            )
        ).all()
        booked: dict[str, list[datetime]] = {}
        for target, due in rows:
            booked.setdefault(target, []).append(due)
        return booked

    def _plan_publications(
        self, session: Any, essay_id: int, essay: Essay, only: set[str] | None = None
    ) -> list[int]:
        result = plan(essay, self.settings, self.now(), self._booked(session))
        for note in result.notes:
            self.store.add_event(session, "plan.note", essay_id=essay_id, note=note)
            self.log.info("plan note", essay=essay_id, note=note)
        for warning in result.warnings:  # front matter the author wrote and we ignore
            self.store.add_event(session, "plan.warning", essay_id=essay_id, note=warning)
            self.log.warning("front matter ignored", essay=essay_id, note=warning)
        ids: dict[str, int] = {
            row.target: row.id
            for row in session.scalars(
                select(PublicationRow).where(PublicationRow.essay_id == essay_id)
            )
        }
        created: list[int] = []
        for item in result.publications:
            if item.target in ids or (only is not None and item.target not in only):
                continue
            row = PublicationRow(
                essay_id=essay_id,
                target=item.target,
                platform=item.platform,
                state=item.state.value,
                due_at=item.due_at,
                depends_on=ids.get(item.depends_on) if item.depends_on else None,
                wait_for=item.wait_for,
                offset_seconds=int(item.offset.total_seconds()),
                idempotency_key=connector_class(item.platform).new_key(),
                attempts=0,
                needs_update=0,
                created_at=self.now(),
                updated_at=self.now(),
            )
            session.add(row)
            session.flush()
            ids[item.target] = row.id
            created.append(row.id)
            self.store.add_event(
                session,
                "publication.planned",
                essay_id=essay_id,
                publication_id=row.id,
                target=item.target,
                state=item.state.value,
                due=item.due_at,
                why=item.why,
            )
        return created

    def _update_essay(
        self, session: Any, row: EssayRow, essay: Essay, source_name: str, digest: str
    ) -> Intake:
        version = row.version + 1
        changed = session.execute(
            update(EssayRow)
            .where(EssayRow.id == row.id, EssayRow.version == row.version)
            .values(
                essay_json=essay.model_dump_json(),
                title=essay.title,
                content_hash=digest,
                source_name=source_name,
                version=version,
                updated_at=self.now(),
            )
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # another intake edited it since we looked: look again
            raise _LostRace
        messages: list[str] = []
        for pub in session.scalars(select(PublicationRow).where(PublicationRow.essay_id == row.id)):
            if pub.state != State.PUBLISHED.value:
                continue
            if connector_class(pub.platform).can_edit:
                pub.needs_update = 1
                pub.state = State.SCHEDULED.value
                pub.due_at = self.now()
                messages.append(f"{pub.target}: will be updated in place")
            else:
                messages.append(
                    f"{pub.target}: {pub.platform} cannot edit posts; "
                    f"the published version stays as it is"
                )
        new_ids = self._plan_publications(session, row.id, essay)
        self.store.add_event(
            session, "essay.updated", essay_id=row.id, version=version, notes=messages
        )
        for message in messages:
            self.log.info("essay edited", essay=row.id, note=message)
        return Intake(
            row.id,
            "updated",
            new_ids,
            f"edited version {version} of essay {row.id}: " + "; ".join(messages),
        )

    # -------------------------------------------------------------- publishing

    def connector(self, target: str) -> Connector:
        if target not in self._connectors:
            settings = self.settings.targets[target]
            account = Account(
                name=target,
                platform=settings.platform,
                options=settings.options,
                credentials=self.accounts.credentials(target, settings.credentials),
                base_url=settings.base_url,
                home=str(self.home),
                timeout=settings.timeout_seconds,
                configured=settings.credentials,
            )
            connector = connector_class(settings.platform)(account)
            connector.clock = self.now
            self._connectors[target] = connector
        return self._connectors[target]

    def due(self, limit: int = 100) -> list[int]:
        """Publications due now, oldest first."""
        with self.store.session() as session:
            return list(
                session.scalars(
                    select(PublicationRow.id)
                    .where(
                        PublicationRow.state == State.SCHEDULED.value,
                        PublicationRow.due_at <= self.now(),
                    )
                    .order_by(PublicationRow.due_at, PublicationRow.id)
                    .limit(limit)
                )
            )

    def next_due_at(self) -> datetime | None:
        with self.store.session() as session:
            return session.scalars(
                select(PublicationRow.due_at)
                .where(PublicationRow.state == State.SCHEDULED.value)
                .order_by(PublicationRow.due_at)
                .limit(1)
            ).first()

    def claim(self, pub_id: int) -> bool:
        """Atomically take a due publication; False if someone else has it or it is not due."""
        now = self.now()
        with self.store.session() as session, session.begin():
            result = session.execute(
                update(PublicationRow)
                .where(
                    PublicationRow.id == pub_id,
                    PublicationRow.state == State.SCHEDULED.value,
                    PublicationRow.due_at <= now,
                )
                .values(
                    state=State.PUBLISHING.value,
                    claimed_by=WORKER_ID,
                    lease_until=now + LEASE,
                    attempts=PublicationRow.attempts + 1,
                    updated_at=now,
                )
            )
            if result.rowcount != 1:
                return False
            row = session.get(PublicationRow, pub_id)
            assert row is not None
            self.store.add_event(
                session,
                "publication.publishing",
                essay_id=row.essay_id,
                publication_id=pub_id,
                target=row.target,
                attempt=row.attempts,
            )
        return True

    def recover(self, all_leases: bool = False) -> list[int]:
        """Publications left `publishing` by a dead process go back to due (in doubt).

        The journal they carry makes the next attempt look the post up before sending.
        """
        now = self.now()
        with self.store.session() as session, session.begin():
            query = select(PublicationRow).where(PublicationRow.state == State.PUBLISHING.value)
            if not all_leases:
                query = query.where(PublicationRow.lease_until < now)
            rows = list(session.scalars(query))
            for row in rows:
                row.state = State.SCHEDULED.value
                row.due_at = now
                row.claimed_by = None
                self.store.add_event(
                    session,
                    "publication.recovered",
                    essay_id=row.essay_id,
                    publication_id=row.id,
                    target=row.target,
                    note="interrupted while publishing; will look it up first",
                )
        for row in rows:
            self.log.warning(
                "publication recovered", publication=row.id, target=row.target, essay=row.essay_id
            )
        return [row.id for row in rows]

    def _sent_recently(self, target: str, seconds: float) -> list[float]:
        """When `target`'s posts of the last `seconds` went out, whichever process sent them.

        A post's journal mark is saved just before its request, and the row's `updated_at`
        moves on with every later step, so it is never earlier than the send: the window
        may hold a post a little longer than the platform does, never shorter.
        """
        since = self.now() - timedelta(seconds=seconds)
        with self.store.session() as session:
            rows = session.execute(
                select(PublicationRow.updated_at, PublicationRow.progress).where(
                    PublicationRow.target == target, PublicationRow.updated_at >= since
                )
            ).all()
        return [at.timestamp() for at, progress in rows for _ in (progress or {}).get("begun", [])]

    def essay_of(self, row: PublicationRow) -> Essay:
        essay_row = self.store.essay(row.essay_id)
        assert essay_row is not None
        return Essay.model_validate_json(essay_row.essay_json)

    def render(self, row: PublicationRow, essay: Essay) -> Draft:
        connector = self.connector(row.target)
        essay = with_author_times(essay, self.settings.zone)
        link = slot = None
        if row.depends_on:
            dependency = self.store.publication(row.depends_on)
            link = dependency.remote_url if dependency else None
            if dependency is not None:  # composed around the placeholder preview showed
                slot = announced_link(
                    self.settings, essay, row.target, self.home, dependency.target
                ).slot
        # `now` lets a pure render decide "scheduled on the platform" vs "publish now"
        options = {**target_options(self.settings, essay, row.target), "now": self.now()}
        if shows_syndication(row.platform):  # POSSE: the page lists the essay's copies
            options["syndication"] = copies_for_render(self.store, row.essay_id)
        limits: dict[str, int] = {}
        fetch_limits = getattr(connector, "fetch_limits", None)
        if callable(fetch_limits):
            limits = fetch_limits()
        ctx = RenderContext(
            target=row.target,
            options=options,
            link=link or essay.canonical_url,
            limits=limits,
            link_slot=slot,
        )
        return type(connector).render(essay, ctx)

    def claim_batch(self, limit: int) -> list[int]:
        """Claim up to `limit` due publications at once, for a worker process.

        On PostgreSQL the candidates are locked with `FOR UPDATE SKIP LOCKED`, so several
        workers never wait on, or take, each other's rows; elsewhere the per-row claim's
        conditional UPDATE alone keeps it to one winner.
        """
        now = self.now()
        with self.store.session() as session, session.begin():
            query = (
                select(PublicationRow.id)
                .where(
                    PublicationRow.state == State.SCHEDULED.value,
                    PublicationRow.due_at <= now,
                )
                .order_by(PublicationRow.due_at, PublicationRow.id)
                .limit(limit)
            )
            if self.store.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            candidates = list(session.scalars(query))
            claimed: list[int] = []
            for pub_id in candidates:
                result = session.execute(
                    update(PublicationRow)
                    .where(
                        PublicationRow.id == pub_id,
                        PublicationRow.state == State.SCHEDULED.value,
                    )
                    .values(
                        state=State.PUBLISHING.value,
                        claimed_by=WORKER_ID,
                        lease_until=now + LEASE,
                        attempts=PublicationRow.attempts + 1,
                        updated_at=now,
                    )
                )
                if result.rowcount == 1:
                    claimed.append(pub_id)
            for pub_id in claimed:
                self.store.add_event(
                    session, "publication.publishing", publication_id=pub_id, worker=WORKER_ID
                )
        return claimed

    def publish(self, pub_id: int) -> State:
        """Claim and publish one publication; returns its new state."""
        if not self.claim(pub_id):
            row = self.store.publication(pub_id)
            return State(row.state) if row else State.CANCELLED
        return self.publish_claimed(pub_id)

    def publish_claimed(self, pub_id: int) -> State:
        """Publish a publication this process has already claimed."""
        row = self.store.publication(pub_id)
        assert row is not None
        log = self.log.bind(
            publication=pub_id, essay=row.essay_id, target=row.target, attempt=row.attempts
        )
        journal = StoreJournal(self, pub_id, row.progress)
        if row.target not in self.settings.targets and not row.progress:
            with self.store.session() as session, session.begin():
                claimed = session.get(PublicationRow, pub_id)
                assert claimed is not None
                self._cancel_removed(session, claimed, self.now())
            return State.CANCELLED
        try:
            essay = self.essay_of(row)
            draft = self.render(row, essay)
            connector = self.connector(row.target)
            updating = bool(row.needs_update and row.remote_id)
            unsent = sum(journal.remote(i) is None for i in range(len(draft.posts)))
            cost = 1 if updating else unsent
            self._account_gate(row.target, connector)
            wait = self.rate_limits.admit(row.target, max(1, cost), key=row.id)
            if wait > 0:
                return self._defer(row, wait, log)
            if updating:
                old = Remote(id=row.remote_id, url=row.remote_url, extra=row.remote_extra or {})
                remote = connector.update(old, draft)
                outcome = "updated"
            else:
                remote = connector.publish(draft, row.idempotency_key, journal)
                outcome = "published"
        except RateLimited as exc:
            if exc.retry_after is not None:
                self.rate_limits.block(row.target, exc.retry_after)
            return self._retry_later(row, exc, exc.retry_after, log)
        except Transient as exc:
            return self._retry_later(row, exc, None, log)
        except InDoubt as exc:
            return self._retry_later(row, exc, None, log, at_least=exc.settle)
        except HandedOff as exc:
            return self._awaiting_manual(row, exc, log)
        except AccountHeld as exc:
            return self._hold(row, exc, log)
        except NeedsPerson as exc:
            return self._fail(row, str(exc), exc.next_step, log)
        except PublishError as exc:
            return self._fail(row, str(exc), "check the target, then `crosspost retry`", log)
        except Exception as exc:  # a bug must fail one publication, never the daemon
            trouble = storage_trouble(exc)
            if trouble is not None:  # a full disk or a locked database passes: try later
                return self._wait_for_storage(row, trouble, log)
            log.exception("publication crashed")
            return self._fail(
                row,
                f"internal error: {exc or 'no detail'} (the log has the details)",
                "report this; then `crosspost retry`",
                log,
            )
        return self._published(row, remote, outcome, log)

    def _published(self, row: PublicationRow, remote: Remote, outcome: str, log: Any) -> State:
        now = self.now()
        with self.store.session() as session, session.begin():
            session.execute(
                update(PublicationRow)
                .where(PublicationRow.id == row.id)
                .values(
                    state=State.PUBLISHED.value,
                    remote_id=remote.id,
                    remote_url=remote.url,
                    remote_extra=remote.extra,
                    last_error=None,
                    claimed_by=None,
                    lease_until=None,
                    needs_update=0,
                    published_at=row.published_at or now,
                    updated_at=now,
                )
            )
            self.store.add_event(
                session,
                f"publication.{outcome}",
                essay_id=row.essay_id,
                publication_id=row.id,
                target=row.target,
                url=remote.url,
                attempt=row.attempts,
            )
            released = self._release_dependents(session, row.id, now)
            released += mark_stale_pages(session, self.store, row.essay_id, now)
        crashpoint("published")
        log.info(f"publication {outcome}", url=remote.url, remote_id=remote.id)
        for dependent in released:
            log.info("dependent released", dependent=dependent)
        self._announce(released)
        return State.PUBLISHED

    def _announce(self, pub_ids: list[int]) -> None:
        if pub_ids and self.on_scheduled is not None:
            self.on_scheduled(pub_ids)

    def _release_dependents(self, session: Any, pub_id: int, now: datetime) -> list[int]:
        dependents = list(
            session.scalars(
                select(PublicationRow).where(
                    PublicationRow.depends_on == pub_id, PublicationRow.state == State.PLANNED.value
                )
            )
        )
        booked = self._booked(session) if dependents else {}
        for dep in dependents:
            if dep.target not in self.settings.targets:
                self._cancel_removed(session, dep, now)
                continue
            essay_row = session.get(EssayRow, dep.essay_id)
            essay = Essay.model_validate_json(essay_row.essay_json)
            not_before = now
            if essay.publish_at is not None:
                at = author_time(essay.publish_at, self.settings.zone)
                not_before = max(now, at.astimezone(UTC))
            dep.due_at = release_after(
                now,
                timedelta(seconds=dep.offset_seconds),
                self.settings.targets[dep.target],
                self.settings.zone,
                booked.get(dep.target, []),
                not_before,
            )
            dep.state = State.SCHEDULED.value
            dep.updated_at = now
            self.store.add_event(
                session,
                "publication.scheduled",
                essay_id=dep.essay_id,
                publication_id=dep.id,
                target=dep.target,
                due=dep.due_at,
                why="its dependency has a URL now",
            )
        return [d.id for d in dependents if d.state == State.SCHEDULED.value]

    def _cancel_removed(self, session: Any, row: PublicationRow, now: datetime) -> None:
        """A publication for a target no longer in the settings: cancelled, saying why."""
        reason = f"target {row.target!r} was removed from the settings; nothing was sent"
        row.state = State.CANCELLED.value
        row.last_error = reason
        row.claimed_by = None
        row.lease_until = None
        row.updated_at = now
        self.store.add_event(
            session,
            "publication.cancelled",
            essay_id=row.essay_id,
            publication_id=row.id,
            target=row.target,
            why=reason,
        )
        self.log.warning("publication cancelled", publication=row.id, target=row.target, why=reason)

    def cancel_removed_targets(self) -> list[int]:
        """Open publications of targets the settings no longer have: cancelled with a reason
        (at start and when the settings change), so none is retried against a missing target."""
        now = self.now()
        with self.store.session() as session, session.begin():
            rows = list(
                session.scalars(
                    select(PublicationRow).where(
                        PublicationRow.state.in_([State.PLANNED.value, State.SCHEDULED.value]),
                        PublicationRow.target.not_in(list(self.settings.targets)),
                    )
                )
            )
            for row in rows:
                self._cancel_removed(session, row, now)
        return [row.id for row in rows]

    def backoff(self, attempts: int) -> float:
        """Exponential backoff with full jitter in [base/2, cap]."""
        cap = min(
            self.settings.retry_max_seconds,
            self.settings.retry_base_seconds * (2 ** max(0, attempts - 1)),
        )
        return random.uniform(cap / 2, cap)

    def _retry_later(
        self,
        row: PublicationRow,
        exc: PublishError,
        wait: float | None,
        log: Any,
        at_least: float = 0.0,
    ) -> State:
        if row.attempts >= self.settings.max_attempts and not isinstance(exc, RateLimited):
            return self._fail(
                row,
                f"gave up after {row.attempts} attempts: {exc}",
                "check that the platform is up, then `crosspost retry`",
                log,
            )
        delay = max(wait if wait is not None else self.backoff(row.attempts), at_least)
        due = self.now() + timedelta(seconds=max(delay, 0.0))
        self._settle(
            row,
            State.SCHEDULED,
            {"due_at": due, "last_error": self.store.redact(str(exc))},
            "publication.retry",
            attempt=row.attempts,
            error=str(exc),
            retry_at=due,
            error_type=type(exc).__name__,
        )
        log.warning(
            "publication will retry",
            error=str(exc),
            retry_at=due.isoformat(),
            kind=type(exc).__name__,
        )
        self._announce([row.id])
        return State.SCHEDULED

    # ---------------------------------------------------------- account holds

    def _account_gate(self, target: str, connector: Connector) -> None:
        """Before anything is sent: renew a credential that is due, and stop at a hold or
        at a credential known to have expired (`AccountHeld`)."""
        try:
            renewed = self.accounts.refresh_if_due(connector)
        except NeedsPerson as exc:  # the platform refused the refresh: a person signs in again
            raise AccountHeld(str(exc), next_step=exc.next_step) from None
        if renewed:
            self._redact_also(connector)
        self.accounts.life(connector)  # a credential seen for the first time starts its clock
        hold = self.accounts.held(target)
        if hold is not None:
            raise AccountHeld(hold["reason"], next_step=hold["next_step"])
        expires = self.accounts.expires_at(target)
        if expires is not None and expires <= self.now():
            reason = (
                f"the {connector.platform} credentials of {target} expired on {expires:%Y-%m-%d}"
            )
            raise AccountHeld(reason, next_step=renew_step(connector), expired_credential=True)

    def _redact_also(self, connector: Connector) -> None:
        """A renewed secret is redacted everywhere from now on, like the configured ones."""
        values = [v.get_secret_value() for v in connector.account.credentials.values()]
        self.store.secrets = [*self.store.secrets, *(v for v in values if v)]
        redact_also(values)

    def _hold(self, row: PublicationRow, exc: AccountHeld, log: Any) -> State:
        """The account cannot post: park this publication unsent (not an attempt, not failed)
        and tell a person once, when the hold begins."""
        reason = exc.message
        kind = "expired" if exc.expired_credential else "manual"
        if self.accounts.hold(row.target, reason, exc.next_step, kind=kind):
            self.notifier.notify(
                f"{row.target} is held: {reason}",
                f"{reason}\nnext step: {exc.next_step}\nIts publications wait, unsent, until then.",
                target=row.target,
            )
        due = self.now() + HOLD_RECHECK
        text = self.store.redact(f"held: {reason} -- next step: {exc.next_step}")
        self._settle(
            row,
            State.SCHEDULED,
            {"due_at": due, "attempts": PublicationRow.attempts - 1, "last_error": text},
            "publication.held",
            why=text,
            until=due,
        )
        log.warning("publication held", reason=text)
        self._announce([row.id])
        return State.SCHEDULED

    def resume(self, target: str) -> int:
        """The operator fixed the account: lift the hold, and what it held is due now."""
        if target not in self.settings.targets:
            raise LookupError(f"no target {target!r} in the settings")
        self.accounts.release(target)
        now = self.now()
        with self.store.session() as session, session.begin():
            result = session.execute(
                update(PublicationRow)
                .where(
                    PublicationRow.target == target,
                    PublicationRow.state == State.SCHEDULED.value,
                    PublicationRow.last_error.like("held:%"),
                )
                .values(due_at=now, updated_at=now)
                .returning(PublicationRow.id)
            )
            ids = [row_id for (row_id,) in result]
        self._announce(ids)
        return len(ids)

    def watch_accounts(self) -> None:
        """Renew what is due and warn of expiries ahead (7 days, 1 day), once each."""
        for name, target in self.settings.targets.items():
            if not target.enabled:
                continue
            connector = self.connector(name)
            try:
                if self.accounts.refresh_if_due(connector):
                    self._redact_also(connector)
            except PublishError as exc:
                self.log.warning("credential refresh failed", target=name, error=str(exc))
            for days in self.accounts.warnings_due(connector):
                health = self.accounts.health(connector)
                self.notifier.notify(
                    f"{name}: credentials expire within {days} day{'s' if days > 1 else ''}",
                    f"{health.detail}\nnext step: {health.next_step}",
                    target=name,
                )
                self.log.warning("credentials expire soon", target=name, detail=health.detail)

    def _wait_for_storage(self, row: PublicationRow, trouble: str, log: Any) -> State:
        """Back to scheduled after `STORAGE_RETRY`, not an attempt; if even that write fails,
        the error goes up and the daemon keeps releasing until the storage answers."""
        due = self.now() + STORAGE_RETRY
        log.warning("publication waits for storage", reason=trouble, retry_at=due.isoformat())
        self._settle(
            row,
            State.SCHEDULED,
            {"due_at": due, "attempts": PublicationRow.attempts - 1, "last_error": trouble},
            "publication.retry",
            error=trouble,
            retry_at=due,
        )
        self._announce([row.id])
        return State.SCHEDULED

    def release(self, pub_id: int, reason: str) -> bool:
        """Give back a claim this process holds: scheduled again now, journal kept (the next
        attempt looks a begun post up before sending). False when it holds no such claim."""
        now = self.now()
        with self.store.session() as session, session.begin():
            released = session.execute(
                update(PublicationRow)
                .where(
                    PublicationRow.id == pub_id,
                    PublicationRow.state == State.PUBLISHING.value,
                    PublicationRow.claimed_by == WORKER_ID,
                )
                .values(
                    state=State.SCHEDULED.value,
                    due_at=now,
                    claimed_by=None,
                    lease_until=None,
                    updated_at=now,
                )
            ).rowcount
            if released:
                self.store.add_event(
                    session, "publication.released", publication_id=pub_id, why=reason
                )
        if released:
            self.log.warning("publication released", publication=pub_id, why=reason)
        return bool(released)

    def use_settings(self, settings: Settings) -> None:
        """Edited settings, already validated: new essays are planned with them."""
        self.settings = settings
        self._connectors.clear()
        self.notifier = Notifier(settings.notify)
        self.rate_limits = RateLimits(settings, self.now, history=self._sent_recently)
        self.store.secrets = [
            s for s in settings.secret_values() + self.accounts.secret_values() if s
        ]

    def _defer(self, row: PublicationRow, wait: float, log: Any) -> State:
        """The target's rate limit is used up: back to scheduled for when a slot frees.

        Not an attempt (nothing was sent), so `attempts` is given back.
        """
        due = self.now() + timedelta(seconds=wait)
        self._settle(
            row,
            State.SCHEDULED,
            {"due_at": due, "attempts": PublicationRow.attempts - 1},
            "publication.deferred",
            until=due,
            why="the target's rate limit is used up",
        )
        log.info("publication deferred by rate limit", until=due.isoformat())
        self._announce([row.id])
        return State.SCHEDULED

    def _fail(self, row: PublicationRow, message: str, next_step: str, log: Any) -> State:
        text = self.store.redact(f"{message} -- next step: {next_step}")
        self._settle(row, State.FAILED, {"last_error": text}, "publication.failed", error=text)
        log.error("publication failed", error=text)
        self.notifier.notify(
            f"publication {row.id} to {row.target} failed",
            text or "",
            publication=row.id,
            target=row.target,
            state="failed",
        )
        return State.FAILED

    def _settle(
        self, row: PublicationRow, state: State, values: dict[str, Any], event: str, **data: Any
    ) -> None:
        """Release the claim with the new state and values, and append the event: one commit."""
        with self.store.session() as session, session.begin():
            session.execute(
                update(PublicationRow)
                .where(PublicationRow.id == row.id)
                .values(
                    state=state.value,
                    claimed_by=None,
                    lease_until=None,
                    updated_at=self.now(),
                    **values,
                )
            )
            self.store.add_event(
                session,
                event,
                essay_id=row.essay_id,
                publication_id=row.id,
                target=row.target,
                **data,
            )

    def _awaiting_manual(self, row: PublicationRow, exc: HandedOff, log: Any) -> State:
        self._settle(
            row,
            State.AWAITING_MANUAL,
            {"last_error": None},
            "publication.awaiting-manual",
            location=exc.location,
        )
        message = (
            f"{exc.message}. Prepared post: {exc.location}. When it is live, run: "
            f"crosspost confirm {row.id} <URL>"
        )
        log.warning(
            "publication awaiting manual step",
            location=exc.location,
            next_step=f"crosspost confirm {row.id} URL",
        )
        self.notifier.notify(
            f"publication {row.id} to {row.target} needs you",
            message,
            publication=row.id,
            target=row.target,
            state="awaiting-manual",
        )
        return State.AWAITING_MANUAL

    # ------------------------------------------------------------ operator steps

    def _operator_change(
        self,
        pub_id: int,
        allowed: set[State],
        values: dict[str, Any],
        kind: str,
        adjust: Callable[[PublicationRow], None] | None = None,
        then: Callable[[Any, PublicationRow], Any] | None = None,
        needs_dependency: bool = False,
        **data: Any,
    ) -> PublicationRow:
        """Change a row only in a state the step allows: one conditional UPDATE (compare
        and set on the state), so a publisher's claim between a read and a write cannot
        slip through. What is returned is the row as this transaction left it.

        `needs_dependency`: the row must not wait for an unpublished dependency (a post
        that links the blog's URL must not go out before the blog post)."""
        conditions = [
            PublicationRow.id == pub_id,
            PublicationRow.state.in_([s.value for s in allowed]),
        ]
        if needs_dependency:
            published = select(PublicationRow.id).where(
                PublicationRow.state == State.PUBLISHED.value
            )
            conditions.append(
                or_(PublicationRow.depends_on.is_(None), PublicationRow.depends_on.in_(published))
            )
        with self.store.session() as session, session.begin():
            changed = session.execute(
                update(PublicationRow)
                .where(*conditions)
                .values(**values, updated_at=self.now())
                .execution_options(synchronize_session=False)
            ).rowcount
            row = session.get(PublicationRow, pub_id)
            if row is None:
                raise LookupError(f"no publication {pub_id}")
            if changed != 1:
                raise ValueError(self._refusal(session, row, allowed))
            if adjust:
                adjust(row)
            self.store.add_event(
                session,
                kind,
                essay_id=row.essay_id,
                publication_id=pub_id,
                target=row.target,
                **data,
            )
            if then:
                then(session, row)
        self.log.info(kind.replace(".", " "), publication=pub_id, target=row.target, **data)
        return row

    def _refusal(self, session: Any, row: PublicationRow, allowed: set[State]) -> str:
        """Why an operator step changed nothing, naming the row's state as it is now."""
        if State(row.state) in allowed and row.depends_on is not None:
            dependency = session.get(PublicationRow, row.depends_on)
            name = dependency.target if dependency else "?"
            return (
                f"publication {row.id} waits for publication {row.depends_on} ({name}) to be "
                f"published and links to it; nothing changed: it goes out after it. "
                f"Move publication {row.depends_on} instead"
            )
        names = ", ".join(sorted(s.value for s in allowed))
        busy = " (a publisher has it right now)" if row.state == State.PUBLISHING.value else ""
        return f"publication {row.id} is {row.state}; this works on: {names}; nothing changed{busy}"

    def retry(self, pub_id: int) -> PublicationRow:
        """Due now again; a row still waiting for its dependency goes back to waiting."""
        step = {State.FAILED, State.SCHEDULED, State.CANCELLED}
        values = {"state": State.SCHEDULED.value, "due_at": self.now(), "attempts": 0}
        try:
            return self._operator_change(
                pub_id,
                step,
                values,
                "publication.retry-requested",
                adjust=self._forget_unanswered,
                needs_dependency=True,
            )
        except ValueError:
            row = self.store.publication(pub_id)
            if row is None or row.depends_on is None or State(row.state) not in step:
                raise
        return self._operator_change(
            pub_id,
            step,
            {"state": State.PLANNED.value, "due_at": None, "attempts": 0},
            "publication.retry-requested",
            adjust=self._forget_unanswered,
            note=f"waits for publication {row.depends_on} again",
        )

    def _forget_unanswered(self, row: PublicationRow) -> None:
        """On a platform that cannot be asked, a retry means a person looked and found nothing.

        Without this, the post begun before a crash stays in doubt and the retry would only
        ask the person again. Platforms with a look-up keep the mark: asking them is free.
        """
        if not row.progress or connector_class(row.platform).dedupe is not Dedupe.NONE:
            return
        answered = row.progress.get("remotes", {})
        begun = [i for i in row.progress.get("begun", []) if str(i) in answered]
        row.progress = {**row.progress, "begun": begun}

    def cancel(self, pub_id: int) -> PublicationRow:
        stale: list[int] = []
        row = self._operator_change(
            pub_id,
            {State.PLANNED, State.SCHEDULED, State.FAILED, State.AWAITING_MANUAL},
            {"state": State.CANCELLED.value},
            "publication.cancelled",
            adjust=lambda row: stale.extend(self._copies_changed(row)),
        )
        self._announce(stale)
        return row

    def _copies_changed(self, row: PublicationRow) -> list[int]:
        """A copy came or went outside a publish: in the same transaction, the essay's site
        pages are marked to catch up (POSSE). Returns the pages scheduled."""
        session = object_session(row)
        assert session is not None
        session.flush()
        return mark_stale_pages(session, self.store, row.essay_id, self.now())

    def reschedule(self, pub_id: int, when: datetime) -> PublicationRow:
        return self._operator_change(
            pub_id,
            {State.SCHEDULED, State.FAILED, State.PLANNED, State.CANCELLED},
            {"state": State.SCHEDULED.value, "due_at": when.astimezone(UTC)},
            "publication.rescheduled",
            needs_dependency=True,
            due=when,
        )

    def confirm(self, pub_id: int, url: str) -> PublicationRow:
        """Record where a post a person published (hand-off) or found (after a lost answer on a
        platform that cannot be asked) went live; it then counts as published."""
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"{url!r} is not an http(s) URL")
        stale: list[int] = []
        row = self._operator_change(
            pub_id,
            {State.AWAITING_MANUAL, State.FAILED},
            {
                "state": State.PUBLISHED.value,
                "remote_url": url,
                "remote_id": url,
                "published_at": self.now(),
                "needs_update": 0,
            },
            "publication.confirmed",
            adjust=lambda row: stale.extend(self._copies_changed(row)),
            then=lambda session, _row: self._release_dependents(session, pub_id, self.now()),
            url=url,
        )
        self._announce(stale)
        return row
