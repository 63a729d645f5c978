"""Cervical-length scans booked (issue 13, part 4).

`appointments`: one row per booking of a pregnancy: its day and time on the clinic's clock,
booked or cancelled, the scan plan's window it was booked for, who booked it and when.
Whether a booked scan was attended or missed is read off the cervical lengths of its day, not
stored. Indexed by (pregnancy, day) for the worklist's join; deleted with the pregnancy.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pregnancy_id", sa.String(36), nullable=False),
        sa.Column("scheduled_on", sa.Date(), nullable=False),
        sa.Column("scheduled_at", sa.Time(), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("window_from", sa.Date(), nullable=True),
        sa.Column("window_to", sa.Date(), nullable=True),
        sa.Column("booked_by", sa.String(36), nullable=True),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('booked', 'cancelled')", name="ck_appointments_status"),
        sa.ForeignKeyConstraint(
            ["pregnancy_id"],
            ["pregnancies.id"],
            name="fk_appointments_pregnancy_id_pregnancies",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_appointments"),
    )
    op.create_index(
        "ix_appointments_pregnancy_id_scheduled_on",
        "appointments",
        ["pregnancy_id", "scheduled_on"],
    )


def downgrade() -> None:
    op.drop_index("ix_appointments_pregnancy_id_scheduled_on", table_name="appointments")
    op.drop_table("appointments")
