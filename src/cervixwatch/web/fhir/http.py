"""How the FHIR facade speaks HTTP: JSON only (`application/fhir+json`, or `application/json`
when that is what the client asked for), and every error an OperationOutcome with a fitting
status, whatever raised it (`FhirRoute`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from email.utils import format_datetime
from typing import Any

import orjson
from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from cervixwatch.app.errors import Conflict, NotFound, OutOfScope, PreconditionFailed
from cervixwatch.app.exporting import TooManyChanges
from cervixwatch.app.importing import InvalidBundle, RejectedBundle
from cervixwatch.app.operations import database_unavailable
from cervixwatch.app.patient_identity import IdentityConflict
from cervixwatch.app.patient_match import InvalidParameters
from cervixwatch.app.versions import Deleted
from cervixwatch.web.limits import BodyTooLarge

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
_FHIR_FORMATS = frozenset({"json", FHIR_JSON, "application/json+fhir"})
_PLAIN_FORMATS = frozenset({"application/json", "text/json"})
_ANY = frozenset({"*/*", "application/*"})
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def outcome(
    diagnostics: str,
    code: str = "invalid",
    severity: str = "error",
    expression: str | None = None,
) -> dict[str, Any]:
    """An OperationOutcome of one issue (`code` from the FHIR IssueType value set)."""
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


class FhirError(Exception):
    """An error answered as an OperationOutcome with `status`."""

    def __init__(
        self,
        status: int,
        diagnostics: str,
        code: str = "invalid",
        *,
        expression: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.outcome = outcome(diagnostics, code, expression=expression)
        self.headers = dict(headers or {})


def response_media_type(request: Request) -> str:
    """The media type to answer in: `_format` first, then the Accept header; JSON only."""
    fmt = request.query_params.get("_format")
    if fmt is not None:
        wanted = fmt.split(";")[0].strip().lower()
        if wanted in _FHIR_FORMATS:
            return FHIR_JSON
        if wanted in _PLAIN_FORMATS:
            return "application/json"
        raise FhirError(
            406,
            f"_format={fmt!r}: this server speaks JSON only "
            "(_format=json or application/fhir+json)",
            "not-supported",
        )
    accept = request.headers.get("accept", "")
    ranges = {part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()}
    if not ranges or ranges & (_FHIR_FORMATS | _ANY):
        return FHIR_JSON
    if ranges & _PLAIN_FORMATS:
        return "application/json"
    raise FhirError(
        406,
        f"Accept: {accept}: this server speaks JSON only (application/fhir+json)",
        "not-supported",
    )


def fhir_response(
    request: Request,
    resource: Mapping[str, Any],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    media_type: str | None = None,
) -> Response:
    """`resource` as JSON; a resource with a version (`meta.versionId`), not a Bundle, is
    answered with its `ETag` and `Last-Modified`."""
    pretty = request.query_params.get("_pretty") == "true"
    body = orjson.dumps(resource, option=orjson.OPT_INDENT_2 if pretty else 0)
    return Response(
        body,
        status_code=status,
        media_type=media_type or response_media_type(request),
        headers={**version_headers(resource), **(headers or {})},
    )


def version_headers(resource: Mapping[str, Any]) -> dict[str, str]:
    """`ETag: W/"<versionId>"` and `Last-Modified` (HTTP date) of a versioned resource."""
    meta = resource.get("meta") or {}
    if resource.get("resourceType") == "Bundle" or "versionId" not in meta:
        return {}
    headers = {"ETag": f'W/"{meta["versionId"]}"'}
    if "lastUpdated" in meta:
        when = dt.datetime.fromisoformat(str(meta["lastUpdated"]))
        headers["Last-Modified"] = format_datetime(when.astimezone(dt.UTC), usegmt=True)
    return headers


def _error_response(request: Request, error: FhirError) -> Response:
    try:
        media = response_media_type(request)
    except FhirError:
        media = FHIR_JSON
    return fhir_response(request, error.outcome, error.status, error.headers, media)


#: The FHIR IssueType of a refusal by its HTTP status.
_ISSUE_CODES = {401: "login", 403: "forbidden", 404: "not-found", 429: "throttled"}


def as_fhir_error(error: Exception) -> FhirError | None:
    """The FHIR answer to an error a use case raised (None: not one it knows)."""
    match error:
        case FhirError():
            return error
        case TooManyChanges():
            return FhirError(400, str(error), "too-costly", expression="_lastUpdated")
        case InvalidBundle():
            return FhirError(400, str(error), error.code, expression=error.expression)
        case RejectedBundle():
            return FhirError(422, str(error), error.code, expression=error.expression)
        case Deleted():
            return FhirError(410, str(error).strip("'\""), "deleted")
        case NotFound():
            return FhirError(404, str(error).strip("'\""), "not-found")
        case InvalidParameters():
            return FhirError(400, str(error), "invalid", expression=error.expression)
        case IdentityConflict():
            return FhirError(409, str(error), "conflict", expression=error.expression)
        case PreconditionFailed():
            return FhirError(412, str(error), "conflict")
        case Conflict():
            return FhirError(409, str(error), "conflict")
        case OutOfScope():
            return FhirError(403, str(error), "forbidden")
        case RequestValidationError():
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
                for e in error.errors()
            )
            return FhirError(400, problems or "invalid request", "invalid")
        case HTTPException():
            return FhirError(
                error.status_code,
                str(error.detail),
                _ISSUE_CODES.get(error.status_code, "processing"),
                headers=error.headers,
            )
    return None


class FhirRoute(APIRoute):
    """A route whose every error is an OperationOutcome."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except BodyTooLarge:
                raise  # the size limit answers 413 itself
            except Exception as error:
                if database_unavailable(error):
                    raise  # answered 503 with Retry-After by `web.audit`, not a 500 here
                known = as_fhir_error(error)
                if known is None:
                    log.exception("FHIR %s %s failed", request.method, request.url.path)
                    known = FhirError(500, "internal error; see the server log", "exception")
                return _error_response(request, known)

        return route


#: Parameters every interaction takes (the answer's format), besides its own.
FORMAT_PARAMS = frozenset({"_format", "_pretty"})
_WHOLE_NUMBER = re.compile(r"[0-9]{1,10}")


def fhir_base(request: Request) -> str:
    """The facade's base URL, as the client reached it."""
    return str(request.base_url).rstrip("/") + "/fhir"


def query_params(request: Request, allowed: frozenset[str], what: str) -> dict[str, list[str]]:
    """The query parameters (each with its values), refusing any `allowed` does not name."""
    out: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        if key in FORMAT_PARAMS:
            continue
        if key not in allowed:
            raise FhirError(
                400,
                f"{what}: unknown or unsupported parameter {key!r} "
                f"(supported: {', '.join(sorted(allowed | FORMAT_PARAMS))})",
                "not-supported",
                expression=key,
            )
        out.setdefault(key, []).append(value)
    return out


def whole_number(values: Sequence[str] | None, name: str, default: int, low: int, high: int) -> int:
    """The last value of a whole-number parameter (`_count`, `_offset`), or `default`."""
    if not values:
        return default
    text = values[-1]
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    if not _WHOLE_NUMBER.fullmatch(text) or not low <= int(text) <= high:
        raise FhirError(
            400, f"{name}={text!r}: expected a whole number from {low} to {high}", "value"
        )
    return int(text)
