"""SQLAlchemy models: the tables that hold patients, their pregnancies and records, and the
current assessment of each pregnancy.

Each table of records mirrors one part of `clinical.records.PregnancyRecords`; `store.mapping`
turns rows into records and back. Enumerations are stored as the domain's string values with a
CHECK constraint. A woman's own data is deleted with her (ON DELETE CASCADE). Every record row
says where it came from (`source`) and, when the source gave one, its id there (`source_ref`:
a FHIR resource id, a DICOM SOP Instance UID, an HL7 v2 message control id).
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    select,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column, relationship
from sqlalchemy.types import TypeEngine

from cervixwatch.access.principal import Role as Role  # re-exported: the column type lives here
from cervixwatch.clinical.records import (
    CerclageIndication,
    CerclageRoute,
    Chorionicity,
    Complication,
    DatingMethod,
    DeclinableCode,
    ExcisionKind,
    LengthComparator,
    LengthMethod,
    MaternalCondition,
    Medication,
    Onset,
    PriorOutcome,
    ReviewOutcome,
)
from cervixwatch.store.types import Bytes, JSONDocument, UTCDateTime, value_enum

#: Deterministic constraint names, so migrations can name what they alter or drop.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class RecordSource(StrEnum):
    """Where a record entered CervixWatch."""

    FORM = "form"
    FHIR = "fhir"
    DICOM_SR = "dicom-sr"
    HL7V2 = "hl7v2"


class PregnancyStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class MedicationStatus(StrEnum):
    """Whether an order goes on. An order that has ended is still part of the records `assess`
    reads when the day it stopped is known (`stopped_on`): the assessment of an earlier day
    sees it as it was then."""

    ACTIVE = "active"
    STOPPED = "stopped"
    COMPLETED = "completed"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, TypeEngine[Any]]] = {
        dt.datetime: UTCDateTime(),
        dt.date: Date(),
    }


class Gender(StrEnum):
    """FHIR administrative gender (http://hl7.org/fhir/administrative-gender)."""

    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


class IdentifierUse(StrEnum):
    """FHIR identifier use (http://hl7.org/fhir/identifier-use)."""

    USUAL = "usual"
    OFFICIAL = "official"
    TEMP = "temp"
    SECONDARY = "secondary"
    OLD = "old"


class PatientRow(Base):
    """A woman under care. `id` is CervixWatch's own id.

    Who she is lies in her identifiers (`PatientIdentifierRow`, unique per system).
    `hospital_number` is the one shown in the pages and searched by the worklist: the value of
    her identifier under the installation's hospital-number system, else of her identifier
    typed MR, else None; `store.identity` keeps it in step with her identifiers. `names` are
    her FHIR HumanNames as sent, each with its use (empty: registered through a form or before
    migration 0004, her name is `family_name` and `given_name` alone); `family_name` and
    `given_name` repeat her main name (official, else usual, else the first not old) for
    searching and sorting.
    """

    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    hospital_number: Mapped[str | None] = mapped_column(String(255), index=True)
    family_name: Mapped[str | None] = mapped_column(String(200))
    given_name: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[dt.date | None]
    gender: Mapped[Gender | None] = mapped_column(value_enum(Gender, "gender"))
    names: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=_utcnow, onupdate=_utcnow)


class PregnancyRow(Base):
    """One pregnancy; a woman has at most one `active` pregnancy at a time.

    `edd` is the estimated due date (dating); `fetuses` None when no count was recorded.
    `notes` are the notes the records carried (e.g. what an import ignored).
    """

    __tablename__ = "pregnancies"
    __table_args__ = (
        CheckConstraint("fetuses >= 1", name="fetuses_positive"),
        Index(
            "uq_pregnancies_one_active",
            "patient_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    edd: Mapped[dt.date | None]
    fetuses: Mapped[int | None]
    #: How `edd` was worked out (migration 0027); None when not recorded.
    dating_method: Mapped[DatingMethod | None] = mapped_column(
        value_enum(DatingMethod, "dating_method")
    )
    #: A twin pregnancy's chorionicity (migration 0026); None when not recorded.
    chorionicity: Mapped[Chorionicity | None] = mapped_column(
        value_enum(Chorionicity, "chorionicity")
    )
    status: Mapped[PregnancyStatus] = mapped_column(
        value_enum(PregnancyStatus, "status"), default=PregnancyStatus.ACTIVE, index=True
    )
    ended_on: Mapped[dt.date | None]
    notes: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=_utcnow, onupdate=_utcnow)


class _Provenance:
    """Where a record came from: the input channel and the record's id in that source."""

    source: Mapped[RecordSource] = mapped_column(value_enum(RecordSource, "source"))
    source_ref: Mapped[str | None] = mapped_column(String(255))


def _patient_fk() -> Mapped[str]:
    return mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)


def _pregnancy_fk() -> Mapped[str]:
    return mapped_column(ForeignKey("pregnancies.id", ondelete="CASCADE"), index=True)


