"""Helpers for looking at and clearing every table of the store in tests."""

from __future__ import annotations

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.store.models import Base

#: Tables of accounts and the audit log: kept by `delete_everything` (users and their tokens
#: outlive a test's data; the audit log cannot be emptied, nor its chain; the access
#: generation is one row that only grows) and not counted by `row_counts` (a request adds an
#: audit entry however it ends; a sign-in touches its token).
ACCESS_TABLES = frozenset(
    {
        "users",
        "care_teams",
        "team_members",
        "sign_in_sessions",
        "api_tokens",
        "audit_events",
        "audit_seals",
        "audit_unsealed",
        "audit_chain_head",
        "access_generation",
    }
)

#: The versions kept of served FHIR resources (`app.versions`): a write that changes nothing
#: may still keep what it found, so they are not counted by `row_counts` either.
VERSION_TABLES = frozenset({"resource_versions", "patient_writes"})

#: The sign-in back-off's counters (`store.failure_counters`): wrong passwords are no data,
#: so not counted by `row_counts` either (`delete_everything` forgets them).
COUNTER_TABLES = frozenset({"failure_counters"})

#: Where care teams' notifications go (`store.notifications`): the clinic's settings, no
#: woman's data, so not counted by `row_counts` (`delete_everything` empties them).
NOTIFY_SETTINGS_TABLES = frozenset({"notify_contacts", "notify_team_settings"})


#: The clinic's settings and the CDS Hooks service's own records (the JWT ids it has seen, the
#: cards it answered about an EHR's patient and their feedback, kept as the service's audit):
#: no woman's rows of this store, so not counted by `row_counts` (`delete_everything` empties
#: them).
SERVICE_TABLES = frozenset(
    {
        "clinic_settings",
        "cds_jwt_ids",
        "cds_cards",
        "cds_feedback",
        # The SMART apps registered and the codes given to them (issue 14, part 2).
        "smart_clients",
        "smart_codes",
        "smart_launches",
        # How far each import of a Bulk Data export has come (issue 15).
        "bulk_imports",
    }
)


def delete_everything(engine: Engine) -> None:
    """Empty every table of clinical data (children first), keeping the schema."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in ACCESS_TABLES:
                connection.execute(delete(table))


def row_counts(factory: sessionmaker[Session]) -> dict[str, int]:
    """How many rows each table of clinical data holds (care-team links included)."""
    with factory() as session:
        return {
            t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
            if t.name
            not in ACCESS_TABLES
            | VERSION_TABLES
            | COUNTER_TABLES
            | NOTIFY_SETTINGS_TABLES
            | SERVICE_TABLES
        }
