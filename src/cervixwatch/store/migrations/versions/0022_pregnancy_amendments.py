"""Corrections of a pregnancy's own details (issue 13, part 2): its EDD and fetus count amended
with a reason, kept in `record_corrections` as a record's correction is.

A pregnancy's id is text (a UUID), not an integer row id: `record_key` holds it, and
`record_id` may now be NULL for such a correction. Exactly one of the two names the record
(a check constraint). Rows written before all name an integer record.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ONE_NAME = "(record_id IS NULL) <> (record_key IS NULL)"


def upgrade() -> None:
    with op.batch_alter_table("record_corrections") as batch:
        batch.add_column(sa.Column("record_key", sa.String(36), nullable=True))
        batch.alter_column("record_id", existing_type=sa.Integer(), nullable=True)
        batch.create_check_constraint(op.f("ck_record_corrections_record_named_once"), _ONE_NAME)
        batch.create_index(
            op.f("ix_record_corrections_record_table_record_key"), ["record_table", "record_key"]
        )


def downgrade() -> None:
    # A pregnancy's corrections cannot be held by the older table (no integer id): dropped.
    op.execute("DELETE FROM record_corrections WHERE record_id IS NULL")
    with op.batch_alter_table("record_corrections") as batch:
        batch.drop_index(op.f("ix_record_corrections_record_table_record_key"))
        batch.drop_constraint(op.f("ck_record_corrections_record_named_once"), type_="check")
        batch.alter_column("record_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("record_key")
