"""Separation of duties for admins (issue 12, F2).

- `users.one_time_code_hash` and `users.one_time_code_expires_at`: an admin never sets a
  password; creating an account or resetting its password gives a one-time code (stored as
  its SHA-256, valid until its expiry) with which the user sets her own.
- `audit_events.target_user_id`: the account an admin action changed (or a password set by
  a code), so that the audit names it.

Plain ADD COLUMNs (nullable), also on SQLite: no table is rebuilt, so the audit table's
append-only triggers stay as they are.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("one_time_code_hash", sa.String(64), nullable=True))
    op.add_column(
        "users",
        sa.Column("one_time_code_expires_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("audit_events", sa.Column("target_user_id", sa.String(36), nullable=True))
    op.create_index("ix_audit_events_target_user_id", "audit_events", ["target_user_id"])


def downgrade() -> None:
    # Plain DROP COLUMNs (SQLite 3.35 and later have them): a batch rebuild of the audit
    # table would drop its triggers.
    op.drop_index("ix_audit_events_target_user_id", table_name="audit_events")
    op.drop_column("audit_events", "target_user_id")
    op.drop_column("users", "one_time_code_expires_at")
    op.drop_column("users", "one_time_code_hash")
