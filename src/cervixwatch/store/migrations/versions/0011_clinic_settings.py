"""The clinic's settings (issue 13, parts 4 and 7): one row of `clinic_settings` with the
clinic's name, telephone numbers (the clinic's and maternity triage's), the address line its
letters carry, how dates are written and which guideline profiles its pages show
(`app.clinic_settings`). No row is created: a setting not made reads as not made.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clinic_settings",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("clinic_name", sa.String(200), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("triage_phone", sa.String(40), nullable=True),
        sa.Column("letter_address", sa.String(300), nullable=True),
        sa.Column("date_format", sa.String(20), nullable=False),
        sa.Column("guidelines", sa.String(60), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.String(36), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_clinic_settings_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_settings")),
    )


def downgrade() -> None:
    op.drop_table("clinic_settings")
