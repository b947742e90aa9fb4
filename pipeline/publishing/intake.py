"""Intake: an essay handed in becomes one stored essay and its planned publications.

Exactly once is the store's to enforce: content hash, slug and canonical URL are unique,
so a second intake racing this one fails its insert (or finds its edit already applied)
and is run again, when it finds the essay and plans nothing. An essay seen again with new
content is an edit: a new version, published copies updated in place where the platform
can edit, and publications for targets added since.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from connectors import connector_class
from pipeline.crashpoints import crashpoint
from pipeline.document import Essay
from pipeline.publishing.planner import plan
from pipeline.publishing.release import slots_taken
from pipeline.publishing.states import State
from pipeline.publishing.wiring import Wiring
from pipeline.store.lifecycle import Conflict, Tx
from pipeline.store.models import EssayRow

INTAKE_TRIES = 4  # a racing intake loses at most once per key (hash, slug, canonical URL)


class LostRace(Exception):
    """Another intake changed the essay between this one's look and its write."""


@dataclass
class Intake:
    """What happened to one essay handed to the pipeline."""

    essay_id: int | None
    outcome: str  # new | duplicate | updated
    publications: list[int]
    message: str


@dataclass(frozen=True)
class Handed:
    """One essay as handed in: the parsed essay, its bytes' digest and where it came from."""

    essay: Essay
    slug: str
    digest: str
    source_name: str
    source: str

    @classmethod
    def of(cls, essay: Essay, source_name: str, data: bytes, source: str = "inbox") -> Handed:
        """The essay with its effective slug, and the digest of the bytes it was read from."""
        slug = essay.effective_slug()
        digest = hashlib.sha256(data).hexdigest()
        return cls(essay.model_copy(update={"slug": slug}), slug, digest, source_name, source)


class Intaker:
    def __init__(self, wiring: Wiring) -> None:
        self.wiring = wiring

    def add_essay(self, handed: Handed, feed_entry: tuple[str, str] | None = None) -> Intake:
        """Record an essay and plan its publications; an edited essay updates in place.
        `feed_entry` (feed URL, guid) is recorded in the same transaction."""
        source_name = handed.source_name
        for attempt in range(INTAKE_TRIES):
            try:
                intake = self._attempt(handed, feed_entry)
                break
            except (Conflict, LostRace):
                if attempt == INTAKE_TRIES - 1:
                    raise
                self.wiring.log.info("intake raced another; looking again", source=source_name)
        if intake.outcome == "new":
            crashpoint("planned")
            self.wiring.log.info(
                "essay added",
                essay=intake.essay_id,
                title=handed.essay.title,
                source=source_name,
                publications=len(intake.publications),
            )
        return intake

    def _attempt(self, handed: Handed, feed_entry: tuple[str, str] | None) -> Intake:
        """One attempt, one transaction: the feed entry, the essay and its rows together."""
        with self.wiring.store.transaction() as tx:
            if feed_entry is not None:
                known = tx.feed_entry(*feed_entry)
                if known is not None:
                    note = f"feed entry taken before (essay {known.essay_id})"
                    return Intake(known.essay_id, "duplicate", [], note)
            intake = self._intake(tx, handed)
            if feed_entry is not None:
                tx.add_feed_entry(*feed_entry, intake.essay_id, self.wiring.now())
            return intake

    def _intake(self, tx: Tx, handed: Handed) -> Intake:
        essay = handed.essay
        found = tx.essays_matching(handed.digest, handed.slug, essay.canonical_url)
        same = next((row for row in found if row.content_hash == handed.digest), None)
        if same is not None:
            note = f"same content as essay {same.id} ({same.title!r}): nothing new to publish"
            return Intake(same.id, "duplicate", [], note)
        if found:
            return self._update_essay(tx, max(found, key=lambda row: row.id), handed)
        now = self.wiring.now()
        row = tx.add_essay(
            slug=handed.slug,
            title=essay.title,
            canonical_url=essay.canonical_url,
            content_hash=handed.digest,
            source_name=handed.source_name,
            source=handed.source,
            essay_json=essay.model_dump_json(),
            created_at=now,
            updated_at=now,
        )
        pub_ids = self.plan_publications(tx, row.id, essay)
        tx.add_event(
            "essay.added",
            essay_id=row.id,
            title=essay.title,
            source=handed.source_name,
            publications=len(pub_ids),
        )
        return Intake(row.id, "new", pub_ids, f"planned {len(pub_ids)} publications")

    def plan_publications(self, tx: Tx, essay_id: int, essay: Essay) -> list[int]:
        """Plan the essay and add the publications it has no row for yet; their ids."""
        now = self.wiring.now()
        result = plan(essay, self.wiring.settings, now, slots_taken(tx, self.wiring.settings))
        for note in result.notes:
            tx.add_event("plan.note", essay_id=essay_id, note=note)
            self.wiring.log.info("plan note", essay=essay_id, note=note)
        for warning in result.warnings:  # front matter the author wrote and we ignore
            tx.add_event("plan.warning", essay_id=essay_id, note=warning)
            self.wiring.log.warning("front matter ignored", essay=essay_id, note=warning)
        ids = {row.target: row.id for row in tx.publications_of(essay_id)}
        created: list[int] = []
        for item in result.publications:
            if item.target in ids:
                continue
            row = tx.add_publication(
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
                created_at=now,
                updated_at=now,
            )
            ids[item.target] = row.id
            created.append(row.id)
            tx.add_event(
                "publication.planned",
                essay_id=essay_id,
                publication_id=row.id,
                target=item.target,
                state=item.state.value,
                due=item.due_at,
                why=item.why,
            )
        return created

    def _update_essay(self, tx: Tx, row: EssayRow, handed: Handed) -> Intake:
        """A new version of a stored essay (optimistic: a racing edit makes this look again)."""
        version = row.version + 1
        essay = handed.essay
        values = {
            "essay_json": essay.model_dump_json(),
            "title": essay.title,
            "content_hash": handed.digest,
            "source_name": handed.source_name,
            "version": version,
            "updated_at": self.wiring.now(),
        }
        if not tx.update_essay(row.id, row.version, values):
            raise LostRace
        messages = self._update_copies(tx, row.id)
        new_ids = self.plan_publications(tx, row.id, essay)
        tx.add_event("essay.updated", essay_id=row.id, version=version, notes=messages)
        for message in messages:
            self.wiring.log.info("essay edited", essay=row.id, note=message)
        note = f"edited version {version} of essay {row.id}: " + "; ".join(messages)
        return Intake(row.id, "updated", new_ids, note)

    def _update_copies(self, tx: Tx, essay_id: int) -> list[str]:
        """Published copies are updated in place where the platform can edit; what happens
        to each, in words."""
        messages: list[str] = []
        for pub in tx.publications_of(essay_id):
            if pub.state != State.PUBLISHED.value:
                continue
            if connector_class(pub.platform).can_edit:
                tx.to_update(pub, self.wiring.now())
                messages.append(f"{pub.target}: will be updated in place")
            else:
                messages.append(
                    f"{pub.target}: {pub.platform} cannot edit posts; "
                    f"the published version stays as it is"
                )
        return messages