class PatientIdentifierRow(Base):
    """One of a woman's identifiers (FHIR `Patient.identifier`): a hospital number, a national
    number, an identifier another system gave her.

    An identifier with a system names one woman: (`system`, `value`) is unique. One sent
    without a system identifies her only within the source that sent it (`source`, e.g.
    `user:<id>` of the integration's account): (`source`, `value`) is unique among those. The
    type is kept as its first coding and text (`type_code` "MR": a medical record number).
    """

    __tablename__ = "patient_identifiers"
    __table_args__ = (
        UniqueConstraint("system", "value"),
        Index(
            "uq_patient_identifiers_source_value",
            "source",
            "value",
            unique=True,
            sqlite_where=text("system IS NULL"),
            postgresql_where=text("system IS NULL"),
        ),
        CheckConstraint("(system IS NULL) <> (source IS NULL)", name="system_or_source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = _patient_fk()
    system: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))
    use: Mapped[IdentifierUse | None] = mapped_column(value_enum(IdentifierUse, "use"))
    type_system: Mapped[str | None] = mapped_column(String(255))
    type_code: Mapped[str | None] = mapped_column(String(64))
    type_text: Mapped[str | None] = mapped_column(String(200))


# --- the woman's history ------------------------------------------------------------------------


class PriorPregnancyRow(_Provenance, Base):
    """A previous pregnancy. `ended_*` is a partial date (year; month and day when known);
    `gestation_days` the gestational age, in days, when it ended. `counted_as` is set when
    the pregnancy is known only from a count in a summary ("preterm birth"): its details are
    unknown, not absent."""

    __tablename__ = "prior_pregnancies"
    __table_args__ = (
        CheckConstraint("ended_month BETWEEN 1 AND 12", name="ended_month_range"),
        CheckConstraint("ended_day BETWEEN 1 AND 31", name="ended_day_range"),
        CheckConstraint(
            "(ended_year IS NOT NULL OR ended_month IS NULL)"
            " AND (ended_month IS NOT NULL OR ended_day IS NULL)",
            name="ended_partial_date",
        ),
        CheckConstraint("gestation_days >= 0", name="gestation_days_positive"),
        CheckConstraint("fetuses >= 1", name="fetuses_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = _patient_fk()
    ended_year: Mapped[int | None]
    ended_month: Mapped[int | None]
    ended_day: Mapped[int | None]
    outcome: Mapped[PriorOutcome | None] = mapped_column(value_enum(PriorOutcome, "outcome"))
    gestation_days: Mapped[int | None]
    onset: Mapped[Onset | None] = mapped_column(value_enum(Onset, "onset"))
    cerclage: Mapped[CerclageIndication | None] = mapped_column(
        value_enum(CerclageIndication, "cerclage")
    )
    fetuses: Mapped[int | None]
    counted_as: Mapped[str | None] = mapped_column(String(200))


class CervicalExcisionRow(_Provenance, Base):
    """LLETZ, cone biopsy or trachelectomy; `depth_mm` the excision depth in mm when known."""

    __tablename__ = "cervical_excisions"
    __table_args__ = (
        CheckConstraint("depth_mm >= 0", name="depth_positive"),
        CheckConstraint("performed_month BETWEEN 1 AND 12", name="performed_month_range"),
        CheckConstraint("performed_day BETWEEN 1 AND 31", name="performed_day_range"),
        CheckConstraint(
            "(performed_year IS NOT NULL OR performed_month IS NULL)"
            " AND (performed_month IS NOT NULL OR performed_day IS NULL)",
            name="performed_partial_date",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = _patient_fk()
    kind: Mapped[ExcisionKind] = mapped_column(value_enum(ExcisionKind, "kind"))
    depth_mm: Mapped[float | None] = mapped_column(Double)
    performed_year: Mapped[int | None]
    performed_month: Mapped[int | None]
    performed_day: Mapped[int | None]


class MaternalConditionRow(_Provenance, Base):
    """A lasting condition of the mother (uterine anomaly, Asherman, ...): once per woman."""

    __tablename__ = "maternal_conditions"
    __table_args__ = (UniqueConstraint("patient_id", "condition"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = _patient_fk()
    condition: Mapped[MaternalCondition] = mapped_column(value_enum(MaternalCondition, "condition"))


# --- this pregnancy -----------------------------------------------------------------------------


class CervicalLengthRow(_Provenance, Base):
    """A cervical length on ultrasound, in mm (shortest of the acceptable images).

    `comparator` is set when the length was reported as a bound ("<10 mm": `<`, 10).
    `operator` is who measured it and `device` the ultrasound machine, when the source says.
    """

    __tablename__ = "cervical_lengths"
    __table_args__ = (CheckConstraint("length_mm > 0", name="length_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pregnancy_id: Mapped[str] = _pregnancy_fk()
    measured_on: Mapped[dt.date]
    length_mm: Mapped[float] = mapped_column(Double)
    method: Mapped[LengthMethod] = mapped_column(value_enum(LengthMethod, "method"))
    comparator: Mapped[LengthComparator | None] = mapped_column(
        value_enum(LengthComparator, "comparator")
    )
    operator: Mapped[str | None] = mapped_column(String(200))
    device: Mapped[str | None] = mapped_column(String(200))


class CervicalExamRow(_Provenance, Base):
    """A pelvic examination: dilation in cm, effacement in %, membranes visible at the os."""

    __tablename__ = "cervical_exams"
    __table_args__ = (
        CheckConstraint("dilation_cm >= 0", name="dilation_positive"),
        CheckConstraint("effacement_percent BETWEEN 0 AND 100", name="effacement_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pregnancy_id: Mapped[str] = _pregnancy_fk()
    examined_on: Mapped[dt.date]
    dilation_cm: Mapped[float | None] = mapped_column(Double)
    effacement_percent: Mapped[float | None] = mapped_column(Double)
    membranes_exposed: Mapped[bool | None]


class FibronectinTestRow(_Provenance, Base):
    """Fetal fibronectin: quantitative in ng/mL, or qualitative positive/negative."""

    __tablename__ = "fibronectin_tests"
    __table_args__ = (CheckConstraint("ng_per_ml >= 0", name="ng_per_ml_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pregnancy_id: Mapped[str] = _pregnancy_fk()
    tested_on: Mapped[dt.date]
    ng_per_ml: Mapped[float | None] = mapped_column(Double)
    positive: Mapped[bool | None]


class ComplicationRow(_Provenance, Base):
    """A complication of this pregnancy, noted on `noted_on` (unknown: from the start) and
    resolved on `resolved_on` (empty while it lasts). Every row is part of the records: the
    assessment of a day counts the complications active on it (CD-06)."""

    __tablename__ = "complications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pregnancy_id: Mapped[str] = _pregnancy_fk()
    complication: Mapped[Complication] = mapped_column(value_enum(Complication, "complication"))
    noted_on: Mapped[dt.date | None]
    resolved_on: Mapped[dt.date | None]


class CerclagePlacementRow(_Provenance, Base):
    """A cerclage placed (route, and why when known)."""

    __tablename__ = "cerclage_placements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pregnancy_id: Mapped[str] = _pregnancy_fk()
    placed_on: Mapped[dt.date]
    route: Mapped[CerclageRoute] = mapped_column(value_enum(CerclageRoute, "route"))
    indication: Mapped[CerclageIndication | None] = mapped_column(
        value_enum(CerclageIndication, "indication")
    )


class CerclageRemovalRow(_Provenance, Base):
    __tablename__ = "cerclage_removals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pregnancy_id: Mapped[str] = _pregnancy_fk()
    removed_on: Mapped[dt.date]


class MedicationRow(_Provenance, Base):
    """A medication order of this pregnancy, from `started_on` until `stopped_on`; `assess`
    sees the active ones and those whose stop date is known (`MedicationStatus`)."""

    __tablename__ = "medications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pregnancy_id: Mapped[str] = _pregnancy_fk()
    medication: Mapped[Medication] = mapped_column(value_enum(Medication, "medication"))
    started_on: Mapped[dt.date | None]
    stopped_on: Mapped[dt.date | None]
    status: Mapped[MedicationStatus] = mapped_column(
        value_enum(MedicationStatus, "status"), default=MedicationStatus.ACTIVE
    )


class SymptomReportRow(_Provenance, Base):
    """A patient's symptom report: the symptoms she answered yes (`present`) and no (`absent`)
    to, as sorted lists of questionnaire linkIds. `reported_on` is the clinic's calendar day
    the guidelines count from; `reported_at` the instant, when the source gave one;
    `reported_by` who entered it ("the woman", a clinician's name), when known.

    A report stays open (urgent) until a clinician's review of it is recorded (CD-07): its
    `reviews`, loaded with it in the order they were stored, and deleted with it."""

    __tablename__ = "symptom_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pregnancy_id: Mapped[str] = _pregnancy_fk()
    reported_on: Mapped[dt.date]
    reported_at: Mapped[dt.datetime | None]
    present: Mapped[list[str]] = mapped_column(JSONDocument)
    absent: Mapped[list[str]] = mapped_column(JSONDocument)
    reported_by: Mapped[str | None] = mapped_column(String(200))
    #: The clinician who took the report by telephone and entered it (migration 0017); None:
    #: entered by whoever reported it, or sent by a feed.
    taken_by: Mapped[str | None] = mapped_column(String(200))
    reviews: Mapped[list[SymptomReviewRow]] = relationship(
        order_by="SymptomReviewRow.id",
        # Loaded with the reports in one more query (never one per report); deleted by the
        # database with its report (ON DELETE CASCADE) when not loaded.
        lazy="selectin",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class SymptomReviewRow(_Provenance, Base):
    """A clinician's review of a symptom report (CD-07): when (`reviewed_on`, the clinic's
    calendar day), the outcome, and who (`reviewer`, a name as it is shown)."""

    __tablename__ = "symptom_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    symptom_report_id: Mapped[int] = mapped_column(
        ForeignKey("symptom_reports.id", ondelete="CASCADE"), index=True
    )
    reviewed_on: Mapped[dt.date]
    outcome: Mapped[ReviewOutcome] = mapped_column(value_enum(ReviewOutcome, "outcome"))
    reviewer: Mapped[str | None] = mapped_column(String(200))
    #: What the clinician wrote with it, and the instant it was recorded (migration 0017;
    #: None for reviews recorded before, or sent without them).
    note: Mapped[str | None] = mapped_column(String(1000))
    reviewed_at: Mapped[dt.datetime | None]


class DeclinedDecisionRow(_Provenance, Base):
    """An offer the woman declined in this pregnancy (`code`: the recommendation's code), on
    `declined_on` (fhir-mapping.md, "A decision: offered and declined")."""

    __tablename__ = "declined_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pregnancy_id: Mapped[str] = _pregnancy_fk()
    code: Mapped[DeclinableCode] = mapped_column(value_enum(DeclinableCode, "code"))
    declined_on: Mapped[dt.date]


# --- identity of imported records and the current assessment -----------------------------------


class SourceIdentifierRow(Base):
    """An identifier a record had in its source, (`system`, `value`), and the row it became.

    Unique, so importing the same resource twice finds the row made the first time instead of
    storing it again. `table_name`/`row_id` name the row (a patient's uuid or a record's id).
    """

    __tablename__ = "source_identifiers"
    __table_args__ = (
        UniqueConstraint("system", "value"),
        Index(None, "table_name", "row_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = _patient_fk()
    system: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[str] = mapped_column(String(36))


class DeviceMessageStatus(StrEnum):
    """What became of a device's message (issue 14): its records stored; waiting for a
    clinician to match it to a woman; matched by one (then stored); discarded by one."""

    STORED = "stored"
    REVIEW = "review"
    MATCHED = "matched"
    DISCARDED = "discarded"


class DeviceMessageRow(Base):
    """A report received from an ultrasound machine (a DICOM SR) or its reporting system (an
    HL7 v2 result; issue 14, parts 3-4; migration 0016): one row per message, known by its
    channel and its own id (the SOP Instance UID; the sending application and MSH-10), so a
    message sent again is stored once. It is the intake log (who sent it, the device and
    operator, what it said) and the review queue (`status` review: it matched no woman, `reason`
    says why, `payload` is kept to be read again once a clinician matches it)."""

    __tablename__ = "device_messages"
    __table_args__ = (
        UniqueConstraint("channel", "message_id"),
        Index(None, "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[RecordSource] = mapped_column(value_enum(RecordSource, "channel"))
    message_id: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    #: Who sent it: the calling AE title, the sending application, the STOW-RS account.
    sender: Mapped[str] = mapped_column(String(255))
    status: Mapped[DeviceMessageStatus] = mapped_column(value_enum(DeviceMessageStatus, "status"))
    reason: Mapped[str | None] = mapped_column(String(500))
    #: The Patient ID as sent, and the identifier system it was read under (none: unknown).
    patient_value: Mapped[str] = mapped_column(String(255))
    identifier_system: Mapped[str | None] = mapped_column(String(255))
    summary: Mapped[str] = mapped_column(String(1000))
    operator: Mapped[str | None] = mapped_column(String(200))
    device: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[bytes | None] = mapped_column(Bytes)
    #: The woman it was stored for (none while it waits for review); deleted with her
    #: (migration 0021): its payload is her data.
    patient_id: Mapped[str | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    resolved_by: Mapped[str | None] = mapped_column(String(36))
    resolved_at: Mapped[dt.datetime | None]


class AssessmentRow(Base):
    """The current assessment of a pregnancy (one row per pregnancy, replaced on each write).

    `result` is the assessment JSON (`views.json_view.assessment_json`); `knowledge` the
    guideline profile versions that produced it ({"acog": "2026.11"}) and `as_of` the day it
    was assessed for. The other columns repeat parts of `result` for the worklist to filter
    and sort on: gestational age in days, risk tier, the next scan due and its status,
    `urgent` (an `urgent-evaluation` recommendation), recommendation codes by guideline, and
    the latest and shortest transvaginal cervical lengths (mm) with their dates.
    """

    __tablename__ = "assessments"
    __table_args__ = (
        Index(None, "urgent", "next_scan_due"),
        # The worklist's default order, so its first pages are read off this index and stop
        # after a page's rows instead of sorting every assessment (migration 0010). PostgreSQL
        # only: SQLite has no NULLS LAST in an index, and an embedded clinic's few hundred
        # pregnancies sort in no time.
        Index(
            "ix_assessments_worklist_order",
            text("worklist_rank ASC"),
            text("urgent_since ASC NULLS LAST"),
            text("next_scan_due ASC NULLS LAST"),
            postgresql_where=text("pregnancy_active"),
        ).ddl_if(dialect="postgresql"),
        # The worklist's filters on a cerclage in situ, its removal and the gestational age,
        # over the active rows (migration 0018).
        Index(
            "ix_assessments_active_flags",
            "cerclage_in_situ",
            "cerclage_removal",
            "ga_days",
            sqlite_where=text("pregnancy_active"),
            postgresql_where=text("pregnancy_active"),
        ),
        # The active pregnancies' assessments alone, for the worklist's count and freshness
        # check (migration 0013), led by the day so that "any of another day?" is one index
        # probe (0028).
        Index(
            "ix_assessments_active_freshness",
            "as_of",
            "knowledge",
            "worklist_rank",
            "pregnancy_id",
            sqlite_where=text("pregnancy_active"),
            postgresql_where=text("pregnancy_active"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pregnancy_id: Mapped[str] = mapped_column(
        ForeignKey("pregnancies.id", ondelete="CASCADE"), unique=True
    )
    as_of: Mapped[dt.date]
    knowledge: Mapped[dict[str, str]] = mapped_column(JSONDocument)
    #: When it was stored: the worklist's live update watches the latest (migration 0019).
    computed_at: Mapped[dt.datetime] = mapped_column(index=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    ga_days: Mapped[int | None]
    risk_tier: Mapped[str | None] = mapped_column(String(32), index=True)
    next_scan_due: Mapped[dt.date | None] = mapped_column(index=True)
    next_scan_status: Mapped[str | None] = mapped_column(String(16))
    overdue: Mapped[bool] = mapped_column(index=True)
    urgent: Mapped[bool]
    codes: Mapped[dict[str, list[str]]] = mapped_column(JSONDocument)
    latest_length_mm: Mapped[float | None] = mapped_column(Double)
    latest_length_on: Mapped[dt.date | None]
    shortest_length_mm: Mapped[float | None] = mapped_column(Double)
    shortest_length_on: Mapped[dt.date | None]
    #: Whether the pregnancy is active: a copy of `pregnancies.status` kept by the database's
    #: triggers (migration 0013), never written by the application, so that the worklist's
    #: indexes can leave out ended pregnancies. Queries still join the pregnancy's status.
    pregnancy_active: Mapped[bool] = mapped_column(server_default=false())
    # The worklist row's flags (migration 0018), copied out of the assessment by
    # `store.worklist_flags`: the fetus count; a cerclage in situ and its removal's state
    # ("due", "overdue"; None: not due); vaginal progesterone under way; why she is urgent
    # (`urgent_kind` "red-flag", "exam" or "symptoms", its words, and the day it began);
    # `worklist_rank`, the severity the list is ordered by (0 most pressing; NULL only on a
    # row stored before 0018, which makes it stale: reassessed first); `actions`, the
    # due and overdue tasks by guideline ([{"code", "state"}]), generic advice left out.
    fetuses: Mapped[int | None]
    cerclage_in_situ: Mapped[bool] = mapped_column(server_default=false())
    cerclage_removal: Mapped[str | None] = mapped_column(String(16))
    on_progesterone: Mapped[bool] = mapped_column(server_default=false())
    urgent_kind: Mapped[str | None] = mapped_column(String(16))
    urgent_reason: Mapped[str | None] = mapped_column(Text)
    urgent_since: Mapped[dt.date | None]
    worklist_rank: Mapped[int | None] = mapped_column(SmallInteger)
    actions: Mapped[dict[str, list[dict[str, str]]] | None] = mapped_column(JSONDocument)


# --- versions of the FHIR resources served (app/versions.py) ---------------------------------


class ResourceVersionRow(Base):
    """A version of a FHIR resource as it was served, kept when a write is about to change
    the woman's records (`app.versions`): the resource (without `meta`) and the SHA-256 of its
    canonical JSON, or (`deleted`) the marker of its deletion, which holds neither.
    `last_updated` is when that version came to be. Deleted with the woman."""

    __tablename__ = "resource_versions"
    __table_args__ = (UniqueConstraint("resource_type", "resource_id", "version_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[str] = mapped_column(String(80))
    version_id: Mapped[int]
    patient_id: Mapped[str] = _patient_fk()
    last_updated: Mapped[dt.datetime]
    deleted: Mapped[bool]
    content_hash: Mapped[str | None] = mapped_column(String(64))
    resource: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)


class PatientWriteRow(Base):
    """When a write last began to change the woman's records (none yet: when she was
    registered). A served resource that differs from its latest kept version was changed
    then (`app.versions`)."""

    __tablename__ = "patient_writes"

    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    written_at: Mapped[dt.datetime]


class CorrectionChange(StrEnum):
    """How a record was corrected: its values amended, or marked entered in error (it is no
    longer one of her records, and its FHIR resources say so in their history)."""

    AMENDED = "amended"
    ENTERED_IN_ERROR = "entered-in-error"


class RecordCorrectionRow(Base):
    """A correction of one clinical record (issue 13, part 3; migration 0013): which record
    (its table and row, which may be gone), how, why, by whom and when, and its values as they
    were before (by column, as JSON). Deleted with the woman. A record with an integer id is
    named by `record_id`; a pregnancy (its EDD and fetus count amended, migration 0022), whose
    id is text, by `record_key`."""

    __tablename__ = "record_corrections"
    __table_args__ = (
        Index(None, "record_table", "record_id"),
        Index(None, "record_table", "record_key"),
        CheckConstraint("(record_id IS NULL) <> (record_key IS NULL)", name="record_named_once"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[str] = _patient_fk()
    record_table: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int | None]
    record_key: Mapped[str | None] = mapped_column(String(36))
    change: Mapped[CorrectionChange] = mapped_column(value_enum(CorrectionChange, "change"))
    reason: Mapped[str] = mapped_column(String(500))
    #: The account that made it (a user id; none: a command or a feed).
    corrected_by: Mapped[str | None] = mapped_column(String(36))
    corrected_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    before: Mapped[dict[str, Any]] = mapped_column(JSONDocument)


# --- access: accounts, care teams, sign-ins, API tokens and the audit log ---------------------


class UserRow(Base):
    """An account. `password_hash` is an Argon2 hash (None: signs in only by single sign-on);
    `patient_id` links a patient's account to her record. Locked (`locked_at`) after too many
    wrong passwords in a row, until an admin unlocks it."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role = 'patient') = (patient_id IS NOT NULL)", name="patient_link_iff_patient"
        ),
        CheckConstraint("failed_sign_ins >= 0", name="failed_sign_ins_positive"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(value_enum(Role, "role"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    patient_id: Mapped[str | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), unique=True
    )
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    disabled: Mapped[bool] = mapped_column(default=False)
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    locked_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    password_changed_at: Mapped[dt.datetime | None]
    #: A one-time code (its SHA-256) with which the user sets her own password, until its
    #: expiry: what an admin gives instead of a password (issue 12, F2; migration 0006).
    one_time_code_hash: Mapped[str | None] = mapped_column(String(64))
    one_time_code_expires_at: Mapped[dt.datetime | None]


class CareTeamRow(Base):
    """A care team: its clinicians see and record the data of its women."""

    __tablename__ = "care_teams"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class TeamMemberRow(Base):
    """A clinician in a care team."""

    __tablename__ = "team_members"

    team_id: Mapped[str] = mapped_column(
        ForeignKey("care_teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class TeamPatientRow(Base):
    """A woman under the care of a care team."""

    __tablename__ = "team_patients"

    team_id: Mapped[str] = mapped_column(
        ForeignKey("care_teams.id", ondelete="CASCADE"), primary_key=True
    )
    patient_id: Mapped[str] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SignInSessionRow(Base):
    """A signed-in browser: the cookie holds a random token, stored here only as its SHA-256
    hash. `csrf_token` must come back with every state-changing request the cookie signs."""

    __tablename__ = "sign_in_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    expires_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]


class ApiTokenRow(Base):
    """A bearer token for an integration, acting as its user; stored as its SHA-256 hash.
    Valid until `expires_at` unless revoked."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]
    #: A SMART access token (migration 0029): the app it was issued to, the scopes granted
    #: (space-separated; they narrow what the user may do, on the FHIR API only) and the woman
    #: chosen at launch (`patient/` scopes reach her alone). None for a plain API token.
    smart_client_id: Mapped[str | None] = mapped_column(String(100))
    smart_scopes: Mapped[str | None] = mapped_column(Text)
    smart_patient_id: Mapped[str | None] = mapped_column(String(36))


class SmartClientRow(Base):
    """An app registered to use CervixWatch's FHIR API through SMART on FHIR (migration
    0029; `app.smart_server`). `public`: a user-facing app launched in a browser, no secret,
    authorization code with PKCE, sent back only to one of its `redirect_uris`. `backend`: a
    system client (SMART Backend Services) that proves itself with a JWT signed by one of the
    keys of `jwks` and acts as the service account `user_id` (its role and care teams).
    `scopes`: the most it may be granted, space-separated."""

    __tablename__ = "smart_clients"

    client_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(
        String(16), CheckConstraint("kind IN ('public', 'backend')", name="kind")
    )
    redirect_uris: Mapped[list[str]] = mapped_column(JSONDocument)
    scopes: Mapped[str] = mapped_column(Text)
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    disabled_at: Mapped[dt.datetime | None]


class SmartCodeRow(Base):
    """An authorization code given to a SMART app's redirect URI (migration 0029), stored as
    its SHA-256: the user who approved, the scopes granted, the woman chosen, the PKCE
    challenge the token request must answer. Used once, within minutes."""

    __tablename__ = "smart_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("smart_clients.client_id", ondelete="CASCADE")
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(Text)
    patient_id: Mapped[str | None] = mapped_column(String(36))
    code_challenge: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    used_at: Mapped[dt.datetime | None]


class SmartLaunchRow(Base):
    """A SMART launch of CervixWatch from an EHR, between leaving for the EHR's authorization
    server and coming back (migration 0030; `app.ehr_launch`): keyed by the SHA-256 of its
    `state`, used once, within minutes."""

    __tablename__ = "smart_launches"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    iss: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(Text)
    token_endpoint: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    used_at: Mapped[dt.datetime | None]


class BulkImportRow(Base):
    """How far an import of a Bulk Data export has come (migration 0031; `app.bulk_import`):
    per source, the last woman stored (women go in the order of their ids in the source)."""

    __tablename__ = "bulk_imports"

    source: Mapped[str] = mapped_column(String(500), primary_key=True)
    done_through: Mapped[str] = mapped_column(String(200))
    women: Mapped[int]
    updated_at: Mapped[dt.datetime]


class AuditOutcome(StrEnum):
    """How an access ended: done, refused (not signed in, not allowed, not found), or failed."""

    SUCCESS = "success"
    DENIED = "denied"
    INVALID = "invalid"
    FAILED = "failed"


class AuditSealRow(Base):
    """An entry's place in the audit chain (migration 0025; `store.audit_chain`): its
    position, the hash of the entry before it and its own. Written once, by the sealer, after
    the entry's own transaction committed; append-only as the log is (a trigger refuses
    UPDATE, DELETE and TRUNCATE). The entries linked before 0025 keep their hashes in their
    own row too (`AuditEventRow.prev_hash`, `entry_hash`), copied here by the migration."""

    __tablename__ = "audit_seals"

    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event_id: Mapped[int] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditEventRow(Base):
    """One access: who (`actor_id`, `actor_role`; None when not signed in), which woman,
    what (`action` and the route, with ids but never query values, which may hold names),
    when, from where, and how it ended (outcome and HTTP status).

    Append-only: the app never updates or deletes a row, and the database refuses to (a
    trigger on PostgreSQL and SQLite, migration 0002). No foreign keys, so deleting a user or
    a woman leaves the record of who read what."""

    __tablename__ = "audit_events"
    __table_args__ = (Index(None, "patient_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=_utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(36), index=True)
    actor_role: Mapped[str | None] = mapped_column(String(16))
    via: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(8))
    route: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(500))
    patient_id: Mapped[str | None] = mapped_column(String(36))
    client_address: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[AuditOutcome] = mapped_column(value_enum(AuditOutcome, "outcome"))
    status: Mapped[int]
    request_id: Mapped[str] = mapped_column(String(36))
    #: The account an admin action changed, or whose password a one-time code set
    #: (issue 12, F2; migration 0006).
    target_user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    #: The hash chain as migration 0007 kept it, in the entry's own row: the hash of the entry
    #: written before this one (`GENESIS_HASH` for the first), and this entry's own. Since
    #: migration 0025 an entry's link is kept in `audit_seals` (these stay null for entries
    #: written since; the older ones were copied there).
    own_prev_hash: Mapped[str | None] = mapped_column("prev_hash", String(64))
    own_entry_hash: Mapped[str | None] = mapped_column("entry_hash", String(64))
    #: The entry's link as its seal records it: None until it is sealed (about a second after
    #: it is written), or for an entry written around the chain.
    prev_hash: Mapped[str | None] = column_property(
        select(AuditSealRow.prev_hash)
        .where(AuditSealRow.event_id == id)
        .correlate_except(AuditSealRow)
        .scalar_subquery()
    )
    entry_hash: Mapped[str | None] = column_property(
        select(AuditSealRow.entry_hash)
        .where(AuditSealRow.event_id == id)
        .correlate_except(AuditSealRow)
        .scalar_subquery()
    )


class AuditUnsealedRow(Base):
    """An entry appended and not sealed yet: written in the entry's own transaction, taken
    away by the sealer in the transaction that seals it. An entry neither sealed nor waiting
    here was written around the chain, which verification reports."""

    __tablename__ = "audit_unsealed"

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class AuditChainHead(Base):
    """The end of the audit chain, one row: the last entry sealed, its hash and how many
    entries the chain holds (its last position). The sealer locks this row (`SELECT ... FOR
    UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises writers), so two sealers never link
    to the same entry."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_event_id: Mapped[int | None]
    last_hash: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int]


class AccessGeneration(Base):
    """How many times access has been taken away, one row (issue 12, part 5;
    `store.access_generation`). Every change that revokes a token or narrows what a token
    stands for (a token revoked, an account disabled or its password reset, a care team
    changed) adds one in its own transaction; a worker process that remembers tokens
    (`access.token_cache`) reads it on each request and forgets what it remembered under an
    older value, so the change takes effect in every worker at once."""

    __tablename__ = "access_generation"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger)


class FailureCounter(Base):
    """A count of failures (wrong passwords by username and client address) that every
    worker process and host shares when no Redis is configured (issue 12, part 5;
    `store.failure_counters`, `web.rate_limits`): `hits` until `expires_at` (seconds since
    the epoch), then forgotten."""

    __tablename__ = "failure_counters"

    counter_key: Mapped[str] = mapped_column(String(600), primary_key=True)
    hits: Mapped[int]
    expires_at: Mapped[float] = mapped_column(Double, index=True)


class ClinicSettingsRow(Base):
    """The clinic's own settings, one row (issue 13, parts 4 and 7; `app.clinic_settings`):
    its name, address line and telephone numbers as letters and the patient's portal give
    them, how dates are written, and which guideline profiles its pages show. No row, or a
    column left empty, is a setting not made: pages say so (never an invented number)."""

    __tablename__ = "clinic_settings"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    clinic_name: Mapped[str | None] = mapped_column(String(200))
    #: The clinic's own number (office hours: questions, appointments).
    phone: Mapped[str | None] = mapped_column(String(40))
    #: Maternity triage / the labour ward, answered day and night: where a woman with a
    #: red-flag symptom is sent.
    triage_phone: Mapped[str | None] = mapped_column(String(40))
    letter_address: Mapped[str | None] = mapped_column(String(300))
    #: A key of `app.clinic_settings.DATE_FORMATS`.
    date_format: Mapped[str] = mapped_column(String(20))
    #: Guideline profile ids, space-separated ("acog nice", "nice").
    guidelines: Mapped[str] = mapped_column(String(60))
    updated_at: Mapped[dt.datetime | None]
    #: The account that made the last change (a user id; the audit log has the rest).
    updated_by: Mapped[str | None] = mapped_column(String(36))


# --- notifications of urgent symptom reports (issue 13, part 1; migration 0012) ---------------


class NotifyChannel(StrEnum):
    """How a care team is told: an e-mail, or a signed webhook (a pager, SMS or chat gateway)."""

    EMAIL = "email"
    WEBHOOK = "webhook"


class NotifyReceives(StrEnum):
    """What a contact is sent: every notification, or only escalations (a consultant on
    call who is told when no one has reviewed a report in time)."""

    ALL = "all"
    ESCALATIONS = "escalations"


class NotificationKind(StrEnum):
    """A red-flag symptom report has arrived; or it is still not reviewed in time."""

    RED_FLAG_REPORT = "red-flag-report"
    ESCALATION = "escalation"


class DeliveryStatus(StrEnum):
    """Where one delivery is: waiting (also between retries), claimed by a dispatcher that
    is sending it, sent, given up after the last attempt, or cancelled (its report was
    reviewed before an escalation went, or its contact was removed)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class NotifyContactRow(Base):
    """Where a care team is told of its women's urgent reports: an e-mail address, or a
    webhook URL with the secret its requests are signed with (HMAC-SHA256). The secret is
    needed to sign, so it is stored as given; it is never logged nor answered by the API."""

    __tablename__ = "notify_contacts"
    __table_args__ = (UniqueConstraint("team_id", "channel", "address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(
        ForeignKey("care_teams.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[NotifyChannel] = mapped_column(value_enum(NotifyChannel, "channel"))
    address: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str | None] = mapped_column(String(200))
    receives: Mapped[NotifyReceives] = mapped_column(
        value_enum(NotifyReceives, "receives"), default=NotifyReceives.ALL
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)


class NotifyTeamSettingRow(Base):
    """A care team's escalation setting: minutes after a red-flag report reached CervixWatch
    without a review before its escalation is sent. An operational setting of the clinic,
    not a clinical rule (the guidelines give none); no row: the site's setting, if any."""

    __tablename__ = "notify_team_settings"
    __table_args__ = (CheckConstraint("escalate_after_minutes > 0", name="positive_minutes"),)

    team_id: Mapped[str] = mapped_column(
        ForeignKey("care_teams.id", ondelete="CASCADE"), primary_key=True
    )
    escalate_after_minutes: Mapped[int]


class NotificationRow(Base):
    """The outbox: one notification of one report, written in the transaction that stored
    the report (or, for an escalation, by the dispatcher's sweep); at most one of each kind
    per report. Its deliveries, one per channel and recipient, are written with it."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("symptom_report_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[NotificationKind] = mapped_column(value_enum(NotificationKind, "kind"))
    symptom_report_id: Mapped[int] = mapped_column(
        ForeignKey("symptom_reports.id", ondelete="CASCADE")
    )
    pregnancy_id: Mapped[str] = _pregnancy_fk()
    patient_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow, index=True)


class NotificationDeliveryRow(Base):
    """One notification to one recipient by one channel: sent at most once (unique), tried
    until sent or out of attempts, each attempt in `NotificationAttemptRow`. A dispatcher
    claims it (`sending`, until `claimed_until`) before it sends, so two never send it."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel", "recipient"),
        Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("notify_contacts.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[NotifyChannel] = mapped_column(value_enum(NotifyChannel, "channel"))
    recipient: Mapped[str] = mapped_column(String(500))
    status: Mapped[DeliveryStatus] = mapped_column(
        value_enum(DeliveryStatus, "status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime]
    claimed_until: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]


class NotificationAttemptRow(Base):
    """One attempt at a delivery and how it ended (`detail`: the error, never patient data)."""

    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("notification_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[dt.datetime]
    sent: Mapped[bool]
    detail: Mapped[str | None] = mapped_column(String(500))


class CdsJwtIdRow(Base):
    """A CDS Hooks request's JWT id (`jti`), kept until the JWT expires (issue 14, part 1;
    `store.cds_hooks`): a second request with the same one is a replay, refused, in every
    worker, since all of them insert here. The key is the SHA-256 of the issuer and the jti,
    both the EHR's and of any length."""

    __tablename__ = "cds_jwt_ids"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class CdsCardRow(Base):
    """A CDS Hooks card answered to an EHR: what it said (code, rules, indicator) about which
    of the EHR's patients (`ehr_patient`, the hook's `context.patientId`), so that the
    feedback naming its uuid can be reported with its rule."""

    __tablename__ = "cds_cards"

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(40))
    hook_instance: Mapped[str] = mapped_column(String(100))
    issuer: Mapped[str] = mapped_column(String(500))
    ehr_patient: Mapped[str | None] = mapped_column(String(200))
    guideline: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(60))
    rules: Mapped[str] = mapped_column(String(200))
    indicator: Mapped[str] = mapped_column(String(10))
    issued_at: Mapped[dt.datetime] = mapped_column(index=True)


class CdsFeedbackRow(Base):
    """What the EHR's user did with a card (CDS Hooks feedback): accepted (with the
    suggestions taken) or overridden (with the reason chosen and the user's comment)."""

    __tablename__ = "cds_feedback"
    __table_args__ = (CheckConstraint("outcome IN ('accepted', 'overridden')", name="outcome"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_uuid: Mapped[str] = mapped_column(String(36), index=True)
    service_id: Mapped[str] = mapped_column(String(40))
    issuer: Mapped[str] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(12))
    accepted_suggestions: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    override_system: Mapped[str | None] = mapped_column(String(500))
    override_code: Mapped[str | None] = mapped_column(String(200))
    override_display: Mapped[str | None] = mapped_column(String(500))
    user_comment: Mapped[str | None] = mapped_column(String(2000))
    outcome_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime] = mapped_column(default=_utcnow, index=True)


# --- scans booked (issue 13, part 4) -----------------------------------------------------------


class AppointmentStatus(StrEnum):
    """What was done with a booking: still booked, or cancelled. Whether a booked scan was
    attended or missed is not stored: it is read off the cervical lengths of its day
    (`store.appointments`), so a length recorded late still counts."""

    BOOKED = "booked"
    CANCELLED = "cancelled"


class AppointmentRow(Base):
    """A cervical-length scan booked for a pregnancy (migration 0020): its day and time on
    the clinic's clock, and the scan plan's window it was booked for (None: booked outside
    any plan). Indexed by (pregnancy, day) so the worklist joins a pregnancy's next booking
    and a missed one cheaply. Deleted with the pregnancy."""

    __tablename__ = "appointments"
    __table_args__ = (Index(None, "pregnancy_id", "scheduled_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pregnancy_id: Mapped[str] = mapped_column(ForeignKey("pregnancies.id", ondelete="CASCADE"))
    scheduled_on: Mapped[dt.date]
    scheduled_at: Mapped[dt.time]
    status: Mapped[AppointmentStatus] = mapped_column(
        value_enum(AppointmentStatus, "status"), default=AppointmentStatus.BOOKED
    )
    window_from: Mapped[dt.date | None]
    window_to: Mapped[dt.date | None]
    #: The account that booked it (a user id; none: a command).
    booked_by: Mapped[str | None] = mapped_column(String(36))
    booked_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
