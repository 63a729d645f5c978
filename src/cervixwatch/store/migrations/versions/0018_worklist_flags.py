"""The worklist's flags on the stored assessment (issue 13, parts 1 and 5).

The worklist row shows twins, a cerclage in situ, its removal due or overdue, progesterone
under way, why she is urgent (what, since when, from whom) and only the actions that need
doing; and it ranks women by severity (a red-flag symptom she reported first, CD-07). These
are copied out of the assessment when it is stored (`store.worklist_flags`), as the other
worklist columns are, so the list reads them without opening the assessment document.

The rows stored before this revision cannot say these things: their `worklist_rank` is left
NULL, which `stale_pregnancies` reads as stale (the rank joins the freshness index), so the
next worklist request reassesses them and fills the new columns from the assessment itself
rather than from defaults; no value stored before is changed.

The default order's index becomes (rank, urgent since, next scan due) over the active rows
(PostgreSQL only, as 0010: SQLite has no NULLS LAST in an index); the filters on a cerclage
in situ, its removal and the gestational age read a partial index over the active rows.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = sa.text("pregnancy_active")
_COLUMNS: tuple[sa.Column[object], ...] = (
    sa.Column("fetuses", sa.Integer(), nullable=True),
    sa.Column("cerclage_in_situ", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("cerclage_removal", sa.String(16), nullable=True),
    sa.Column("on_progesterone", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("urgent_kind", sa.String(16), nullable=True),
    sa.Column("urgent_reason", sa.Text(), nullable=True),
    sa.Column("urgent_since", sa.Date(), nullable=True),
    sa.Column("worklist_rank", sa.SmallInteger(), nullable=True),
    sa.Column("actions", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
)


def _order_index(columns: list[sa.TextClause]) -> None:
    op.drop_index("ix_assessments_worklist_order", table_name="assessments")
    op.create_index(
        "ix_assessments_worklist_order", "assessments", columns, postgresql_where=_ACTIVE
    )


def _freshness_index(columns: list[str]) -> None:
    op.drop_index("ix_assessments_active_freshness", table_name="assessments")
    op.create_index(
        "ix_assessments_active_freshness",
        "assessments",
        columns,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN on both databases: a batch table copy on SQLite would drop
    # the triggers of 0013.
    for column in _COLUMNS:
        op.add_column("assessments", column)
    _freshness_index(["pregnancy_id", "as_of", "knowledge", "worklist_rank"])
    op.create_index(
        "ix_assessments_active_flags",
        "assessments",
        ["cerclage_in_situ", "cerclage_removal", "ga_days"],
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )
    if op.get_bind().dialect.name == "postgresql":
        _order_index(
            [
                sa.text("worklist_rank ASC"),
                sa.text("urgent_since ASC NULLS LAST"),
                sa.text("next_scan_due ASC NULLS LAST"),
            ]
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _order_index(
            [
                sa.text("urgent DESC"),
                sa.text("overdue DESC"),
                sa.text("next_scan_due ASC NULLS LAST"),
            ]
        )
    op.drop_index("ix_assessments_active_flags", table_name="assessments")
    _freshness_index(["pregnancy_id", "as_of", "knowledge"])
    for column in reversed(_COLUMNS):
        op.execute(f"ALTER TABLE assessments DROP COLUMN {column.name}")
