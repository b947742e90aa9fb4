"""The daemon's heartbeat: its state and last successful tick, so `status` can tell health.

Revision ID: 0003
Revises: 0001

Self-contained: it creates only its own table, if missing, so it may sit anywhere in the
chain of revisions.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    if "daemon_heartbeat" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "daemon_heartbeat",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("beat_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("daemon_heartbeat")
