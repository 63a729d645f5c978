"""Reading and writing single rows for the use cases of `app/`: patients, pregnancies and one
record at a time (the JSON API's create, read, update, list and delete).

SQL only, no clinical logic and no validation beyond what an id can look like: the use cases
check values, and reassess the pregnancy in the same transaction (`app.reassessing.reassess`).
Ids that cannot name a row (too long, not an id's characters, an integer out of the column's
range) find nothing without asking the database, so no input reaches it that it would refuse.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement, Select, and_, delete, func, inspect, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from cervixwatch.access.principal import Scope
from cervixwatch.store.accounts import in_scope
from cervixwatch.store.models import (
    Base,
    PatientIdentifierRow,
    PatientRow,
    PregnancyRow,
    PregnancyStatus,
    SourceIdentifierRow,
    SymptomReportRow,
    SymptomReviewRow,
)

Owner = Literal["patient", "pregnancy"]
Row = TypeVar("Row", bound=Base)

#: CervixWatch's own ids (uuid4 text); anything else names no patient or pregnancy.
_TEXT_ID = re.compile(r"^[0-9A-Za-z-]{1,36}$")
#: Record ids are INTEGER columns (32-bit on PostgreSQL).
_MAX_ROW_ID = 2**31 - 1


def plausible_id(value: str) -> bool:
    """Whether `value` could be the id of a patient or pregnancy."""
    return _TEXT_ID.match(value) is not None


def plausible_row_id(value: int) -> bool:
    return 1 <= value <= _MAX_ROW_ID


def like_pattern(term: str) -> str:
    """A LIKE pattern matching `term` anywhere, its own % and _ taken literally (escape \\)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def text_search(term: str, columns: Sequence[InstrumentedAttribute[Any]]) -> ColumnElement[bool]:
    """Every word of `term` appears, case-insensitively, in one of `columns`."""
    words = term.split()
    return and_(
        *(or_(*(c.ilike(like_pattern(word), escape="\\") for c in columns)) for word in words)
    )


# --- patients -----------------------------------------------------------------------------------

_ActivePregnancy = aliased(PregnancyRow)


def _patients_query() -> Select[PatientRow, str]:
    return select(PatientRow, _ActivePregnancy.id).outerjoin(
        _ActivePregnancy,
        and_(
            _ActivePregnancy.patient_id == PatientRow.id,
            _ActivePregnancy.status == PregnancyStatus.ACTIVE,
        ),
    )


def get_patient(session: Session, patient_id: str) -> PatientRow | None:
    if not plausible_id(patient_id):
        return None
    return session.get(PatientRow, patient_id)


def patient_with_active_pregnancy(
    session: Session, patient_id: str
) -> tuple[PatientRow, str | None] | None:
    """The woman and the id of her active pregnancy (None if she has none)."""
    if not plausible_id(patient_id):
        return None
    row = session.execute(_patients_query().where(PatientRow.id == patient_id)).one_or_none()
    return None if row is None else (row[0], row[1])


def patient_by_hospital_number(session: Session, hospital_number: str) -> PatientRow | None:
    # Most lookups of a bulk import find no one: asking for the id alone (a plain table query,
    # no ORM entity) costs a fraction of loading a row, which happens only when she exists.
    table = PatientRow.__table__
    query = select(table.c.id).where(table.c.hospital_number == hospital_number)
    found = session.execute(query).scalar_one_or_none()
    return session.get(PatientRow, found) if found is not None else None


def _patient_search(search: str | None) -> ColumnElement[bool] | None:
    if not search or not search.split():
        return None
    return text_search(
        search, [PatientRow.hospital_number, PatientRow.family_name, PatientRow.given_name]
    )


def find_patients(
    session: Session,
    search: str | None,
    *,
    limit: int,
    offset: int,
    scope: Scope | None = None,
) -> list[tuple[PatientRow, str | None]]:
    """Women whose name or hospital number holds every word of `search`, by name, among those
    `scope` may see (None: all); each with the id of her active pregnancy."""
    query = _patients_query()
    if (where := _patient_search(search)) is not None:
        query = query.where(where)
    if scope is not None:
        query = query.where(in_scope(PatientRow.id, scope))
    query = query.order_by(
        PatientRow.family_name.asc().nulls_last(),
        PatientRow.given_name.asc().nulls_last(),
        PatientRow.hospital_number,
        PatientRow.id,
    )
    return [(row[0], row[1]) for row in session.execute(query.limit(limit).offset(offset))]


