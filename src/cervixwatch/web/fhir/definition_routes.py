"""CervixWatch's own definitions in the FHIR facade, so that its codes and questionnaire
resolve: read and search of the CodeSystem `CW` (`CodeSystem/cervixwatch`) and of the symptom
Questionnaire (`Questionnaire/symptoms`). They hold no one's data: anyone signed in may read
them. Include this router in the /fhir router before its generic `/{resource_type}` routes.

Search parameters: `url` (the canonical URL, optionally `|version`), `_id`, `_count` and
`_offset` (each type has one resource, so a search finds it or nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from fastapi import APIRouter, Request, Response

from cervixwatch import __version__
from cervixwatch.app.exporting import searchset
from cervixwatch.interop.fhir_terminology import code_system, questionnaire
from cervixwatch.web.access import EVERYONE_SIGNED_IN, SignedIn, allow
from cervixwatch.web.deps import ProfilesDep, SettingsDep
from cervixwatch.web.fhir.http import (
    FHIR_JSON,
    FhirError,
    FhirRoute,
    fhir_base,
    fhir_response,
    query_params,
    whole_number,
)
from cervixwatch.web.fhir.metadata import SEARCH_PARAMS

READ_DEFINITIONS: Final = SignedIn(EVERYONE_SIGNED_IN)

router = APIRouter(route_class=FhirRoute, tags=["FHIR R4"])

_OUTCOME: dict[str, Any] = {"content": {FHIR_JSON: {"schema": {"type": "object"}}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "A FHIR resource", **_OUTCOME},
    400: {"description": "Bad request (OperationOutcome)", **_OUTCOME},
    401: {"description": "Not signed in (OperationOutcome)", **_OUTCOME},
    404: {"description": "Not found (OperationOutcome)", **_OUTCOME},
}
_PAGING: Final = frozenset({"_count", "_offset"})


def _code_system(profiles: ProfilesDep) -> dict[str, Any]:
    return code_system(list(profiles.values()), version=__version__)


def _questionnaire(_profiles: ProfilesDep) -> dict[str, Any]:
    return questionnaire(version=__version__)


def _matches(resource: dict[str, Any], params: dict[str, list[str]]) -> bool:
    """Every parameter given matches (each a comma-separated list of values, any of which)."""
    for values in params.get("_id", []):
        if resource["id"] not in values.split(","):
            return False
    for values in params.get("url", []):
        wanted = [v.split("|", 1) for v in values.split(",") if v]
        if not any(
            url == resource["url"] and (not version or version[0] == resource["version"])
            for url, *version in wanted
        ):
            return False
    return True


def _add(kind: str, make: Callable[[ProfilesDep], dict[str, Any]]) -> None:
    allowed = frozenset(name for name, _, _ in SEARCH_PARAMS[kind]) | _PAGING

    @allow(READ_DEFINITIONS)
    def search(request: Request, profiles: ProfilesDep, settings: SettingsDep) -> Response:
        params = query_params(request, allowed, f"search {kind}")
        count = whole_number(
            params.get("_count"), "_count", settings.page_size, 0, settings.max_page_size
        )
        offset = whole_number(params.get("_offset"), "_offset", 0, 0, 10**9)
        resource = make(profiles)
        found = [resource] if _matches(resource, params) else []
        links = [{"relation": "self", "url": str(request.url)}]
        page = found[offset : offset + count]
        bundle = searchset(page, base=fhir_base(request), total=len(found), links=links)
        return fhir_response(request, bundle)

    @allow(READ_DEFINITIONS)
    def read(request: Request, resource_id: str, profiles: ProfilesDep) -> Response:
        query_params(request, frozenset(), f"read {kind}")
        resource = make(profiles)
        if resource_id != resource["id"]:
            raise FhirError(404, f"{kind}/{resource_id} is not known", "not-found")
        return fhir_response(request, resource)

    router.add_api_route(
        f"/{kind}",
        search,
        methods=["GET"],
        summary=f"Search {kind} (url, _id): CervixWatch's own",
        responses=_RESPONSES,
        name=f"search_{kind.lower()}",
    )
    router.add_api_route(
        f"/{kind}/{{resource_id}}",
        read,
        methods=["GET"],
        summary=f"Read CervixWatch's {kind}",
        responses=_RESPONSES,
        name=f"read_{kind.lower()}",
    )


_add("CodeSystem", _code_system)
_add("Questionnaire", _questionnaire)
