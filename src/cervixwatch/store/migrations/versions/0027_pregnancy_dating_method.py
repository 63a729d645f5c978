"""How a pregnancy's EDD was worked out (issue 13, part 2: "EDD with dating method").

`pregnancies.dating_method`: `last-menstrual-period`, `ultrasound` or `ovulation-date` (each
with its LOINC code for the EDD it gives, standards.md: 11779-6, 11781-2, 11780-4), null when
not recorded. A plain ADD COLUMN with its own CHECK, as 0026, so SQLite keeps the table and its
triggers.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATING_METHODS = ("last-menstrual-period", "ultrasound", "ovulation-date")


def upgrade() -> None:
    listed = ", ".join(f"'{v}'" for v in DATING_METHODS)
    op.execute(
        "ALTER TABLE pregnancies ADD COLUMN dating_method VARCHAR(40) "
        f"CONSTRAINT ck_pregnancies_dating_method CHECK (dating_method IN ({listed}))"
    )


def downgrade() -> None:
    # SQLite drops a column in place when no other part of the schema names it (3.35+); its
    # own CHECK goes with it, as on PostgreSQL.
    op.execute("ALTER TABLE pregnancies DROP COLUMN dating_method")
