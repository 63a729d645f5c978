"""The audit log: appending an entry. Entries are never changed or deleted (the database
refuses to: migration 0002), and each is sealed onto a hash chain after the one before it
(`store.audit_chain`, migrations 0007 and 0025); reading them for auditors is in
`store.audit_queries`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cervixwatch.store.audit_chain import append_entry
from cervixwatch.store.database import write_connection
from cervixwatch.store.models import AuditOutcome


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One access, as the web layer saw it. `route` is the route's path template
    (`/api/pregnancies/{pregnancy_id}`) and `path` the path requested: ids, never query
    values (a search may hold a name)."""

    action: str
    method: str
    route: str
    path: str
    status: int
    request_id: str
    actor_id: str | None = None
    actor_role: str | None = None
    via: str | None = None
    patient_id: str | None = None
    client_address: str | None = None
    #: How it ended, when the status does not say (a stream that failed after its 200, a
    #: page that answered a refusal with a redirect to sign in); else from the status.
    outcome: AuditOutcome | None = None
    #: The account an admin action changed (or whose password a one-time code set).
    target_user_id: str | None = None


def outcome_of(status: int, patient_id: str | None = None) -> AuditOutcome:
    """`patient_id`: the woman the request was found to be about. A 404 about a known woman
    is a refusal (the caller may not see her: the answer hides that she exists), and so is a
    429 (too many requests: refused by the rate limit)."""
    if status < 400:
        return AuditOutcome.SUCCESS
    if status in (401, 403, 429) or (status == 404 and patient_id is not None):
        return AuditOutcome.DENIED
    if status < 500:
        return AuditOutcome.INVALID
    return AuditOutcome.FAILED


def _columns(entry: AuditEntry) -> dict[str, object]:
    return {
        # Set here, not by the column's default: the entry's hash covers it.
        "recorded_at": dt.datetime.now(dt.UTC),
        "actor_id": entry.actor_id,
        "actor_role": entry.actor_role,
        "via": entry.via,
        "action": entry.action,
        "method": entry.method,
        "route": entry.route[:200],
        "path": entry.path[:500],
        "patient_id": entry.patient_id,
        "client_address": (entry.client_address or None) and entry.client_address[:64],
        "outcome": entry.outcome or outcome_of(entry.status, entry.patient_id),
        "status": entry.status,
        "request_id": entry.request_id,
        "target_user_id": entry.target_user_id,
    }


def append(session: Session, entry: AuditEntry) -> None:
    """Append `entry` in the session's transaction: a write and its entry stand or fall
    together. On SQLite it seals the entry onto the chain at once, which holds the
    database's write lock anyway: append last, just before the commit."""
    append_entry(session.connection(), _columns(entry))


def record(engine: Engine, entry: AuditEntry) -> None:
    """Append `entry` in a transaction of its own: one INSERT statement on PostgreSQL, on
    every request that touches a woman's data, so no ORM session around it."""
    with write_connection(engine) as connection:
        append_entry(connection, _columns(entry))