def patients_with_identifier(
    session: Session, value: str, *, scope: Scope, limit: int
) -> list[tuple[PatientRow, str | None]]:
    """Women `scope` may see who carry an identifier of this value, of any system (an NHS
    number typed with spaces is compared without them); each with her active pregnancy."""
    values = sorted({value.strip(), "".join(value.split())})
    query = (
        _patients_query()
        .where(
            PatientRow.id.in_(
                select(PatientIdentifierRow.patient_id).where(
                    PatientIdentifierRow.value.in_(values)
                )
            ),
            in_scope(PatientRow.id, scope),
        )
        .order_by(PatientRow.id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in session.execute(query)]


def count_patients(session: Session, search: str | None, *, scope: Scope | None = None) -> int:
    query = select(func.count()).select_from(PatientRow)
    if (where := _patient_search(search)) is not None:
        query = query.where(where)
    if scope is not None:
        query = query.where(in_scope(PatientRow.id, scope))
    return int(session.scalar(query) or 0)


# --- pregnancies --------------------------------------------------------------------------------


def get_pregnancy(session: Session, pregnancy_id: str) -> PregnancyRow | None:
    if not plausible_id(pregnancy_id):
        return None
    return session.get(PregnancyRow, pregnancy_id)


def pregnancies_of(session: Session, patient_id: str) -> list[PregnancyRow]:
    """Her pregnancies, the earliest recorded first."""
    query = (
        select(PregnancyRow)
        .where(PregnancyRow.patient_id == patient_id)
        .order_by(PregnancyRow.created_at, PregnancyRow.id)
    )
    return list(session.scalars(query))


def active_pregnancy_id(
    session: Session, patient_id: str, *, other_than: str | None = None
) -> str | None:
    query = select(PregnancyRow.id).where(
        PregnancyRow.patient_id == patient_id, PregnancyRow.status == PregnancyStatus.ACTIVE
    )
    if other_than is not None:
        query = query.where(PregnancyRow.id != other_than)
    return session.scalar(query)


def pregnancy_of_review(session: Session, review_id: int) -> str | None:
    """The pregnancy of the symptom report that a review (by id) is of; None if there is no
    such review."""
    return session.scalar(
        select(SymptomReportRow.pregnancy_id)
        .join(SymptomReviewRow, SymptomReviewRow.symptom_report_id == SymptomReportRow.id)
        .where(SymptomReviewRow.id == review_id)
    )


def date_span(
    session: Session, table: type[Base], pregnancy_id: str, column: str
) -> tuple[dt.date | None, dt.date | None]:
    """The earliest and latest value of a date column among a pregnancy's records."""
    attribute = getattr(table, column)
    query = select(func.min(attribute), func.max(attribute)).where(
        table.pregnancy_id == pregnancy_id  # type: ignore[attr-defined]
    )
    earliest, latest = session.execute(query).one()
    return _as_date(earliest), _as_date(latest)


def _as_date(value: Any) -> dt.date | None:
    # MIN/MAX over a date column come back as text on SQLite; an instant gives its UTC day.
    if isinstance(value, dt.datetime):
        return value.date()
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# --- records ------------------------------------------------------------------------------------


def owner_column(table: type[Base], owner: Owner) -> InstrumentedAttribute[str]:
    column: InstrumentedAttribute[str] = getattr(table, f"{owner}_id")
    return column


def get_row(session: Session, table: type[Row], row_id: int) -> Row | None:
    if not plausible_row_id(row_id):
        return None
    return session.get(table, row_id)


def rows_of(
    session: Session, table: type[Row], owner: Owner, owner_id: str, order_by: Sequence[str]
) -> list[Row]:
    """The records of one owner, by `order_by` columns (nulls last) then as stored."""
    ordering = [getattr(table, c).asc().nulls_last() for c in order_by]
    query = (
        select(table).where(owner_column(table, owner) == owner_id).order_by(*ordering, table.id)  # type: ignore[attr-defined]
    )
    return list(session.scalars(query))


def add_row(session: Session, table: type[Row], values: Mapping[str, Any]) -> Row:
    row = table(**values)
    session.add(row)
    session.flush()
    return row


def update_row(session: Session, row: Base, values: Mapping[str, Any]) -> None:
    for column, value in values.items():
        setattr(row, column, value)
    session.flush()


def delete_row(session: Session, row: Base) -> None:
    """Delete a record (with the records held inside it: a symptom report's reviews) and the
    source identifiers that name them, so a later import of the same source record stores it
    afresh rather than pointing at nothing."""
    identity = inspect(row).identity
    assert identity is not None, "a stored row has its primary key"
    named = [(str(row.__tablename__), [str(identity[0])])]
    if isinstance(row, SymptomReportRow) and row.reviews:
        named.append((str(SymptomReviewRow.__tablename__), [str(r.id) for r in row.reviews]))
    for table_name, row_ids in named:
        session.execute(
            delete(SourceIdentifierRow).where(
                SourceIdentifierRow.table_name == table_name,
                SourceIdentifierRow.row_id.in_(row_ids),
            )
        )
    session.delete(row)
    session.flush()
    if isinstance(row, SymptomReviewRow):
        # Its report, if loaded, still lists it: read the report's reviews afresh.
        report = session.get(SymptomReportRow, row.symptom_report_id)
        if report is not None:
            session.expire(report, ["reviews"])


def conflicting_row(
    session: Session,
    table: type[Row],
    owner: Owner,
    owner_id: str,
    values: Mapping[str, Any],
    *,
    other_than: int | None = None,
) -> Row | None:
    """Another record of the owner with these column values (for once-per-woman records)."""
    query = select(table).where(
        owner_column(table, owner) == owner_id,
        *(getattr(table, column) == value for column, value in values.items()),
    )
    if other_than is not None:
        query = query.where(table.id != other_than)  # type: ignore[attr-defined]
    return session.scalars(query.limit(1)).first()
