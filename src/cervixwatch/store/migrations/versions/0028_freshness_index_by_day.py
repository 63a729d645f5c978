"""The freshness index led by the day (issue 12, part 3: the worklist under four clients).

Every worklist request asks whether any active pregnancy's assessment is stale (made for
another day, by other guideline versions, or before the worklist's flags). With the index led
by the pregnancy id, that read every active row: 8 ms at 30,000 active on a vacuumed table,
27 ms on one autovacuum had not reached. Led by (as_of, knowledge), "is any of another day"
and "is any of today by other versions" are index probes that stop at the first row
(`store.assessments.stale_pregnancies`), whatever the number of women. The columns are the
same, so the counts of active rows still read it alone, and there is still one index to keep
per write.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = sa.text("pregnancy_active")


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
    _freshness_index(["as_of", "knowledge", "worklist_rank", "pregnancy_id"])


def downgrade() -> None:
    _freshness_index(["pregnancy_id", "as_of", "knowledge", "worklist_rank"])
