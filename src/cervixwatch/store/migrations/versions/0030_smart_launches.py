"""SMART on FHIR as an app (issue 14, part 2): the launches under way.

A launch from an EHR (or a standalone launch against one) sends the browser to the EHR's
authorization server and comes back, minutes later, to `/smart/callback` with a code and the
`state`. What is needed then (the EHR, the PKCE verifier, the CervixWatch user who launched)
is kept here, keyed by the state's hash, rather than in a cookie: inside an EHR's frame a
browser may not send CervixWatch's cookies back, and any worker may receive the callback. A
row is used once, within ten minutes.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "smart_launches",
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("iss", sa.Text(), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("token_endpoint", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_smart_launches_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_smart_launches")),
    )
    op.create_index(op.f("ix_smart_launches_expires_at"), "smart_launches", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_smart_launches_expires_at"), table_name="smart_launches")
    op.drop_table("smart_launches")
