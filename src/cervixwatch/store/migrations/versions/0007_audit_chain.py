"""The audit log as a hash chain (issue 12, part 4; `store.audit_chain`).

- `audit_events.prev_hash` and `audit_events.entry_hash`: the hash of the entry before, and
  the entry's own (SHA-256 of the canonical JSON of all its stored columns but id and
  `entry_hash`, null ones left out).
- `audit_chain_head`: one row, the end of the chain (last entry, its hash, how many).

The entries already in the log are linked here, in id order from the genesis hash (64 zeros):
the chain starts at the first entry ever written, so `cervixwatch audit verify` covers the
whole log. The append-only trigger that refuses UPDATE is set aside for the linking and put
back in the same transaction. The hash is computed here by a frozen copy of the function in
`store.audit_chain` (a migration must not change with the app); a test checks they agree.

Plain ADD COLUMNs and DROP COLUMNs, also on SQLite: the audit table is never rebuilt, which
would drop its triggers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64
_BATCH = 2000
APPEND_ONLY = "audit_events is append-only: its rows cannot be changed or deleted"

#: The audit table as of this revision, every column the hash covers.
_EVENTS = sa.table(
    "audit_events",
    sa.column("id", sa.Integer()),
    sa.column("recorded_at", sa.DateTime(timezone=True)),
    sa.column("actor_id", sa.String()),
    sa.column("actor_role", sa.String()),
    sa.column("via", sa.String()),
    sa.column("action", sa.String()),
    sa.column("method", sa.String()),
    sa.column("route", sa.String()),
    sa.column("path", sa.String()),
    sa.column("patient_id", sa.String()),
    sa.column("client_address", sa.String()),
    sa.column("outcome", sa.String()),
    sa.column("status", sa.Integer()),
    sa.column("request_id", sa.String()),
    sa.column("target_user_id", sa.String()),
    sa.column("prev_hash", sa.String()),
    sa.column("entry_hash", sa.String()),
)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # SQLite keeps naive UTC
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return value


def _entry_hash(fields: dict[str, Any]) -> str:
    data = {name: _plain(value) for name, value in fields.items() if value is not None}
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("audit_events", sa.Column("entry_hash", sa.String(64), nullable=True))
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=True),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    last_id, last_hash, count = _link_existing_entries()
    op.execute(
        sa.table(
            "audit_chain_head",
            sa.column("id"),
            sa.column("last_event_id"),
            sa.column("last_hash"),
            sa.column("entries"),
        )
        .insert()
        .values(id=1, last_event_id=last_id, last_hash=last_hash, entries=count)
    )


def _link_existing_entries() -> tuple[int | None, str, int]:
    connection = op.get_bind()
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
    hashed = [c for c in _EVENTS.columns if c.name not in ("id", "entry_hash")]
    link = (
        sa.update(_EVENTS)
        .where(_EVENTS.c.id == sa.bindparam("event_id"))
        .values(prev_hash=sa.bindparam("prev"), entry_hash=sa.bindparam("digest"))
    )
    last_id: int | None = None
    last_hash = GENESIS_HASH
    count = 0
    while True:
        query = sa.select(_EVENTS.c.id, *[c for c in hashed if c.name != "prev_hash"])
        if last_id is not None:
            query = query.where(_EVENTS.c.id > last_id)
        rows = connection.execute(query.order_by(_EVENTS.c.id).limit(_BATCH)).all()
        if not rows:
            break
        links = []
        for row in rows:
            fields = {**row._asdict(), "prev_hash": last_hash}
            del fields["id"]
            digest = _entry_hash(fields)
            links.append({"event_id": row.id, "prev": last_hash, "digest": digest})
            last_id, last_hash = row.id, digest
        count += len(rows)
        connection.execute(link, links)
    if postgresql:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change")
    else:
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )
    return last_id, last_hash, count


def downgrade() -> None:
    op.drop_table("audit_chain_head")
    op.drop_column("audit_events", "entry_hash")
    op.drop_column("audit_events", "prev_hash")
