"""The answer when the database cannot be reached: 503 with `Retry-After`, a failure to retry
later rather than the 500 of a fault (issue 12: "a lost database connection answers 500, not a
retryable 503"). Which failures these are is `app.operations.database_unavailable`.

Each caller gets it in its own form: the FHIR facade an OperationOutcome (code `transient`),
the JSON API (and `/auth`) its `{"detail": ...}`, a browser the error page. The answer names
the request id, and nothing of the failure (the database's address or its message).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Final

import orjson
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.types import Scope, Send

from cervixwatch.app.clinic_settings import ClinicSettings
from cervixwatch.web.operation_outcome import operation_outcome
from cervixwatch.web.operations import RETRY_AFTER_SECONDS

STATUS: Final = 503
_JSON_PREFIXES: Final = ("/api", "/auth")
#: The pages' own error template, rendered without the pages' machinery (which would look up
#: the caller in the database).
_TEMPLATES: Final = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _page(scope: Scope, detail: str) -> bytes:
    """The error page, as a signed-out visitor sees it (no one can be looked up now)."""
    app = scope.get("app")
    today_of = getattr(getattr(app, "state", None), "today", None)
    today = today_of() if callable(today_of) else dt.date.today()  # noqa: DTZ011 - local day
    html = _TEMPLATES.get_template("error.html").render(
        title="CervixWatch is unavailable for a moment",
        detail=detail,
        status=STATUS,
        principal=None,
        home="/",
        today=today,
        date=ClinicSettings().short_date,  # the settings cannot be read now: the default
        csrf_field="csrf_token",
        csrf_token=None,
    )
    return html.encode()


async def answer_unavailable(send: Send, scope: Scope, request_id: str) -> None:
    """Send the 503 for `scope`'s request (its answer has not started)."""
    path: str = scope.get("path", "")
    detail = f"the database cannot be reached; try again in a few seconds (request {request_id})"
    if _under(path, "/fhir"):
        body = orjson.dumps(operation_outcome(detail, "transient"))
        content_type = b"application/fhir+json"
    elif any(_under(path, prefix) for prefix in _JSON_PREFIXES):
        body = orjson.dumps({"detail": detail})
        content_type = b"application/json"
    else:
        body = _page(
            scope,
            "The records cannot be reached just now. Please try again in a "
            f"few seconds. (Request {request_id}.)",
        )
        content_type = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": STATUS,
            "headers": [
                (b"content-type", content_type),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                (b"cache-control", b"no-store"),
                (b"x-request-id", request_id.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
