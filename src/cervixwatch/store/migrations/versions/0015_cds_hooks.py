"""CDS Hooks (issue 14, part 1): the JWT ids seen (`cds_jwt_ids`, kept until each JWT
expires, so a replay is refused by every worker), the cards answered to EHRs (`cds_cards`)
and the feedback on them (`cds_feedback`: accepted, or overridden with a reason). No foreign
keys: a card is about the EHR's patient, named by the EHR's own id.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "cds_jwt_ids",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_cds_jwt_ids")),
    )
    op.create_index(op.f("ix_cds_jwt_ids_expires_at"), "cds_jwt_ids", ["expires_at"])
    op.create_table(
        "cds_cards",
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("service_id", sa.String(40), nullable=False),
        sa.Column("hook_instance", sa.String(100), nullable=False),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("ehr_patient", sa.String(200), nullable=True),
        sa.Column("guideline", sa.String(40), nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("rules", sa.String(200), nullable=False),
        sa.Column("indicator", sa.String(10), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_cds_cards")),
    )
    op.create_index(op.f("ix_cds_cards_issued_at"), "cds_cards", ["issued_at"])
    op.create_table(
        "cds_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_uuid", sa.String(36), nullable=False),
        sa.Column("service_id", sa.String(40), nullable=False),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("accepted_suggestions", _json(), nullable=False),
        sa.Column("override_system", sa.String(500), nullable=True),
        sa.Column("override_code", sa.String(200), nullable=True),
        sa.Column("override_display", sa.String(500), nullable=True),
        sa.Column("user_comment", sa.String(2000), nullable=True),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('accepted', 'overridden')", name=op.f("ck_cds_feedback_outcome")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cds_feedback")),
    )
    op.create_index(op.f("ix_cds_feedback_card_uuid"), "cds_feedback", ["card_uuid"])
    op.create_index(op.f("ix_cds_feedback_received_at"), "cds_feedback", ["received_at"])


def downgrade() -> None:
    op.drop_table("cds_feedback")
    op.drop_table("cds_cards")
    op.drop_table("cds_jwt_ids")
