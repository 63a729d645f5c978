"""How the JSON API answers what a use case refuses: an unknown id is 404 {"detail": ...}, a
conflict with stored data 409, a value that cannot be right 422 in FastAPI's own shape
(detail[].loc names the field, detail[].msg says why), the same as the models' own checks.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

from fastapi import HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from cervixwatch.app.checks import NeedsConfirmation
from cervixwatch.app.errors import Conflict, InvalidField, NotFound
from cervixwatch.web.api.types import Message


def invalid(location: str, field: str, message: str, value: Any = None) -> RequestValidationError:
    """A 422 about one field of the request, as FastAPI reports its own validation errors."""
    return RequestValidationError(
        [{"type": "value_error", "loc": (location, field), "msg": message, "input": value}]
    )


async def translate_errors() -> AsyncIterator[None]:
    """A dependency of every route: the use cases' refusals become HTTP answers. The fields a
    use case names are those of the request body (query parameters are checked here).

    It also sees the request's own validation errors (raised while it is open): a body with
    NaN or Infinity in it (Python's JSON reader accepts them) would otherwise be echoed back
    in `input`, which JSON cannot carry, and the answer would fail as a 500. (Async, so it
    costs no trip to the thread pool; the routes' own exceptions reach it all the same.)
    """
    try:
        yield
    except RequestValidationError as error:
        raise RequestValidationError(_finite(list(error.errors())), body=error.body) from None
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
    except Conflict as error:
        raise HTTPException(409, str(error)) from None
    except InvalidField as error:
        raise invalid("body", error.field, error.message, error.value) from None
    except NeedsConfirmation as error:
        raise needs_confirmation(error, "body") from None


def needs_confirmation(error: NeedsConfirmation, *location: str) -> HTTPException:
    """The 422 of values that need confirming: each warning where a field's error would be,
    with its code and `confirm` (send the request again with `?confirm=<code>`)."""
    return HTTPException(
        422,
        detail=[
            {
                "type": "plausibility_warning",
                "loc": [*location, w.field],
                "msg": w.message,
                "code": w.code,
                "confirm": True,
            }
            for w in error.warnings
        ],
    )


async def answer_validation_error(_request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 for a request that fails its models, with non-finite numbers named
    ("Infinity") rather than echoed, which JSON cannot carry."""
    assert isinstance(error, RequestValidationError)
    detail = jsonable_encoder(_finite(list(error.errors())))
    return JSONResponse(status_code=422, content={"detail": detail})


def _finite(value: Any) -> Any:
    """`value` with each non-finite float replaced by its name ("NaN", "Infinity")."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_finite(v) for v in value)
    return value


#: Responses every route may give besides its own success.
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Message, "description": "No such patient, pregnancy or record."}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": Message, "description": "The change conflicts with stored data."}
}
#: Responses of every route that reads a body.
BODY: dict[int | str, dict[str, Any]] = {
    400: {"model": Message, "description": "The body cannot be read (e.g. not UTF-8)."},
    413: {"model": Message, "description": "The request body is larger than allowed."},
}
