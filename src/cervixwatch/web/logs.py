"""Logs carry ids, never names or clinical values (issue 12, F5).

Two ways patient data reached the logs, both closed here:

- The access log (Uvicorn's `uvicorn.access`) printed each request's path with its query
  string, and searches put names, birth dates and hospital numbers there (`family=`,
  `birthdate=`, `identifier=`, `q=`); a path could hold a username
  (`PATCH /api/admin/users/{username}`). `AccessLogScrubber` rewrites the logged path to the
  one the audit log records: no query string, and every path parameter that is not an id
  replaced by its name. `web.audit` sets that path (`set_logged_path`) as the answer starts,
  which is when Uvicorn writes the line, in the same task.
- An exception's message can quote the values of the statement that failed (a psycopg
  `DETAIL: Key (hospital_number)=(...)`, a date that would not parse). Every record that
  carries an exception is given a traceback of frames and exception types only
  (`scrubbed_traceback`): the code that failed is there, the values are not.
  SQLAlchemy's own `[parameters: ...]` are hidden at the source (`hide_parameters=True` in
  `store.database.make_engine`).
"""

from __future__ import annotations

import logging
import traceback
from contextvars import ContextVar
from typing import Any, Final

ACCESS_LOGGER: Final = "uvicorn.access"
WITHHELD: Final = "(message withheld: logs carry ids, never patient data)"

_logged_path: ContextVar[str | None] = ContextVar("cervixwatch_logged_path", default=None)


def set_logged_path(path: str) -> None:
    """The path the access log shows for the request being answered (ids only, no query)."""
    _logged_path.set(path)


class AccessLogScrubber(logging.Filter):
    """Uvicorn's access line (`client - "METHOD path HTTP/v" status`) with the path the app
    set, else the requested path without its query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            path = _logged_path.get() or str(args[2]).split("?", 1)[0]
            record.args = (args[0], args[1], path, args[3], args[4])
        return True


def scrubbed_traceback(error: BaseException) -> str:
    """The traceback of `error` and the exceptions it came from: frames and types, never
    messages."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    parts: list[str] = []
    for position, exception in enumerate(reversed(chain)):
        if position:
            parts.append("\nwhile handling it, or because of it:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(exception.__traceback__))
        kind = type(exception)
        parts.append(f"{kind.__module__}.{kind.__qualname__}: {WITHHELD}\n")
        if isinstance(exception, BaseExceptionGroup):
            for inner in exception.exceptions:
                parts.append("  " + scrubbed_traceback(inner).replace("\n", "\n  ") + "\n")
    return "".join(parts).rstrip("\n")


_previous_factory: Any = None


def _scrubbing_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record: logging.LogRecord = _previous_factory(*args, **kwargs)
    exc_info = record.exc_info
    if exc_info and exc_info[1] is not None:
        record.exc_text = scrubbed_traceback(exc_info[1])
        record.exc_info = None
    return record


def install_log_scrubbing() -> None:
    """Scrub every log record of this process from now on (idempotent): exceptions by
    `scrubbed_traceback`, and Uvicorn's access lines by `AccessLogScrubber`."""
    global _previous_factory
    if _previous_factory is None:
        _previous_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_scrubbing_factory)
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, AccessLogScrubber) for f in access.filters):
        access.addFilter(AccessLogScrubber())
