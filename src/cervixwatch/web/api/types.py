"""What every model of the JSON API shares: its field types (plausible at the edge, so nothing
the database would refuse gets past), the base classes of the model families and the short
assessment summary that answers every write.

Model families follow the FastAPI full-stack template: `<Entity>Create` (POST body, required
fields required), `<Entity>Update` (PATCH body: every field optional, only those sent are
changed; a field that cannot be empty cannot be sent as null), `<Entity>Public` (what is
read), `<Entity>Written` (what a write answers: the entity and the assessment it left).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
)

from cervixwatch.app.assessing import AssessmentSummary
from cervixwatch.app.rows import RecordSource
from cervixwatch.clinical.identity_text import identifier_text, name_text
from cervixwatch.clinical.plausible import EARLIEST_DATE, LATEST_DATE, plausible_day
from cervixwatch.clinical.records import PartialDate

#: The default of a PATCH field that cannot be null: omitted, it is left as stored; it is not
#: validated, so sending null is refused ("Input should be ...") rather than stored.
UNSET: Any = None


#: No C0 or C1 control character (NUL included): none belongs in a name, and databases refuse
#: some. The schema says so as a pattern (for clients and schema-driven tests); the check
#: itself is `clinical.identity_text`, whose message names the character.
_NO_CONTROLS = r"^[^\x00-\x1f\x7f-\x9f]*$"
#: The same, and at least one character that is not white space (values are trimmed).
_SOME_TEXT = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"


#: The hospital number (MRN), trimmed: 1 to 64 characters, NFC, nothing invisible
#: (clinical.identity_text, the rule the FHIR reader applies too).
HospitalNumber = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    Field(json_schema_extra={"pattern": _SOME_TEXT}),
    AfterValidator(identifier_text),
]
#: A name, trimmed: 1 to 200 characters, NFC, nothing invisible but the joiners.
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    Field(json_schema_extra={"pattern": _SOME_TEXT}),
    AfterValidator(name_text),
]
SearchText = Annotated[
    str,
    StringConstraints(max_length=200),
    Field(json_schema_extra={"pattern": _NO_CONTROLS}),
    AfterValidator(name_text),
]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date_text(value: Any) -> Any:
    """A date is written YYYY-MM-DD: not a number (which would be read as seconds since 1970)
    nor a date and time."""
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("Input should be a date written YYYY-MM-DD")


def _instant_text(value: Any) -> Any:
    if isinstance(value, dt.datetime | str):
        return value
    raise ValueError("Input should be a date and time with its offset, e.g. 2026-03-01T09:30Z")


Day = Annotated[dt.date, BeforeValidator(_date_text), AfterValidator(plausible_day)]


def _json_number(value: Any) -> Any:
    """A number is a JSON number: not text ("22") nor true or false."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("Input should be a number")
    return value


#: Put in a number field's `Annotated`: refuses what lax validation would turn into a number.
JSON_NUMBER = BeforeValidator(_json_number)


def _check_instant(value: dt.datetime) -> dt.datetime:
    if not EARLIEST_DATE <= value.date() <= LATEST_DATE:
        raise ValueError(f"must be between {EARLIEST_DATE} and {LATEST_DATE}")
    return value


Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_instant_text),
    Field(description="With its UTC offset."),
    AfterValidator(_check_instant),
]

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def parse_partial_date(value: str) -> PartialDate:
    match = _PARTIAL.match(value)
    if match is None:
        raise ValueError("must be a date (YYYY-MM-DD), a month (YYYY-MM) or a year (YYYY)")
    year, month, day = (int(g) if g is not None else None for g in match.groups())
    assert year is not None
    try:
        dt.date(year, month or 1, day or 1)
    except ValueError:
        raise ValueError(f"{value} is not a date") from None
    if year < EARLIEST_DATE.year:
        raise ValueError(f"must be {EARLIEST_DATE.year} or later")
    return PartialDate(year, month, day)


def _partial_date_text(value: str) -> str:
    return str(parse_partial_date(value))


