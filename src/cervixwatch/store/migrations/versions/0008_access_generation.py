"""Token revocation seen by every worker at once (issue 12, part 5).

`access_generation`: one row counting the changes that took access away (a token revoked, an
account disabled or reset, a care team changed). Each worker reads it on every request made
with a remembered token and forgets its remembered tokens when it has moved
(`store.access_generation`, `access.token_cache`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "access_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_access_generation_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_generation")),
    )
    op.bulk_insert(table, [{"id": 1, "generation": 0}])


def downgrade() -> None:
    op.drop_table("access_generation")
