"""The sign-in back-off's counters in the database (issue 12, part 5).

`failure_counters`: wrong passwords by username and client address, with their expiry, so
that every worker process and every host counts them together when no Redis is configured
(`store.failure_counters`, `web.rate_limits`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "failure_counters",
        sa.Column("counter_key", sa.String(600), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("counter_key", name=op.f("pk_failure_counters")),
    )
    op.create_index(op.f("ix_failure_counters_expires_at"), "failure_counters", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_failure_counters_expires_at"), table_name="failure_counters")
    op.drop_table("failure_counters")