PartialDateText = Annotated[
    str,
    Field(
        description="A date that may be known only to the month or the year:"
        " YYYY-MM-DD, YYYY-MM or YYYY.",
        examples=["2022-05-14", "2022-05", "2022"],
        json_schema_extra={"pattern": _PARTIAL.pattern},
    ),
    AfterValidator(_partial_date_text),
]


class ApiModel(BaseModel):
    """A request body: unknown fields are refused (a misspelt field would otherwise be lost)
    and numbers must be finite."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class RecordIn(ApiModel):
    """A body that becomes column values. `partial_dates` names fields held as a partial
    date (columns `<field>_year`, `_month`, `_day`)."""

    partial_dates: ClassVar[tuple[str, ...]] = ()
    #: A PATCH body sets only the fields it sends; a POST body sets every field.
    is_patch: ClassVar[bool] = False

    def columns(self) -> dict[str, Any]:
        """The column values this body sets."""
        values = self.model_dump(exclude_unset=self.is_patch)
        for name in self.partial_dates:
            if name in values:
                text_value = values.pop(name)
                partial = parse_partial_date(text_value) if text_value is not None else None
                values[f"{name}_year"] = partial.year if partial else None
                values[f"{name}_month"] = partial.month if partial else None
                values[f"{name}_day"] = partial.day if partial else None
        return values


class RecordOut(BaseModel):
    """What is read of a stored row, by the same field names as the bodies."""

    partial_dates: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_row(cls, row: Any) -> Any:
        data: dict[str, Any] = {}
        for name in cls.model_fields:
            if name in cls.partial_dates:
                year = getattr(row, f"{name}_year")
                month = getattr(row, f"{name}_month")
                day = getattr(row, f"{name}_day")
                data[name] = None if year is None else str(PartialDate(year, month, day))
            else:
                data[name] = getattr(row, name)
        return cls.model_validate(data)


class _Provenance(RecordOut):
    id: int
    source: RecordSource = Field(description="Where the record entered CervixWatch.")
    source_ref: str | None = Field(description="Its id in that source, when it gave one.")


class PatientRecordOut(_Provenance):
    """A record of the woman's history."""

    patient_id: str


class PregnancyRecordOut(_Provenance):
    """A record of one pregnancy."""

    pregnancy_id: str


class Message(BaseModel):
    """An error that is not about one field: an unknown id (404), a conflict (409), a body too
    large (413)."""

    detail: str


class GestationalAgeOut(BaseModel):
    """Completed weeks and days ("19+3")."""

    weeks: int
    days: int
    text: str


class AssessmentSummaryPublic(BaseModel):
    """The pregnancy's assessment after a write, in brief (the whole of it:
    GET /api/pregnancies/{id}/assessment)."""

    pregnancy_id: str
    as_of: dt.date
    gestational_age: GestationalAgeOut | None
    risk_tier: str | None
    codes: dict[str, list[str]] = Field(description="Recommendation codes by guideline profile.")
    urgent: bool = Field(description="An urgent-evaluation recommendation: same-day review.")
    next_scan_due: dt.date | None
    overdue: bool

    @classmethod
    def of(cls, summary: AssessmentSummary | None) -> AssessmentSummaryPublic | None:
        if summary is None:
            return None
        ga = summary.gestational_age
        return cls(
            pregnancy_id=summary.pregnancy_id,
            as_of=summary.as_of,
            gestational_age=None
            if ga is None
            else GestationalAgeOut(weeks=ga.weeks, days=ga.days, text=str(ga)),
            risk_tier=summary.risk_tier,
            codes=summary.codes,
            urgent=summary.urgent,
            next_scan_due=summary.next_scan_due,
            overdue=summary.overdue,
        )


def written_model(public: type[BaseModel]) -> type[BaseModel]:
    """`<Entity>Written`: the entity as stored by a write, and the assessment it left."""
    name = public.__name__.removesuffix("Public") + "Written"
    model: type[BaseModel] = create_model(
        name,
        __base__=public,
        assessment=(
            AssessmentSummaryPublic | None,
            Field(
                description="The pregnancy's assessment after this write (null when the woman"
                " has no active pregnancy to assess)."
            ),
        ),
    )
    return model
