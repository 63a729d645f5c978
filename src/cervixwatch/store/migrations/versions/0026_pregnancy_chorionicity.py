"""A twin pregnancy's chorionicity (issue 13, part 2: registering a referral).

`pregnancies.chorionicity`: `dichorionic-diamniotic` or `monochorionic` (the two with a
verified SNOMED CT code, standards.md), null when not recorded. Written as a plain ADD COLUMN
with its own CHECK, so SQLite does not rebuild the table (which would drop the triggers of
0013 on it).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHORIONICITIES = ("dichorionic-diamniotic", "monochorionic")


def upgrade() -> None:
    listed = ", ".join(f"'{v}'" for v in CHORIONICITIES)
    op.execute(
        "ALTER TABLE pregnancies ADD COLUMN chorionicity VARCHAR(40) "
        f"CONSTRAINT ck_pregnancies_chorionicity CHECK (chorionicity IN ({listed}))"
    )


def downgrade() -> None:
    # SQLite drops a column in place when no other part of the schema names it (3.35+); its
    # own CHECK goes with it, as on PostgreSQL.
    op.execute("ALTER TABLE pregnancies DROP COLUMN chorionicity")
