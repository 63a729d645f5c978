"""The audit chain sealed after the commit (`store.audit_chain`): appending an entry no longer
locks the chain's head.

- `audit_seals`: an entry's place in the chain (position, the previous entry's hash, its own),
  written by the sealer after the entry's transaction committed. Append-only, as
  `audit_events` is: a trigger refuses UPDATE, DELETE and (PostgreSQL) TRUNCATE.
- `audit_unsealed`: the entries appended and not sealed yet; the sealer takes them away.

The entries linked so far (migration 0007: hashes in their own row, chained in id order) get
their seals here, in id order, with the hashes they carry, so the chain goes on from where it
ended and `verify` reads one table. An entry without hashes (written around the chain) gets
none, and verification goes on reporting it.

Downgrade writes the hashes of the entries sealed since back into their own rows (the
append-only trigger set aside for it, as 0007 did) and drops the two tables. Entries that
were sealed out of id order (a transaction that committed after a later one) then no longer
link in id order, which the older verification reports.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEALS_APPEND_ONLY = "audit_seals is append-only: its rows cannot be changed or deleted"
EVENTS_APPEND_ONLY = "audit_events is append-only: its rows cannot be changed or deleted"


def upgrade() -> None:
    op.create_table(
        "audit_seals",
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_audit_seals")),
        sa.UniqueConstraint("event_id", name=op.f("uq_audit_seals_event_id")),
    )
    op.create_table(
        "audit_unsealed",
        sa.Column("event_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_audit_unsealed")),
    )
    # The chain so far, in id order: the rows 0007 and the appends since linked.
    op.execute(
        "INSERT INTO audit_seals (position, event_id, prev_hash, entry_hash) "
        "SELECT ROW_NUMBER() OVER (ORDER BY id), id, prev_hash, entry_hash FROM audit_events "
        "WHERE entry_hash IS NOT NULL AND prev_hash IS NOT NULL"
    )
    _make_seals_append_only()


def _make_seals_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_seals_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{SEALS_APPEND_ONLY}' USING ERRCODE = 'insufficient_privilege';
            END
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_seals_no_change BEFORE UPDATE OR DELETE ON audit_seals "
            "FOR EACH ROW EXECUTE FUNCTION audit_seals_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_seals_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_seals_no_{event.lower()} BEFORE {event} ON audit_seals "
                f"BEGIN SELECT RAISE(ABORT, '{SEALS_APPEND_ONLY}'); END"
            )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
    op.execute(
        "UPDATE audit_events SET "
        "prev_hash = (SELECT s.prev_hash FROM audit_seals s WHERE s.event_id = audit_events.id), "
        "entry_hash = (SELECT s.entry_hash FROM audit_seals s WHERE s.event_id = audit_events.id) "
        "WHERE entry_hash IS NULL "
        "AND EXISTS (SELECT 1 FROM audit_seals s WHERE s.event_id = audit_events.id)"
    )
    if postgresql:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change")
        op.execute("DROP TRIGGER audit_seals_no_truncate ON audit_seals")
        op.execute("DROP TRIGGER audit_seals_no_change ON audit_seals")
        op.execute("DROP FUNCTION audit_seals_append_only()")
    else:
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            f"BEGIN SELECT RAISE(ABORT, '{EVENTS_APPEND_ONLY}'); END"
        )
        op.execute("DROP TRIGGER audit_seals_no_update")
        op.execute("DROP TRIGGER audit_seals_no_delete")
    op.drop_table("audit_unsealed")
    op.drop_table("audit_seals")
