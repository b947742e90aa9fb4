"""Initial schema: essays, publications, events, feed entries.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "essays",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(200), nullable=False, index=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("canonical_url", sa.Text, index=True),
        sa.Column("content_hash", sa.String(64), nullable=False, index=True),
        sa.Column("source_name", sa.Text, nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("essay_json", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "publications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("essay_id", sa.Integer, sa.ForeignKey("essays.id"), nullable=False, index=True),
        sa.Column("target", sa.String(100), nullable=False, index=True),
        sa.Column("platform", sa.String(40), nullable=False),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("due_at", TS, index=True),
        sa.Column("depends_on", sa.Integer, sa.ForeignKey("publications.id")),
        sa.Column("wait_for", sa.String(20)),
        sa.Column("offset_seconds", sa.Integer, nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("remote_id", sa.Text),
        sa.Column("remote_url", sa.Text),
        sa.Column("remote_extra", sa.JSON),
        sa.Column("progress", sa.JSON),
        sa.Column("last_error", sa.Text),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("lease_until", TS),
        sa.Column("needs_update", sa.Integer, nullable=False),
        sa.Column("published_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("essay_id", "target", name="uq_publication_essay_target"),
    )
    op.create_index("ix_publications_state_due", "publications", ["state", "due_at"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False, index=True),
        sa.Column("essay_id", sa.Integer, index=True),
        sa.Column("publication_id", sa.Integer, index=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "feed_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("feed_url", sa.Text, nullable=False),
        sa.Column("guid", sa.String(500), nullable=False, index=True),
        sa.Column("essay_id", sa.Integer),
        sa.Column("seen_at", TS, nullable=False),
        sa.UniqueConstraint("feed_url", "guid", name="uq_feed_entry"),
    )


def downgrade() -> None:
    for table in ("feed_entries", "events", "publications", "essays"):
        op.drop_table(table)
