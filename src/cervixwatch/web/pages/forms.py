"""Forms to record a scan, an exam, a previous pregnancy, a complication, a cerclage or its
removal, and a medication, from the pregnancy's page.

    GET  /pregnancies/{pregnancy_id}/record/{kind}   the empty form
    POST /pregnancies/{pregnancy_id}/record/{kind}   save it, then 303 to the pregnancy's page

The server checks a form as the JSON API checks its body: the same pydantic model and record
type (`web.api.records.RECORD_APIS`) and the same use case (`app.recording.add_record`, which
refuses a date in the future or outside the pregnancy, and reassesses in the same transaction,
so the pregnancy's page shows the new recommendations at once). The browser checks first, with
constraint attributes read from that very model (required, min, max, maxlength) and the
pregnancy's span, so the two never disagree; `static/js/record-form.js` shows the gestational
age of a date as it is typed, and the forms work without it. A refused form comes back (422)
with every value as typed, each error beside its field and a summary of them at the top.
"""

from __future__ import annotations

import datetime as dt
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Annotated, Any, Final, Literal, Union, get_args, get_origin

import annotated_types as at
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from cervixwatch.access.principal import Role
from cervixwatch.app import checks, patients, pregnancies, recording
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.clinical.gestation import GestationalAge, gestational_age_on
from cervixwatch.web.access import PatientData, PrincipalDep, allow, by_pregnancy
from cervixwatch.web.api.records import RECORD_APIS, RecordApi
from cervixwatch.web.api.types import parse_partial_date
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep
from cervixwatch.web.pages.core import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Widget = Literal["date", "number", "text", "select", "yes-no", "partial-date", "gestation"]


@dataclass(frozen=True, slots=True)
class Input:
    """One field of a form: how it is asked. What it may hold comes from the API's model."""

    name: str
    label: str
    widget: Widget
    hint: str = ""
    unit: str = ""
    #: The HTML step of a number (None: any number).
    step: str | None = None
    #: The model's field when the form asks for it otherwise (weeks+days for days).
    field: str | None = None
    #: Words for the values of a choice (the values themselves are the model's).
    words: tuple[tuple[str, str], ...] = ()

    @property
    def model_field(self) -> str:
        return self.field or self.name


@dataclass(frozen=True, slots=True)
class RecordForm:
    slug: str
    #: "Record a cervical length"
    title: str
    #: The JSON API's collection whose model and record type the form shares.
    collection: str
    inputs: tuple[Input, ...]
    intro: str = ""

    @property
    def api(self) -> RecordApi:
        return _APIS[self.collection]


_APIS: Final = {api.collection: api for api in RECORD_APIS}

_CERCLAGE_INDICATION = (
    ("history-indicated", "History-indicated"),
    ("ultrasound-indicated", "Ultrasound-indicated"),
    ("exam-indicated", "Exam-indicated (rescue)"),
    ("abdominal", "Abdominal"),
)

