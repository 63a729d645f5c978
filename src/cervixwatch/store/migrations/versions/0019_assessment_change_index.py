"""An index on when each assessment was stored, for the worklist's live update (issue 13,
part 1).

Every worker asks once a second whether any assessment changed (`store.worklist_events`):
the latest `computed_at` read off this index is one step, where without it each question
scanned every assessment.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_assessments_computed_at", "assessments", ["computed_at"])


def downgrade() -> None:
    op.drop_index("ix_assessments_computed_at", table_name="assessments")
