"""Whether an assessment's pregnancy is active, on the assessment itself (issue 12, part 3).

The worklist lists active pregnancies only, but every request read every assessment, ended
pregnancies' included, to check that none is stale and to count the page's total: at 50,000
women and 5,000 active, two scans of 50,000 rows a request (docs/performance.md). An index
cannot reach across to `pregnancies.status`, so `assessments.pregnancy_active` repeats it,
and partial indexes over the active rows let those queries read only them.

The column is kept by triggers, not by the application, so that no write (a use case, a
restore, an operator's SQL) can leave it wrong: set when an assessment is inserted (from its
pregnancy's status) and when a pregnancy's status changes (on its assessment). The worklist
still joins `pregnancies.status` as the truth; the flag narrows what is read.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = sa.text("pregnancy_active")

# PostgreSQL: the inserted row takes its pregnancy's status before it is written; a status
# change is copied to the pregnancy's assessment after it.
_POSTGRESQL_UP = (
    """
    CREATE FUNCTION assessments_take_pregnancy_active() RETURNS trigger AS $$
    BEGIN
        NEW.pregnancy_active := EXISTS (
            SELECT 1 FROM pregnancies WHERE id = NEW.pregnancy_id AND status = 'active');
        RETURN NEW;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER assessments_pregnancy_active BEFORE INSERT OR UPDATE OF pregnancy_id
    ON assessments FOR EACH ROW EXECUTE FUNCTION assessments_take_pregnancy_active()
    """,
    """
    CREATE FUNCTION pregnancies_give_active() RETURNS trigger AS $$
    BEGIN
        UPDATE assessments SET pregnancy_active = (NEW.status = 'active')
        WHERE pregnancy_id = NEW.id;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER pregnancies_active_to_assessment AFTER UPDATE OF status ON pregnancies
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION pregnancies_give_active()
    """,
)
_POSTGRESQL_DOWN = (
    "DROP TRIGGER pregnancies_active_to_assessment ON pregnancies",
    "DROP FUNCTION pregnancies_give_active()",
    "DROP TRIGGER assessments_pregnancy_active ON assessments",
    "DROP FUNCTION assessments_take_pregnancy_active()",
)
# SQLite has no BEFORE trigger that can change the new row: the row is set right after.
_SQLITE_UP = (
    """
    CREATE TRIGGER assessments_pregnancy_active AFTER INSERT ON assessments FOR EACH ROW
    BEGIN
        UPDATE assessments SET pregnancy_active = EXISTS (
            SELECT 1 FROM pregnancies WHERE id = NEW.pregnancy_id AND status = 'active')
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER assessments_pregnancy_moved AFTER UPDATE OF pregnancy_id ON assessments
    FOR EACH ROW BEGIN
        UPDATE assessments SET pregnancy_active = EXISTS (
            SELECT 1 FROM pregnancies WHERE id = NEW.pregnancy_id AND status = 'active')
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER pregnancies_active_to_assessment AFTER UPDATE OF status ON pregnancies
    FOR EACH ROW WHEN OLD.status IS NOT NEW.status BEGIN
        UPDATE assessments SET pregnancy_active = (NEW.status = 'active')
        WHERE pregnancy_id = NEW.id;
    END
    """,
)
_SQLITE_DOWN = (
    "DROP TRIGGER pregnancies_active_to_assessment",
    "DROP TRIGGER assessments_pregnancy_moved",
    "DROP TRIGGER assessments_pregnancy_active",
)


def _statements(bind: sa.Connection, *, up: bool) -> tuple[str, ...]:
    if bind.dialect.name == "postgresql":
        return _POSTGRESQL_UP if up else _POSTGRESQL_DOWN
    return _SQLITE_UP if up else _SQLITE_DOWN


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(
            sa.Column("pregnancy_active", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE assessments SET pregnancy_active = EXISTS (SELECT 1 FROM pregnancies "
        "WHERE pregnancies.id = assessments.pregnancy_id AND pregnancies.status = 'active')"
    )
    for statement in _statements(bind, up=True):
        op.execute(statement)
    op.create_index(
        "ix_assessments_active_freshness",
        "assessments",
        ["pregnancy_id", "as_of", "knowledge"],
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )
    if bind.dialect.name == "postgresql":
        # The worklist's default order (0010) over the active rows only.
        op.drop_index("ix_assessments_worklist_order", table_name="assessments")
        op.create_index(
            "ix_assessments_worklist_order",
            "assessments",
            [
                sa.text("urgent DESC"),
                sa.text("overdue DESC"),
                sa.text("next_scan_due ASC NULLS LAST"),
            ],
            postgresql_where=_ACTIVE,
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.drop_index("ix_assessments_worklist_order", table_name="assessments")
        op.create_index(
            "ix_assessments_worklist_order",
            "assessments",
            [
                sa.text("urgent DESC"),
                sa.text("overdue DESC"),
                sa.text("next_scan_due ASC NULLS LAST"),
            ],
        )
    op.drop_index("ix_assessments_active_freshness", table_name="assessments")
    for statement in _statements(bind, up=False):
        op.execute(statement)
    with op.batch_alter_table("assessments") as batch:
        batch.drop_column("pregnancy_active")
