"""Structured logs: one JSON object a line, with the id of the request being answered
(`CERVIXWATCH_LOG_FORMAT=json`; "text", Uvicorn's own lines, is the default).

Each line has `time` (UTC, ISO 8601), `level`, `logger`, `message` and, when logged while a
request was being answered, `request_id`: the id its audit entry has and its answer's
`X-Request-ID`. Uvicorn's access lines add `client`, `method`, `path` and `status`.
Nothing here weakens `web.logs`' scrubbing, which happens before a line is formatted: the
access line's path is the one the audit records (no query string, no name in the path), and
an exception is its frames and types only, never its message.

The request id: `web.audit` makes it and keeps it in the request's state; `RequestLogContext`
(outermost middleware) binds that state to the request's context, so every line logged in
the request's task, or in a thread it hands work to, finds it.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextvars import ContextVar
from typing import Any, Final

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from cervixwatch.web.logs import ACCESS_LOGGER, scrubbed_traceback

_request_state: ContextVar[dict[str, Any] | None] = ContextVar(
    "cervixwatch_request_state", default=None
)


def current_request_id() -> str | None:
    """The id of the request being answered in this context, once `web.audit` made it."""
    state = _request_state.get()
    found = state.get("request_id") if state is not None else None
    return found if isinstance(found, str) else None


class RequestLogContext:
    """Binds each request's state (where its id is kept) to the request's context."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            _request_state.set(scope.setdefault("state", {}))
        await self.app(scope, receive, send)


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id is not None:
            entry["request_id"] = request_id
        args = record.args
        if record.name == ACCESS_LOGGER and isinstance(args, tuple) and len(args) == 5:
            # Uvicorn's (client, method, path, HTTP version, status), the path already scrubbed.
            entry.update(client=args[0], method=args[1], path=args[2], status=args[4])
        if record.exc_info and record.exc_info[1] is not None:
            entry["exception"] = scrubbed_traceback(record.exc_info[1])
        elif record.exc_text:
            entry["exception"] = record.exc_text  # scrubbed when the record was made
        return orjson.dumps(entry, default=str).decode()


JSON_FORMATTER: Final = f"{__name__}.JsonFormatter"


def uvicorn_log_config(level: str = "info") -> dict[str, Any]:
    """Uvicorn's logging configuration with every line as JSON: its own and the access log's
    (to stderr and stdout, as Uvicorn does), and the app's through the root logger."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JSON_FORMATTER}},
        "handlers": {
            "default": {
                "formatter": "json",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
            },
            "access": {
                "formatter": "json",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            ACCESS_LOGGER: {"handlers": ["access"], "level": level, "propagate": False},
        },
        "root": {"handlers": ["default"], "level": level},
    }
