"""405 answers that name every method a path has.

FastAPI makes one route per method, so a request with a method a path lacks is answered by the
first route of that path, whose `Allow` names only its own method (`GET` where the path also
has PATCH and DELETE). One hidden route per path takes every other method and answers 405 with
`Allow` naming all the path's methods, as HTTP asks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from cervixwatch.web import access

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


def _refusal(allow: str) -> Callable[[], JSONResponse]:
    # Public: it answers 405 from the path alone, whatever is stored.
    @access.allow(access.PUBLIC)
    def method_not_allowed() -> JSONResponse:
        return JSONResponse(
            {"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": allow}
        )

    return method_not_allowed


def method_not_allowed_router(routers: Iterable[APIRouter]) -> APIRouter:
    """A router (include it after `routers`) answering 405 for each path's other methods."""
    allowed: dict[str, set[str]] = defaultdict(set)
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                allowed[route.path] |= route.methods or set()
    out = APIRouter(include_in_schema=False)
    for path, methods in allowed.items():
        out.add_api_route(
            path,
            _refusal(", ".join(sorted(methods))),
            methods=sorted(_METHODS - methods),
            include_in_schema=False,
        )
    return out
