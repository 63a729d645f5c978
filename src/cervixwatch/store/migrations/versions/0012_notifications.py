"""Notifications of urgent symptom reports (issue 13, part 1; `app.notifications`).

- `notify_contacts`: where each care team is told (an e-mail address, or a webhook URL and
  the secret its requests are signed with), and whether a contact gets every notification or
  only escalations;
- `notify_team_settings`: a care team's escalation setting (minutes without a review);
- `notifications`: the outbox, one row per report and kind (a red-flag report, its
  escalation), written in the transaction that stored the report;
- `notification_deliveries`: one per notification, channel and recipient, claimed by one
  dispatcher at a time; `notification_attempts`: each attempt and how it ended.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNELS = ("email", "webhook")
RECEIVES = ("all", "escalations")
KINDS = ("red-flag-report", "escalation")
STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


def _one_of(table: str, column: str, values: Sequence[str]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=f"ck_{table}_{column}")


def _instant(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "notify_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("secret", sa.String(200), nullable=True),
        sa.Column("receives", sa.String(40), nullable=False),
        _instant("created_at", nullable=False),
        _one_of("notify_contacts", "channel", CHANNELS),
        _one_of("notify_contacts", "receives", RECEIVES),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["care_teams.id"],
            name="fk_notify_contacts_team_id_care_teams",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notify_contacts"),
        sa.UniqueConstraint(
            "team_id", "channel", "address", name="uq_notify_contacts_team_id_channel_address"
        ),
    )
    op.create_index("ix_notify_contacts_team_id", "notify_contacts", ["team_id"])

    op.create_table(
        "notify_team_settings",
        sa.Column("team_id", sa.String(36), nullable=False),
        sa.Column("escalate_after_minutes", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "escalate_after_minutes > 0", name="ck_notify_team_settings_positive_minutes"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["care_teams.id"],
            name="fk_notify_team_settings_team_id_care_teams",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", name="pk_notify_team_settings"),
    )

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("symptom_report_id", sa.Integer(), nullable=False),
        sa.Column("pregnancy_id", sa.String(36), nullable=False),
        sa.Column("patient_id", sa.String(36), nullable=False),
        _instant("created_at", nullable=False),
        _one_of("notifications", "kind", KINDS),
        sa.ForeignKeyConstraint(
            ["symptom_report_id"],
            ["symptom_reports.id"],
            name="fk_notifications_symptom_report_id_symptom_reports",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pregnancy_id"],
            ["pregnancies.id"],
            name="fk_notifications_pregnancy_id_pregnancies",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint(
            "symptom_report_id", "kind", name="uq_notifications_symptom_report_id_kind"
        ),
    )
    op.create_index("ix_notifications_pregnancy_id", "notifications", ["pregnancy_id"])
    op.create_index("ix_notifications_created_at", "notifications", ["created_at"])

    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("recipient", sa.String(500), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _instant("next_attempt_at", nullable=False),
        _instant("claimed_until", nullable=True),
        _instant("sent_at", nullable=True),
        _one_of("notification_deliveries", "channel", CHANNELS),
        _one_of("notification_deliveries", "status", STATUSES),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name="fk_notification_deliveries_notification_id_notifications",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["notify_contacts.id"],
            name="fk_notification_deliveries_contact_id_notify_contacts",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notification_deliveries"),
        sa.UniqueConstraint(
            "notification_id",
            "channel",
            "recipient",
            name="uq_notification_deliveries_notification_id_channel_recipient",
        ),
    )
    op.create_index(
        "ix_notification_deliveries_notification_id",
        "notification_deliveries",
        ["notification_id"],
    )
    op.create_index(
        "ix_notification_deliveries_contact_id", "notification_deliveries", ["contact_id"]
    )
    op.create_index(
        "ix_notification_deliveries_status_next_attempt_at",
        "notification_deliveries",
        ["status", "next_attempt_at"],
    )

    op.create_table(
        "notification_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        _instant("attempted_at", nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["notification_deliveries.id"],
            name="fk_notification_attempts_delivery_id_notification_deliveries",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notification_attempts"),
    )
    op.create_index(
        "ix_notification_attempts_delivery_id", "notification_attempts", ["delivery_id"]
    )


def downgrade() -> None:
    op.drop_table("notification_attempts")
    op.drop_table("notification_deliveries")
    op.drop_table("notifications")
    op.drop_table("notify_team_settings")
    op.drop_table("notify_contacts")
