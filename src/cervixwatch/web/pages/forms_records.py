"""The forms that record a clinical record from the pregnancy's page: a scan, an exam, a
previous pregnancy, a complication, a cerclage or its removal, a medication. Each shares the
JSON API's model and record type (`web.api.records.RECORD_APIS`) and says only how each field
is asked; its dates are checked as the use case (`app.recording`) will check them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from cervixwatch.app import checks
from cervixwatch.web.api.records import RECORD_APIS, RecordApi
from cervixwatch.web.api.types import parse_partial_date
from cervixwatch.web.pages.forms_fields import Input
from cervixwatch.web.pages.forms_reading import Submission, read_form


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

BY_SLUG: Final = {form.slug: form for form in FORMS}

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _check_dates(
    form: RecordForm, field: str, raw: str, today: dt.date, edd: dt.date | None
) -> None:
    """The use case's own checks of one date (raises `InvalidField`, a ValueError); what is
    not a date at all raises another ValueError, left to the model to name."""
    kind = form.api.kind
    if field in kind.dates and _ISO_DAY.match(raw):
        checks.pregnancy_dates({field: dt.date.fromisoformat(raw)}, [field], today, edd)
    elif field in kind.history_dates:
        partial = parse_partial_date(raw)
        columns = {"_year": partial.year, "_month": partial.month, "_day": partial.day}
        checks.history_dates({field + k: v for k, v in columns.items()}, [field], today)


def check(
    form: RecordForm, typed: Mapping[str, str], today: dt.date, edd: dt.date | None
) -> Submission:
    """The form's values checked by the API's model, and its dates as the use case will check
    them (so that every error is shown at once; the use case checks again as it saves)."""
    return read_form(
        form.inputs,
        form.api.create,
        typed,
        lambda field, raw: _check_dates(form, field, raw, today, edd),
    )


def iso_day(text: str) -> dt.date | None:
    """The day `text` names as YYYY-MM-DD; None if it names none."""
    try:
        return dt.date.fromisoformat(text) if _ISO_DAY.match(text) else None
    except ValueError:
        return None
