"""Create, list, read, amend and delete for every kind of clinical record: the same five routes,
made once per kind from its model family and its `RecordType`.

    POST   /api/{owners}/{owner_id}/{records}   record one (201): the record and the assessment
    GET    /api/{owners}/{owner_id}/{records}   the owner's records of this kind, by date
    GET    /api/{records}/{id}                  one record
    PATCH  /api/{records}/{id}                  amend it: the record and the assessment
    DELETE /api/{records}/{id}                  delete it (204); the pregnancy is reassessed

A correction with its reason (amend, or mark entered in error, keeping the correction) has its
own routes (`web.api.corrections`). A value that is possible but unlikely is answered 422 until
it is confirmed by `?confirm=<code>` (`ConfirmQuery`).

`owners` is `patients` for the woman's history and `pregnancies` for the rest.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import AfterValidator, BaseModel, StringConstraints
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.principal import Principal, Role
from cervixwatch.app import accounts, corrections, recording
from cervixwatch.app.errors import InvalidField
from cervixwatch.app.recording import RecordType
from cervixwatch.app.writing import Saved
from cervixwatch.clinical.identity_text import name_text
from cervixwatch.web.access import (
    Action,
    PatientData,
    PrincipalDep,
    allow,
    by_patient,
    by_pregnancy,
    by_record,
)
from cervixwatch.web.api import findings, history, treatments
from cervixwatch.web.api.errors import BODY, CONFLICT, NOT_FOUND, invalid
from cervixwatch.web.api.types import AssessmentSummaryPublic, RecordIn, RecordOut, written_model
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep

#: The codes of the plausibility warnings the sender confirms, from a 422 that listed them
#: with `"confirm": true` (`app.checks.NeedsConfirmation`; `web.api.corrections`).
#: Why a record is amended or removed through PATCH or DELETE: kept with the correction, with
#: the values before and who made it, as the amendments and entered-in-error routes keep
#: theirs (issue 13, part 3: nothing is changed or removed without a reason on record).
ReasonQuery = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=corrections.REASON_MAX_LENGTH
    ),
    Query(
        description="Why the record is amended or removed (kept with the correction).",
        examples=["typed in cm"],
    ),
    AfterValidator(name_text),
]


ConfirmQuery = Annotated[
    list[str],
    Query(
        description="Codes of plausibility warnings confirmed, after a 422 whose warnings said"
        " `confirm` (e.g. cervical-length-under-5-mm); one parameter per code.",
        max_length=10,
    ),
]


@dataclass(frozen=True, slots=True)
class RecordApi:
    """The routes of one kind of record."""

    kind: RecordType[Any]
    #: The path segment: "cervical-lengths".
    collection: str
    #: In summaries: "cervical length".
    title: str
    create: type[RecordIn]
    update: type[RecordIn]
    public: type[RecordOut]
    tag: str
    #: Values a new record takes from who records it, where the body does not give them.
    fill: Callable[[dict[str, Any], Principal, sessionmaker[Session]], None] | None = None


def _reported_by(
    values: dict[str, Any], principal: Principal, sessions: sessionmaker[Session]
) -> None:
    """A report a clinician enters is reported by her; one the woman enters, by the woman
    (left empty: "the woman" is how it is shown)."""
    if values.get("reported_by") is None and principal.role == Role.CLINICIAN:
        values["reported_by"] = accounts.shown_name(sessions, principal.user_id)


RECORD_APIS = (
    RecordApi(
        recording.PRIOR_PREGNANCY,
        "prior-pregnancies",
        "previous pregnancy",
        history.PriorPregnancyCreate,
        history.PriorPregnancyUpdate,
        history.PriorPregnancyPublic,
        "history",
    ),
    RecordApi(
        recording.CERVICAL_EXCISION,
        "cervical-excisions",
        "cervical excision",
        history.CervicalExcisionCreate,
        history.CervicalExcisionUpdate,
        history.CervicalExcisionPublic,
        "history",
    ),
    RecordApi(
        recording.MATERNAL_CONDITION,
        "maternal-conditions",
        "maternal condition",
        history.MaternalConditionCreate,
        history.MaternalConditionUpdate,
        history.MaternalConditionPublic,
        "history",
    ),
    RecordApi(
        recording.CERVICAL_LENGTH,
        "cervical-lengths",
        "cervical length",
        findings.CervicalLengthCreate,
        findings.CervicalLengthUpdate,
        findings.CervicalLengthPublic,
        "findings",
    ),
    RecordApi(
        recording.CERVICAL_EXAM,
        "cervical-exams",
        "cervical exam",
        findings.CervicalExamCreate,
        findings.CervicalExamUpdate,
        findings.CervicalExamPublic,
        "findings",
    ),
    RecordApi(
        recording.FIBRONECTIN_TEST,
        "fibronectin-tests",
        "fetal fibronectin test",
        findings.FibronectinTestCreate,
        findings.FibronectinTestUpdate,
        findings.FibronectinTestPublic,
        "findings",
    ),
    RecordApi(
        recording.SYMPTOM_REPORT,
        "symptom-reports",
        "symptom report",
        findings.SymptomReportCreate,
        findings.SymptomReportUpdate,
        findings.SymptomReportPublic,
        "findings",
        fill=_reported_by,
    ),
    RecordApi(
        recording.COMPLICATION,
        "complications",
        "complication",
        findings.ComplicationCreate,
        findings.ComplicationUpdate,
        findings.ComplicationPublic,
        "findings",
    ),
    RecordApi(
        recording.CERCLAGE_PLACEMENT,
        "cerclage-placements",
        "cerclage placement",
        treatments.CerclagePlacementCreate,
        treatments.CerclagePlacementUpdate,
        treatments.CerclagePlacementPublic,
        "treatments",
    ),
    RecordApi(
        recording.CERCLAGE_REMOVAL,
        "cerclage-removals",
        "cerclage removal",
        treatments.CerclageRemovalCreate,
        treatments.CerclageRemovalUpdate,
        treatments.CerclageRemovalPublic,
        "treatments",
    ),
    RecordApi(
        recording.MEDICATION,
        "medications",
        "medication",
        treatments.MedicationCreate,
        treatments.MedicationUpdate,
        treatments.MedicationPublic,
        "treatments",
    ),
    RecordApi(
        recording.DECLINED_DECISION,
        "declined-decisions",
        "declined decision",
        treatments.DeclinedDecisionCreate,
        treatments.DeclinedDecisionUpdate,
        treatments.DeclinedDecisionPublic,
        "treatments",
    ),
)


#: The path segment of each owner.
_OWNERS = {"patient": "patients", "pregnancy": "pregnancies"}


def _endpoint(
    function: Callable[..., Any], *, body: type[BaseModel] | None = None, owner_param: str = ""
) -> Callable[..., Any]:
    """`function` with the signature FastAPI should read for this kind: the body's model in
    place of `Any`, and the owner's id named for the owner (`pregnancy_id`)."""
    signature = inspect.signature(function)
    parameters = []
    for parameter in signature.parameters.values():
        if parameter.name == "body" and body is not None:
            parameter = parameter.replace(annotation=body)
        elif parameter.name == "owner_id" and owner_param:
            parameter = parameter.replace(name=owner_param)
        parameters.append(parameter)

    def endpoint(**kwargs: Any) -> Any:
        if owner_param:
            kwargs["owner_id"] = kwargs.pop(owner_param)
        return function(**kwargs)

    endpoint.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = function.__name__
    endpoint.__doc__ = function.__doc__
    return endpoint