FORMS: Final[tuple[RecordForm, ...]] = (
    RecordForm(
        "cervical-length",
        "Record a cervical length",
        "cervical-lengths",
        (
            Input("measured_on", "Date of the scan", "date"),
            Input(
                "length_mm",
                "Cervical length",
                "number",
                hint="The shortest of the acceptable images, in millimetres.",
                unit="mm",
                step="0.1",
            ),
            Input(
                "method",
                "Approach",
                "select",
                hint="Guideline decisions use transvaginal lengths only.",
                words=(
                    ("transvaginal", "Transvaginal"),
                    ("transabdominal", "Transabdominal"),
                    ("other", "Other (e.g. transperineal)"),
                ),
            ),
            Input("operator", "Sonographer", "text", hint="Who measured it."),
            Input("device", "Ultrasound machine", "text"),
        ),
    ),
    RecordForm(
        "cervical-exam",
        "Record a cervical examination",
        "cervical-exams",
        (
            Input("examined_on", "Date of the examination", "date"),
            Input(
                "dilation_cm", "Dilation", "number", hint="Leave empty if not assessed.", unit="cm"
            ),
            Input(
                "effacement_percent",
                "Effacement",
                "number",
                hint="Leave empty if not assessed.",
                unit="%",
                step="1",
            ),
            Input(
                "membranes_exposed",
                "Membranes visible at or through the os",
                "yes-no",
                hint="Not recorded is not the same as no.",
            ),
        ),
    ),
    RecordForm(
        "prior-pregnancy",
        "Record a previous pregnancy",
        "prior-pregnancies",
        (
            Input(
                "ended",
                "When it ended",
                "partial-date",
                hint="A date (2022-05-14), a month (2022-05) or a year (2022).",
            ),
            Input(
                "outcome",
                "Outcome",
                "select",
                words=(
                    ("live-birth", "Live birth"),
                    ("stillbirth", "Stillbirth"),
                    ("miscarriage", "Miscarriage"),
                    ("termination", "Termination"),
                    ("ectopic", "Ectopic pregnancy"),
                ),
            ),
            Input(
                "gestation",
                "Gestation when it ended",
                "gestation",
                hint="Weeks+days, e.g. 30+0 (or whole weeks: 30).",
                field="gestation_days",
            ),
            Input(
                "onset",
                "How it started",
                "select",
                words=(
                    ("spontaneous-labour", "Spontaneous labour"),
                    ("pprom", "Preterm prelabour rupture of membranes (PPROM)"),
                    ("painless-cervical-dilation", "Painless cervical dilation"),
                    ("medically-indicated", "Medically indicated (induced or caesarean)"),
                    ("unknown", "Not known"),
                ),
            ),
            Input("cerclage", "Cerclage in that pregnancy", "select", words=_CERCLAGE_INDICATION),
            Input("fetuses", "Number of babies", "number", step="1"),
        ),
        intro="A previous pregnancy belongs to the woman's history: it counts in this and in"
        " every later pregnancy.",
    ),
    RecordForm(
        "complication",
        "Record a complication",
        "complications",
        (
            Input(
                "complication",
                "Complication",
                "select",
                words=(
                    ("preterm-labour", "Preterm labour"),
                    ("ruptured-membranes", "Ruptured membranes"),
                    ("chorioamnionitis", "Chorioamnionitis"),
                    ("vaginal-bleeding", "Vaginal bleeding"),
                    ("fetal-death", "Fetal death"),
                    ("lethal-fetal-anomaly", "Lethal fetal anomaly"),
                    ("placenta-praevia", "Placenta praevia"),
                ),
            ),
            Input("noted_on", "Noted on", "date"),
            Input(
                "resolved_on",
                "Resolved on",
                "date",
                hint="Leave empty while it lasts: it counts until it is resolved.",
            ),
        ),
    ),
    RecordForm(
        "cerclage-placement",
        "Record a cerclage",
        "cerclage-placements",
        (
            Input("placed_on", "Date placed", "date"),
            Input(
                "route",
                "Route",
                "select",
                words=(
                    ("transvaginal", "Transvaginal"),
                    ("transabdominal", "Transabdominal"),
                    ("unknown", "Not known"),
                ),
            ),
            Input("indication", "Indication", "select", words=_CERCLAGE_INDICATION),
        ),
    ),
    RecordForm(
        "cerclage-removal",
        "Record the removal of a cerclage",
        "cerclage-removals",
        (Input("removed_on", "Date removed", "date"),),
    ),
    RecordForm(
        "medication",
        "Record a medication",
        "medications",
        (
            Input(
                "medication",
                "Medication",
                "select",
                words=(
                    ("vaginal-progesterone", "Vaginal progesterone"),
                    (
                        "hydroxyprogesterone-caproate",
                        "Hydroxyprogesterone caproate (17-OHPC; withdrawn in the US in 2023)",
                    ),
                ),
            ),
            Input("started_on", "Started on", "date"),
            Input("stopped_on", "Stopped on", "date"),
            Input(
                "status",
                "Status",
                "select",
                hint="Only active orders count in the assessment.",
                words=(("active", "Active"), ("stopped", "Stopped"), ("completed", "Completed")),
            ),
        ),
    ),
)

_BY_SLUG: Final = {form.slug: form for form in FORMS}


