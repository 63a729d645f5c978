"""A role for quality leads (issue 15, part 3): they read the population audit of their
network (counts only, per unit, quarter and tier), and neither women's records nor the access
audit log.

The role is a value of `users.role`, kept by its CHECK constraint: the constraint is made
again with the new value (SQLite: by batch mode, which copies the table).

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ck_users_role"
_BEFORE = ("clinician", "patient", "admin", "auditor")
_AFTER = (*_BEFORE, "quality-lead")


def _roles(values: Sequence[str]) -> str:
    return "role IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f(_NAME), type_="check")
        batch.create_check_constraint(op.f(_NAME), _roles(_AFTER))


def downgrade() -> None:
    # A quality lead's account has no place in the older schema: removed with its tokens.
    op.execute("DELETE FROM users WHERE role = 'quality-lead'")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f(_NAME), type_="check")
        batch.create_check_constraint(op.f(_NAME), _roles(_BEFORE))
