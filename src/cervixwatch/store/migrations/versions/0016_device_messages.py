"""Reports from ultrasound machines and their reporting systems (issue 14, parts 3-4).

`device_messages`: one row per DICOM SR or HL7 v2 result received, known by its channel and
its own id (unique: a message sent again is stored once): who sent it, the device and
operator, the Patient ID as sent and the identifier system it was read under, a summary of
its values, what became of it (stored, waiting for review, matched, discarded) and why, the
message as received (read again when a clinician matches it to a woman), and who resolved it
and when. The woman it was stored for is kept (set null should she be deleted).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _one_of(column: str, values: Sequence[str]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=f"ck_device_messages_{column}")


def upgrade() -> None:
    op.create_table(
        "device_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sender", sa.String(255), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("patient_value", sa.String(255), nullable=False),
        sa.Column("identifier_system", sa.String(255), nullable=True),
        sa.Column("summary", sa.String(1000), nullable=False),
        sa.Column("operator", sa.String(200), nullable=True),
        sa.Column("device", sa.String(200), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("patient_id", sa.String(36), nullable=True),
        sa.Column("resolved_by", sa.String(36), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        _one_of("channel", ["form", "fhir", "dicom-sr", "hl7v2"]),
        _one_of("status", ["stored", "review", "matched", "discarded"]),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_device_messages_patient_id_patients",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_device_messages"),
        sa.UniqueConstraint("channel", "message_id", name="uq_device_messages_channel_message_id"),
    )
    op.create_index(
        "ix_device_messages_status_received_at", "device_messages", ["status", "received_at"]
    )
    op.create_index("ix_device_messages_patient_id", "device_messages", ["patient_id"])


def downgrade() -> None:
    op.drop_table("device_messages")
