"""One intake, enforced by the store: what makes an essay the same becomes unique.

Two daemons on one store could each store the same essay (a check-then-insert with no
constraint behind it). Before the unique indexes can exist, the duplicates already stored
are resolved, posting nothing:

- essays that share a content hash, a slug or a canonical URL form one group; the earliest
  essay of the group is kept;
- a later essay of which nothing was sent is removed with its publications (an
  `essay.merged` event on the kept essay says which, and its feed entries move to it);
- a later essay of which something was sent is kept as a record under keys that can never
  match again, and its publications not yet sent are cancelled (one `publication.cancelled`
  event each, saying why).

Publications (essay x target) and feed entries (feed x guid) are unique since 0001.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

KEYS = ("slug", "canonical_url", "content_hash")
UNSENT_OPEN = ("planned", "scheduled", "failed", "awaiting-manual")


def upgrade() -> None:
    connection = op.get_bind()
    for keeper, duplicates in _duplicate_groups(connection).items():
        for essay_id in duplicates:
            _resolve(connection, keeper, essay_id)
    for column in KEYS:
        op.drop_index(f"ix_essays_{column}", table_name="essays")
        op.create_index(f"ix_essays_{column}", "essays", [column], unique=True)


def downgrade() -> None:
    for column in KEYS:
        op.drop_index(f"ix_essays_{column}", table_name="essays")
        op.create_index(f"ix_essays_{column}", "essays", [column])


def _duplicate_groups(connection: Any) -> dict[int, list[int]]:
    """Kept essay id -> the later essays that are the same essay (by any key)."""
    first_with: dict[tuple[str, str], int] = {}
    keeper_of: dict[int, int] = {}
    rows = connection.execute(
        sa.text("SELECT id, slug, canonical_url, content_hash FROM essays ORDER BY id")
    ).all()
    for essay_id, *values in rows:
        keys = [(name, value) for name, value in zip(KEYS, values, strict=True) if value]
        earlier = [first_with[key] for key in keys if key in first_with]
        keeper = min((keeper_of[e] for e in earlier), default=essay_id)
        keeper_of[essay_id] = keeper
        for key in keys:
            first_with.setdefault(key, essay_id)
    groups: dict[int, list[int]] = {}
    for essay_id, keeper in keeper_of.items():
        if keeper != essay_id:
            groups.setdefault(keeper, []).append(essay_id)
    return groups


def _resolve(connection: Any, keeper: int, essay_id: int) -> None:
    publications = connection.execute(
        sa.text(
            "SELECT id, target, state, remote_id, progress FROM publications WHERE essay_id = :e"
        ),
        {"e": essay_id},
    ).all()
    sent = [p for p in publications if p.state == "published" or p.remote_id or _begun(p.progress)]
    why = f"essay {essay_id} is a duplicate of essay {keeper} (stored twice before 0002)"
    if not sent:
        connection.execute(
            sa.text("UPDATE feed_entries SET essay_id = :k WHERE essay_id = :e"),
            {"k": keeper, "e": essay_id},
        )
        connection.execute(
            sa.text("UPDATE publications SET depends_on = NULL WHERE essay_id = :e"),
            {"e": essay_id},
        )
        connection.execute(sa.text("DELETE FROM publications WHERE essay_id = :e"), {"e": essay_id})
        connection.execute(sa.text("DELETE FROM essays WHERE id = :e"), {"e": essay_id})
        _event(
            connection,
            "essay.merged",
            keeper,
            None,
            removed_essay=essay_id,
            publications_removed=len(publications),
            why=f"{why}; nothing of it was sent",
        )
        return
    for pub in publications:
        if pub.state in UNSENT_OPEN and not pub.remote_id and not _begun(pub.progress):
            connection.execute(
                sa.text("UPDATE publications SET state = 'cancelled' WHERE id = :p"), {"p": pub.id}
            )
            _event(
                connection, "publication.cancelled", essay_id, pub.id, target=pub.target, why=why
            )
    slug = connection.execute(sa.text("SELECT slug FROM essays WHERE id = :e"), {"e": essay_id})
    suffix = f"--duplicate-{essay_id}"
    renamed = slug.scalar()[: 200 - len(suffix)] + suffix
    connection.execute(
        sa.text(
            "UPDATE essays SET slug = :s, canonical_url = NULL, content_hash = :h WHERE id = :e"
        ),
        {"s": renamed, "h": f"duplicate-{essay_id}", "e": essay_id},
    )
    _event(connection, "essay.duplicate", essay_id, None, kept_essay=keeper, why=why)


def _begun(progress: Any) -> bool:
    if isinstance(progress, str):
        progress = json.loads(progress or "null")
    return bool((progress or {}).get("begun"))


def _event(connection: Any, kind: str, essay_id: int, pub_id: int | None, **data: Any) -> None:
    insert = sa.text(
        "INSERT INTO events (at, essay_id, publication_id, kind, data) VALUES (:at, :e, :p, :k, :d)"
    ).bindparams(sa.bindparam("at", type_=sa.DateTime(timezone=True)))
    connection.execute(
        insert,
        {
            "at": datetime.now(UTC),
            "e": essay_id,
            "p": pub_id,
            "k": kind,
            "d": json.dumps(data, ensure_ascii=False),
        },
    )
