"""Corrections of clinical records (issue 13, part 3).

`record_corrections`: one row per correction of a record (amended, or marked entered in
error): the record's table and row (the row of a record entered in error is gone), the
change, the reason given, who made it and when, and the record's values as they were before
(JSON by column). Indexed by woman and by record; deleted with the woman.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "record_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(36), nullable=False),
        sa.Column("record_table", sa.String(40), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("corrected_by", sa.String(36), nullable=True),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", _json(), nullable=False),
        sa.CheckConstraint(
            "change IN ('amended', 'entered-in-error')", name="ck_record_corrections_change"
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_record_corrections_patient_id_patients",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_record_corrections"),
    )
    op.create_index("ix_record_corrections_patient_id", "record_corrections", ["patient_id"])
    op.create_index(
        "ix_record_corrections_record_table_record_id",
        "record_corrections",
        ["record_table", "record_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_record_corrections_record_table_record_id", table_name="record_corrections")
    op.drop_index("ix_record_corrections_patient_id", table_name="record_corrections")
    op.drop_table("record_corrections")
