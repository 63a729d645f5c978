"""What the database holds after the faults, checked against what the clients were told.

For each woman sent: her rows in every table that belongs to a woman (directly, through her
pregnancy, or through a row of hers) are counted, and must be all of what a complete import
of her template stores, or none of it:
- answered 2xx: wholly present (else lost, or half-written);
- answered with a failure: wholly absent;
- no answer (the worker died, the connection dropped): absent, or wholly present if the
  commit happened and only the answer was lost; never part.
And the audit log: one entry per request id that was answered, naming her for a 2xx; one
entry naming each woman stored; no request id twice; the hash chain whole."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, Select, Table, func, select

from cervixwatch.store.audit_chain import verify_engine
from cervixwatch.store.models import Base
from tests.faults.loop import Attempt

#: Tables not counted as a woman's rows: the audit log is checked on its own, and accounts
#: are not imported.
_NOT_HERS = frozenset({"audit_events", "users", "patients"})

Signature = dict[str, int]


def _owner_counts() -> list[tuple[str, Select[str, int]]]:
    """(table, SELECT owner patient id, row count GROUP BY owner) for every table whose rows
    belong to one woman."""
    tables = Base.metadata.tables
    patients, pregnancies = tables["patients"], tables["pregnancies"]
    found: list[tuple[str, Select[str, int]]] = [
        ("patients", select(patients.c.id, func.count()).group_by(patients.c.id))
    ]
    for table in Base.metadata.sorted_tables:
        if table.name in _NOT_HERS:
            continue
        query = _owner_count(table, pregnancies)
        if query is not None:
            found.append((table.name, query))
    return found


def _owner_count(table: Table, pregnancies: Table) -> Select[str, int] | None:
    if "patient_id" in table.c:
        owner = table.c.patient_id
        return select(owner, func.count()).group_by(owner)
    if "pregnancy_id" in table.c:
        owner = pregnancies.c.patient_id
        joined = table.join(pregnancies, table.c.pregnancy_id == pregnancies.c.id)
        return select(owner, func.count()).select_from(joined).group_by(owner)
    for key in table.foreign_keys:
        parent = key.column.table
        through = table.join(parent, key.parent == key.column)
        if "patient_id" in parent.c:
            owner = parent.c.patient_id
            return select(owner, func.count()).select_from(through).group_by(owner)
        if "pregnancy_id" in parent.c:
            owner = pregnancies.c.patient_id
            joined = through.join(pregnancies, parent.c.pregnancy_id == pregnancies.c.id)
            return select(owner, func.count()).select_from(joined).group_by(owner)
    return None


@dataclass(frozen=True, slots=True)
class AuditRow:
    request_id: str
    patient_id: str | None
    method: str
    route: str
    outcome: str
    status: int


@dataclass
class Stored:
    """The database as it is: who holds which hospital number, each woman's rows by table,
    the audit log, whether its chain verifies."""

    owners: dict[str, set[str]]
    rows: dict[str, Signature]
    audit: list[AuditRow]
    chain_problem: str | None

    @classmethod
    def read(cls, engine: Engine, prefix: str) -> Stored:
        tables = Base.metadata.tables
        identifiers, patients = tables["patient_identifiers"], tables["patients"]
        audit = tables["audit_events"]
        owners: dict[str, set[str]] = {}
        rows: dict[str, Signature] = {}
        with engine.connect() as connection:
            for number, pid in connection.execute(
                select(identifiers.c.value, identifiers.c.patient_id).where(
                    identifiers.c.value.startswith(prefix)
                )
            ):
                owners.setdefault(number, set()).add(pid)
            for number, pid in connection.execute(
                select(patients.c.hospital_number, patients.c.id).where(
                    patients.c.hospital_number.startswith(prefix)
                )
            ):
                owners.setdefault(number, set()).add(pid)
            for name, query in _owner_counts():
                for pid, count in connection.execute(query):
                    rows.setdefault(pid, {})[name] = count
            entries = [
                AuditRow(*row)
                for row in connection.execute(
                    select(
                        audit.c.request_id,
                        audit.c.patient_id,
                        audit.c.method,
                        audit.c.route,
                        audit.c.outcome,
                        audit.c.status,
                    )
                )
            ]
        verified = verify_engine(engine)
        problem = None if verified.ok else str(verified.broken)
        return cls(owners, rows, entries, problem)

    def of(self, hospital_number: str) -> tuple[set[str], Signature]:
        """The patients holding her hospital number, and all their rows."""
        pids = self.owners.get(hospital_number, set())
        signature: Signature = {}
        for pid in pids:
            for table, count in self.rows.get(pid, {}).items():
                signature[table] = signature.get(table, 0) + count
        return pids, signature


@dataclass
class Tally:
    """What became of the imports sent in one stretch of the run (a fault kind's trials)."""

    sent: int = 0
    succeeded: int = 0
    #: Answered with a failure (e.g. 503 while the database connections were cut).
    failed: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    unanswered: int = 0
    #: Of those unanswered: stored whole (the commit happened, the answer was lost).
    stored_unanswered: int = 0
    half_written: int = 0
    #: Answered 2xx but not stored.
    lost: int = 0
    rows_lost: int = 0
    #: Answered with a failure but stored.
    stored_though_failed: int = 0
    audit_missing: int = 0
    audit_extra: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in (
            "sent",
            "succeeded",
            "failed",
            "unanswered",
            "stored_unanswered",
            "half_written",
            "lost",
            "rows_lost",
            "stored_though_failed",
            "audit_missing",
            "audit_extra",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.statuses.update(other.statuses)
        self.problems.extend(other.problems)


def expected_signatures(stored: Stored, attempts: Iterable[Attempt]) -> dict[int, Signature]:
    """Each template's complete import, as the first of its copies answered 2xx stored it."""
    expected: dict[int, Signature] = {}
    for attempt in attempts:
        if attempt.succeeded and attempt.template not in expected:
            pids, signature = stored.of(attempt.hospital_number)
            what = f"the reference import of template {attempt.template} stored {signature}"
            assert len(pids) == 1, what
            assert signature.get("pregnancies", 0) >= 1, what
            expected[attempt.template] = signature
    return expected


def check(stored: Stored, attempts: Sequence[Attempt], expected: dict[int, Signature]) -> Tally:
    """The imports `attempts` against the database and its audit log."""
    by_request = Counter(entry.request_id for entry in stored.audit)
    entries = {entry.request_id: entry for entry in stored.audit}
    imports_naming = Counter(
        entry.patient_id
        for entry in stored.audit
        if entry.method == "POST" and entry.route == "/fhir" and entry.patient_id
    )
    tally = Tally()
    for attempt in attempts:
        tally.sent += 1
        whole = expected[attempt.template]
        pids, signature = stored.of(attempt.hospital_number)
        state = (
            "absent"
            if not pids and not signature
            else ("whole" if len(pids) == 1 and signature == whole else "part")
        )
        missing = sum(max(0, n - signature.get(t, 0)) for t, n in whole.items())
        who = f"import {attempt.number} (template {attempt.template})"
        if attempt.status is None:
            tally.unanswered += 1
            tally.stored_unanswered += state == "whole"
        elif attempt.succeeded:
            tally.succeeded += 1
            if state == "absent":
                tally.lost += 1
                tally.problems.append(f"{who}: answered {attempt.status}, nothing stored")
            if state != "whole":
                tally.rows_lost += missing
        else:
            tally.failed += 1
            tally.statuses[attempt.status] += 1
            if state == "whole":
                tally.stored_though_failed += 1
                tally.problems.append(f"{who}: answered {attempt.status}, yet stored")
        if state == "part":
            tally.half_written += 1
            tally.problems.append(f"{who}: half-written: {signature} of {whole}")
        # The audit log: one entry per request answered, one naming each woman stored.
        if attempt.status is not None:
            count = by_request[attempt.request_id]
            if count == 0:
                tally.audit_missing += 1
                tally.problems.append(
                    f"{who}: answered {attempt.status} (request {attempt.request_id}), "
                    "no audit entry"
                )
            elif attempt.succeeded:
                entry = entries[attempt.request_id]
                if entry.patient_id not in pids or entry.outcome != "success":
                    tally.problems.append(f"{who}: its audit entry is {entry}")
        for pid in pids:
            named = imports_naming[pid]
            if named != 1:
                tally.audit_missing += named == 0
                tally.audit_extra += max(0, named - 1)
                tally.problems.append(f"{who}: stored, named by {named} import audit entries")
    return tally


def audit_problems(stored: Stored) -> list[str]:
    """Request ids with more than one audit entry, and imports recorded as a success that
    stored nothing."""
    counted = Counter(entry.request_id for entry in stored.audit)
    found = [f"request {rid}: {n} audit entries" for rid, n in counted.items() if n > 1]
    found.extend(
        f"request {entry.request_id}: an import recorded as a success, but its woman is not stored"
        for entry in stored.audit
        if entry.method == "POST"
        and entry.route == "/fhir"
        and entry.outcome == "success"
        and entry.patient_id not in stored.rows
    )
    return found