# --- what the API's model allows ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Allowed:
    """What a model's field allows: its type, whether it is required, its bounds."""

    base: Any
    required: bool
    default: Any
    low: float | None = None
    low_inclusive: bool = True
    high: float | None = None
    high_inclusive: bool = True
    max_length: int | None = None


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The type inside `X | None` and `Annotated[X, ...]`, and the metadata found on the way."""
    metadata: list[Any] = []
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        for item in extra:
            metadata.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return annotation, metadata


def allowed(model: type[Any], name: str) -> Allowed:
    info: FieldInfo = model.model_fields[name]
    base, metadata = _unwrap(info.annotation)
    found: dict[str, Any] = {}
    for item in [*info.metadata, *metadata]:
        if isinstance(item, at.Gt):
            found.update(low=item.gt, low_inclusive=False)
        elif isinstance(item, at.Ge):
            found.update(low=item.ge, low_inclusive=True)
        elif isinstance(item, at.Lt):
            found.update(high=item.lt, high_inclusive=False)
        elif isinstance(item, at.Le):
            found.update(high=item.le, high_inclusive=True)
        elif getattr(item, "max_length", None) is not None:
            found["max_length"] = item.max_length
    default = None if info.is_required() else info.get_default(call_default_factory=True)
    return Allowed(base=base, required=info.is_required(), default=default, **found)


def _number(value: float) -> str:
    return f"{value:g}"


def _range_words(inp: Input, rule: Allowed) -> str:
    """ "more than 0 and less than 100 mm", "from 0+0 to 45+0"."""

    def show(value: float) -> str:
        return str(GestationalAge(int(value))) if inp.widget == "gestation" else _number(value)

    unit = f" {inp.unit}" if inp.unit else ""
    if rule.low is not None and rule.high is not None:
        if rule.low_inclusive and rule.high_inclusive:
            return f"from {show(rule.low)} to {show(rule.high)}{unit}"
        low = "at least" if rule.low_inclusive else "more than"
        high = "at most" if rule.high_inclusive else "less than"
        return f"{low} {show(rule.low)} and {high} {show(rule.high)}{unit}"
    if rule.low is not None:
        return f"{'at least' if rule.low_inclusive else 'more than'} {show(rule.low)}{unit}"
    if rule.high is not None:
        return f"{'at most' if rule.high_inclusive else 'less than'} {show(rule.high)}{unit}"
    return ""


def _html_bound(value: float, inclusive: bool, step: str | None, direction: int) -> str:
    """An HTML min or max (always inclusive) for a bound that may be exclusive: one step in."""
    if inclusive or step is None:
        return _number(value)
    return str(Decimal(str(value)) + direction * Decimal(step))


# --- reading what was typed -----------------------------------------------------------------


class _Unreadable(ValueError):
    pass


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _read(inp: Input, rule: Allowed, raw: str) -> Any:
    """The value the model is given for what was typed (raises `_Unreadable` with why)."""
    if inp.widget == "number":
        try:
            number = Decimal(raw.replace(",", "."))
        except InvalidOperation:
            raise _Unreadable(f"Enter {inp.label.lower()} as a number") from None
        if rule.base is int and number.is_finite() and number == number.to_integral_value():
            return int(number)
        return float(number)
    if inp.widget == "yes-no":
        if raw not in ("yes", "no"):
            raise _Unreadable("Choose yes, no or not recorded")
        return raw == "yes"
    if inp.widget == "gestation":
        text = raw if "+" in raw else f"{raw}+0"
        try:
            return GestationalAge.parse(text).total_days
        except ValueError:
            raise _Unreadable("Write the gestation as weeks+days, e.g. 30+2") from None
    return raw


def _message(inp: Input, rule: Allowed, error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        verb = "Choose" if inp.widget in ("select", "yes-no") else "Enter"
        return f"{verb} the {inp.label.lower()}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{inp.label} must be {_range_words(inp, rule)}"
    if kind == "enum":
        return "Choose one of the options"
    if kind == "finite_number":
        return f"Enter {inp.label.lower()} as a number"
    if kind in ("int_from_float", "int_parsing"):
        return f"{inp.label} must be a whole number"
    message = str(error["msg"]).removeprefix("Value error, ").replace("Input should be", "Must be")
    return _sentence(message)


@dataclass(slots=True)
class Submission:
    """What was typed (as typed), what the model was given, and what is wrong with it."""

    typed: dict[str, str]
    errors: dict[str, str]
    body: Any = None


def _check_dates(
    form: RecordForm, field: str, raw: str, today: dt.date, edd: dt.date | None
) -> None:
    """The use case's own checks of one date (raises `InvalidField`); what is not a date is
    left to the model to name."""
    kind = form.api.kind
    try:
        if field in kind.dates and _ISO_DAY.match(raw):
            checks.pregnancy_dates({field: dt.date.fromisoformat(raw)}, [field], today, edd)
        elif field in kind.history_dates:
            partial = parse_partial_date(raw)
            columns = {"_year": partial.year, "_month": partial.month, "_day": partial.day}
            checks.history_dates({field + k: v for k, v in columns.items()}, [field], today)
    except InvalidField:
        raise  # the use case's answer (an InvalidField is a ValueError too)
    except ValueError:
        pass  # not a date at all: the model says so


def check(
    form: RecordForm, typed: Mapping[str, str], today: dt.date, edd: dt.date | None
) -> Submission:
    """The form's values checked by the API's model, and its dates as the use case will check
    them (so that every error is shown at once; the use case checks again as it saves)."""
    model = form.api.create
    result = Submission(dict(typed), {})
    data: dict[str, Any] = {}
    for inp in form.inputs:
        raw = typed.get(inp.name, "").strip()
        if not raw:
            continue  # empty: the model's default, or "required"
        try:
            data[inp.model_field] = _read(inp, allowed(model, inp.model_field), raw)
        except _Unreadable as error:
            result.errors[inp.name] = str(error)
        try:
            _check_dates(form, inp.model_field, raw, today, edd)
        except InvalidField as error:
            result.errors[inp.name] = _sentence(error.message)
    by_field = {inp.model_field: inp for inp in form.inputs}
    try:
        result.body = model.model_validate(data)
    except ValidationError as error:
        for detail in error.errors():
            named = by_field.get(str(detail["loc"][0])) if detail["loc"] else None
            if named is None:
                result.errors.setdefault("", _sentence(str(detail["msg"])))
            else:
                rule = allowed(model, named.model_field)
                result.errors.setdefault(named.name, _message(named, rule, detail))
    if result.errors:
        result.body = None
    return result


# --- the page -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Whose:
    """The pregnancy a form records into, and the woman: shown at the top of every form."""

    pregnancy_id: str
    patient_id: str
    name: str
    hospital_number: str | None
    edd: dt.date | None
    ga_today: GestationalAge | None


def whose(sessions: sessionmaker[Session], pregnancy_id: str, today: dt.date) -> Whose:
    try:
        pregnancy = pregnancies.get_pregnancy(sessions, pregnancy_id)
        patient = patients.get_patient(sessions, pregnancy.patient_id)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    name = " ".join(n for n in (patient.given_name, patient.family_name) if n) or "(no name)"
    return Whose(
        pregnancy.id,
        patient.id,
        name,
        patient.hospital_number,
        pregnancy.edd,
        gestational_age_on(pregnancy.edd, today) if pregnancy.edd else None,
    )


def _ga_words(edd: dt.date | None, text: str) -> str:
    """ "22+3 weeks on that day" for a date typed in this pregnancy (the script does the same
    as it is typed)."""
    if edd is None or not text:
        return ""
    try:
        day = dt.date.fromisoformat(text) if _ISO_DAY.match(text) else None
    except ValueError:
        day = None
    if day is None:
        return ""
    first, last = checks.pregnancy_span(edd)
    if not first <= day <= last:
        return "That day is outside this pregnancy."
    return f"{gestational_age_on(edd, day)} weeks on that day"


def _fields(
    form: RecordForm, submission: Submission, who: Whose, today: dt.date
) -> list[dict[str, Any]]:
    """What the template needs to draw each field."""
    model = form.api.create
    span = checks.pregnancy_span(who.edd) if who.edd else None
    fields = []
    for inp in form.inputs:
        rule = allowed(model, inp.model_field)
        value = submission.typed.get(inp.name, "")
        if not value and rule.default is not None:  # left empty: the model's default applies
            value = str(getattr(rule.default, "value", rule.default))
        field: dict[str, Any] = {
            "input": inp,
            "id": f"f-{inp.name}",
            "value": value,
            "error": submission.errors.get(inp.name),
            "required": rule.required,
            # Neither required nor answered by a default: it may stay empty (unknown).
            "optional": not rule.required and rule.default is None,
            "range": _range_words(inp, rule),
        }
        if inp.widget == "number":
            if rule.low is not None:
                field["min"] = _html_bound(rule.low, rule.low_inclusive, inp.step, 1)
            if rule.high is not None:
                field["max"] = _html_bound(rule.high, rule.high_inclusive, inp.step, -1)
            field["step"] = inp.step or "any"
            field["inputmode"] = "numeric" if inp.step == "1" else "decimal"
        elif inp.widget == "date":
            field["max"] = (min(today, span[1]) if span else today).isoformat()
            if span:
                field["min"] = span[0].isoformat()
            field["ga"] = _ga_words(who.edd, value)
        elif inp.widget in ("select", "yes-no"):
            field["choices"] = _choices(inp, rule)
            field["blank"] = (
                None
                if rule.default is not None
                else ("Choose…" if rule.required else "Not recorded")
            )
        if rule.max_length is not None:
            field["maxlength"] = rule.max_length
        fields.append(field)
    return fields


def _choices(inp: Input, rule: Allowed) -> list[tuple[str, str]]:
    if inp.widget == "yes-no":
        return [("yes", "Yes"), ("no", "No")]
    words = dict(inp.words)
    members = list(rule.base) if isinstance(rule.base, type) and issubclass(rule.base, Enum) else []
    return [(m.value, words.get(m.value, m.value.replace("-", " ").capitalize())) for m in members]


def _form_of(kind: str) -> RecordForm:
    form = _BY_SLUG.get(kind)
    if form is None:
        raise HTTPException(404, f"no form to record {kind!r}")
    return form


def _page(
    request: Request,
    form: RecordForm,
    who: Whose,
    submission: Submission,
    today: dt.date,
    *,
    status_code: int = 200,
) -> Response:
    fields = _fields(form, submission, who, today)
    ids = {f["input"].name: f["id"] for f in fields}
    summary = [
        {"href": f"#{ids[name]}" if name in ids else None, "message": message}
        for name, message in submission.errors.items()
    ]
    return render(
        request,
        "record_form.html",
        {
            "form": form,
            "forms": FORMS,
            "who": who,
            "fields": fields,
            "summary": summary,
            "action": f"/pregnancies/{who.pregnancy_id}/record/{form.slug}",
        },
        status_code=status_code,
    )


@router.get("/pregnancies/{pregnancy_id}/record/{kind}")
@allow(PatientData("read", by_pregnancy()))
async def record_form(
    request: Request,
    pregnancy_id: str,
    kind: str,
    sessions: SessionsDep,
    today: TodayDep,
    principal: PrincipalDep,
) -> Response:
    form = _form_of(kind)
    if principal.role != Role.CLINICIAN:
        raise HTTPException(403, "only her care team records findings and treatments")
    who = await run_in_threadpool(whose, sessions, pregnancy_id, today)
    return _page(request, form, who, Submission({}, {}), today)


@router.post("/pregnancies/{pregnancy_id}/record/{kind}")
@allow(PatientData("write", by_pregnancy()))
async def save_record(
    request: Request,
    pregnancy_id: str,
    kind: str,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
) -> Response:
    form = _form_of(kind)
    who = await run_in_threadpool(whose, sessions, pregnancy_id, today)
    sent = await request.form()
    typed = {}
    for inp in form.inputs:
        value = sent.get(inp.name)
        typed[inp.name] = value if isinstance(value, str) else ""
    submission = check(form, typed, today, who.edd)
    if submission.body is not None:
        record = form.api.kind
        owner_id = who.patient_id if record.owner == "patient" else who.pregnancy_id
        try:
            await run_in_threadpool(
                recording.add_record,
                sessions,
                record,
                owner_id,
                submission.body.columns(),
                today=today,
                profiles=profiles,
            )
        except InvalidField as error:
            named = {inp.model_field: inp.name for inp in form.inputs}
            submission.errors[named.get(error.field, "")] = _sentence(error.message)
        except Conflict as error:
            submission.errors[""] = str(error)
        except NotFound as error:
            raise HTTPException(404, str(error)) from None
    if submission.errors:
        return _page(request, form, who, submission, today, status_code=422)
    return RedirectResponse(f"/pregnancies/{pregnancy_id}", status_code=303)
