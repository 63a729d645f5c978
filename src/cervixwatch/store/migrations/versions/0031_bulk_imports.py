"""Bulk Data imports that can resume (issue 15, part 1: `cervixwatch import`).

An import walks an export's women in the order of their ids in the source and stores each in
her own transaction. `bulk_imports` keeps, per source, the last woman stored, so an
interrupted import starts again after her (the few stored after the last note are stored
again, which changes nothing: an import is idempotent).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bulk_imports",
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("done_through", sa.String(200), nullable=False),
        sa.Column("women", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_bulk_imports")),
    )


def downgrade() -> None:
    op.drop_table("bulk_imports")
