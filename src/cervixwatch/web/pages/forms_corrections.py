"""The page that corrects one record of the pregnancy's page (issue 13, part 3): amend its
values, or mark it entered in error, each with a reason (`app.corrections`).

    GET  /pregnancies/{pregnancy_id}/records/{records}/{record_id}                  the page
    POST /pregnancies/{pregnancy_id}/records/{records}/{record_id}/amend            amend it
    POST /pregnancies/{pregnancy_id}/records/{records}/{record_id}/entered-in-error mark it

`records` is the JSON API's collection (`cervical-lengths`). The amendment asks the record's
own form (`forms_records`), filled with the values stored, and is checked as the form is
(the same plausibility warnings, confirmed by a box); a kind of record with no form can only
be marked entered in error here (the API amends any). After either, 303 to the pregnancy's
page, which shows the correction in its list of corrections. Only a clinician of her care
team corrects; the record must be this pregnancy's (or, for her history, this woman's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Final

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from cervixwatch.app import corrections, recording
from cervixwatch.app.checks import NeedsConfirmation
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.clinical.gestation import GestationalAge
from cervixwatch.web.access import PatientData, PrincipalDep, allow, by_pregnancy
from cervixwatch.web.api.records import RECORD_APIS, RecordApi
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep
from cervixwatch.web.pages.core import PageRoute, render
from cervixwatch.web.pages.forms_context import (
    Whose,
    clinicians_only,
    error_summary,
    pregnancy_dates,
    whose,
)
from cervixwatch.web.pages.forms_fields import CHORIONICITY_WORDS_OF, DATING_WORDS_OF, draw
from cervixwatch.web.pages.forms_reading import (
    Submission,
    confirmed_codes,
    field_warnings,
    sentence,
    typed_values,
)
from cervixwatch.web.pages.forms_records import FORMS, RecordForm, check

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_APIS: Final = {api.collection: api for api in RECORD_APIS}
_FORMS: Final = {form.collection: form for form in FORMS}
#: The words of a correction's change.
CHANGE_WORDS: Final = {"amended": "Amended", "entered-in-error": "Marked entered in error"}


def correct_url(pregnancy_id: str, collection: str, record_id: int) -> str:
    """The page that corrects a record (the pregnancy page's lists link to it)."""
    return f"/pregnancies/{pregnancy_id}/records/{collection}/{record_id}"


@dataclass(slots=True)
class _State:
    """What the page shows of a request: the amend form's submission and reason, and the
    entered-in-error form's reason and error."""

    amend: Submission
    amend_reason: str = ""
    amend_reason_error: str | None = None
    error_reason: str = ""
    error_reason_error: str | None = None


def _api_of(collection: str) -> RecordApi:
    api = _APIS.get(collection)
    if api is None:
        raise HTTPException(404, f"no records called {collection!r}")
    return api


def _record(sessions: Any, api: RecordApi, record_id: int, who: Whose) -> Any:
    """The record, if it is this pregnancy's (or, for her history, this woman's)."""
    try:
        row = recording.get_record(sessions, api.kind, record_id)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    owner = who.patient_id if api.kind.owner == "patient" else who.pregnancy_id
    if getattr(row, f"{api.kind.owner}_id") != owner:
        raise HTTPException(404, f"no {api.kind.name} {record_id} in this pregnancy")
    return row


def _typed_of(form: RecordForm, api: RecordApi, row: Any) -> dict[str, str]:
    """The form's fields as the stored record fills them."""
    stored = api.public.from_row(row).model_dump()
    typed: dict[str, str] = {}
    for inp in form.inputs:
        value = stored.get(inp.model_field)
        if value is None:
            typed[inp.name] = ""
        elif inp.widget == "yes-no":
            typed[inp.name] = "yes" if value else "no"
        elif inp.widget == "gestation":
            typed[inp.name] = str(GestationalAge(int(value)))
        elif isinstance(value, float):
            typed[inp.name] = f"{value:g}"
        elif isinstance(value, dt.date):
            typed[inp.name] = value.isoformat()
        else:
            typed[inp.name] = str(getattr(value, "value", value))
    return typed


def _shown(api: RecordApi, form: RecordForm | None, row: Any) -> list[tuple[str, str]]:
    """The record's values as the page lists them: (label, value)."""
    labels = {inp.model_field: inp.label for inp in form.inputs} if form else {}
    hidden = {"id", "pregnancy_id", "patient_id", "source_ref"}
    out = []
    for name, value in api.public.from_row(row).model_dump().items():
        if name in hidden:
            continue
        label = labels.get(name, name.replace("_", " ").capitalize())
        if value is None:
            text = "not recorded"
        elif isinstance(value, list | tuple):
            text = ", ".join(str(getattr(v, "value", v)) for v in value) or "none"
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        elif isinstance(value, float):
            text = f"{value:g}"
        elif isinstance(value, dt.date):
            text = value.isoformat()
        elif name == "gestation_days":
            text = f"{GestationalAge(int(value))} weeks"
        else:
            text = str(getattr(value, "value", value))
        out.append((label, text))
    return out


def _page(
    request: Request,
    sessions: Any,
    api: RecordApi,
    who: Whose,
    row: Any,
    state: _State,
    today: dt.date,
    *,
    status_code: int = 200,
) -> Response:
    form = _FORMS.get(api.collection)
    fields: list[dict[str, Any]] = []
    warnings: list[dict[str, str]] = []
    if form is not None:
        fields = draw(
            form.inputs,
            form.api.create,
            state.amend.typed or _typed_of(form, api, row),
            state.amend.errors,
            pregnancy_dates(who, today),
        )
        warnings = field_warnings(form.inputs, fields, state.amend.warnings)
    summary = error_summary(fields, state.amend.errors)
    if state.amend_reason_error:
        summary.append({"href": "#f-reason", "message": state.amend_reason_error})
    if state.error_reason_error:
        summary.append({"href": "#e-reason", "message": state.error_reason_error})
    base = correct_url(who.pregnancy_id, api.collection, row.id)
    return render(
        request,
        "correct_record.html",
        {
            "api": api,
            "form": form,
            "who": who,
            "record": _shown(api, form, row),
            "fields": fields,
            "warnings": warnings,
            "summary": summary,
            "state": state,
            "amend_action": base + "/amend",
            "error_action": base + "/entered-in-error",
            "corrections": corrections.corrections_of_record(sessions, api.kind, row.id),
            "change_words": CHANGE_WORDS,
        },
        status_code=status_code,
    )


async def _context(
    sessions: Any, pregnancy_id: str, collection: str, record_id: int, today: dt.date
) -> tuple[RecordApi, Whose, Any]:
    api = _api_of(collection)
    who = await run_in_threadpool(whose, sessions, pregnancy_id, today)
    row = await run_in_threadpool(_record, sessions, api, record_id, who)
    return api, who, row


@router.get("/pregnancies/{pregnancy_id}/records/{collection}/{record_id}")
@allow(PatientData("read", by_pregnancy()))
async def correct_page(
    request: Request,
    pregnancy_id: str,
    collection: str,
    record_id: int,
    sessions: SessionsDep,
    today: TodayDep,
    principal: PrincipalDep,
) -> Response:
    clinicians_only(principal, "corrects her records")
    api, who, row = await _context(sessions, pregnancy_id, collection, record_id, today)
    return _page(request, sessions, api, who, row, _State(Submission({}, {})), today)


def _reason_error(error: InvalidField) -> str:
    return sentence(error.message)


@router.post("/pregnancies/{pregnancy_id}/records/{collection}/{record_id}/amend")
@allow(PatientData("write", by_pregnancy()))
async def amend(
    request: Request,
    pregnancy_id: str,
    collection: str,
    record_id: int,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
    principal: PrincipalDep,
) -> Response:
    api, who, row = await _context(sessions, pregnancy_id, collection, record_id, today)
    form = _FORMS.get(api.collection)
    if form is None:
        raise HTTPException(404, f"a {api.kind.name} is amended through the API")
    sent = await request.form()
    reason = sent.get("reason")
    state = _State(
        check(form, typed_values(form.inputs, sent), today, who.edd),
        amend_reason=reason if isinstance(reason, str) else "",
    )
    state.amend.confirmed = confirmed_codes(sent)
    if not state.amend_reason.strip():
        state.amend_reason_error = "Give the reason for the amendment"
    if state.amend.body is not None and state.amend_reason_error is None:
        asked = {inp.model_field for inp in form.inputs}
        changes = {
            column: value
            for column, value in state.amend.body.columns().items()
            if column in asked or column.rsplit("_", 1)[0] in asked
        }
        try:
            await run_in_threadpool(
                corrections.amend_record,
                sessions,
                api.kind,
                record_id,
                changes,
                reason=state.amend_reason,
                user_id=principal.user_id,
                today=today,
                profiles=profiles,
                confirmed=state.amend.confirmed,
            )
        except NeedsConfirmation as error:
            state.amend.warnings = error.warnings
        except InvalidField as error:
            if error.field == "reason":
                state.amend_reason_error = _reason_error(error)
            else:
                named = {inp.model_field: inp.name for inp in form.inputs}
                state.amend.errors[named.get(error.field, "")] = sentence(error.message)
        except Conflict as error:
            state.amend.errors[""] = str(error)
        except NotFound as error:
            raise HTTPException(404, str(error)) from None
    if state.amend.errors or state.amend.warnings or state.amend_reason_error:
        return _page(request, sessions, api, who, row, state, today, status_code=422)
    return RedirectResponse(f"/pregnancies/{pregnancy_id}#corrections", status_code=303)


@router.post("/pregnancies/{pregnancy_id}/records/{collection}/{record_id}/entered-in-error")
@allow(PatientData("delete", by_pregnancy()))
async def mark_entered_in_error(
    request: Request,
    pregnancy_id: str,
    collection: str,
    record_id: int,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    today: TodayDep,
    principal: PrincipalDep,
) -> Response:
    api, who, row = await _context(sessions, pregnancy_id, collection, record_id, today)
    sent = await request.form()
    reason = sent.get("reason")
    state = _State(Submission({}, {}), error_reason=reason if isinstance(reason, str) else "")
    try:
        await run_in_threadpool(
            corrections.mark_entered_in_error,
            sessions,
            api.kind,
            record_id,
            reason=state.error_reason,
            user_id=principal.user_id,
            today=today,
            profiles=profiles,
        )
    except InvalidField as error:
        state.error_reason_error = _reason_error(error)
        return _page(request, sessions, api, who, row, state, today, status_code=422)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    return RedirectResponse(f"/pregnancies/{pregnancy_id}#corrections", status_code=303)


_TITLES: Final = {str(api.kind.table.__tablename__): api for api in RECORD_APIS}


#: A pregnancy's amendable details in words, in the order the amend form asks for them; those
#: missing from an older correction (kept before the column existed) are left out.
_PREGNANCY_DETAILS: Final = (
    ("edd", "EDD", lambda v: v),
    ("dating_method", "dating method", lambda v: str(DATING_WORDS_OF.get(v, v)).lower()),
    ("fetuses", "number of fetuses", lambda v: v),
    ("chorionicity", "chorionicity", lambda v: CHORIONICITY_WORDS_OF.get(v, v)),
)


def _pregnancy_words(before: Mapping[str, Any]) -> str:
    """What a pregnancy's details were before they were amended: "the EDD, dating method,
    number of fetuses and chorionicity, which were 2026-07-08, ultrasound (dating scan), 2
    and not recorded"."""
    kept = [
        (label, "not recorded" if before[key] in (None, "") else str(words(before[key])))
        for key, label, words in _PREGNANCY_DETAILS
        if key in before
    ]
    labels = [label for label, _ in kept]
    values = [value for _, value in kept]
    return f"the {_listed(labels)}, which were {_listed(values)}"


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def correction_words(
    correction: corrections.Correction,
    shown_date: Callable[[dt.date], str] = dt.date.isoformat,
) -> str:
    """What was corrected, in words: "cervical length of 2 Mar 2026: 2.5 mm", its day in
    `shown_date`'s format (the clinic's)."""
    if correction.record_table == "pregnancies":
        return _pregnancy_words(correction.before)
    api = _TITLES.get(correction.record_table)
    if api is None:
        return correction.record_table.replace("_", " ")
    before = correction.before
    day = next((before.get(d) for d in api.kind.dates if before.get(d)), None)
    if day:
        with suppress(ValueError):  # not a date: kept as it was stored
            day = shown_date(dt.date.fromisoformat(str(day)[:10]))
    words = api.title + (f" of {day}" if day else "")
    if before.get("length_mm") is not None:
        words += f": {before['length_mm']:g} mm"
    return words
