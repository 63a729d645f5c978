"""Correcting a clinical record through the JSON API (issue 13, part 3), made once per kind of
record beside its five routes (`web.api.records`):

    POST /api/{records}/{id}/amendments       {"reason": ..., "changes": {...}}: the record
                                              amended and the assessment
    POST /api/{records}/{id}/entered-in-error {"reason": ...}: the record is no longer one of
                                              hers; the assessment

Both need a reason and a clinician of her care team (`app.corrections`). A value that is
possible but unlikely (`app.checks.NeedsConfirmation`: under 5 mm, the same value on the same
day ...) is answered 422 like any invalid field, each warning with `type`
"plausibility_warning", its machine-readable `code` and `"confirm": true`: the same request
sent again with `?confirm=<code>` (once per warning) stores it. Creating a record (POST) and
amending it by PATCH take the same `confirm` parameter.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BaseModel, Field, StringConstraints, create_model

from cervixwatch.app import corrections
from cervixwatch.app.checks import NeedsConfirmation
from cervixwatch.app.errors import InvalidField
from cervixwatch.clinical.identity_text import name_text
from cervixwatch.web.access import PatientData, PrincipalDep, allow, by_record
from cervixwatch.web.api.errors import BODY, CONFLICT, NOT_FOUND, needs_confirmation
from cervixwatch.web.api.records import RECORD_APIS, ConfirmQuery, RecordApi
from cervixwatch.web.api.types import ApiModel, AssessmentSummaryPublic, written_model
from cervixwatch.web.deps import ProfilesDep, SessionsDep, TodayDep

__all__ = ["Reason", "correction_router"]

#: Why a record is corrected, trimmed: 1 to 500 characters, nothing invisible.
Reason = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=corrections.REASON_MAX_LENGTH
    ),
    AfterValidator(name_text),
    Field(
        description="Why the record is corrected (kept with the correction).",
        examples=["typed in cm"],
    ),
]


class EnteredInError(ApiModel):
    reason: Reason


class Corrected(BaseModel):
    """The pregnancy's assessment after the correction (null when the woman has no active
    pregnancy)."""

    assessment: AssessmentSummaryPublic | None


def _invalid(error: InvalidField, *location: str) -> RequestValidationError:
    return RequestValidationError(
        [
            {
                "type": "value_error",
                "loc": (*location, error.field),
                "msg": error.message,
                "input": error.value,
            }
        ]
    )


def _add_routes(router: APIRouter, api: RecordApi) -> None:
    kind, public = api.kind, api.public
    written = written_model(public)
    one = f"/{api.collection}/{{record_id}}"
    snake = api.collection.replace("-", "_")
    locate_record = by_record(kind.table, kind.owner)
    amendment = create_model(
        f"{public.__name__.removesuffix('Public')}Amendment",
        __base__=ApiModel,
        reason=(Reason, ...),
        changes=(api.update, Field(description="The values amended (the others stay).")),
    )

    def amend(
        record_id: int,
        body: Any,
        sessions: SessionsDep,
        profiles: ProfilesDep,
        today: TodayDep,
        principal: PrincipalDep,
        confirm: ConfirmQuery = [],  # noqa: B006 (FastAPI copies a query list's default)
    ) -> Any:
        try:
            saved = corrections.amend_record(
                sessions,
                kind,
                record_id,
                body.changes.columns(),
                reason=body.reason,
                user_id=principal.user_id,
                today=today,
                profiles=profiles,
                confirmed=confirm,
            )
        except NeedsConfirmation as error:
            raise needs_confirmation(error, "body", "changes") from None
        except InvalidField as error:
            where = ("body",) if error.field in ("reason", "changes") else ("body", "changes")
            raise _invalid(error, *where) from None
        return written.model_validate(
            {
                **public.from_row(saved.row).model_dump(),
                "assessment": AssessmentSummaryPublic.of(saved.assessment),
            }
        )

    amend.__annotations__["body"] = amendment

    def mark(
        record_id: int,
        body: EnteredInError,
        sessions: SessionsDep,
        profiles: ProfilesDep,
        today: TodayDep,
        principal: PrincipalDep,
    ) -> Corrected:
        summary = corrections.mark_entered_in_error(
            sessions,
            kind,
            record_id,
            reason=body.reason,
            user_id=principal.user_id,
            today=today,
            profiles=profiles,
        )
        return Corrected(assessment=AssessmentSummaryPublic.of(summary))

    router.add_api_route(
        one + "/amendments",
        allow(PatientData("write", locate_record))(amend),
        methods=["POST"],
        response_model=written,
        responses={**NOT_FOUND, **CONFLICT, **BODY},
        summary=f"Amend a {api.title}, with the reason",
        operation_id=f"amend_{snake}",
        tags=[api.tag],
    )
    router.add_api_route(
        one + "/entered-in-error",
        allow(PatientData("delete", locate_record))(mark),
        methods=["POST"],
        response_model=Corrected,
        responses={**NOT_FOUND, **BODY},
        summary=f"Mark a {api.title} entered in error, with the reason",
        operation_id=f"mark_{snake}_entered_in_error",
        tags=[api.tag],
    )


def correction_router() -> APIRouter:
    router = APIRouter()
    for api in RECORD_APIS:
        _add_routes(router, api)
    return router