def _add_routes(router: APIRouter, api: RecordApi) -> None:
    kind, public = api.kind, api.public
    written = written_model(public)
    owner_param = f"{api.kind.owner}_id"
    owners = f"/{_OWNERS[api.kind.owner]}/{{{owner_param}}}"
    one = f"/{api.collection}/{{record_id}}"
    snake = api.collection.replace("-", "_")

    def answer(saved: Saved[Any]) -> BaseModel:
        return written.model_validate(
            {
                **public.from_row(saved.row).model_dump(),
                "assessment": AssessmentSummaryPublic.of(saved.assessment),
            }
        )

    def create(
        owner_id: str,
        body: Any,
        request: Request,
        response: Response,
        sessions: SessionsDep,
        profiles: ProfilesDep,
        today: TodayDep,
        principal: PrincipalDep,
        confirm: ConfirmQuery = [],  # noqa: B006 (FastAPI copies a query list's default)
    ) -> Any:
        values = body.columns()
        if api.fill is not None:
            api.fill(values, principal, sessions)
        saved = recording.add_record(
            sessions, kind, owner_id, values, today=today, profiles=profiles, confirmed=confirm
        )
        response.headers["Location"] = str(request.url_for(f"read_{snake}", record_id=saved.row.id))
        return answer(saved)

    def list_all(owner_id: str, sessions: SessionsDep) -> Any:
        return [public.from_row(row) for row in recording.list_records(sessions, kind, owner_id)]

    def read(record_id: int, sessions: SessionsDep) -> Any:
        return public.from_row(recording.get_record(sessions, kind, record_id))

    def update(
        record_id: int,
        body: Any,
        sessions: SessionsDep,
        profiles: ProfilesDep,
        today: TodayDep,
        principal: PrincipalDep,
        reason: ReasonQuery,
        confirm: ConfirmQuery = [],  # noqa: B006 (FastAPI copies a query list's default)
    ) -> Any:
        try:
            saved = corrections.amend_record(
                sessions,
                kind,
                record_id,
                body.columns(),
                reason=reason,
                user_id=principal.user_id,
                today=today,
                profiles=profiles,
                confirmed=confirm,
            )
        except InvalidField as error:
            if error.field != "changes":
                raise
            # Nothing differs from the record as stored: said of the body as a whole.
            raise invalid("body", "changes", error.message, error.value) from None
        return answer(saved)

    def delete(
        record_id: int,
        sessions: SessionsDep,
        profiles: ProfilesDep,
        today: TodayDep,
        principal: PrincipalDep,
        reason: ReasonQuery,
    ) -> Response:
        """Removed as entered in error: the correction keeps its values and the reason, and
        its FHIR resources end with a version that says so."""
        corrections.mark_entered_in_error(
            sessions,
            kind,
            record_id,
            reason=reason,
            user_id=principal.user_id,
            today=today,
            profiles=profiles,
        )
        return Response(status_code=204)

    locate_owner = by_patient() if api.kind.owner == "patient" else by_pregnancy()
    locate_record = by_record(api.kind.table, api.kind.owner)
    # A patient may add only her symptom reports; everything else is the care team's.
    patient_may: frozenset[Action] = (
        frozenset({"write"}) if api.collection == "symptom-reports" else frozenset()
    )
    router.add_api_route(
        owners + f"/{api.collection}",
        allow(PatientData("write", locate_owner, patient_may))(
            _endpoint(create, body=api.create, owner_param=owner_param)
        ),
        methods=["POST"],
        status_code=201,
        response_model=written,
        responses={**NOT_FOUND, **CONFLICT, **BODY},
        summary=f"Record a {api.title}",
        operation_id=f"create_{snake}",
        tags=[api.tag],
    )
    router.add_api_route(
        owners + f"/{api.collection}",
        allow(PatientData("read", locate_owner))(_endpoint(list_all, owner_param=owner_param)),
        methods=["GET"],
        response_model=list[public],  # type: ignore[valid-type]
        responses=NOT_FOUND,
        summary=f"List the {api.title} records",
        operation_id=f"list_{snake}",
        tags=[api.tag],
    )
    router.add_api_route(
        one,
        allow(PatientData("read", locate_record))(read),
        methods=["GET"],
        response_model=public,
        responses=NOT_FOUND,
        summary=f"Read a {api.title}",
        operation_id=f"read_{snake}",
        name=f"read_{snake}",
        tags=[api.tag],
    )
    router.add_api_route(
        one,
        allow(PatientData("write", locate_record))(_endpoint(update, body=api.update)),
        methods=["PATCH"],
        response_model=written,
        responses={**NOT_FOUND, **CONFLICT, **BODY},
        summary=f"Amend a {api.title}",
        operation_id=f"update_{snake}",
        tags=[api.tag],
    )
    router.add_api_route(
        one,
        allow(PatientData("delete", locate_record))(delete),
        methods=["DELETE"],
        status_code=204,
        response_class=Response,
        responses=NOT_FOUND,
        summary=f"Delete a {api.title}",
        operation_id=f"delete_{snake}",
        tags=[api.tag],
    )


def record_router() -> APIRouter:
    router = APIRouter()
    for api in RECORD_APIS:
        _add_routes(router, api)
    return router
